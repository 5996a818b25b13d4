"""Cached, slowly changing cluster context for the join: shares, sessions, identity names and client host names.

Each is cached with a TTL and single-flight (see ``cache.py``), so a burst of searches and the click-time re-check
share work. Degradations (a missing optional privilege) are cached too and reported as result notes:

- sessions unreadable (no ``PRIVILEGE_SMB_SESSION_READ``): search still works; client, node, open/idle show
  as unknown unless the file's grants make the client unambiguous. ``user:`` and ``host:`` searches need
  sessions and raise the ``QumuloPermissionError``.
- identity lookups refused: holders without a session show their auth_id;
- DNS refused (no ``PRIVILEGE_DNS_USE``): no host names; ``host:`` searches raise a permission error naming it;
- shares unreadable: FS paths are shown without the share form; ``\\\\cluster\\share`` queries raise.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Executor
from dataclasses import dataclass, field

from bot.locks.cache import TTLCache
from bot.locks.join import index_sessions
from bot.locks.linkage import Linkage, index_locations, measure
from bot.locks.shares import EMPTY, ShareMap
from bot.qumulo.client import QumuloClient
from bot.qumulo.errors import QumuloError, QumuloNotFound, QumuloPermissionError, QumuloRequestError
from bot.qumulo.models import FileHandle, SmbSession
from bot.qumulo.paging import with_query

logger = logging.getLogger(__name__)

#: How long what a cluster's handle locations mean is remembered (it is a property of the cluster's software).
LINKAGE_TTL_S = 3600.0
#: Handles and sessions read by the linkage probe (one page each) when no search has judged the cluster yet.
LINKAGE_PROBE_LIMIT = 1000

#: Above this many distinct owners an exact lookup uses the full session listing instead of one call each.
PER_OWNER_SESSION_MAX = 12
DNS_BATCH = 500

SESSIONS_UNREADABLE = (
    "sessions are not readable (PRIVILEGE_SMB_SESSION_READ missing): client, node and idle time are "
    "shown only where the file's locks make them unambiguous"
)
IDENTITY_UNREADABLE = (
    "identity lookups are not allowed (PRIVILEGE_IDENTITY_READ missing): some holders show as auth IDs"
)
DNS_UNAVAILABLE = "client host names are not shown (PRIVILEGE_DNS_USE missing)"
SHARES_UNREADABLE = (
    "SMB shares are not readable (PRIVILEGE_SMB_SHARE_READ missing): share paths are not shown"
)


@dataclass(frozen=True, slots=True)
class SessionSnapshot:
    """The whole session listing, indexed; ``available`` False when the listing was refused (403)."""

    by_owner: dict[str, list[SmbSession]] = field(default_factory=dict)
    available: bool = True
    count: int = 0

    def sessions(self) -> list[SmbSession]:
        return [s for sessions in self.by_owner.values() for s in sessions]

    def originators(self) -> set[str]:
        return {s.originator for s in self.sessions() if s.originator}


@dataclass(frozen=True, slots=True)
class _Unavailable:
    """Cached marker: the endpoint answered 403."""

    error: QumuloPermissionError


class ClusterDirectory:
    """Caches in front of the client. Only the calling (search) thread submits work to ``pool``."""

    def __init__(
        self,
        client: QumuloClient,
        pool: Executor,
        *,
        ttl_s: float = 10.0,
        shares_ttl_s: float = 300.0,
        names_ttl_s: float = 600.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._pool = pool
        self._shares: TTLCache[None, ShareMap | _Unavailable] = TTLCache(shares_ttl_s, clock=clock)
        self._sessions: TTLCache[None, SessionSnapshot] = TTLCache(ttl_s, clock=clock)
        self._owner_sessions: TTLCache[str, tuple[SmbSession, ...] | _Unavailable] = TTLCache(
            ttl_s, clock=clock
        )
        self._names: TTLCache[str, str | _Unavailable | None] = TTLCache(names_ttl_s, clock=clock)
        self._hosts: TTLCache[str, str | _Unavailable | None] = TTLCache(names_ttl_s, clock=clock)
        self._clock = clock
        self._linkage_lock = threading.Lock()
        self._linkage = Linkage()
        self._linkage_since = clock()
        self._probe: TTLCache[None, Linkage] = TTLCache(LINKAGE_TTL_S, clock=clock)

    def invalidate(self) -> None:
        """Drop what a close changes (sessions); shares, names and host names stay."""
        self._sessions.invalidate()
        self._owner_sessions.invalidate()

    def invalidate_all(self) -> None:
        """Also forget shares, identity names and host names (``LockService.invalidate(everything=True)``)."""
        self.invalidate()
        self._shares.invalidate()
        self._names.invalidate()
        self._hosts.invalidate()

    # -- shares -----------------------------------------------------------------------------------
    def forget_shares(self) -> None:
        self._shares.invalidate()

    def share_map(self, notes: list[str], *, required: bool = False) -> ShareMap:
        def load() -> ShareMap | _Unavailable:
            try:
                return ShareMap(self._client.list_smb_shares())
            except QumuloPermissionError as exc:
                return _Unavailable(exc)

        got = self._shares.get(None, load)
        if isinstance(got, _Unavailable):
            if required:
                raise got.error
            _note(notes, SHARES_UNREADABLE)
            return EMPTY
        return got

    # -- sessions ---------------------------------------------------------------------------------
    def all_sessions(self, *, required: bool = False) -> SessionSnapshot:
        """The full session listing (cached). With ``required``, a 403 raises instead of degrading."""

        def load() -> SessionSnapshot:
            try:
                sessions = self._client.list_smb_sessions()
            except QumuloPermissionError as exc:
                logger.warning("session listing refused: %s", exc)
                return SessionSnapshot(available=False, by_owner={}, count=0)
            return SessionSnapshot(by_owner=index_sessions(sessions), count=len(sessions))

        snap = self._sessions.get(None, load)
        if required and not snap.available:
            raise QumuloPermissionError(
                "This search needs the SMB session list: the Qumulo API user lacks PRIVILEGE_SMB_SESSION_READ "
                "(show client IP, open and idle times of SMB sessions): add it to the bot's role",
                missing_privileges=("PRIVILEGE_SMB_SESSION_READ",),
                status=403,
            )
        return snap

    def sessions_for(self, owners: Iterable[str]) -> tuple[dict[str, list[SmbSession]], bool]:
        """Sessions of these owners, and whether sessions were readable.

        Uses a fresh full snapshot when one is cached; otherwise one ``identity=auth_id:<id>`` listing per owner
        (concurrently), so an exact lookup costs O(owners on that file), not O(sessions on the cluster).
        """
        wanted = sorted(set(owners))
        cached, snap = self._sessions.peek(None)
        if (cached and snap is not None) or len(wanted) > PER_OWNER_SESSION_MAX:
            full = snap if cached and snap is not None else self.all_sessions()
            return {o: full.by_owner.get(o, []) for o in wanted}, full.available

        def one(owner: str) -> tuple[SmbSession, ...] | _Unavailable:
            def load() -> tuple[SmbSession, ...] | _Unavailable:
                try:
                    return tuple(self._client.list_smb_sessions(identity=f"auth_id:{owner}"))
                except QumuloPermissionError as exc:
                    return _Unavailable(exc)

            return self._owner_sessions.get(owner, load)

        try:
            results = list(self._pool.map(one, wanted))
        except QumuloRequestError as exc:  # the identity filter was not understood: use the full listing
            logger.info("per-owner session listing rejected (%s); using the full listing", exc)
            full = self.all_sessions()
            return {o: full.by_owner.get(o, []) for o in wanted}, full.available
        if any(isinstance(r, _Unavailable) for r in results):
            return {o: [] for o in wanted}, False
        out: dict[str, list[SmbSession]] = {}
        for owner, sessions in zip(wanted, results, strict=True):
            assert not isinstance(sessions, _Unavailable)
            out[owner] = [s for s in sessions if s.auth_id == owner]  # never trust a filter blindly
        return out, True

    # -- location linkage (linkage.py) -----------------------------------------------------------
    def linkage(self, observed: Linkage = Linkage()) -> Linkage:  # noqa: B008 (frozen, immutable default)
        """This cluster's evidence so far, with ``observed`` (what a search just measured) added to it."""
        with self._linkage_lock:
            if self._clock() - self._linkage_since > LINKAGE_TTL_S:
                self._linkage, self._linkage_since = Linkage(), self._clock()
            self._linkage = self._linkage + observed
            return self._linkage

    def probe_linkage(self) -> Linkage:
        """The cluster's evidence; when no search has judged it yet, one page of sessions and one of handles are
        read and measured first (once per ``LINKAGE_TTL_S``, single-flight). Never raises: a failed probe
        only means the linkage is not used."""
        current = self.linkage()
        if current.decided:
            return current

        def load() -> Linkage:
            try:
                got = self._measure_first_pages()
            except (QumuloError, KeyError, TypeError, ValueError) as exc:
                logger.info("linkage probe failed (%s): handle locations are not used to find sessions", exc)
                got = Linkage()
            logger.info("linkage probe: %d linked handles, %d agree with their owner", got.linked, got.agreed)
            self.linkage(got)  # added once: load runs once per LINKAGE_TTL_S
            return got

        self._probe.get(None, load)
        return self.linkage()

    def _measure_first_pages(self) -> Linkage:
        limit = LINKAGE_PROBE_LIMIT
        body = self._client.request("GET", with_query("/v1/smb/sessions/", limit=limit))
        sessions = [SmbSession.from_json(d) for d in (body or {}).get("session_infos") or ()]
        if not sessions:
            return Linkage()
        body = self._client.request("GET", with_query("/v1/smb/files/", resolve_paths=False, limit=limit))
        handles = [FileHandle.from_json(d) for d in (body or {}).get("file_handles") or ()]
        return measure(handles, index_locations(sessions))

    # -- names ------------------------------------------------------------------------------------
    def names_for(self, owners: Iterable[str], notes: list[str]) -> dict[str, str]:
        """auth_id -> name via identity/find, one call per distinct uncached owner, concurrently.

        Failures (unknown identity, 403) are cached too, so a burst never repeats them.
        """
        wanted = sorted({o for o in owners if o})
        if not wanted:
            return {}

        def one(owner: str) -> str | _Unavailable | None:
            def load() -> str | _Unavailable | None:
                try:
                    return self._client.find_identity(owner).name
                except QumuloPermissionError as exc:
                    return _Unavailable(exc)
                except QumuloNotFound:
                    return None
                except QumuloError as exc:  # one bad identity must not sink the search
                    logger.warning("identity/find failed for auth_id %s: %s", owner, exc)
                    return None

            return self._names.get(owner, load)

        out: dict[str, str] = {}
        for owner, got in zip(wanted, self._pool.map(one, wanted), strict=True):
            if isinstance(got, _Unavailable):
                _note(notes, IDENTITY_UNREADABLE)
            elif got:
                out[owner] = got
        return out

    # -- host names -------------------------------------------------------------------------------
    def hostnames_for(
        self, ips: Iterable[str], notes: list[str], *, required: bool = False
    ) -> dict[str, str]:
        """IP -> host name through the cluster's DNS (batched, cached per IP, misses cached too)."""
        wanted = sorted({ip for ip in ips if ip})
        out: dict[str, str] = {}
        missing: list[str] = []
        for ip in wanted:
            hit, value = self._hosts.peek(ip)
            if not hit:
                missing.append(ip)
            elif isinstance(value, _Unavailable):
                return self._dns_unavailable(value.error, notes, required=required)
            elif value:
                out[ip] = value
        for start in range(0, len(missing), DNS_BATCH):
            batch = missing[start : start + DNS_BATCH]
            try:
                resolved = self._client.resolve_ips_to_names(batch)
            except QumuloPermissionError as exc:
                for ip in batch:
                    self._hosts.put(ip, _Unavailable(exc))
                return self._dns_unavailable(exc, notes, required=required)
            except QumuloError as exc:
                if required:
                    raise
                logger.warning("resolving %d client IPs failed: %s", len(batch), exc)
                _note(notes, "client host names are not shown (the cluster's DNS lookup failed)")
                return out
            for ip in batch:
                name = resolved.get(ip)
                self._hosts.put(ip, name)
                if name:
                    out[ip] = name
        return out

    @staticmethod
    def _dns_unavailable(exc: QumuloPermissionError, notes: list[str], *, required: bool) -> dict[str, str]:
        if required:
            raise QumuloPermissionError(
                "host: searches resolve client IPs through the cluster's DNS: the Qumulo API user lacks "
                "PRIVILEGE_DNS_USE. Add it to the bot's role, or search by ip: instead",
                missing_privileges=("PRIVILEGE_DNS_USE",),
                status=403,
                endpoint=exc.endpoint,
            )
        _note(notes, DNS_UNAVAILABLE)
        return {}


def _note(notes: list[str], text: str) -> None:
    if text not in notes:
        notes.append(text)


__all__ = ["ClusterDirectory", "SessionSnapshot"]
