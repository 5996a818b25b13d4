"""``qlocks run``: Socket Mode when ``SLACK_APP_TOKEN`` is set (outbound only), else HTTP on ``$PORT``.

``build_from_env`` is the composition shared with the gunicorn factory (``bot.slack.web.create_wsgi_app``):
configs -> ``QumuloClient`` -> ``LockService`` -> audit log (checked writable) -> Bolt app.
"""

from __future__ import annotations

import logging
import socketserver
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from slack_bolt import App
from slack_bolt.error import BoltError
from slack_sdk.errors import SlackApiError

from bot.audit import AuditLog
from bot.config import ConfigError, QlocksConfig, QumuloConfig, SlackConfig
from bot.slack.app import build_app
from bot.slack.web import make_wsgi_app

if TYPE_CHECKING:
    from wsgiref.types import WSGIApplication

    from bot.locks.service import LockService
    from bot.qumulo.client import QumuloClient

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Bot:
    app: App
    slack: SlackConfig
    qlocks: QlocksConfig
    qumulo: QumuloClient
    locks: LockService

    def close(self) -> None:
        self.locks.shutdown()
        self.qumulo.close()


def build_from_env(env: Mapping[str, str]) -> Bot:
    """Validate every setting, then build the cluster client, the lock service and the app (``auth.test`` runs)."""
    from bot.locks.service import LockService
    from bot.qumulo.client import QumuloClient

    qumulo_config = QumuloConfig.from_env(env)
    slack = SlackConfig.from_env(env)
    qlocks = QlocksConfig.from_env(env)
    audit = AuditLog(qlocks.audit_log)
    try:
        audit.check_writable()
    except OSError as exc:
        raise ConfigError(
            f"QLOCKS_AUDIT_LOG: cannot append to {qlocks.audit_log!r}: {exc.strerror}"
        ) from None
    if not qlocks.admins and not qlocks.admin_groups:
        logger.warning("no QLOCKS_ADMINS or QLOCKS_ADMIN_GROUPS: nobody can close handles from Slack")
    qumulo = QumuloClient(qumulo_config)
    locks = LockService(qumulo, cluster_name=qlocks.cluster_name, cache_ttl_s=qlocks.cache_ttl_s)
    try:
        app = build_app(slack=slack, qlocks=qlocks, locks=locks, audit=audit)
    except BoltError as exc:  # auth.test refused the token
        locks.shutdown()
        qumulo.close()
        raise ConfigError(f"SLACK_BOT_TOKEN: Slack refused it at start-up ({exc})") from None
    return Bot(app=app, slack=slack, qlocks=qlocks, qumulo=qumulo, locks=locks)


class ThreadingWSGIServer(socketserver.ThreadingMixIn, WSGIServer):
    """wsgiref's server, one thread per request (Slack may send several at once)."""

    daemon_threads = True
    request_queue_size = (
        128  # socketserver's default backlog of 5 drops bursts of connections (1 s SYN retries)
    )


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("%s %s", self.address_string(), format % args)


def make_http_server(
    wsgi: WSGIApplication, *, host: str = "0.0.0.0", port: int = 3000
) -> ThreadingWSGIServer:
    """A bound threaded WSGI server (``port=0`` picks a free port); call ``serve_forever()`` on it."""
    server = make_server(host, port, wsgi, server_class=ThreadingWSGIServer, handler_class=_QuietHandler)
    return server


def run_bot(
    env: Mapping[str, str], *, on_listening: Callable[[ThreadingWSGIServer], None] | None = None
) -> int:
    """Run until interrupted (or, in HTTP mode, until ``server.shutdown()``; ``on_listening`` gets the server)."""
    bot = build_from_env(env)
    try:
        if bot.slack.app_token:
            from slack_bolt.adapter.socket_mode import SocketModeHandler

            logger.info("qlocks: Socket Mode, cluster %s", bot.qlocks.cluster_name)
            handler = SocketModeHandler(bot.app, app_token=bot.slack.app_token)
            try:
                handler.start()  # type: ignore[no-untyped-call]
            except SlackApiError as exc:
                error = exc.response.get("error")
                raise ConfigError(
                    f"SLACK_APP_TOKEN: Slack refused a Socket Mode connection ({error})"
                ) from None
            return 0
        server = make_http_server(make_wsgi_app(bot.app), port=bot.qlocks.port)
        print(
            f"qlocks: listening on http://0.0.0.0:{server.server_address[1]}/slack/events (health: /healthz)"
        )
        if on_listening is not None:
            on_listening(server)
        try:
            server.serve_forever()
        finally:
            server.server_close()
        return 0
    finally:
        bot.close()
