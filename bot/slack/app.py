"""``build_app``: the Bolt app with qlocks' listeners, authorization, audit log and one error handler."""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from slack_bolt import App, BoltResponse, Respond
from slack_bolt.authorization import AuthorizeResult
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.audit import AuditLog
from bot.config import QlocksConfig, SlackConfig
from bot.slack import listeners
from bot.slack.authz import Authorizer, GroupLookupError
from bot.slack.background import Background, Inline
from bot.slack.deps import Deps, ProgressPolicy
from bot.slack.errors import report_error
from bot.slack.guard import CloseGuard

if TYPE_CHECKING:
    from bot.locks.service import LockService

logger = logging.getLogger(__name__)

GROUP_CACHE_TTL_S = 60.0
# Listeners only parse, authorize, ack and queue the work (``bot.slack.background``), so few threads suffice.
LISTENER_THREADS = 16
WORK_THREADS = 16  # searches and closes in progress at once; more wait in the queue (acks never do)


def make_web_client(slack: SlackConfig) -> WebClient:
    """The bot's Web API client; ``SLACK_API_URL`` overrides the base URL (proxies, tests)."""
    return WebClient(token=slack.bot_token, base_url=slack.api_url or WebClient.BASE_URL)


def _members_of(client: WebClient) -> Callable[[str], list[str]]:
    def members_of(group: str) -> list[str]:
        try:
            resp = client.usergroups_users_list(usergroup=group)
        except SlackApiError as exc:
            raise GroupLookupError(f"{group}: {exc.response.get('error')}") from exc
        except (SlackClientError, OSError) as exc:
            raise GroupLookupError(f"{group}: {type(exc).__name__}") from exc
        users = resp.get("users")
        if not isinstance(users, list):
            raise GroupLookupError(f"{group}: unexpected answer from usergroups.users.list")
        return [u for u in users if isinstance(u, str)]

    return members_of


def build_app(
    *,
    slack: SlackConfig,
    qlocks: QlocksConfig,
    service: LockService,
    client: WebClient | None = None,
    authorize: Callable[..., AuthorizeResult] | None = None,
    process_before_response: bool = False,
    clock: Callable[[], float] = time.time,
    monotonic: Callable[[], float] = time.monotonic,
    progress: ProgressPolicy | None = None,
    audit: AuditLog | None = None,
) -> App:
    """Bolt app for HTTP or Socket Mode. ``authorize`` replaces the start-up ``auth.test`` (tests, playground)."""
    client = client or make_web_client(slack)
    app = App(
        name="qlocks",
        client=client,
        signing_secret=_signing_secret(slack),
        authorize=authorize,
        process_before_response=process_before_response,
        listener_executor=ThreadPoolExecutor(
            max_workers=LISTENER_THREADS, thread_name_prefix="qlocks-listener"
        ),
    )
    deps = Deps(
        service=service,
        authz=Authorizer(
            admins=qlocks.admins,
            admin_groups=qlocks.admin_groups,
            channels=qlocks.channels,
            members_of=_members_of(client),
            ttl_s=GROUP_CACHE_TTL_S,
            clock=monotonic,
        ),
        guard=CloseGuard(clock=monotonic, wall_clock=clock),
        audit=audit or AuditLog(qlocks.audit_log),
        cluster=qlocks.cluster_name,
        clock=clock,
        monotonic=monotonic,
        progress=progress or ProgressPolicy(),
        run=Inline()
        if process_before_response
        else Background(workers=WORK_THREADS, cluster=qlocks.cluster_name),
    )
    listeners.register(app, deps)
    app.error(_error_handler(deps))
    return app


def _signing_secret(slack: SlackConfig) -> str:
    """The configured secret; without one (Socket Mode, which needs none), a random one nobody knows.

    Bolt's verifier raises on an empty secret, and that error reached the error handler, which answered 200 and
    posted to the unverified body's response_url. A secret nobody knows makes every HTTP request a plain 401
    (deny by default) while Socket Mode, which skips signature checks, is unaffected.
    """
    if slack.signing_secret:
        return slack.signing_secret
    logger.info("no SLACK_SIGNING_SECRET: HTTP requests will be refused (Socket Mode only)")
    return secrets.token_hex(32)


def _error_handler(deps: Deps) -> Callable[..., BoltResponse | None]:
    def on_error(
        error: Exception, body: dict[str, Any], respond: Respond, response: BoltResponse | None
    ) -> BoltResponse | None:
        report_error(error, body=body, respond=respond, cluster=deps.cluster)
        # The user has been told; do not also make Slack show "dispatch_failed" (only when a response is pending).
        return BoltResponse(status=200, body="") if response is not None else None

    return on_error
