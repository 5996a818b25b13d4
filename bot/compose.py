"""The one composition: settings -> ``QumuloClient`` -> ``LockService`` -> state store -> Bolt app.

``qlocks run`` and the gunicorn factory (``bot_from_env``), ``qlocks search`` (``build_domain``), the playground,
the benchmark and the tests (``build_bot`` with their own Web API client, authorize stub or service) all build the
stack here, so what they exercise is what production runs. One state store per process (``bot.store``), opened
and migrated at start, closed with the bot. One ``Metrics`` (its own Prometheus registry) per bot (``bot.metrics``),
wired here to the cluster client, the search service and the app.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bot.audit import AuditLog
from bot.config import ConfigError, QlocksConfig, QumuloConfig, SlackConfig
from bot.locks.service import LockService
from bot.metrics import Metrics, readiness
from bot.qumulo.client import ClientStats, QumuloClient
from bot.store import Store, StoreError, open_store

if TYPE_CHECKING:
    from slack_bolt.authorization import AuthorizeResult
    from slack_sdk import WebClient

    from bot.slack.app import QlocksApp
    from bot.slack.deps import ProgressPolicy

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Domain:
    """The cluster side: one client and the search/close service over it. ``with`` closes both."""

    client: QumuloClient
    service: LockService

    def close(self) -> None:
        self.service.shutdown()
        self.client.close()

    def __enter__(self) -> Domain:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclass(frozen=True, slots=True)
class Bot:
    app: QlocksApp
    slack: SlackConfig
    qlocks: QlocksConfig
    domain: Domain
    store: Store  # the bot owns it: ``close`` closes it
    metrics: Metrics  # this bot's Prometheus registry (``/metrics``)

    @property
    def service(self) -> LockService:
        return self.domain.service

    def close(self) -> None:
        try:
            self.domain.close()
        finally:
            self.store.close()

    def not_ready(self) -> str | None:
        """``/readyz``: None when the cluster (who-am-i) and the state store (ping) both answer, within a few
        seconds; else one line naming which did not."""
        return readiness({"cluster": self.domain.client.who_am_i, "database": self.store.ping})


def build_domain(
    qumulo: QumuloConfig, qlocks: QlocksConfig, *, client: QumuloClient | None = None, **service: Any
) -> Domain:
    """Client (``client`` replaces it, e.g. the bench's timing client) and service; ``service`` tunes it."""
    client = client or QumuloClient(qumulo)
    options: dict[str, Any] = {"cluster_name": qlocks.cluster_name, "cache_ttl_s": qlocks.cache_ttl_s}
    options.update(service)
    return Domain(client=client, service=LockService(client, **options))


def build_bot(
    *,
    qumulo: QumuloConfig,
    slack: SlackConfig,
    qlocks: QlocksConfig,
    domain: Domain | None = None,
    web_client: WebClient | None = None,
    authorize: Callable[..., AuthorizeResult] | None = None,
    process_before_response: bool = False,
    progress: ProgressPolicy | None = None,
    audit: AuditLog | None = None,
    store: Store | None = None,
    clock: Callable[[], float] = time.time,
    monotonic: Callable[[], float] = time.monotonic,
    metrics: Metrics | None = None,
) -> Bot:
    """The whole stack. Without ``authorize`` Bolt runs ``auth.test`` against Slack now (a bad token raises).

    Without ``store`` the one ``qlocks.database`` names is opened (and migrated); the bot owns it either way."""
    from bot.slack.app import build_app  # Slack loads only for callers that build the app

    domain = domain or build_domain(qumulo, qlocks)
    metrics = metrics or Metrics()
    _wire(domain, metrics)
    try:
        store = store or open_store(qlocks.database)
    except BaseException:
        domain.close()
        raise
    try:
        app = build_app(
            slack=slack,
            qlocks=qlocks,
            service=domain.service,
            client=web_client,
            authorize=authorize,
            process_before_response=process_before_response,
            progress=progress,
            audit=audit or AuditLog(qlocks.audit_log, store),
            store=store,
            clock=clock,
            monotonic=monotonic,
            metrics=metrics,
        )
    except BaseException:
        domain.close()
        store.close()
        raise
    return Bot(app=app, slack=slack, qlocks=qlocks, domain=domain, store=store, metrics=metrics)


def _wire(domain: Domain, metrics: Metrics) -> None:
    """Count the domain's cluster requests and searches; a stand-in client or service (tests) without these seams
    is simply not counted."""
    stats = getattr(domain.client, "stats", None)
    if isinstance(stats, ClientStats):
        stats.listen(metrics.cluster_request)
    if isinstance(domain.service, LockService):
        domain.service.observe(metrics)


def bot_from_env(env: Mapping[str, str]) -> Bot:
    """``qlocks run`` / gunicorn: validate every setting, check the audit log, open the state store, build,
    ``auth.test``."""
    from slack_bolt.error import BoltError
    from slack_sdk.errors import SlackClientError

    qumulo = QumuloConfig.from_env(env)
    slack = SlackConfig.from_env(env)
    qlocks = QlocksConfig.from_env(env)
    try:
        AuditLog(qlocks.audit_log).check_writable()
    except OSError as exc:
        raise ConfigError(
            f"QLOCKS_AUDIT_LOG: cannot append to {qlocks.audit_log!r}: {exc.strerror}"
        ) from None
    store = _open_store(qlocks)
    audit = AuditLog(qlocks.audit_log, store)
    if not qlocks.admins and not qlocks.admin_groups:
        logger.warning("no QLOCKS_ADMINS or QLOCKS_ADMIN_GROUPS: nobody can close handles from Slack")
    sdk_logger = logging.getLogger("slack_sdk.web.base_client")
    quiet = _DropRequestFailures()  # auth.test failing to connect is reported below, in one line
    sdk_logger.addFilter(quiet)
    try:
        return build_bot(qumulo=qumulo, slack=slack, qlocks=qlocks, audit=audit, store=store)
    except BoltError as exc:  # auth.test refused the token
        raise ConfigError(f"SLACK_BOT_TOKEN: Slack refused it at start-up ({exc})") from None
    except (OSError, SlackClientError) as exc:  # auth.test never got an answer (URLError is an OSError)
        raise ConfigError(_unreachable(slack, exc)) from None
    finally:
        sdk_logger.removeFilter(quiet)


def _open_store(qlocks: QlocksConfig) -> Store:
    """The state store, migrated; a problem is one ``ConfigError`` line naming the setting (password masked)."""
    try:
        store = open_store(qlocks.database)
    except StoreError as exc:
        setting = "QLOCKS_DATABASE_URL" if qlocks.database_url else "QLOCKS_STATE_DIR"
        raise ConfigError(f"{setting}: the state store cannot be used: {exc}") from None
    logger.info("state store: %s", store.shown)
    return store


class _DropRequestFailures(logging.Filter):
    """slack_sdk logs an ERROR per failed connection attempt; at start-up the one ConfigError line says it all."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("Failed to send a request to Slack API server")


def _unreachable(slack: SlackConfig, exc: BaseException) -> str:
    """One line: which Slack API could not be reached at start-up, and why (refused, unresolvable, timed out)."""
    reason: object = getattr(exc, "reason", None) or exc  # urllib's URLError wraps the socket error
    if isinstance(reason, OSError) and reason.strerror:
        text = reason.strerror
    else:
        text = str(reason) or type(reason).__name__
    text = " ".join(text.split())
    text = text[:1].lower() + text[1:]
    if slack.api_url:
        return f"SLACK_API_URL: cannot reach {slack.api_url} at start-up ({text})"
    return (
        f"cannot reach Slack's API (slack.com) at start-up ({text}): check the network, DNS and any "
        "HTTPS_PROXY, or set SLACK_API_URL to the egress proxy"
    )


__all__ = ["Bot", "Domain", "bot_from_env", "build_bot", "build_domain"]
