"""``qlocks run``: Socket Mode when ``SLACK_APP_TOKEN`` is set (outbound only), else HTTP on ``$PORT``.

With ``QLOCKS_METRICS_PORT`` a small threaded server on ``QLOCKS_METRICS_HOST`` (loopback by default) also serves
``/metrics``, ``/healthz`` and ``/readyz`` (``start_ops_server``): Socket Mode's only listening port.

The stack comes from ``bot.compose.bot_from_env`` (shared with the gunicorn factory in ``bot.slack.web``); this
module only serves it.
"""

from __future__ import annotations

import logging
import socketserver
import threading
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from slack_sdk.errors import SlackApiError

from bot.compose import Bot, bot_from_env
from bot.config import ConfigError
from bot.slack.web import make_wsgi_app, ops_wsgi_app

if TYPE_CHECKING:
    from wsgiref.types import WSGIApplication

logger = logging.getLogger(__name__)


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


def start_ops_server(bot: Bot, *, host: str, port: int) -> ThreadingWSGIServer:
    """``/metrics``, ``/healthz``, ``/readyz`` of ``bot`` on ``host:port`` (0: a free one), served on a daemon
    thread; ``shutdown()`` then ``server_close()`` stops it. A port that cannot be bound is one ``ConfigError``."""
    try:
        server = make_http_server(
            ops_wsgi_app(metrics=bot.metrics, not_ready=bot.not_ready), host=host, port=port
        )
    except OSError as exc:
        raise ConfigError(
            f"QLOCKS_METRICS_PORT: cannot listen on {host}:{port} ({exc.strerror or exc})"
        ) from None
    threading.Thread(target=server.serve_forever, name="qlocks-ops", daemon=True).start()
    return server


def run_bot(
    env: Mapping[str, str], *, on_listening: Callable[[ThreadingWSGIServer], None] | None = None
) -> int:
    """Run until interrupted (or, in HTTP mode, until ``server.shutdown()``; ``on_listening`` gets the server)."""
    bot = bot_from_env(env)
    ops: ThreadingWSGIServer | None = None
    try:
        if bot.qlocks.metrics_port is not None:
            ops = start_ops_server(bot, host=bot.qlocks.metrics_host, port=bot.qlocks.metrics_port)
            print(
                f"qlocks: metrics on http://{bot.qlocks.metrics_host}:{ops.server_address[1]}/metrics "
                "(health: /healthz, readiness: /readyz)"
            )
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
        try:
            server = make_http_server(
                make_wsgi_app(bot.app, metrics=bot.metrics, not_ready=bot.not_ready), port=bot.qlocks.port
            )
        except OSError as exc:
            raise ConfigError(
                f"PORT: cannot listen on 0.0.0.0:{bot.qlocks.port} ({exc.strerror or exc})"
            ) from None
        print(
            f"qlocks: listening on http://0.0.0.0:{server.server_address[1]}/slack/events "
            "(health: /healthz, readiness: /readyz, metrics: /metrics)"
        )
        if on_listening is not None:
            on_listening(server)
        try:
            server.serve_forever()
        finally:
            server.server_close()
        return 0
    finally:
        if ops is not None:
            ops.shutdown()
            ops.server_close()
        bot.close()
