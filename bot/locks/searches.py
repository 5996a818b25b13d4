"""The four search strategies behind ``LockService.search``, one function per query kind.

``by_path`` (full paths: the narrow lookup), ``by_fragment`` (part of a path), ``by_user`` (``user:``) and
``by_client`` (``ip:``, ``host:``). Each takes a :class:`SearchContext` (the client, the worker pools, the cached
cluster directory and the limits; built once by the service) and returns a ``SearchResult``.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Collection, Iterable
from concurrent.futures import Executor, Future
from dataclasses import dataclass

from bot.locks import assemble
from bot.locks.directory import ClusterDirectory, SessionSnapshot
from bot.locks.join import index_grants
from bot.locks.linkage import index_locations, measure, normalize_address, session_of
from bot.locks.match import host_matches, similar_names, user_matches
from bot.locks.models import FileGroup, LockRow, Query, QueryKind, SearchResult
from bot.locks.prefetch import UNCONFIRMED_NOTE, GrantPrefetch, settle
from bot.locks.query import QueryError, quoted
from bot.locks.scan import HandleScan, grants_for_files, grants_from_clients, scan_handles
from bot.locks.shares import ShareMap
from bot.qumulo.client import QumuloClient
from bot.qumulo.errors import QumuloNotFound
from bot.qumulo.models import FileHandle, ShareModeGrant, SmbSession

logger = logging.getLogger(__name__)

DIRECTORY = "FS_FILE_TYPE_DIRECTORY"

Progress = Callable[[int], None]


@dataclass(frozen=True, slots=True)
class SearchContext:
    """What a strategy works with. ``pool``: short tasks (listings started next to a scan, narrow lookups,
    identity and session lookups); ``bulk_pool``: the many small per-file grant lookups of a scan."""

    client: QumuloClient
    pool: Executor
    bulk_pool: Executor
    directory: ClusterDirectory
    cluster_name: str
    max_rows: int
    page_limit: int

    def result(
        self,
        query: Query,
        groups: Iterable[FileGroup],
        notes: Iterable[str],
        *,
        as_of: float,
        scanned_handles: int,
        exact: bool = False,
        no_such_file: bool = False,
        resolved_path: str | None = None,
        omitted_handles: int = 0,
        omitted_folder_handles: int = 0,
    ) -> SearchResult:
        return SearchResult(
            query=query,
            files=tuple(groups),
            cluster=self.cluster_name,
            as_of=as_of,
            scanned_handles=scanned_handles,
            exact=exact,
            no_such_file=no_such_file,
            resolved_path=resolved_path,
            omitted_handles=omitted_handles,
            notes=tuple(notes),
            omitted_folder_handles=omitted_folder_handles,
        )


def by_path(ctx: SearchContext, query: Query, *, as_of: float, progress: Progress | None) -> SearchResult:
    """A full path: attributes -> id -> that file's handles + grants (concurrently) -> join."""
    notes: list[str] = []
    shares_f: Future[ShareMap] | None = None
    shares_notes: list[str] = []
    if query.share is not None:  # a UNC path needs the share list first
        shares = ctx.directory.share_map(notes, required=True)
        fs_path = shares.to_fs_path(query.share, query.share_path or "/")
        if fs_path is None:  # maybe a share created since the list was cached: look once more
            ctx.directory.forget_shares()
            shares = ctx.directory.share_map(notes, required=True)
            fs_path = shares.to_fs_path(query.share, query.share_path or "/")
        if fs_path is None:
            known = ", ".join(shares.names[:12]) or "none readable"
            raise QueryError(f"The cluster has no SMB share named {quoted(query.share)} (shares: {known}).")
    else:  # an FS path: the share list (for the share column; cached) loads concurrently with the attributes
        fs_path = query.value
        shares_f = ctx.pool.submit(ctx.directory.share_map, shares_notes)
    try:
        try:
            attrs = ctx.client.file_attributes(fs_path)
        finally:
            if shares_f is not None:
                shares_f.result()
                notes.extend(n for n in shares_notes if n not in notes)
    except QumuloNotFound as exc:
        if not exc.object_missing:  # not "no such file": the cluster (or what answers for it) failed
            raise
        return ctx.result(
            query,
            (),
            notes,
            as_of=as_of,
            scanned_handles=0,
            exact=True,
            no_such_file=True,
            resolved_path=fs_path,
        )
    path = attrs.path or fs_path
    if attrs.type == DIRECTORY:
        base = path.rstrip("/")  # Qumulo reports directories with a trailing slash
        path = base or "/"
        notes.append(f"{path} is a folder: showing open handles on it and everything under it")

        def under(h: FileHandle) -> bool:
            return h.path is not None and (h.path == path or h.path.startswith(base + "/"))

        return _path_scan(ctx, query, under, notes, as_of=as_of, progress=progress, resolved_path=path)
    assemble.start_probe(ctx.directory, ctx.pool)  # concurrently with the lookups (no round trip of its own)
    handles, grants = assemble.narrow(ctx.client, ctx.pool, attrs.id)
    if progress is not None:
        progress(len(handles))
    groups = assemble.join(
        ctx.directory,
        ctx.pool,
        handles,
        {attrs.id: grants},
        notes,
        fallback_paths={attrs.id: path},
        prefetch_hosts=(g.owner_address for g in grants),
    )
    return ctx.result(
        query, groups, notes, as_of=as_of, scanned_handles=len(handles), exact=True, resolved_path=path
    )


