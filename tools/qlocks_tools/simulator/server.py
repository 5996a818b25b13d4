"""The simulator's HTTP(S) transport: a ``ThreadingHTTPServer`` whose handler applies the knobs (latency, faults,
churn), authenticates the bearer token, checks the route's privilege and renders JSON.

HTTP/1.1 with keep-alive, so clients reuse connections as they would against a real cluster. With TLS the
handshake runs in the connection's own thread, so a slow or failing client never blocks ``accept``.
"""

from __future__ import annotations

import contextlib
import json
import logging
import socket
import ssl
import struct
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from qlocks_tools.simulator import api_identity, api_smb
from qlocks_tools.simulator.api import (
    ApiError,
    Request,
    Router,
    authenticate,
    authorize,
    error_body,
    parse_query,
)
from qlocks_tools.simulator.knobs import Fault
from qlocks_tools.simulator.render import RawJson
from qlocks_tools.simulator.state import ClusterState

logger = logging.getLogger(__name__)

MAX_BODY = 16 * 1024 * 1024


def build_router() -> Router:
    router = Router()
    api_smb.register(router)
    api_identity.register(router)
    return router


def _trap_paging(payload: Any, trap: str, raw_path: str, raw_query: str) -> Any:
    """``paging.next`` rewritten per ``ClusterState.paging_trap`` (only where the page has a next link)."""
    data = json.loads(payload.data) if isinstance(payload, RawJson) else payload
    paging = data.get("paging") if isinstance(data, dict) else None
    if not isinstance(paging, dict) or "next" not in paging:
        return payload
    here = raw_path + (f"?{raw_query}" if raw_query else "")
    if trap == "looping":
        paging["next"] = here
    else:  # endless: the same page again behind an ever new link (the simulator ignores ``trap``)
        base, _, _ = here.partition("&trap=")
        count = int(here.rpartition("&trap=")[2]) + 1 if "&trap=" in here else 1
        paging["next"] = f"{base}{'&' if '?' in base else '?'}trap={count}"
    return data


class SimulatorHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True

    def __init__(
        self,
        address: tuple[str, int],
        state: ClusterState,
        ssl_context: ssl.SSLContext | None = None,
        *,
        family: socket.AddressFamily = socket.AF_INET,
    ) -> None:
        self.address_family = family
        self.state = state
        self.router = build_router()
        self.ssl_context = ssl_context
        self.stopping = threading.Event()
        self._conns: set[socket.socket] = set()
        self._conns_lock = threading.Lock()
        super().__init__(address, SimulatorHandler)

    def get_request(self) -> tuple[Any, Any]:
        sock, addr = super().get_request()
        if self.ssl_context is not None:
            sock = self.ssl_context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        return sock, addr

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._conns_lock:
            self._conns.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._conns_lock:
            self._conns.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        logger.debug("connection from %s ended with an error", client_address, exc_info=True)

    def close_connections(self) -> None:
        """Wake handler threads blocked on idle keep-alive connections or hanging faults."""
        self.stopping.set()
        with self._conns_lock:
            conns = list(self._conns)
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)


class SimulatorHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body are separate writes: avoid 40 ms delayed-ACK stalls
    server_version = "QumuloSimulator/1.0"
    server: SimulatorHTTPServer

    def setup(self) -> None:
        super().setup()
        if isinstance(self.connection, ssl.SSLSocket):
            self.connection.settimeout(10)
            self.connection.do_handshake()
            self.connection.settimeout(None)

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("%s " + format, self.address_string(), *args)

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def do_PUT(self) -> None:
        self._dispatch()

    def do_PATCH(self) -> None:
        self._dispatch()

    def do_DELETE(self) -> None:
        self._dispatch()

    # -- the request pipeline ---------------------------------------------------------------------
    def _dispatch(self) -> None:
        state = self.server.state
        method = self.command
        state.log_request(method, self.path)
        raw_path, _, raw_query = self.path.partition("?")
        body = self._read_body()
        if body is None:
            return
        prefix = state.api_prefix or ""
        if prefix:  # like a cluster's port 443: the API lives under /api only
            if not raw_path.startswith(prefix + "/"):
                self._send_json(404, error_body(404, f"Unknown endpoint: {method} {raw_path}"))
                return
            raw_path = raw_path[len(prefix) :]
        if state.latency_s > 0 and self.server.stopping.wait(state.latency_s):
            self._drop()
            return
        fault = state.faults.take(method, raw_path)
        if fault is not None and self._apply_fault(fault):
            return
        try:
            status, payload = 200, self._route(state, method, raw_path, raw_query, body, prefix)
        except ApiError as exc:
            status, payload = exc.status, error_body(exc.status, exc.description, exc.error_class)
        except Exception:
            logger.exception("simulator bug while serving %s %s", method, raw_path)
            status, payload = 500, error_body(500, "Internal error in the Qumulo simulator")
        self._send_json(status, payload)

    def _route(
        self, state: ClusterState, method: str, raw_path: str, raw_query: str, body: bytes, prefix: str
    ) -> Any:
        route, groups = self.server.router.match(method, raw_path)
        req = Request(method, raw_path, parse_query(raw_query), groups=groups, prefix=prefix)
        if not route.public:
            req.account = authenticate(state, self.headers.get("Authorization"))
            authorize(req.account, route, method, raw_path)
        if body:
            try:
                req.body = json.loads(body)
            except ValueError as exc:
                raise ApiError(400, f"Request body is not valid JSON: {exc}") from exc
        if route.churns and "after" in req.query and (state.churn_add or state.churn_remove):
            state.apply_churn()
        payload = route.handler(state, req)
        if state.paging_trap and method == "GET":
            payload = _trap_paging(payload, state.paging_trap, raw_path, raw_query)
        return payload

    def _read_body(self) -> bytes | None:
        length = self.headers.get("Content-Length")
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            self._send_json(411, error_body(400, "Chunked request bodies are not supported by the simulator"))
            self.close_connection = True
            return None
        if not length:
            return b""
        if not length.isdigit() or int(length) > MAX_BODY:
            self._send_json(400, error_body(400, "Invalid Content-Length"))
            self.close_connection = True
            return None
        return self.rfile.read(int(length))

    def _apply_fault(self, fault: Fault) -> bool:
        """Carry out an injected fault. True when the request is finished (no normal response)."""
        logger.debug("injecting %s fault on %s %s", fault.kind, self.command, self.path)
        if fault.kind == "delay":
            if fault.gate is not None:
                deadline = time.monotonic() + fault.delay_s
                while not fault.gate.wait(0.02) and time.monotonic() < deadline:
                    if self.server.stopping.is_set():
                        self._drop()
                        return True
                return False
            if self.server.stopping.wait(fault.delay_s):
                self._drop()
                return True
            return False
        if fault.kind == "reset":
            self._drop(reset=True)
        elif fault.kind == "timeout":
            self.server.stopping.wait(fault.delay_s)
            self._drop()
        elif fault.kind == "malformed":
            self._send(200, b'{"file_handles": [{"file_number": "73', "application/json")
        elif fault.kind == "html":
            page = f"<html><body><h1>{fault.status} Bad Gateway</h1><p>nginx</p></body></html>".encode()
            self._send(fault.status, page, "text/html")
        else:
            extra = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
            desc = f"Injected fault: the simulator answered {fault.status}"
            self._send_json(fault.status, error_body(fault.status, desc), extra)
        return True

    def _drop(self, *, reset: bool = False) -> None:
        self.close_connection = True
        try:
            if reset:
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
        except OSError:
            pass

    def _send_json(self, status: int, payload: Any, extra: dict[str, str] | None = None) -> None:
        if isinstance(payload, RawJson):  # big listings arrive pre-rendered (simulator.render)
            data = payload.data
        else:
            data = b"" if payload is None else json.dumps(payload, ensure_ascii=False).encode("utf-8")
        self._send(status, data, "application/json", extra)

    def _send(self, status: int, data: bytes, content_type: str, extra: dict[str, str] | None = None) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            for name, value in (extra or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)
        except OSError:
            self.close_connection = True
