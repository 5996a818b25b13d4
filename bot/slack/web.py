"""HTTP mode: a WSGI app serving Bolt at ``POST /slack/events`` (commands and interactivity) and the operations
endpoints: ``GET /healthz`` (liveness), ``GET /readyz`` (the cluster and the state store answer) and ``GET /metrics``
(Prometheus). ``ops_wsgi_app`` serves only the latter three (Socket Mode's ``QLOCKS_METRICS_PORT``).

``make_wsgi_app(app)`` wraps a built app; ``create_wsgi_app()`` is the gunicorn factory used by the Procfile
(``gunicorn 'bot.slack.web:create_wsgi_app()'``): it loads ``.env`` and the environment like ``qlocks run``.
Run gunicorn with one worker and several threads: the double-click guard is per process.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from slack_bolt import BoltRequest, BoltResponse
from slack_bolt.adapter.wsgi.http_request import WsgiHttpRequest
from slack_bolt.adapter.wsgi.http_response import WsgiHttpResponse

from bot.metrics import CONTENT_TYPE, Metrics
from bot.slack.app import QlocksApp
from bot.slack.verify import MAX_BODY_BYTES, BodyError, parse_body, signature_problem

if TYPE_CHECKING:
    from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

logger = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"
READY_PATH = "/readyz"
METRICS_PATH = "/metrics"
_TEXT = "text/plain; charset=utf-8"

Wsgi = Callable[["WSGIEnvironment", "StartResponse"], Iterable[bytes]]


def _text(status: int, body: str) -> WsgiHttpResponse:
    return WsgiHttpResponse(status=status, headers={"content-type": [_TEXT]}, body=body)


def _ops_response(
    method: object,
    path: object,
    *,
    healthy: Callable[[], bool] | None,
    metrics: Metrics | None,
    not_ready: Callable[[], str | None] | None,
) -> WsgiHttpResponse | None:
    """The answer to ``GET /healthz``, ``/readyz`` or ``/metrics``; None for any other request."""
    if method != "GET":
        return None
    if path == HEALTH_PATH:
        ok = healthy() if healthy is not None else True
        return _text(200 if ok else 503, "ok\n" if ok else "unhealthy\n")
    if path == READY_PATH:
        problem = not_ready() if not_ready is not None else None
        return _text(200, "ready\n") if problem is None else _text(503, f"not ready: {problem}\n")
    if path == METRICS_PATH and metrics is not None:
        body = metrics.render().decode("utf-8")
        return WsgiHttpResponse(status=200, headers={"content-type": [CONTENT_TYPE]}, body=body)
    return None


def ops_wsgi_app(
    *, metrics: Metrics | None = None, not_ready: Callable[[], str | None] | None = None
) -> Wsgi:
    """WSGI callable serving only ``GET /healthz``, ``/readyz`` and ``/metrics`` (404 elsewhere)."""

    def wsgi(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        response = _ops_response(
            environ.get("REQUEST_METHOD"),
            environ.get("PATH_INFO"),
            healthy=None,
            metrics=metrics,
            not_ready=not_ready,
        ) or _text(404, "Not Found")
        start_response(response.status, response.get_headers())
        return response.get_body()

    return wsgi


def make_wsgi_app(
    app: QlocksApp,
    *,
    healthy: Callable[[], bool] | None = None,
    metrics: Metrics | None = None,
    not_ready: Callable[[], str | None] | None = None,
) -> Wsgi:
    """WSGI callable: Bolt on ``POST /slack/events``; ``GET /healthz`` (200 ``ok``, or 503 when ``healthy()`` is
    False); ``GET /readyz`` (200, or 503 with the one line ``not_ready()`` returned); ``GET /metrics`` (with
    ``metrics``); 404 elsewhere. Before Bolt builds a request: at most ``MAX_BODY_BYTES`` (413), a valid Slack
    signature (401, nothing else happens), one of Slack's body shapes (400)."""
    secret = app.verification_secret

    def events(environ: WSGIEnvironment) -> BoltResponse:
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return _refuse(400, "bad Content-Length")
        if length < 0 or length > MAX_BODY_BYTES:
            return _refuse(413, "request too large")
        raw: bytes = environ["wsgi.input"].read(length) if length else b""
        timestamp = environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP")
        problem = signature_problem(
            secret=secret,
            body=raw,
            timestamp=timestamp,
            signature=environ.get("HTTP_X_SLACK_SIGNATURE"),
            now=time.time(),
        )
        if problem is not None:
            logger.info("refused an unverified request: %s", problem)
            return _refuse(401, "invalid request")
        try:
            body = raw.decode("utf-8")
            parse_body(body, environ.get("CONTENT_TYPE"))
            request = BoltRequest(
                body=body,
                query=environ.get("QUERY_STRING", ""),
                headers=WsgiHttpRequest(environ).get_headers(),
            )
        except (
            BodyError,
            UnicodeDecodeError,
            ValueError,
            AttributeError,
            TypeError,
            KeyError,
            IndexError,
        ) as exc:
            logger.info("refused a signed but unreadable request: %s", type(exc).__name__)
            return _refuse(400, "unreadable request")
        return app.dispatch(request)

    def wsgi(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        method, path = environ.get("REQUEST_METHOD"), environ.get("PATH_INFO")
        ops = _ops_response(method, path, healthy=healthy, metrics=metrics, not_ready=not_ready)
        if ops is not None:
            response = ops
        elif path == EVENTS_PATH and method == "POST":
            bolt = events(environ)
            response = WsgiHttpResponse(status=bolt.status, headers=bolt.headers, body=bolt.body)
        else:
            response = _text(404, "Not Found")
        start_response(response.status, response.get_headers())
        return response.get_body()

    return wsgi


def _refuse(status: int, reason: str) -> BoltResponse:
    return BoltResponse(
        status=status, body=f'{{"error":"{reason}"}}', headers={"content-type": "application/json"}
    )


def create_wsgi_app() -> WSGIApplication:
    """Gunicorn factory: ``.env`` + environment -> configs -> cluster client -> app -> WSGI callable."""
    import atexit
    import os

    from bot.compose import bot_from_env
    from bot.envfile import load_env_file
    from bot.logs import configure

    load_env_file()  # ./.env of the working directory; the environment wins

    configure(logging.INFO, os.environ)  # gunicorn has no ``qlocks`` CLI to configure logging for us
    bot = bot_from_env(os.environ)
    atexit.register(bot.close)  # the worker's state store (and cluster session) closed when it exits
    return make_wsgi_app(bot.app, metrics=bot.metrics, not_ready=bot.not_ready)
