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
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Protocol

from bot.locks import assemble, searches
from bot.locks import close as closing
from bot.locks.cache import TTLCache
from bot.locks.directory import ClusterDirectory
from bot.locks.models import (
    CloseOutcome,
    CloseStatus,
    HandleRef,
    LockRow,
    Query,
    QueryKind,
    SearchResult,
)
from bot.locks.searches import Progress
from bot.qumulo.client import QumuloClient
from bot.qumulo.errors import QumuloAuthError, QumuloError, QumuloNotFound, QumuloPermissionError
from bot.qumulo.models import CloseReply

logger = logging.getLogger(__name__)


class SearchObserver(Protocol):
    """Told of every search (``LockService.observe``): its kind, outcome (``ok``, ``no_such_file``, ``permission``,
    ``error``), how long it took and whether the result cache answered it. Metrics live outside the domain."""

    def searched(self, kind: str, outcome: str, seconds: float, *, cached: bool) -> None: ...


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
        self._context = searches.SearchContext(
            client=client,
            pool=self._pool,
            bulk_pool=self._bulk,
            directory=self.directory,
            cluster_name=cluster_name,
            max_rows=max_rows,
            page_limit=page_limit,
        )
        self._results: TTLCache[tuple[str, str], SearchResult] = TTLCache(
            cache_ttl_s, clock=clock, max_entries=256
        )
        self._observers: list[SearchObserver] = []
        self._timer = time.perf_counter

    def observe(self, observer: SearchObserver) -> None:
        """Tell ``observer`` of every search from now on."""
        self._observers.append(observer)

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
    def search(self, query: Query, *, progress: Progress | None = None) -> SearchResult:
        """Run a parsed search (``parse_query``). Raises ``QueryError`` (user-facing) or ``QumuloError``."""
        key = (query.kind.value, query.value.casefold() if query.kind is QueryKind.FRAGMENT else query.value)
        loaded: list[bool] = []

        def load() -> SearchResult:
            loaded.append(True)
            return self._search(query, progress)

        started = self._timer()
        outcome = "error"
        try:
            result = self._results.get(key, load)
            outcome = "no_such_file" if result.no_such_file else "ok"
        except (QumuloAuthError, QumuloPermissionError):
            outcome = "permission"
            raise
        finally:
            elapsed = self._timer() - started
            for observer in self._observers:
                observer.searched(query.kind.value, outcome, elapsed, cached=not loaded)
        # One cache entry serves every spelling of the same search (``Budget``/``budget``, a UNC path and its
        # smb:// URL); the answer must still quote what *this* caller typed, not the first caller's text.
        return result if result.query == query else dataclasses.replace(result, query=query)

    def _search(self, query: Query, progress: Progress | None) -> SearchResult:
        as_of = self._wall_clock()
        logger.info("search %s %r", query.kind.value, query.value)
        ctx = self._context
        if query.kind is QueryKind.PATH:
            return searches.by_path(ctx, query, as_of=as_of, progress=progress)
        if query.kind is QueryKind.FRAGMENT:
            return searches.by_fragment(ctx, query, as_of=as_of, progress=progress)
        if query.kind is QueryKind.USER:
            return searches.by_user(ctx, query, as_of=as_of, progress=progress)
        return searches.by_client(ctx, query, as_of=as_of, progress=progress)

    # -- re-check and close -----------------------------------------------------------------------
    def recheck(self, ref: HandleRef) -> CloseOutcome | LockRow:
        """Fresh narrow lookup of exactly that handle: its current row, or why it cannot be closed."""
        problem = closing.validate_ref(ref)
        if problem:
            return closing.failed(ref, problem)
        handles, grants = assemble.narrow(self.client, self._pool, ref.file_number)
        handle = closing.find_handle(ref, handles)
        if handle is None:
            return closing.gone(ref)
        path = handle.path
        if not path:
            try:
                path = self.client.file_attributes(ref.file_number).path
            except QumuloNotFound as exc:
                if not exc.object_missing:
                    raise
                return closing.gone(ref)
        notes: list[str] = []
        groups = assemble.join(
            self.directory,
            self._pool,
            handles,
            {ref.file_number: grants},
            notes,
            fallback_paths={ref.file_number: path},
            prefetch_hosts=(g.owner_address for g in grants),
        )
        row = next((r for g in groups for r in g.rows if r.ref.location == ref.location), None)
        return closing.compare(ref, handle, path, row) or row or closing.gone(ref)

    def close(self, ref: HandleRef) -> CloseOutcome:
        """Re-validate, then close exactly ``ref.location`` (one request, never retried); invalidates caches.

        Unless the cluster answers with exactly one result without an error, the outcome comes from a fresh
        listing of that file's handles (``closing.settle``): closed, still open, or (that listing failing too)
        failed."""
        checked = self.recheck(ref)
        if isinstance(checked, CloseOutcome):
            logger.info("close refused for %s on %s: %s", ref.location, ref.path, checked.status.value)
            return checked
        outcome: CloseOutcome | None = None
        reply: CloseReply | None = None
        what = ""
        try:
            reply = self.client.close_file_handles([ref.location])
        except QumuloNotFound as exc:
            if exc.object_missing or closing.says_not_found(exc.description or ""):
                outcome = closing.gone(ref)
            else:
                what = f"the close request got a 404 ({exc})"
        except (QumuloAuthError, QumuloPermissionError):
            raise
        except QumuloError as exc:
            what = f"the close request failed ({exc})"
        else:
            outcome = closing.interpret(ref, reply, checked)
            what = f"the cluster answered the close with {reply.describe()}"
        finally:
            self.invalidate()
        if outcome is None:
            outcome = self._settle(ref, what, reply, checked)
        logger.info("close %s on %s (%s): %s", ref.location, ref.path, checked.holder, outcome.status.value)
        if outcome.status is CloseStatus.GONE and outcome.row is None:
            outcome = dataclasses.replace(outcome, row=checked)
        return outcome

    def _settle(self, ref: HandleRef, what: str, reply: CloseReply | None, checked: LockRow) -> CloseOutcome:
        """The close's answer proved nothing: ask the cluster (that file's handles, narrow) whether it is open."""
        try:
            handles = self.client.list_file_handles(file_number=ref.file_number, resolve_paths=False)
        except QumuloError as exc:
            logger.warning(
                "close %s: re-listing file %s to check failed: %s", ref.location, ref.file_number, exc
            )
            return closing.unconfirmed(ref, what, str(exc), checked)
        return closing.settle(ref, what, handles, checked, reply)


__all__ = ["LockService", "Progress", "SearchObserver"]
