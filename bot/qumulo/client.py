"""Qumulo REST client: one ``requests.Session``, bearer auth, JSON, timeouts; the endpoints qlocks uses.

Paged listings follow ``paging.py``; HTTP statuses become exceptions in ``mapping.py`` (one error mapping).

- Only idempotent reads (GET) are retried (urllib3 ``Retry`` with backoff); a close or login is never retried.
- ``requests`` exceptions are translated at the boundary into ``bot.qumulo.errors`` (callers never import requests).
- TLS: ``verify=`` is passed explicitly on every request and the Session ignores ``REQUESTS_CA_BUNDLE`` & co
  (``trust_env=False``), so ``QUMULO_VERIFY_TLS`` / ``QUMULO_CA_BUNDLE`` mean what they say. With
  ``QUMULO_TLS_FINGERPRINT`` the chain is not checked and the adapter requires that exact certificate instead
  (urllib3's ``assert_fingerprint``: checked after the handshake, before any byte of the request is sent).
- Tokens never appear in logs, exception text or ``repr``.
- Thread-safe: one client is shared by the search's concurrent listings.
"""

from __future__ import annotations

import logging
import threading
import urllib.parse
import warnings
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import requests
import urllib3
from requests.adapters import HTTPAdapter
from urllib3.exceptions import InsecureRequestWarning
from urllib3.util.retry import Retry

from bot.config import QumuloConfig
from bot.qumulo.errors import (
    QumuloAuthError,
    QumuloConnectionError,
    QumuloError,
    QumuloProtocolError,
    QumuloTimeout,
    QumuloTLSError,
)
from bot.qumulo.mapping import endpoint_name, error_from_response
from bot.qumulo.models import (
    CloseReply,
    FileAttributes,
    FileHandle,
    Identity,
    ShareModeGrant,
    SmbSession,
    SmbShare,
    WhoAmI,
)
from bot.qumulo.paging import flatten, iter_pages, with_query

logger = logging.getLogger(__name__)


# (endpoint, status): "200", "404", … or, with no HTTP answer, "timeout", "connection", "retries", "tls"
RequestListener = Callable[[str, str], None]


@dataclass
class ClientStats:
    """API calls made by this client (for tests, the benchmark and metrics). Thread-safe.

    ``listen(fn)`` has ``fn(endpoint, status)`` called for every request: answered ones with the HTTP status,
    failed ones (counted nowhere else here) with ``timeout``, ``connection``, ``retries`` or ``tls``."""

    requests: int = 0
    bytes_received: int = 0
    by_endpoint: Counter[str] = field(default_factory=Counter)
    by_status: Counter[tuple[str, str]] = field(default_factory=Counter)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _listeners: list[RequestListener] = field(default_factory=list, repr=False)

    def listen(self, listener: RequestListener) -> None:
        with self._lock:
            self._listeners.append(listener)

    def record(self, endpoint: str, nbytes: int, status: int | str = 200) -> None:
        with self._lock:
            self.requests += 1
            self.bytes_received += nbytes
            self.by_endpoint[endpoint] += 1
            self.by_status[(endpoint, str(status))] += 1
            listeners = list(self._listeners)
        for listener in listeners:
            listener(endpoint, str(status))

    def failed(self, endpoint: str, reason: str) -> None:
        """A request that got no HTTP answer (``timeout``, ``connection``, ``retries``, ``tls``)."""
        with self._lock:
            self.by_status[(endpoint, reason)] += 1
            listeners = list(self._listeners)
        for listener in listeners:
            listener(endpoint, reason)

    def reset(self) -> None:
        with self._lock:
            self.requests = 0
            self.bytes_received = 0
            self.by_endpoint.clear()
            self.by_status.clear()


def file_ref(path_or_id: str) -> str:
    """A ``/v1/files/{ref}`` reference: numeric IDs as they are, paths fully URL-encoded (slashes included)."""
    if path_or_id.isdigit():
        return path_or_id
    return urllib.parse.quote(path_or_id, safe="")


_unverified_warned = False
_unverified_lock = threading.Lock()


def _unverified_tls(config: QumuloConfig) -> None:
    """``QUMULO_VERIFY_TLS=false``: say so once per process, in qlocks' words, instead of urllib3's warning on
    every request (a search makes a dozen). The filter is scoped to ``InsecureRequestWarning`` only."""
    global _unverified_warned
    warnings.filterwarnings("ignore", category=InsecureRequestWarning)
    with _unverified_lock:
        if _unverified_warned:
            return
        _unverified_warned = True
    logger.warning("QUMULO_VERIFY_TLS=false: the cluster's certificate is not checked (%s)", config.base_url)


