"""Grants for the files a path scan matches, fetched while the scan is still running (the per-file/listing hybrid).

- Short scans (ending within ``start_after_pages``) decide at the end: per-file lookups when few files matched,
  else one filtered pass over the full grant listing. Either way the grants are younger than every handle.
- Longer scans: per-file lookups (``/v1/files/{id}/locks/smb/share-mode/``) for the first ``per_file_first``
  matched files, each submitted after the page that brought the file's handles (a file that gets another handle
  on a later page is looked up once more at the end, so its grants are never older than its handles). Once more
  files beyond those matched than the scan has pages so far (the listing costs about as many pages), ONE full
  grant listing is started on its own thread, concurrently with the rest of the scan; it keeps only grants of
  files matched so far (memory O(matched files), page by page). If that never happens, the other files are
  looked up after the scan (per file when that is cheaper, see ``grants_for_files``).

Freshness of the listing: its first request is sent after the page that crossed the threshold was received, so
for a file whose kept handles all came from pages up to that one, the listing is younger than its handles
(*confirmed*). For any other file the listing may predate a handle (opened after the listing passed the file's
grants) or may have skipped a page before the file matched: ``GrantSet.unconfirmed``. ``settle`` makes sure such
grants never decide which client holds a handle.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import Executor, Future
from dataclasses import dataclass, field

from bot.locks.scan import PAGE_LIMIT, grants_for_files
from bot.qumulo.client import QumuloClient
from bot.qumulo.errors import QumuloNotFound
from bot.qumulo.models import FileHandle, ShareModeGrant, SmbSession

logger = logging.getLogger(__name__)

#: A scan longer than this many pages looks grants up while it runs.
PIPELINE_AFTER_PAGES = 2
#: Per-file grant lookups for the first this many matched files of a long scan; beyond, one full listing.
PER_FILE_FIRST = 4
#: Unconfirmed files whose grants would decide a holder's client get a fresh per-file lookup, up to this many.
REFETCH_MAX = 8

UNCONFIRMED_NOTE = (
    "{n} matched files got new handles while the lock list was being read: on those, a holder with sessions "
    "from several clients (or none) shows no client; search the file's full path for it"
)


@dataclass(frozen=True, slots=True)
class GrantSet:
    by_file: dict[str, list[ShareModeGrant]]
    unconfirmed: frozenset[str] = frozenset()  # files whose listed grants may be older than their handles
    listing_pages: int = 0  # pages of the full grant listing walked concurrently (0: none)


def _file_grants(client: QumuloClient, file_id: str, page_limit: int) -> list[ShareModeGrant]:
    try:
        grants = client.list_file_share_mode_grants(file_id, limit=page_limit)
    except QumuloNotFound as exc:  # the file went away since the handle listing
        if not exc.object_missing:
            raise
        return []
    return [g for g in grants if g.file_id == file_id]


class GrantListing:
    """The full share-mode grant listing on its own thread, indexing only grants of ``want``-ed files."""

    def __init__(self, client: QumuloClient, *, page_limit: int = PAGE_LIMIT) -> None:
        self._client = client
        self._page_limit = page_limit
        self._lock = threading.Lock()
        self._wanted: set[str] = set()
        self._by_file: dict[str, list[ShareModeGrant]] = {}
        self._error: BaseException | None = None
        self._stop = threading.Event()
        self.pages = 0
        self._thread = threading.Thread(target=self._run, name="qlocks-grant-listing", daemon=True)

    def want(self, file_ids: Iterable[str]) -> None:
        with self._lock:
            self._wanted.update(file_ids)

    def start(self) -> None:
        self._thread.start()

    def cancel(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        try:
            for page in self._client.iter_share_mode_grants(limit=self._page_limit):
                self.pages += 1
                with self._lock:
                    for g in page:
                        if g.file_id in self._wanted:
                            self._by_file.setdefault(g.file_id, []).append(g)
                if self._stop.is_set():
                    return
        except BaseException as exc:  # re-raised in the caller's thread by result()
            self._error = exc

    def wait(self, timeout: float | None = None) -> bool:
        """True once the listing has ended (walked every page, failed or been cancelled)."""
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def result(self) -> dict[str, list[ShareModeGrant]]:
        self._thread.join()
        if self._error is not None:
            raise self._error
        with self._lock:
            return {f: list(gs) for f, gs in self._by_file.items()}


class GrantPrefetch:
    """Feed it every scanned page (``on_page``), then ``finish``; ``cancel`` if the scan fails."""

    def __init__(
        self,
        client: QumuloClient,
        pool: Executor,
        *,
        page_limit: int = PAGE_LIMIT,
        start_after_pages: int = PIPELINE_AFTER_PAGES,
        per_file_first: int = PER_FILE_FIRST,
    ) -> None:
        self._client = client
        self._pool = pool
        self._page_limit = page_limit
        self._start_after = start_after_pages
        self._first = per_file_first
        self._order: list[str] = []  # matched files, first-seen order
        self._last_page: dict[str, int] = {}  # file -> last page that brought one of its kept handles
        self._per_file: dict[str, tuple[int, Future[list[ShareModeGrant]]]] = {}  # file -> (page, lookup)
        self._listing: GrantListing | None = None
        self._listing_after_page = 0

    def on_page(self, pages: int, new: list[FileHandle]) -> None:
        added: list[str] = []
        for file_id in dict.fromkeys(h.file_number for h in new):
            if file_id not in self._last_page:
                self._order.append(file_id)
                added.append(file_id)
            self._last_page[file_id] = pages
        if pages < self._start_after:
            return
        for file_id in self._order[: self._first]:
            if file_id not in self._per_file:
                self._submit(file_id, pages)
        if self._listing is None:
            # The listing costs about as many pages as the handle scan: worth it once more files (beyond the
            # first few) matched than the scan has pages so far; started this early, it overlaps the scan.
            beyond = self._order[self._first :]
            if len(beyond) > pages:
                self._listing = GrantListing(self._client, page_limit=self._page_limit)
                self._listing.want(beyond)
                self._listing_after_page = pages
                self._listing.start()
                logger.debug(
                    "grant listing started after page %d (%d files matched)", pages, len(self._order)
                )
        else:
            self._listing.want(f for f in added if f not in self._per_file)

    @property
    def listing(self) -> GrantListing | None:
        """The full grant listing, once started."""
        return self._listing

    def _submit(self, file_id: str, pages: int) -> None:
        self._per_file[file_id] = (
            pages,
            self._pool.submit(_file_grants, self._client, file_id, self._page_limit),
        )

    def cancel(self) -> None:
        if self._listing is not None:
            self._listing.cancel()

    def finish(self, pages: int) -> GrantSet:
        """Grants by file for every matched file (waits for the lookups and the listing still running)."""
        if not self._per_file and self._listing is None:  # short scan: decide now, everything fresh
            return GrantSet(
                grants_for_files(
                    self._client, self._pool, self._order, listing_pages=pages, page_limit=self._page_limit
                )
            )
        for file_id in self._order[: self._first]:
            submitted = self._per_file.get(file_id)
            if submitted is None or submitted[0] < self._last_page[file_id]:  # a handle came after the lookup
                self._submit(file_id, pages)
        by_file = {file_id: f.result() for file_id, (_, f) in self._per_file.items()}
        rest = self._order[self._first :]
        if self._listing is None:
            # the scan ended before enough files matched: the rest are looked up now (fresh)
            by_file.update(
                grants_for_files(
                    self._client, self._pool, rest, listing_pages=pages, page_limit=self._page_limit
                )
            )
            return GrantSet(by_file)
        listed = self._listing.result()
        for file_id in rest:
            by_file[file_id] = listed.get(file_id, [])
        stale = frozenset(f for f in rest if self._last_page[f] > self._listing_after_page)
        return GrantSet(by_file, unconfirmed=stale, listing_pages=self._listing.pages)


def _clients_of(owner: str, sessions_by_owner: Mapping[str, Sequence[SmbSession]]) -> int:
    return len({s.originator for s in sessions_by_owner.get(owner, ()) if s.originator})


@dataclass
class Settled:
    by_file: dict[str, list[ShareModeGrant]] = field(default_factory=dict)
    refetched: int = 0
    unconfirmed: int = 0  # files whose grants were withheld from the join


def settle(
    client: QumuloClient,
    pool: Executor,
    grants: GrantSet,
    handles: Sequence[FileHandle],
    sessions_by_owner: Mapping[str, Sequence[SmbSession]],
    *,
    page_limit: int = PAGE_LIMIT,
    refetch_max: int = REFETCH_MAX,
) -> Settled:
    """The grants the join may use.

    The join takes a holder's client from the file's grants only when the holder has no session or sessions
    from several clients; with exactly one client the session decides and grants only add share mode/node.
    So an unconfirmed file matters only when one of its handles has such a holder: up to ``refetch_max`` of
    those files get a fresh per-file lookup (writers first); the others lose their grants, and their rows say
    the client is unknown or ambiguous instead of naming a client from a listing older than the handle.
    """
    out = dict(grants.by_file)
    if not grants.unconfirmed:
        return Settled(out)
    decisive: dict[str, bool] = {}  # file -> has a writer among the decisive handles
    for h in handles:
        if h.file_number in grants.unconfirmed and _clients_of(h.owner, sessions_by_owner) != 1:
            writes = any("WRITE" in a for a in h.access_mask)
            decisive[h.file_number] = decisive.get(h.file_number, False) or writes
    order = sorted(decisive, key=lambda f: not decisive[f])  # stable: writers first, then match order
    fresh, withheld = order[:refetch_max], order[refetch_max:]
    for file_id, got in zip(
        fresh, pool.map(lambda f: _file_grants(client, f, page_limit), fresh), strict=True
    ):
        out[file_id] = got
    for file_id in withheld:
        out[file_id] = []
    return Settled(out, refetched=len(fresh), unconfirmed=len(withheld))


__all__ = ["UNCONFIRMED_NOTE", "GrantListing", "GrantPrefetch", "GrantSet", "Settled", "settle"]
