"""``start_simulator(...) -> Simulator``: a seeded cluster served over real HTTP(S) from a background thread."""

from __future__ import annotations

import hashlib
import logging
import shutil
import socket
import ssl
import tempfile
import threading
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType

from qlocks_tools.simulator.generator import populate
from qlocks_tools.simulator.server import SimulatorHTTPServer
from qlocks_tools.simulator.state import DEFAULT_PASSWORD, DEFAULT_USERNAME, ClusterState

logger = logging.getLogger(__name__)


class Simulator:
    """A running simulator. ``stop()`` (or leaving the ``with`` block) shuts it down."""

    def __init__(
        self, state: ClusterState, server: SimulatorHTTPServer, *, cafile: Path | None, tmpdir: Path | None
    ) -> None:
        self.state = state
        self._server = server
        self.cafile = cafile
        self._tmpdir = tmpdir
        self.host = str(server.server_address[0])
        self.port = int(server.server_address[1])
        scheme = "https" if server.ssl_context is not None else "http"
        host = f"[{self.host}]" if ":" in self.host else self.host
        self.url = f"{scheme}://{host}:{self.port}"
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"qumulo-sim-{self.port}",
            daemon=True,
        )
        self._stopped = False

    @property
    def cert_fingerprint(self) -> str | None:
        """SHA-256 of the served certificate (hex), what ``QUMULO_TLS_FINGERPRINT`` pins; None without TLS."""
        if self.cafile is None:
            return None
        der = ssl.PEM_cert_to_DER_cert(self.cafile.read_text(encoding="ascii"))
        return hashlib.sha256(der).hexdigest()

    @property
    def admin_token(self) -> str:
        """A bearer token holding every privilege."""
        return self.state.admin_token

    def mint_token(self, name: str, privileges: Iterable[str]) -> str:
        """A bearer token for user ``name`` with exactly ``privileges`` (``PRIVILEGE_`` prefix optional)."""
        return self.state.mint_token(name, privileges)

    def start(self) -> Simulator:
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        self._server.close_connections()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
        if self._tmpdir is not None:
            shutil.rmtree(self._tmpdir, ignore_errors=True)
        logger.info("simulator on %s stopped", self.url)

    def __enter__(self) -> Simulator:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"Simulator(url={self.url!r}, handles={self.state.handle_count})"


def start_simulator(
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    handles: int = 300,
    seed: int = 1,
    tls: bool = False,
    latency_ms: float = 0.0,
    page_size: int | None = None,
    username: str = DEFAULT_USERNAME,
    password: str = DEFAULT_PASSWORD,
    cert_dir: Path | None = None,
    tls_san: bool = True,
    tls_names: tuple[str, ...] | None = None,
    api_prefix: str | None = None,
    handle_locations: str = "opaque",
    addresses: str = "ipv4",
    folders: float = 0.0,
) -> Simulator:
    """Generate a cluster with ``handles`` open handles and serve it on ``host:port`` (0 = any free port).

    With ``tls`` it serves HTTPS with a fresh self-signed certificate written to ``cert_dir`` (default: a
    temporary directory removed on ``stop()``); ``Simulator.cafile`` is the PEM to trust. ``tls_san=False`` serves a
    certificate without subjectAltName (its CN is ``host``), which verifying clients on urllib3 2 refuse;
    ``tls_names`` replaces the certificate's names (default localhost, 127.0.0.1, ::1), e.g. to serve one for
    another host. With ``api_prefix`` (``/api``) the API is served under that prefix only, as on a cluster's web UI
    port 443. ``handle_locations``
    and ``addresses`` pick the cluster behaviours of ``knobs.LOCATION_STYLES`` / ``knobs.ADDRESS_STYLES``;
    ``folders`` is the share of generated opens that are folder handles.
    """
    if handles < 0:
        raise ValueError("handles must be >= 0")
    if page_size is not None and page_size < 1:
        raise ValueError("page_size must be >= 1")
    state = ClusterState(
        seed=seed,
        username=username,
        password=password,
        handle_locations=handle_locations,
        addresses=addresses,
    )
    populate(state, handles, seed=seed, folders=folders)
    state.latency_s = max(0.0, latency_ms / 1000.0)
    state.page_size = page_size
    if api_prefix is not None and (not api_prefix.startswith("/") or api_prefix.endswith("/")):
        raise ValueError("api_prefix must start with / and not end with / (e.g. /api)")
    state.api_prefix = api_prefix or None
    ctx = None
    cafile = tmpdir = None
    if tls:
        from qlocks_tools.simulator.tls import generate_certificate, server_context

        if cert_dir is None:
            tmpdir = cert_dir = Path(tempfile.mkdtemp(prefix="qlocks-sim-tls-"))
        names = tls_names or (("localhost", "127.0.0.1", "::1") if tls_san else (host,))
        cafile, keyfile = generate_certificate(cert_dir, hosts=names, san=tls_san)
        ctx = server_context(cafile, keyfile)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    server = SimulatorHTTPServer((host, port), state, ctx, family=family)
    sim = Simulator(state, server, cafile=cafile, tmpdir=tmpdir).start()
    logger.info("Qumulo simulator serving %d handles on %s", state.handle_count, sim.url)
    return sim