class PinnedAdapter(HTTPAdapter):
    """An adapter whose connections accept only the certificate with this SHA-256 fingerprint (hex, no colons).

    requests passes ``verify=False`` as ``cert_reqs=CERT_NONE``; the pool's ``assert_fingerprint`` is then the check,
    and urllib3 counts such a connection as verified (no InsecureRequestWarning). A mismatch is an ``SSLError``
    raised on connect, so the request carrying the token is never written."""

    def __init__(self, fingerprint: str, **kwargs: Any) -> None:
        self.fingerprint = fingerprint  # before super().__init__, which builds the pool manager
        super().__init__(**kwargs)

    def init_poolmanager(
        self, connections: int, maxsize: int, block: bool = False, **pool_kwargs: Any
    ) -> None:
        pool_kwargs["assert_fingerprint"] = self.fingerprint
        super().init_poolmanager(connections, maxsize, block, **pool_kwargs)


def make_session(config: QumuloConfig, *, pool_size: int = 16) -> requests.Session:
    """The one place a Session gets its retry policy: GETs only, with backoff and Retry-After."""
    if config.scheme == "https" and not config.verify_tls:
        _unverified_tls(config)
    session = requests.Session()
    session.trust_env = (
        False  # REQUESTS_CA_BUNDLE & co must not override QUMULO_CA_BUNDLE / QUMULO_VERIFY_TLS
    )
    retry = Retry(
        total=3,
        connect=3,
        read=1,
        # Errors urllib3 cannot classify (an SSLError while reading the answer) are retried for *every* method,
        # POST included: that would repeat a close the cluster may already have done. Never retry those.
        other=0,
        status=3,
        backoff_factor=0.2,
        status_forcelist=(500, 502, 503, 504),
        allowed_methods=frozenset({"GET"}),
        respect_retry_after_header=True,
        raise_on_status=False,
    )
    adapter = HTTPAdapter(max_retries=retry, pool_connections=1, pool_maxsize=pool_size)
    session.mount("http://", adapter)
    if config.tls_fingerprint:
        adapter = PinnedAdapter(
            config.tls_fingerprint, max_retries=retry, pool_connections=1, pool_maxsize=pool_size
        )
    session.mount("https://", adapter)
    session.headers.update({"Content-Type": "application/json", "User-Agent": "qlocks/0.1"})
    return session


