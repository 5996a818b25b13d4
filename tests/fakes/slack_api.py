"""A loopback fake of Slack's servers: the Web API methods qlocks calls and a response_url sink.

``FakeSlack`` is a real ``ThreadingHTTPServer`` on ``127.0.0.1:0``. Point ``WebClient(base_url=fake.api_url)`` at it
and put ``fake.response_url(name)`` in payloads. Every request is recorded in order as a ``Call`` (path, method name,
parsed body); ``wait_for`` blocks (with a timeout, no sleeps) until a matching call has arrived.

Behaviour, as far as qlocks relies on it:
- ``chat.postMessage`` / ``chat.update``: ``{"ok": true, "ts": ...}``; blocks are checked with slack_sdk's validators.
- ``usergroups.users.list``: members from ``fake.groups`` (unknown group -> ``no_such_subteam``).
- ``auth.test``: the bot identity.
- ``fail(method, error)`` makes the next ``count`` calls (or all) answer ``{"ok": false, "error": error}``.
- ``on_call(call)``, when set, runs before a Web API call is answered (e.g. to look at the audit log right then).
- A response_url accepts at most 5 posts (the 6th gets 404 ``used_url``, as Slack does); ``fail_response_urls``
  makes them answer with an HTTP error instead.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from slack_sdk.models.blocks import Block

RESPONSE_URL_USES = 5


@dataclass(frozen=True)
class Call:
    path: str  # "/api/chat.postMessage" or "/response/<name>"
    method: str  # "chat.postMessage" ... or "respond"
    body: dict[str, Any]
    token: str | None = None  # bearer token sent (Web API)
    status: int = 200


def _validate_blocks(blocks: Any) -> str | None:
    if blocks is None:
        return None
    if isinstance(blocks, str):
        blocks = json.loads(blocks)
    if not isinstance(blocks, list) or len(blocks) > 50:
        return "invalid_blocks"
    ids = [b.get("block_id") for b in blocks if isinstance(b, dict) and b.get("block_id")]
    if len(ids) != len(set(ids)):
        return "invalid_blocks"
    try:
        for b in blocks:
            if Block.parse(b) is None:
                return "invalid_blocks"
            Block.parse(b).to_dict()  # type: ignore[union-attr]
    except Exception:  # SlackObjectFormationError and friends
        return "invalid_blocks"
    return None


class FakeSlack:
    def __init__(self, *, bot_token: str = "xoxb-test") -> None:
        self.bot_token = bot_token
        self.groups: dict[str, list[str]] = {}
        self._calls: list[Call] = []
        self._failures: dict[str, tuple[str, int | None]] = {}
        self._response_status: int | None = None
        self._uses: dict[str, int] = {}
        self._ts = 1_700_000_000.000100
        self._cond = threading.Condition()
        self.on_call: Callable[[Call], None] | None = None  # runs before a Web API call is answered
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                fake._handle(self, "GET")

            def do_POST(self) -> None:
                fake._handle(self, "POST")

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-slack", daemon=True
        )
        self._thread.start()

    # -- addresses ---------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def api_url(self) -> str:
        return self.url + "/api/"

    def response_url(self, name: str) -> str:
        return f"{self.url}/response/{name}"

    # -- knobs ---------------------------------------------------------------------------------------
    def fail(self, method: str, error: str = "internal_error", *, count: int | None = None) -> None:
        with self._cond:
            self._failures[method] = (error, count)

    def fail_response_urls(self, status: int | None) -> None:
        with self._cond:
            self._response_status = status

    # -- recorded calls ------------------------------------------------------------------------------
    @property
    def calls(self) -> list[Call]:
        with self._cond:
            return list(self._calls)

    def calls_to(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    def responses(self, name: str | None = None) -> list[Call]:
        return [
            c for c in self.calls if c.method == "respond" and (name is None or c.path.endswith("/" + name))
        ]

    def wait_for(self, predicate: Callable[[list[Call]], bool], timeout: float = 5.0) -> list[Call]:
        deadline = time.monotonic() + timeout
        with self._cond:
            while not predicate(list(self._calls)):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        f"timed out waiting; calls so far: {[c.method for c in self._calls]}"
                    )
                self._cond.wait(left)
            return list(self._calls)

    def clear(self) -> None:
        with self._cond:
            self._calls.clear()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> FakeSlack:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- request handling ------------------------------------------------------------------------------
    def _record(self, call: Call) -> None:
        with self._cond:
            self._calls.append(call)
            self._cond.notify_all()

    def _handle(self, req: BaseHTTPRequestHandler, verb: str) -> None:
        parsed = urllib.parse.urlsplit(req.path)
        raw = req.rfile.read(int(req.headers.get("Content-Length") or 0)) if verb == "POST" else b""
        ctype = req.headers.get("Content-Type") or ""
        body: dict[str, Any] = {k: v for k, v in urllib.parse.parse_qsl(parsed.query)}
        if raw:
            if "json" in ctype:
                body.update(json.loads(raw.decode("utf-8")))
            else:
                body.update(urllib.parse.parse_qsl(raw.decode("utf-8")))
        if parsed.path.startswith("/response/"):
            status, answer = self._respond_url(parsed.path, body)
            self._record(Call(parsed.path, "respond", body, status=status))
            self._send(req, status, answer, "text/plain")
            return
        if not parsed.path.startswith("/api/"):
            self._send(req, 404, "not found", "text/plain")
            return
        method = parsed.path[len("/api/") :]
        auth = req.headers.get("Authorization") or ""
        token = auth[len("Bearer ") :] if auth.startswith("Bearer ") else body.get("token")
        call = Call(parsed.path, method, body, token=token, status=200)
        if self.on_call is not None:
            self.on_call(call)
        result = self._api(method, body, token)
        self._record(call)
        self._send(req, 200, json.dumps(result), "application/json")

    def _respond_url(self, path: str, body: dict[str, Any]) -> tuple[int, str]:
        with self._cond:
            if self._response_status is not None:
                return self._response_status, "internal_error"
            self._uses[path] = self._uses.get(path, 0) + 1
            if self._uses[path] > RESPONSE_URL_USES:
                return 404, "used_url"
        if _validate_blocks(body.get("blocks")):
            return 400, "invalid_blocks"
        return 200, "ok"

    def _api(self, method: str, body: dict[str, Any], token: str | None) -> dict[str, Any]:
        with self._cond:
            failure = self._failures.get(method)
            if failure is not None:
                error, count = failure
                if count is not None:
                    if count <= 1:
                        del self._failures[method]
                    else:
                        self._failures[method] = (error, count - 1)
                return {"ok": False, "error": error}
        if token != self.bot_token:
            return {"ok": False, "error": "invalid_auth"}
        if method == "auth.test":
            return {"ok": True, "team_id": "T0TEST", "user_id": "UBOT00001", "bot_id": "BBOT00001"}
        if method == "usergroups.users.list":
            members = self.groups.get(str(body.get("usergroup")))
            if members is None:
                return {"ok": False, "error": "no_such_subteam"}
            return {"ok": True, "users": list(members)}
        if method in ("chat.postMessage", "chat.update"):
            if not body.get("channel"):
                return {"ok": False, "error": "channel_not_found"}
            if _validate_blocks(body.get("blocks")):
                return {"ok": False, "error": "invalid_blocks"}
            with self._cond:
                self._ts += 1
                ts = f"{self._ts:.6f}"
            return {"ok": True, "channel": body["channel"], "ts": body.get("ts") or ts}
        return {"ok": False, "error": "unknown_method"}

    @staticmethod
    def _send(req: BaseHTTPRequestHandler, status: int, text: str, ctype: str) -> None:
        data = text.encode("utf-8")
        req.send_response(status)
        req.send_header("Content-Type", ctype)
        req.send_header("Content-Length", str(len(data)))
        req.end_headers()
        req.wfile.write(data)
