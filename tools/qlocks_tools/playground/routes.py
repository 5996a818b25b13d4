"""HTTP request handling for the playground server: routing, JSON bodies, static assets, security headers.

Every route is on loopback; still, the Host header must name this server (DNS-rebinding guard), page POSTs must be
JSON (so a cross-site form cannot post without a CORS preflight, which is never granted) and every response carries
a strict Content-Security-Policy. Request lines are not logged: they would contain response_url keys.
"""

from __future__ import annotations

import json
import logging
from http.server import BaseHTTPRequestHandler
from importlib import resources
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

if TYPE_CHECKING:
    from qlocks_tools.playground.server import PlaygroundServer

logger = logging.getLogger(__name__)

JsonDict = dict[str, Any]

MAX_BODY = 1_000_000
MAX_WAIT_S = 10.0
_TYPES = {".html": "text/html", ".css": "text/css", ".js": "text/javascript", ".png": "image/png",
          ".svg": "image/svg+xml"}  # fmt: skip
_CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'")  # fmt: skip


class PageError(Exception):
    """A request the playground refuses; ``status`` is the HTTP status, the message goes back as JSON."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def _static(name: str) -> tuple[bytes, str] | None:
    suffix = name[name.rfind(".") :] if "." in name else ""
    if suffix not in _TYPES or "/" in name or "\\" in name or name.startswith("."):
        return None
    resource = resources.files("qlocks_tools.playground").joinpath("static").joinpath(name)
    if not resource.is_file():
        return None
    return resource.read_bytes(), _TYPES[suffix]


def make_handler(pg: PlaygroundServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "qlocks-playground"

        def log_message(self, format: str, *args: Any) -> None:
            pass  # request lines would include response_url keys; the server logs its own events

        def do_GET(self) -> None:
            self._dispatch("GET")

        def do_POST(self) -> None:
            self._dispatch("POST")

        def _dispatch(self, method: str) -> None:
            try:
                try:
                    self._route(method)
                except PageError as exc:
                    self._json({"ok": False, "error": str(exc)}, exc.status)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the page gave up on a long-poll (it aborts them on every refresh)
            except Exception:
                route = "/".join(urlsplit(self.path).path.split("/")[:2])  # never the response_url key
                logger.exception("playground request failed: %s %s", method, route)
                self._json({"ok": False, "error": "internal error"}, 500)

        def _route(self, method: str) -> None:
            if self.headers.get("Host", "") not in pg.allowed_hosts:
                raise PageError(403, "unexpected Host header")  # DNS rebinding guard
            url = urlsplit(self.path)
            path, query = url.path, parse_qs(url.query)
            if method == "GET" and path in ("/", "/index.html"):
                return self._static("index.html")
            if method == "GET" and path.startswith("/static/"):
                return self._static(path[len("/static/") :])
            if method == "GET" and path == "/healthz":
                return self._json({"ok": True})
            if method == "GET" and path == "/pg/state":
                return self._state(query)
            if method == "POST" and path.startswith(("/api/", "/respond/")):  # the fake Slack, mounted here
                ctype, auth = self.headers.get("Content-Type", ""), self.headers.get("Authorization", "")
                found = pg.slack.handle_http(self.path, self._body(), content_type=ctype, authorization=auth)
                if found is not None:
                    return self._send(found[0], found[2], found[1])
            if method == "POST" and path.startswith("/pg/"):
                return self._page_post(path[len("/pg/") :])
            raise PageError(404, "not found")

        def _state(self, query: dict[str, list[str]]) -> None:
            user = pg.user(query.get("as", [""])[0], default=True)
            try:
                since = int(query.get("since", ["-1"])[0] or -1)
                wait = min(MAX_WAIT_S, max(0.0, float(query.get("wait", ["0"])[0] or 0)))
            except ValueError:
                raise PageError(400, "since and wait must be numbers") from None
            if wait > 0:
                pg.channel.wait_for_change(since, wait)
            self._json(pg.state(user, filter_text=query.get("filter", [""])[0][:200]))

        def _page_post(self, action: str) -> None:
            if not self.headers.get("Content-Type", "").startswith("application/json"):
                raise PageError(415, "send JSON")  # also forces a CORS preflight on cross-site posts
            body = self._json_body()
            if action == "command":
                return self._json(pg.command(pg.user(body.get("as")), str(body.get("text", ""))))
            if action == "action":
                value = body.get("value")
                result = pg.action(pg.user(body.get("as")), ts=str(body.get("ts", "")),
                                   block_id=str(body.get("block_id", "")), action_id=str(body.get("action_id", "")),
                                   value=None if value is None else str(value))  # fmt: skip
                return self._json(result)
            if action == "open-handle":
                return self._json(pg.open_handle(str(body.get("path", ""))))
            if action == "client-close":
                return self._json(pg.client_close(str(body.get("location", ""))))
            raise PageError(404, "not found")

        def _body(self) -> bytes:
            raw_length = self.headers.get("Content-Length", "0") or "0"
            if not raw_length.isdigit():
                raise PageError(400, "bad Content-Length")
            length = int(raw_length)
            if length > MAX_BODY:
                raise PageError(413, "body too large")
            return self.rfile.read(length) if length > 0 else b""

        def _json_body(self) -> JsonDict:
            raw = self._body()
            try:
                data = json.loads(raw) if raw else None
            except ValueError:
                data = None
            if not isinstance(data, dict):
                raise PageError(400, "expected a JSON object")
            return data

        def _static(self, name: str) -> None:
            found = _static(name)
            if found is None:
                raise PageError(404, "not found")
            self._send(200, found[0], found[1] + ("; charset=utf-8" if found[1].startswith("text/") else ""))

        def _json(self, data: Any, status: int = 200) -> None:
            self._send(status, json.dumps(data).encode("utf-8"), "application/json; charset=utf-8")

        def _send(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.send_header("X-Content-Type-Options", "nosniff")
            self.send_header("Content-Security-Policy", _CSP)
            self.end_headers()
            self.wfile.write(body)

    return Handler
