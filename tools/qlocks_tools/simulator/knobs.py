"""Test and benchmark knobs of the simulator: bearer tokens, injected faults and the request log."""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

logger = logging.getLogger(__name__)

FAULT_KINDS = ("status", "reset", "timeout", "malformed", "html", "delay")
# How ``POST /v1/smb/files/close`` answers (Qumulo's docs promise an array of ``{error_message}``, no more):
# "per-location" one entry per location sent (what the simulator always did), "empty" ``[]``, "other-location"
# one error entry naming a location that is not the one sent, "garbage" a JSON object instead of an array.
CLOSE_REPLIES = ("per-location", "empty", "other-location", "garbage")
# Which listings echo ``Knobs.api_prefix`` in ``paging.next``: on a real cluster's port 443 lock listings do and
# file listings do not.
PREFIX_ECHOES = ("locks", "all", "none")

# How handle locations relate to session locations (undocumented; qlocks must detect it, not assume it):
# "opaque": unrelated strings; "extends": a handle's location is its session's location plus ".<n>"
# (session "4.676543750958", handle "4.676543750958.39903"); "shuffled": handle locations extend the location
# of *another* session (a prefix that means something else), which qlocks must notice and not trust.
LOCATION_STYLES = ("opaque", "extends", "shuffled")
# How clients are addressed: "ipv4" everywhere; "mapped": sessions say 10.30.0.15, lock grants say
# ::ffff:10.30.0.15; "ipv6": IPv6 clients, compressed in sessions, fully written out in lock grants.
ADDRESS_STYLES = ("ipv4", "mapped", "ipv6")


@dataclass(slots=True)
class Account:
    """A user that can log in (password) or hold access tokens."""

    name: str
    auth_id: str
    privileges: frozenset[str]
    password: str | None = field(default=None, repr=False)


@dataclass(slots=True)
class Token:
    id: str
    secret: str = field(repr=False)
    account: str  # Account.name
    kind: str  # "session" (login) or "access"
    creator: str
    created_at: float
    expires_at: float | None = None
    enabled: bool = True


class TokenStore:
    """Accounts and bearer tokens. Thread-safe."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._lock = threading.Lock()
        self._clock = clock
        self.accounts: dict[str, Account] = {}
        self._tokens: dict[str, Token] = {}  # secret -> token
        self.session_ttl_s: float | None = None

    def add_account(self, account: Account) -> None:
        with self._lock:
            self.accounts[account.name.lower()] = account

    def account(self, name: str) -> Account | None:
        with self._lock:
            return self.accounts.get(name.lower())

    def login(self, username: str, password: str) -> str | None:
        acct = self.account(username)
        if acct is None or acct.password is None or not secrets.compare_digest(acct.password, password):
            return None
        expires = None if self.session_ttl_s is None else self._clock() + self.session_ttl_s
        return self.issue(acct.name, kind="session", creator=acct.name, expires_at=expires).secret

    def issue(self, account: str, *, kind: str, creator: str, expires_at: float | None = None) -> Token:
        prefix = "session-v1:" if kind == "session" else "access-v1:"
        token = Token(
            id=secrets.token_hex(8),
            secret=prefix + secrets.token_urlsafe(24),
            account=account,
            kind=kind,
            creator=creator,
            created_at=self._clock(),
            expires_at=expires_at,
        )
        with self._lock:
            self._tokens[token.secret] = token
        return token

    def check(self, secret: str) -> tuple[Account | None, str]:
        """The account behind a bearer token, or None and the reason it was refused."""
        with self._lock:
            token = self._tokens.get(secret)
            if token is None:
                return None, "Need to log in first to establish credentials."
            if not token.enabled:
                return None, "The access token is disabled."
            if token.expires_at is not None and token.expires_at <= self._clock():
                return None, "The bearer token has expired; log in again."
            acct = self.accounts.get(token.account.lower())
        if acct is None:
            return None, "The user of this bearer token no longer exists."
        return acct, ""

    def expire(self, secret: str) -> bool:
        with self._lock:
            token = self._tokens.get(secret)
            if token is None:
                return False
            token.expires_at = self._clock() - 1
            return True

    def access_tokens(self) -> list[Token]:
        with self._lock:
            return [t for t in self._tokens.values() if t.kind == "access"]

    def by_id(self, token_id: str) -> Token | None:
        with self._lock:
            return next((t for t in self._tokens.values() if t.id == token_id and t.kind == "access"), None)

    def delete(self, token_id: str) -> bool:
        with self._lock:
            for secret, token in self._tokens.items():
                if token.id == token_id and token.kind == "access":
                    del self._tokens[secret]
                    return True
        return False


@dataclass(slots=True)
class Fault:
    """One injected failure. ``count`` None means forever."""

    path_prefix: str
    kind: str
    status: int = 503
    count: int | None = 1
    method: str | None = None
    delay_s: float = 30.0  # for "timeout" (hang, then drop the connection) and "delay" (then answer normally)
    retry_after: int | None = None
    # "delay" only: hold the request until ``gate`` is set (at most ``delay_s``) instead of for a fixed time, e.g.
    # to kill a client while its request is in flight. ``reached`` is set when a request takes this fault.
    gate: threading.Event | None = None
    reached: threading.Event = field(default_factory=threading.Event)

    def matches(self, method: str, path: str) -> bool:
        return path.startswith(self.path_prefix) and (self.method is None or self.method == method)


class FaultPlan:
    """Faults consulted once per request, in the order they were injected. Thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []

    def add(self, fault: Fault) -> Fault:
        if fault.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {fault.kind!r}; expected one of {', '.join(FAULT_KINDS)}")
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def take(self, method: str, path: str) -> Fault | None:
        """The first matching fault, consuming one of its uses."""
        with self._lock:
            for fault in self._faults:
                if fault.matches(method, path):
                    if fault.count is not None:
                        fault.count -= 1
                        if fault.count <= 0:
                            self._faults.remove(fault)
                    fault.reached.set()
                    return fault
        return None

    def pending(self) -> list[Fault]:
        with self._lock:
            return list(self._faults)


