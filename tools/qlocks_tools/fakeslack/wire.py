"""HTTP for the fake Slack: request bodies read the way Slack reads them, and a loopback server of its own.

``FakeSlack.handle_http`` answers ``/api/<method>`` and ``/respond/<key>`` wherever it is mounted: on the playground's
page server, or on ``Loopback`` (``FakeSlack.serve()``), a ``ThreadingHTTPServer`` on 127.0.0.1 used by the tests.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

JsonDict = dict[str, Any]
# handle(target, raw, content_type=, authorization=) -> (status, Content-Type, body), or None for 404
Handler = Callable[..., tuple[int, str, bytes] | None]


def parse_body(query: str, content_type: str, raw: bytes) -> JsonDict | None:
    """Query parameters plus a JSON object or urlencoded form body; None when a JSON body is not an object."""
    params: JsonDict = _form(query)
    if not raw:
        return params
    if "json" in content_type:
        try:
            data = json.loads(raw)
        except ValueError:
            return None
        if not isinstance(data, dict):
            return None
        params.update(data)
    else:
        params.update(_form(raw.decode("utf-8", "replace")))
    return params


def bearer(authorization: str) -> str | None:
    return authorization[len("Bearer ") :] if authorization.startswith("Bearer ") else None


def _form(text: str) -> JsonDict:
    return {k: v[0] for k, v in parse_qs(text, keep_blank_values=True).items()}


class Loopback:
    """A threaded HTTP server on a free loopback port that hands every POST to ``handle``."""

    def __init__(self, handle: Handler, *, host: str = "127.0.0.1", port: int = 0) -> None:
        class Request(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass  # request lines would include response_url keys

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                ctype, auth = self.headers.get("Content-Type", ""), self.headers.get("Authorization", "")
                found = handle(self.path, raw, content_type=ctype, authorization=auth)
                status, ctype, body = found or (404, "text/plain", b"not found")
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self._httpd = ThreadingHTTPServer((host, port), Request)
        self._httpd.daemon_threads = True
        self.url = f"http://{host}:{self._httpd.server_address[1]}"
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-slack", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)