class QumuloClient:
    """Talks to one cluster. ``with QumuloClient(config) as client: ...``."""

    def __init__(self, config: QumuloConfig, *, pool_size: int = 16) -> None:
        self.config = config
        self.stats = ClientStats()
        self._session = make_session(config, pool_size=pool_size)
        self._token: str | None = config.access_token
        self._auth_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"QumuloClient({self.config.base_url!r})"

    def __enter__(self) -> QumuloClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._session.close()

    # -- transport -------------------------------------------------------------------------------

    def login(self) -> None:
        """Username/password -> bearer token. Never retried."""
        if not (self.config.username and self.config.password):
            raise QumuloAuthError(
                "The cluster rejected the access token (expired, disabled or deleted?): "
                "create a new one with qq auth_create_access_token and set QUMULO_ACCESS_TOKEN",
                status=401,
            )
        body = {"username": self.config.username, "password": self.config.password}
        data = self._send("POST", "/v1/session/login", json_body=body, authenticated=False)
        token = data.get("bearer_token") if isinstance(data, dict) else None
        if not isinstance(token, str) or not token:
            raise QumuloProtocolError("Login response carried no bearer_token", endpoint="/v1/session/login")
        self._token = token
        logger.info("logged in to %s as %s", self.config.base_url, self.config.username)

    def _ensure_token(self) -> str:
        with self._auth_lock:
            if self._token is None:
                self.login()
            assert self._token is not None
            return self._token

    def request(self, method: str, path: str, *, json_body: Any = None) -> Any:
        """One authenticated call; on 401 with username/password, log in again once and retry once."""
        token = self._ensure_token()
        try:
            return self._send(method, path, json_body=json_body, token=token)
        except QumuloAuthError:
            if not (self.config.username and self.config.password):
                raise
            with self._auth_lock:
                if self._token == token:  # nobody refreshed it meanwhile
                    self.login()
                token = self._token or ""
            return self._send(method, path, json_body=json_body, token=token)

    def _send(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        token: str | None = None,
        authenticated: bool = True,
    ) -> Any:
        url = self.config.base_url + path
        headers = {"Authorization": f"Bearer {token}"} if authenticated and token else {}
        endpoint = endpoint_name(path)
        try:
            resp = self._session.request(
                method,
                url,
                json=json_body if json_body is not None else None,
                headers=headers,
                timeout=self.config.timeout_s,
                verify=self.config.verify,
            )
        except requests.exceptions.SSLError as exc:
            self.stats.failed(endpoint, "tls")
            raise QumuloTLSError(self._tls_failure(exc), endpoint=endpoint) from exc
        except requests.exceptions.Timeout as exc:
            self.stats.failed(endpoint, "timeout")
            raise QumuloTimeout(
                f"The cluster at {self.config.base_url} did not answer {endpoint} within "
                f"{self.config.timeout_s:g} s (QUMULO_TIMEOUT_S)",
                endpoint=endpoint,
            ) from exc
        except requests.exceptions.RetryError as exc:
            self.stats.failed(endpoint, "retries")
            raise QumuloConnectionError(
                f"The cluster at {self.config.base_url} kept failing on {endpoint}; gave up after retries",
                endpoint=endpoint,
            ) from exc
        except requests.exceptions.ConnectionError as exc:
            self.stats.failed(endpoint, "timeout" if _timed_out(exc) else "connection")
            if _timed_out(exc):
                raise QumuloTimeout(
                    f"The cluster at {self.config.base_url} did not answer {endpoint} within "
                    f"{self.config.timeout_s:g} s (QUMULO_TIMEOUT_S), even after a retry",
                    endpoint=endpoint,
                ) from exc
            if _speaks_tls_instead(self.config):
                raise QumuloConnectionError(
                    f"The cluster at {self.config.base_url} speaks HTTPS on that port, not plain HTTP: "
                    "drop http:// from QUMULO_HOST (https is the default)",
                    endpoint=endpoint,
                ) from exc
            raise QumuloConnectionError(
                f"Cannot reach the cluster at {self.config.base_url} ({_reason(exc)}): "
                "check QUMULO_HOST / QUMULO_PORT and that the cluster is up",
                endpoint=endpoint,
            ) from exc
        except requests.exceptions.RequestException as exc:
            self.stats.failed(endpoint, "connection")
            raise QumuloConnectionError(
                f"Request to {endpoint} failed: {type(exc).__name__}", endpoint=endpoint
            ) from exc
        self.stats.record(endpoint, len(resp.content), resp.status_code)
        if not 200 <= resp.status_code < 300:
            raise error_from_response(resp.status_code, resp.content, endpoint=endpoint)
        if not resp.content:
            return None
        try:
            return resp.json()
        except ValueError as exc:
            raise QumuloProtocolError(
                f"The cluster sent a response that is not JSON for {endpoint}", endpoint=endpoint
            ) from exc

    def _tls_failure(self, exc: Exception) -> str:
        """What the cluster presents and the safe way on (``bot.qumulo.tls``): a CA bundle or a pin."""
        from bot.qumulo.tls import explain_failure

        cfg = self.config
        return explain_failure(
            base_url=cfg.base_url,
            host=cfg.host,
            port=cfg.port,
            timeout_s=cfg.timeout_s,
            ca_bundle=cfg.ca_bundle,
            pinned=cfg.tls_fingerprint,
            reason=str(exc),
        )

    def _get(self, path: str) -> Any:
        """The authenticated GET the paged listings follow (``paging.iter_pages``)."""
        return self.request("GET", path)

    # -- endpoints -------------------------------------------------------------------------------

    def who_am_i(self) -> WhoAmI:
        return WhoAmI.from_json(self._obj("GET", "/v1/session/who-am-i"))

    def iter_file_handles(
        self, *, file_number: str | None = None, resolve_paths: bool = True, limit: int = 1000
    ) -> Iterator[list[FileHandle]]:
        path = with_query("/v1/smb/files/", file_number=file_number, resolve_paths=resolve_paths, limit=limit)
        return iter_pages(
            self._get, path, "file_handles", FileHandle.from_json, base_path=self.config.base_path
        )

    def list_file_handles(
        self, *, file_number: str | None = None, resolve_paths: bool = True, limit: int = 1000
    ) -> list[FileHandle]:
        return flatten(
            self.iter_file_handles(file_number=file_number, resolve_paths=resolve_paths, limit=limit)
        )

    def close_file_handles(self, locations: Sequence[str]) -> CloseReply:
        """Close exactly these handles (never retried). The reply as it came: ``CloseReply``."""
        if not locations:
            return CloseReply()
        body = [{"handle_info": {"location": loc}} for loc in locations]
        data = self.request("POST", "/v1/smb/files/close", json_body=body)
        return CloseReply.from_json(data)  # an empty body (None) is not a list of results: not well formed

    def iter_share_mode_grants(
        self, *, owner_address: str | None = None, limit: int = 1000
    ) -> Iterator[list[ShareModeGrant]]:
        path = with_query("/v1/files/locks/smb/share-mode/", owner_address=owner_address, limit=limit)
        return iter_pages(
            self._get, path, "grants", ShareModeGrant.from_json, base_path=self.config.base_path
        )

    def list_file_share_mode_grants(self, ref: str, *, limit: int = 1000) -> list[ShareModeGrant]:
        path = with_query(f"/v1/files/{file_ref(ref)}/locks/smb/share-mode/", limit=limit)
        return flatten(
            iter_pages(self._get, path, "grants", ShareModeGrant.from_json, base_path=self.config.base_path)
        )

    def file_attributes(self, ref: str) -> FileAttributes:
        return FileAttributes.from_json(self._obj("GET", f"/v1/files/{file_ref(ref)}/info/attributes"))

    def iter_smb_sessions(
        self, *, identity: str | None = None, limit: int = 1000
    ) -> Iterator[list[SmbSession]]:
        path = with_query("/v1/smb/sessions/", identity=identity, limit=limit)
        return iter_pages(
            self._get, path, "session_infos", SmbSession.from_json, base_path=self.config.base_path
        )

    def list_smb_sessions(self, *, identity: str | None = None, limit: int = 1000) -> list[SmbSession]:
        return flatten(self.iter_smb_sessions(identity=identity, limit=limit))

    def find_identity(self, auth_id: str) -> Identity:
        return Identity.from_json(self._obj("POST", "/v1/identity/find", json_body={"auth_id": auth_id}))

    def list_smb_shares(self) -> list[SmbShare]:
        data = self._obj("GET", "/v3/smb/shares/?populate-trustee-names=false")
        entries = data.get("entries")
        if not isinstance(entries, list):
            raise QumuloProtocolError("Unexpected response from /v3/smb/shares/: no 'entries' list")
        try:
            return [SmbShare.from_json(e) for e in entries]
        except (KeyError, TypeError) as exc:
            raise QumuloProtocolError("Malformed entry in /v3/smb/shares/") from exc

    def resolve_ips_to_names(self, ips: Sequence[str]) -> dict[str, str]:
        """IP -> host name for the IPs the cluster's DNS could resolve (needs PRIVILEGE_DNS_USE)."""
        if not ips:
            return {}
        data = self.request("POST", "/v1/dns/resolve-ips-to-names", json_body=list(ips))
        if not isinstance(data, list):
            raise QumuloProtocolError("Unexpected response from /v1/dns/resolve-ips-to-names")
        out: dict[str, str] = {}
        for item in data:
            if isinstance(item, dict) and item.get("result", "OK") == "OK" and item.get("hostname"):
                out[str(item.get("ip_address"))] = str(item["hostname"])
        return out

    def _obj(self, method: str, path: str, *, json_body: Any = None) -> dict[str, Any]:
        data = self.request(method, path, json_body=json_body)
        if not isinstance(data, dict):
            raise QumuloProtocolError(f"Unexpected response from {endpoint_name(path)}: not an object")
        return data


