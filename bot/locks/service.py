"""``LockService``: search, re-check and close, over a ``QumuloClient`` (no Slack here).

- Full paths (absolute FS path, UNC, smb URL) use the narrow lookup: attributes -> file id, then that file's
  handles (``file_number=``) and its share-mode grants concurrently, joined with cached sessions/names/shares.
  A constant number of requests at any cluster size; a path that does not exist gives ``no_such_file``;
  a directory lists the handles on everything under it (a scan).
- Fragments, ``ip:``, ``host:`` and ``user:`` scan the handle listing (see ``scan.py``).
- Results are cached per query for ``cache_ttl_s`` with single-flight; ``close`` invalidates.
Permission errors propagate (the caller names the privilege), except the degradations listed in
``directory.py``, which become ``SearchResult.notes``.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor

from bot.locks import close as closing
from bot.locks import searches
from bot.locks.cache import TTLCache
from bot.locks.directory import SESSIONS_UNREADABLE, ClusterDirectory
from bot.locks.join import JoinContext, build_groups, holder_name
from bot.locks.models import (
    CloseOutcome,
    CloseStatus,
    FileGroup,
    HandleRef,
    LockRow,
    Query,
    QueryKind,
    SearchResult,
)
from bot.locks.query import parse_query
from bot.qumulo.client import QumuloClient
from bot.qumulo.errors import QumuloAuthError, QumuloError, QumuloNotFound, QumuloPermissionError
from bot.qumulo.models import FileHandle, ShareModeGrant, SmbSession

logger = logging.getLogger(__name__)

Progress = Callable[[int], None]


class LockService:
    """Thread-safe; share one per cluster. ``shutdown()`` (or ``with``) stops its worker threads."""

    def __init__(
        self,
        client: QumuloClient,
        *,
        cluster_name: str,
        cache_ttl_s: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        max_rows: int = 2000,
        page_limit: int = 1000,
        workers: int = 8,
        shares_ttl_s: float = 300.0,
        names_ttl_s: float = 600.0,
    ) -> None:
        self.client = client
        self.cluster_name = cluster_name
        self.max_rows = max_rows
        self.page_limit = page_limit
        self._wall_clock = wall_clock
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="qlocks-search")
        # Per-file grant lookups of big scans go to their own pool, so they never queue ahead of the short
        # tasks (exact lookups, sessions, names) of other searches running at the same time.
        self._bulk = ThreadPoolExecutor(max_workers=max(2, workers // 2), thread_name_prefix="qlocks-grants")
        self.directory = ClusterDirectory(
            client,
            self._pool,
            ttl_s=cache_ttl_s,
            shares_ttl_s=shares_ttl_s,
            names_ttl_s=names_ttl_s,
            clock=clock,
        )
        self._results: TTLCache[tuple[str, str], SearchResult] = TTLCache(
            cache_ttl_s, clock=clock, max_entries=256
        )

    def __enter__(self) -> LockService:
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._bulk.shutdown(wait=True, cancel_futures=True)

    def invalidate(self, *, everything: bool = False) -> None:
        """Forget cached results and sessions; with ``everything``, also shares and identity/host names."""
        self._results.invalidate()
        if everything:
            self.directory.invalidate_all()
        else:
            self.directory.invalidate()

    # -- search -----------------------------------------------------------------------------------
    def search(self, text: str, *, progress: Progress | None = None) -> SearchResult:
        """Parse and run a search. Raises ``QueryError`` (user-facing) or ``QumuloError``."""
        query = parse_query(text)
        key = (query.kind.value, query.value.casefold() if query.kind is QueryKind.FRAGMENT else query.value)
        result = self._results.get(key, lambda: self._search(query, progress))
        # One cache entry serves every spelling of the same search (``Budget``/``budget``, a UNC path and its
        # smb:// URL); the answer must still quote what *this* caller typed, not the first caller's text.
        return result if result.query == query else dataclasses.replace(result, query=query)

    def _search(self, query: Query, progress: Progress | None) -> SearchResult:
        as_of = self._wall_clock()
        logger.info("search %s %r", query.kind.value, query.value)
        if query.kind is QueryKind.PATH:
            return searches.exact(self, query, as_of=as_of, progress=progress)
        if query.kind is QueryKind.FRAGMENT:
            return searches.fragment(self, query, as_of=as_of, progress=progress)
        if query.kind is QueryKind.USER:
            return searches.user(self, query, as_of=as_of, progress=progress)
        return searches.client(self, query, as_of=as_of, progress=progress)

    # -- shared by the searches and the close path -------------------------------------------------
    @property
    def pool(self) -> ThreadPoolExecutor:
        """Short tasks: listings started next to a scan, narrow lookups, identity and session lookups."""
        return self._pool

    @property
    def bulk_pool(self) -> ThreadPoolExecutor:
        """Many small per-file grant lookups of a scan."""
        return self._bulk

    def narrow(self, file_number: str) -> tuple[list[FileHandle], list[ShareModeGrant]]:
        """This file's handles and share-mode grants, fetched concurrently (2 requests)."""
        handles_f = self._pool.submit(
            self.client.list_file_handles, file_number=file_number, resolve_paths=True
        )
        grants_f = self._pool.submit(self.client.list_file_share_mode_grants, file_number)
        try:
            handles = [h for h in handles_f.result() if h.file_number == file_number]
        except QumuloNotFound:
            handles = []
        try:
            grants = [g for g in grants_f.result() if g.file_id == file_number]
        except QumuloNotFound:
            grants = []
        return handles, grants

    def join(
        self,
        handles: Sequence[FileHandle],
        grants_by_file: Mapping[str, Sequence[ShareModeGrant]],
        notes: list[str],
        *,
        sessions: tuple[Mapping[str, Sequence[SmbSession]], bool] | None = None,
        fallback_paths: Mapping[str, str] | None = None,
        complete_files: bool = True,
        row_filter: Callable[[LockRow], bool] | None = None,
        prefetch_hosts: Iterable[str] = (),
    ) -> list[FileGroup]:
        """Join with cached sessions, names, shares and host names (each fetched for what is needed only).

        ``prefetch_hosts``: client IPs to resolve concurrently with the session lookups (an exact lookup passes
        its grants' clients, which are the rows' clients, so DNS costs no round trip of its own).
        """
        owners = {h.owner for h in handles}
        dns_notes: list[str] = []
        wanted_hosts = sorted(set(prefetch_hosts))
        dns_f = (
            self._pool.submit(self.directory.hostnames_for, wanted_hosts, dns_notes) if wanted_hosts else None
        )
        by_owner, known = sessions if sessions is not None else self.directory.sessions_for(owners)
        if not known and SESSIONS_UNREADABLE not in notes:
            notes.append(SESSIONS_UNREADABLE)
        ctx = JoinContext(
            sessions_by_owner=by_owner, sessions_known=known, shares=self.directory.share_map(notes)
        )
        unnamed = [o for o in owners if holder_name(o, ctx) == o]
        ctx = dataclasses.replace(ctx, names=self.directory.names_for(unnamed, notes))
        groups = build_groups(
            handles, grants_by_file, ctx, fallback_paths=fallback_paths, complete_files=complete_files
        )
        if row_filter is not None:
            groups = [
                dataclasses.replace(g, rows=rows)
                for g in groups
                if (rows := tuple(r for r in g.rows if row_filter(r)))
            ]
        if dns_f is not None:
            dns_f.result()  # finished before looking again: the cache answers, no second request
            notes.extend(n for n in dns_notes if n not in notes)
        hosts = self.directory.hostnames_for(_client_ips(groups), notes)
        if hosts:
            groups = [
                dataclasses.replace(
                    g,
                    rows=tuple(
                        dataclasses.replace(r, client_host=hosts.get(r.client_ip or "")) for r in g.rows
                    ),
                )
                for g in groups
            ]
        return groups

    def result(
        self, query: Query, groups: Iterable[FileGroup], notes: Sequence[str], **kw: object
    ) -> SearchResult:
        return SearchResult(
            query=query,
            files=tuple(groups),
            cluster=self.cluster_name,
            notes=tuple(notes),
            **kw,  # type: ignore[arg-type]
        )

    # -- re-check and close -----------------------------------------------------------------------
    def recheck(self, ref: HandleRef) -> CloseOutcome | LockRow:
        """Fresh narrow lookup of exactly that handle: its current row, or why it cannot be closed."""
        problem = closing.validate_ref(ref)
        if problem:
            return closing.failed(ref, problem)
        handles, grants = self.narrow(ref.file_number)
        handle = closing.find_handle(ref, handles)
        if handle is None:
            return closing.gone(ref)
        path = handle.path
        if not path:
            try:
                path = self.client.file_attributes(ref.file_number).path
            except QumuloNotFound:
                return closing.gone(ref)
        notes: list[str] = []
        groups = self.join(
            handles,
            {ref.file_number: grants},
            notes,
            fallback_paths={ref.file_number: path},
            prefetch_hosts=(g.owner_address for g in grants),
        )
        row = next((r for g in groups for r in g.rows if r.ref.location == ref.location), None)
        return closing.compare(ref, handle, path, row) or row or closing.gone(ref)

    def close(self, ref: HandleRef) -> CloseOutcome:
        """Re-validate, then close exactly ``ref.location`` (one request, never retried); invalidates caches."""
        checked = self.recheck(ref)
        if isinstance(checked, CloseOutcome):
            logger.info("close refused for %s on %s: %s", ref.location, ref.path, checked.status.value)
            return checked
        try:
            results = self.client.close_file_handles([ref.location])
        except QumuloNotFound:
            outcome = closing.gone(ref)
        except (QumuloAuthError, QumuloPermissionError):
            raise
        except QumuloError as exc:
            outcome = closing.failed(
                ref,
                f"The close request failed ({exc}); the handle may or may not be closed: search again to check.",
                checked,
            )
        else:
            outcome = closing.interpret(ref, results, checked)
        finally:
            self.invalidate()
        logger.info("close %s on %s (%s): %s", ref.location, ref.path, checked.holder, outcome.status.value)
        if outcome.status is CloseStatus.GONE and outcome.row is None:
            outcome = dataclasses.replace(outcome, row=checked)
        return outcome


def _client_ips(groups: Iterable[FileGroup]) -> set[str]:
    return {r.client_ip for g in groups for r in g.rows if r.client_ip}


__all__ = ["LockService", "Progress"]
