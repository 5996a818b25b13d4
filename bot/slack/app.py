"""``build_app``: the Bolt app with qlocks' listeners, authorization, audit log and one error handler."""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from slack_bolt import App, BoltRequest, BoltResponse, Respond
from slack_bolt.authorization import AuthorizeResult
from slack_bolt.context import BoltContext
from slack_bolt.request.internals import build_context
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.audit import AuditLog
from bot.config import QlocksConfig, SlackConfig
from bot.logs import REDACTOR
from bot.slack import listeners
from bot.slack.authz import Authorizer, GroupLookupError
from bot.slack.background import Background, Inline
from bot.slack.deps import Deps, ProgressPolicy
from bot.slack.errors import report_error
from bot.slack.guard import CloseGuard
from bot.slack.replies import ObservedRespond
from bot.slack.verify import BodyError, parse_body, signature_problem, unhandled_shape

if TYPE_CHECKING:
    from bot.locks.service import LockService
    from bot.metrics import Metrics
    from bot.store import Store

logger = logging.getLogger(__name__)

GROUP_CACHE_TTL_S = 60.0
# Listeners only parse, authorize, ack and queue the work (``bot.slack.background``), so few threads suffice.
LISTENER_THREADS = 16
WORK_THREADS = 16  # searches and closes in progress at once; more wait in the queue (acks never do)


def make_web_client(slack: SlackConfig) -> WebClient:
    """The bot's Web API client; ``SLACK_API_URL`` overrides the base URL (proxies, tests)."""
    return WebClient(token=slack.bot_token, base_url=slack.api_url or WebClient.BASE_URL)


def _members_of(client: WebClient, metrics: Metrics | None = None) -> Callable[[str], list[str]]:
    def members_of(group: str) -> list[str]:
        try:
            resp = client.usergroups_users_list(usergroup=group)
        except SlackApiError as exc:
            if metrics is not None:
                metrics.slack_error("usergroups.users.list", str(exc.response.get("error") or "error"))
            raise GroupLookupError(f"{group}: {exc.response.get('error')}") from exc
        except (SlackClientError, OSError) as exc:
            if metrics is not None:
                metrics.slack_error("usergroups.users.list", type(exc).__name__)
            raise GroupLookupError(f"{group}: {type(exc).__name__}") from exc
        users = resp.get("users")
        if not isinstance(users, list):
            raise GroupLookupError(f"{group}: unexpected answer from usergroups.users.list")
        return [u for u in users if isinstance(u, str)]

    return members_of


class QlocksApp(App):
    """Bolt's ``App`` with qlocks' own checks in front of every HTTP request (``bot.slack.verify``).

    A request that fails signature verification for any reason gets 401 and nothing else happens. A signed body
    that is not one of Slack's shapes gets 400. A body Bolt's parser misread (it takes any body containing the word
    ``payload`` for an interactivity payload) is re-read correctly before the listeners see it. Socket Mode requests
    come over the app's own authenticated WebSocket and skip the signature, as in Bolt.
    """

    def __init__(self, *, signing_secret: str, **kwargs: Any) -> None:
        super().__init__(signing_secret=signing_secret, request_verification_enabled=False, **kwargs)
        self._qlocks_secret = signing_secret

    @property
    def verification_secret(self) -> str:
        """The signing secret requests are verified with (the WSGI edge checks before Bolt parses)."""
        return self._qlocks_secret

    def dispatch(self, req: BoltRequest) -> BoltResponse:
        if req.mode == "socket_mode":
            _remember_response_url(req.body)
            return super().dispatch(req)
        problem = signature_problem(
            secret=self._qlocks_secret,
            body=req.raw_body,
            timestamp=_header(req, "x-slack-request-timestamp"),
            signature=_header(req, "x-slack-signature"),
            now=time.time(),  # Slack's clock, not an injected one: the replay window is real time
        )
        if problem is not None:
            logger.info("refused an unverified request: %s", problem)
            return BoltResponse(status=401, body='{"error":"invalid request"}')
        try:
            body = parse_body(req.raw_body, _header(req, "content-type"))
            if body != req.body:
                req.body = body
                req.context = build_context(BoltContext(), body)
        except (BodyError, AttributeError, TypeError, KeyError, IndexError) as exc:
            logger.info("refused a signed but unreadable request: %s", type(exc).__name__)
            return BoltResponse(status=400, body='{"error":"unreadable request"}')
        _remember_response_url(req.body)
        shape = unhandled_shape(req.body)
        if shape is not None:
            logger.info("refused a signed request qlocks does not handle: %s", shape)
            return BoltResponse(status=404, body='{"error":"unhandled request"}')
        return super().dispatch(req)


def _remember_response_url(body: object) -> None:
    """A response_url is a credential for 30 minutes: no log line may show it, whoever logs it."""
    if isinstance(body, dict) and isinstance(body.get("response_url"), str):
        REDACTOR.add([body["response_url"]])


def _header(req: BoltRequest, name: str) -> str | None:
    values = req.headers.get(name) or []
    return values[0] if values and isinstance(values[0], str) else None


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
    store: Store | None = None,
    metrics: Metrics | None = None,
) -> QlocksApp:
    """Bolt app for HTTP or Socket Mode. ``authorize`` replaces the start-up ``auth.test`` (tests, playground).

    ``store`` holds the close claims (shared by every replica on the same database) and the audit records; without
    one, claims are this app's own and the audit goes to the JSONL file only."""
    client = client or make_web_client(slack)
    app = QlocksApp(
        name="qlocks",
        client=client,
        logger=_bolt_logger(),
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
            members_of=_members_of(client, metrics),
            ttl_s=GROUP_CACHE_TTL_S,
            clock=monotonic,
        ),
        guard=CloseGuard(store, scope=qlocks.cluster_name, clock=clock),
        audit=audit or AuditLog(qlocks.audit_log, store),
        cluster=qlocks.cluster_name,
        clock=clock,
        monotonic=monotonic,
        progress=progress or ProgressPolicy(),
        run=Inline()
        if process_before_response
        else Background(workers=WORK_THREADS, cluster=qlocks.cluster_name),
        metrics=metrics,
    )
    if metrics is not None:
        app.use(_observed_respond(metrics))
    listeners.register(app, deps)
    app.error(_error_handler(deps))
    return app


def _observed_respond(metrics: Metrics) -> Callable[..., None]:
    """Middleware: every listener's ``respond`` counts its failed posts (``bot.slack.replies.ObservedRespond``)."""

    def observe(context: BoltContext, next: Callable[[], None]) -> None:
        respond = context.respond
        if respond is not None and not isinstance(respond, ObservedRespond):
            context["respond"] = ObservedRespond(respond, metrics.slack_error)
        next()

    return observe


# Bolt reads SLACK_BOT_TOKEN from the environment on its own and then warns, on every start, that it will not use
# it (we pass our own client, or an authorize function). True and useless: those two lines are dropped.
_IGNORED_BOLT_WARNINGS = (
    "As you gave `client` as well",
    "As `installation_store` or `authorize` has been used",
)


class _DropIgnoredBoltWarnings(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith(_IGNORED_BOLT_WARNINGS)


def _bolt_logger() -> logging.Logger:
    bolt = logging.getLogger("qlocks.bolt")
    if not any(isinstance(f, _DropIgnoredBoltWarnings) for f in bolt.filters):
        bolt.addFilter(_DropIgnoredBoltWarnings())
    return bolt


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
