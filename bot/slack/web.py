"""HTTP mode: a WSGI app serving Bolt at ``POST /slack/events`` (commands and interactivity) and ``GET /healthz``.

``make_wsgi_app(app)`` wraps a built app; ``create_wsgi_app()`` is the gunicorn factory used by the Procfile
(``gunicorn 'bot.slack.web:create_wsgi_app()'``): it loads ``.env`` and the environment like ``qlocks run``.
Run gunicorn with one worker and several threads: the double-click guard is per process.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler

if TYPE_CHECKING:
    from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

logger = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"


def make_wsgi_app(
    app: App, *, healthy: Callable[[], bool] | None = None
) -> Callable[[WSGIEnvironment, StartResponse], Iterable[bytes]]:
    """WSGI callable: Bolt on ``/slack/events``, ``/healthz`` (200 ``ok``, or 503 when ``healthy()`` is False)."""
    bolt = SlackRequestHandler(app, path=EVENTS_PATH)

    def wsgi(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == HEALTH_PATH and environ.get("REQUEST_METHOD") == "GET":
            ok = healthy() if healthy is not None else True
            body = b"ok\n" if ok else b"unhealthy\n"
            start_response(
                "200 OK" if ok else "503 Service Unavailable",
                [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body)))],
            )
            return [body]
        return bolt(environ, start_response)

    return wsgi


def create_wsgi_app() -> WSGIApplication:
    """Gunicorn factory: ``.env`` + environment -> configs -> cluster client -> app -> WSGI callable."""
    import os

    from dotenv import load_dotenv

    from bot.compose import bot_from_env

    load_dotenv(override=False)
    if not logging.getLogger().handlers:  # gunicorn has no ``qlocks`` CLI to configure logging for us
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    bot = bot_from_env(os.environ)
    return make_wsgi_app(bot.app)