class RequestLog:
    """Every request the server received, as ``(method, path_with_query)``. Thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: list[tuple[str, str]] = []

    def append(self, method: str, path: str) -> None:
        with self._lock:
            self._entries.append((method, path))

    def entries(self) -> list[tuple[str, str]]:
        with self._lock:
            return list(self._entries)

    def reset(self) -> None:
        with self._lock:
            self._entries.clear()


def privileges_of(names: Iterable[str]) -> frozenset[str]:
    """Normalise ``SMB_FILE_HANDLE_READ`` / ``PRIVILEGE_SMB_FILE_HANDLE_READ`` spellings."""
    out = set()
    for raw in names:
        name = raw.strip().upper()
        if name:
            out.add(name if name.startswith("PRIVILEGE_") else f"PRIVILEGE_{name}")
    return frozenset(out)


class Knobs:
    """The test and benchmark controls every ``ClusterState`` has (thread-safe)."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self.clock = clock
        self.latency_s = 0.0  # slept in the handler thread before every response
        self.page_size: int | None = None  # server-side maximum items per page; None = honour ``limit``
        self.lock_listings_never_end = False  # lock listings keep a non-null ``next`` on the last page
        # A broken cursor: "looping" answers every listing page with ``next`` = the page just served; "endless"
        # with a new link each time that serves the same page again. What a buggy node or proxy could do.
        self.paging_trap: str | None = None
        # ``GET /v1/files/{ref}/info/attributes`` is allowed by PRIVILEGE_FS_ATTRIBUTES_READ (or FILE_FULL_ACCESS)
        # or by the file's own ACL. False (default): the ACLs do not let the API user read, as for a service account
        # with no access to users' files, so the privilege is needed. True: the ACLs grant read to everyone.
        self.attributes_by_file_access = False
        # Serve the API under this path prefix only (``/api``, like a cluster's web UI port 443); None: at ``/v1``.
        self.api_prefix: str | None = None
        self.prefix_echo = "locks"  # PREFIX_ECHOES: which listings' ``paging.next`` carry ``api_prefix``
        # Pages that are not the last carry fewer items than ``limit`` (the docs allow it): the first page half,
        # later ones one fewer. ``page_size`` caps pages at a fixed size instead.
        self.short_pages = False
        self.close_reply = "per-location"  # CLOSE_REPLIES
        self.close_noop = False  # a close answers as usual (per ``close_reply``) but closes nothing
        self.tokens = TokenStore(clock)
        self.faults = FaultPlan()
        self._log = RequestLog()
        self.churn_remove = 0
        self.churn_add = 0
        self.churned = {"removed": 0, "added": 0}

    def inject_fault(
        self,
        path_prefix: str,
        kind: str = "status",
        *,
        status: int = 503,
        count: int | None = 1,
        method: str | None = None,
        delay_s: float = 30.0,
        retry_after: int | None = None,
        gate: threading.Event | None = None,
    ) -> Fault:
        """Fail the next ``count`` requests (None = forever) whose path starts with ``path_prefix``.

        kinds: ``status`` (JSON error with ``status``), ``reset`` (TCP RST, no response), ``timeout`` (hang for
        ``delay_s``, then drop), ``malformed`` (200 with truncated JSON), ``html`` (proxy error page),
        ``delay`` (wait ``delay_s``, then answer normally; with ``gate``, wait until it is set, at most ``delay_s``).
        The returned fault's ``reached`` event is set when a request takes it.
        """
        if gate is not None and kind != "delay":
            raise ValueError("gate= holds a request: only for kind='delay'")
        return self.faults.add(Fault(path_prefix, kind, status, count, method, delay_s, retry_after, gate))

    def clear_faults(self) -> None:
        self.faults.clear()

    def set_churn(self, *, remove_per_page: int = 1, add_per_page: int = 1) -> None:
        """Before each follow-up page of a listing (a request carrying ``after``), close and open handles."""
        self.churn_remove, self.churn_add = max(0, remove_per_page), max(0, add_per_page)

    def expire_token(self, token: str) -> None:
        """Make ``token`` expired: every later request with it gets 401."""
        if not self.tokens.expire(token):
            raise KeyError("no such token")

    @property
    def request_log(self) -> list[tuple[str, str]]:
        """``(method, path_with_query)`` of every request received, oldest first."""
        return self._log.entries()

    def reset_request_log(self) -> None:
        self._log.reset()

    def log_request(self, method: str, path: str) -> None:
        self._log.append(method, path)