def _timed_out(exc: requests.exceptions.ConnectionError) -> bool:
    """requests reports read timeouts that exhausted urllib3's retries as a ConnectionError."""
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    if isinstance(reason, urllib3.exceptions.NewConnectionError):  # a subclass of ConnectTimeoutError
        return False
    return isinstance(reason, urllib3.exceptions.TimeoutError)


def _speaks_tls_instead(config: QumuloConfig) -> bool:
    """After an ``http://`` request failed: does that port complete a TLS handshake? (A TLS server drops or
    rejects plain HTTP, which otherwise reads as "remotedisconnected".) ``tls.fetch_chain`` only reads what the
    server presents and sends nothing, so the certificate needs no checking for this question."""
    if config.scheme != "http":
        return False
    from bot.qumulo.tls import fetch_chain

    try:
        fetch_chain(config.host, config.port, timeout_s=min(config.timeout_s, 3.0))
    except OSError:  # no handshake (ssl.SSLError is an OSError): not TLS either
        return False
    except ValueError:  # the handshake completed; only the certificate could not be read
        return True
    return True


def _reason(exc: Exception) -> str:
    text = str(exc)
    for marker in (
        "Connection refused",
        "Name or service not known",
        "No route to host",
        "Connection reset",
        "timed out",
        "Temporary failure in name resolution",
        "RemoteDisconnected",
    ):
        if marker in text:
            return marker.lower()
    return type(exc).__name__


__all__ = ["ClientStats", "QumuloClient", "QumuloError", "file_ref", "make_session"]