def by_fragment(ctx: SearchContext, query: Query, *, as_of: float, progress: Progress | None) -> SearchResult:
    """Case-insensitive substring of the FS path, or of ``/Share/path`` (users often type the share name)."""
    notes: list[str] = []
    frag = query.value.casefold()
    shares = ctx.directory.share_map(notes)
    via_share = "/" in frag and len(shares) > 0

    def keep(h: FileHandle) -> bool:
        if not h.path:
            return False
        if frag in h.path.casefold():
            return True
        if via_share:
            where = shares.locate(h.path)
            return where is not None and frag in f"/{where.share}{where.share_path}".casefold()
        return False

    return _path_scan(ctx, query, keep, notes, as_of=as_of, progress=progress)


def _path_scan(
    ctx: SearchContext,
    query: Query,
    keep: Callable[[FileHandle], bool],
    notes: list[str],
    *,
    as_of: float,
    progress: Progress | None,
    resolved_path: str | None = None,
) -> SearchResult:
    sessions_f = ctx.pool.submit(ctx.directory.all_sessions)  # concurrently with the scan; cached for later
    prefetch = GrantPrefetch(ctx.client, ctx.bulk_pool, page_limit=ctx.page_limit)
    try:
        scan = scan_handles(
            ctx.client,
            keep,
            max_rows=ctx.max_rows,
            progress=progress,
            page_limit=ctx.page_limit,
            on_page=prefetch.on_page,
        )
        listed = prefetch.finish(scan.pages)
    finally:
        prefetch.cancel()  # a failed scan must not leave the grant listing running
    snap = sessions_f.result()
    owners = {h.owner for h in scan.handles}
    by_owner = {o: snap.by_owner.get(o, []) for o in owners}
    everyone = snap.sessions()
    # Handles whose session the location names exactly need no grants to find their client: only the others
    # can make an unconfirmed grant listing matter.
    undecided = _not_linked(ctx.directory, scan, everyone) if snap.available else scan.handles
    settled = settle(
        ctx.client,
        ctx.bulk_pool,
        listed,
        undecided,
        by_owner if snap.available else {},
        page_limit=ctx.page_limit,
    )
    grants = settled.by_file
    if settled.unconfirmed:
        notes.append(UNCONFIRMED_NOTE.format(n=settled.unconfirmed))
    sessions = (by_owner, snap.available)
    groups = assemble.join(
        ctx.directory,
        ctx.pool,
        scan.handles,
        grants,
        notes,
        sessions=sessions,
        complete_files=scan.omitted == 0 and scan.omitted_folders == 0,
        all_sessions=everyone,
        sample=scan.sample,
    )
    return ctx.result(
        query,
        groups,
        notes,
        as_of=as_of,
        scanned_handles=scan.scanned,
        omitted_handles=scan.omitted,
        resolved_path=resolved_path,
        omitted_folder_handles=scan.omitted_folders,
    )


def _not_linked(
    directory: ClusterDirectory, scan: HandleScan, sessions: list[SmbSession]
) -> list[FileHandle]:
    """The handles the join cannot place by location (all of them unless the cluster's linkage is trusted)."""
    handles = scan.handles
    by_location = index_locations(sessions)
    measured = scan.sample if len(scan.sample) > len(handles) else handles
    verdict = directory.linkage() + measure(measured, by_location)  # the join adds this evidence, once
    if not verdict.trusted:
        return handles
    return [h for h in handles if (s := session_of(h.location, by_location)) is None or s.auth_id != h.owner]


def by_user(ctx: SearchContext, query: Query, *, as_of: float, progress: Progress | None) -> SearchResult:
    """Handles owned by the user's identities (found through their sessions)."""
    notes: list[str] = []
    snap = ctx.directory.all_sessions(required=True)
    everyone = snap.sessions()
    mine = [s for s in everyone if user_matches(query.value, s)]
    if not mine:
        hint = similar_names(query.value, everyone)
        notes.append(
            f"no SMB session for user {query.value}" + (f" (did you mean {', '.join(hint)}?)" if hint else "")
        )
        return ctx.result(query, (), notes, as_of=as_of, scanned_handles=0)
    owners = {s.auth_id for s in mine}
    return _client_scan(
        ctx,
        query,
        {normalize_address(s.originator) for s in mine},
        owners,
        notes,
        as_of=as_of,
        progress=progress,
    )


def by_client(ctx: SearchContext, query: Query, *, as_of: float, progress: Progress | None) -> SearchResult:
    """``ip:`` (one client) or ``host:`` (the client IPs whose name matches, via the cluster's DNS)."""
    notes: list[str] = []
    if query.kind is QueryKind.IP:
        return _client_scan(
            ctx, query, {normalize_address(query.value)}, None, notes, as_of=as_of, progress=progress
        )
    snap = ctx.directory.all_sessions(required=True)
    names = ctx.directory.hostnames_for(snap.originators(), notes, required=True)
    ips = {normalize_address(ip) for ip, name in names.items() if host_matches(query.value, name)}
    if not ips:
        notes.append(
            f"no connected SMB client is named {query.value} ({len(snap.originators())} clients checked)"
        )
        return ctx.result(query, (), notes, as_of=as_of, scanned_handles=0)
    return _client_scan(ctx, query, ips, None, notes, as_of=as_of, progress=progress)


def _client_scan(
    ctx: SearchContext,
    query: Query,
    ips: Collection[str],
    owners: Collection[str] | None,
    notes: list[str],
    *,
    as_of: float,
    progress: Progress | None,
) -> SearchResult:
    """Handles of clients ``ips`` (or of users ``owners``); grants through the server-side IP filter.

    A handle is kept when its owner has a session from one of ``ips`` (``user:``: is one of ``owners``). Rows
    the join places on another client are dropped. ``ip:``/``host:``: rows the join cannot place on any client
    stay, marked ``possibly`` and listed after the proven ones (``user:`` rows are that user's by their owner,
    whatever their client). ``ips`` are normalised addresses (``linkage.normalize_address``). For owners with
    sessions from several clients, the file's full grant list is fetched after the scan so the join can tell
    them apart; for the others the client is their only one and the filtered grants add share mode and node.
    """
    sessions_f = ctx.pool.submit(ctx.directory.all_sessions)
    grant_fs = [
        ctx.pool.submit(grants_from_clients, ctx.client, [ip], page_limit=ctx.page_limit)
        for ip in sorted(ips)
    ]
    ipset = set(ips)
    wanted: list[Callable[[FileHandle], bool]] = []  # the filter, built when the first page has arrived

    def keep(h: FileHandle) -> bool:  # called from this thread only (the scan loop)
        if not wanted:
            wanted.append(_owner_or_file_filter(sessions_f.result(), grant_fs, ipset, owners))
        return wanted[0](h)

    scan = scan_handles(ctx.client, keep, max_rows=ctx.max_rows, progress=progress, page_limit=ctx.page_limit)
    snap = sessions_f.result()
    grants = index_grants(g for f in grant_fs for g in f.result())
    kept_owners = {h.owner for h in scan.handles}
    by_owner = {o: snap.by_owner.get(o, []) for o in kept_owners}
    # Owners on several clients: the grants decide which client holds each handle, so those files get their
    # full grant list, fetched after the scan (never older than the handles it is joined with).
    roaming = {o for o, ss in by_owner.items() if len({normalize_address(s.originator) for s in ss}) > 1}
    mixed_files = {h.file_number for h in scan.handles if h.owner in roaming}
    grants.update(
        grants_for_files(
            ctx.client, ctx.bulk_pool, mixed_files, listing_pages=scan.pages, page_limit=ctx.page_limit
        )
    )

    def from_these_clients(row: LockRow) -> bool:
        return owners is not None or row.client_ip is None or row.client_ip in ipset

    groups = assemble.join(
        ctx.directory,
        ctx.pool,
        scan.handles,
        grants,
        notes,
        sessions=(by_owner, snap.available),
        complete_files=False,
        row_filter=from_these_clients,
        all_sessions=snap.sessions(),
        sample=scan.sample,
    )
    if owners is None:
        groups = _set_apart_unproven(groups)
    return ctx.result(
        query,
        groups,
        notes,
        as_of=as_of,
        scanned_handles=scan.scanned,
        omitted_handles=scan.omitted,
        omitted_folder_handles=scan.omitted_folders,
    )


def _set_apart_unproven(groups: list[FileGroup]) -> list[FileGroup]:
    """Rows with no proven client become ``possibly`` rows: after the proven ones in their file, and files with
    only such rows after the files with proven ones (folders still last)."""
    out = []
    for g in groups:
        rows = [r if r.client_ip is not None else dataclasses.replace(r, possibly=True) for r in g.rows]
        rows.sort(key=lambda r: r.possibly)  # stable: culprit order kept within each part
        out.append(dataclasses.replace(g, rows=tuple(rows)))
    out.sort(key=lambda g: (g.folder, all(r.possibly for r in g.rows)))  # stable: path order kept
    return out


def _owner_or_file_filter(
    snap: SessionSnapshot,
    grant_fs: list[Future[list[ShareModeGrant]]],
    ipset: set[str],
    owners: Collection[str] | None,
) -> Callable[[FileHandle], bool]:
    if owners is not None:
        owner_set = set(owners)
        return lambda h: h.owner in owner_set
    if snap.available:
        at_ip = {s.auth_id for s in snap.sessions() if normalize_address(s.originator) in ipset}
        return lambda h: h.owner in at_ip
    files = {g.file_id for f in grant_fs for g in f.result()}  # no sessions: files these clients lock
    return lambda h: h.file_number in files


__all__ = ["Progress", "SearchContext", "by_client", "by_fragment", "by_path", "by_user"]
