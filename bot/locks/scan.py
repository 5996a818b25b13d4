"""Listing mechanics for searches that cannot use the narrow lookup (fragments, ip:, host:, user:, directories).

Memory stays bounded at 300k handles: handle pages are filtered as they arrive and only matches are kept (up to
``max_rows``; the rest are counted). Grants are fetched only for what matched:

- path searches: see ``prefetch.py`` (per-file lookups for the first few matched files, then one full grant
  listing concurrently with the scan, keeping only the matched files);
- client searches (ip:, host:, user:): the server-side ``owner_address`` filter, one listing per client IP,
  run concurrently with the handle scan.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Iterable
from concurrent.futures import Executor
from dataclasses import dataclass

from bot.locks.join import index_grants, is_folder_handle
from bot.locks.linkage import address_forms, normalize_address
from bot.qumulo.client import QumuloClient
from bot.qumulo.errors import QumuloNotFound
from bot.qumulo.models import FileHandle, ShareModeGrant

logger = logging.getLogger(__name__)

PAGE_LIMIT = 1000
#: Per-file grant lookups (concurrent) are used while they cost no more requests than the full listing would.
PER_FILE_GRANTS_MIN = 4
PER_FILE_GRANTS_MAX = 512


#: Handles kept from the start of every scan, matching or not, to measure the location linkage with.
SAMPLE = 200
#: Folder handles kept per search, besides (never instead of) the file rows.
MAX_FOLDER_ROWS = 50


@dataclass(frozen=True, slots=True)
class HandleScan:
    handles: list[
        FileHandle
    ]  # matches kept (at most max_rows files + max_folder_rows folders), listing order
    scanned: int  # handles looked at
    omitted: int  # file matches beyond max_rows
    pages: int
    omitted_folders: int = 0  # folder matches beyond max_folder_rows
    sample: tuple[FileHandle, ...] = ()  # the first handles scanned, matching or not (linkage evidence)


def scan_handles(
    client: QumuloClient,
    keep: Callable[[FileHandle], bool],
    *,
    max_rows: int,
    progress: Callable[[int], None] | None = None,
    page_limit: int = PAGE_LIMIT,
    on_page: Callable[[int, list[FileHandle]], None] | None = None,
    max_folder_rows: int = MAX_FOLDER_ROWS,
    sample: int = SAMPLE,
) -> HandleScan:
    """One pass over ``/v1/smb/files/?resolve_paths=True``, page by page.

    Folder handles (``is_folder_handle``) have their own cap, so Explorer windows never crowd files out.
    After each page: ``on_page(pages_so_far, handles_kept_from_this_page)``, then ``progress(scanned)``.
    """
    kept: list[FileHandle] = []
    seen: set[str] = set()  # locations of kept handles: paging churn can repeat an entry
    scanned = omitted = pages = 0
    files = folders = omitted_folders = 0
    sampled: list[FileHandle] = []
    for page in client.iter_file_handles(resolve_paths=True, limit=page_limit):
        pages += 1
        scanned += len(page)
        if len(sampled) < sample:
            sampled.extend(page[: sample - len(sampled)])
        new: list[FileHandle] = []
        for handle in page:
            if handle.location in seen or not keep(handle):
                continue
            if is_folder_handle(handle):
                if folders >= max_folder_rows:
                    omitted_folders += 1
                    continue
                folders += 1
            else:
                if files >= max_rows:
                    omitted += 1
                    continue
                files += 1
            seen.add(handle.location)
            kept.append(handle)
            new.append(handle)
        if on_page is not None:
            on_page(pages, new)
        if progress is not None:
            progress(scanned)
    logger.debug("scanned %d handles in %d pages: %d kept, %d omitted", scanned, pages, len(kept), omitted)
    return HandleScan(
        handles=kept,
        scanned=scanned,
        omitted=omitted,
        pages=pages,
        omitted_folders=omitted_folders,
        sample=tuple(sampled),
    )


def grants_for_files(
    client: QumuloClient,
    pool: Executor,
    file_ids: Collection[str],
    *,
    listing_pages: int,
    page_limit: int = PAGE_LIMIT,
) -> dict[str, list[ShareModeGrant]]:
    """Grants on these files: per-file lookups when that is cheaper than one filtered pass over all grants.

    ``listing_pages`` estimates the pages a full grant listing would take (about the handle scan's pages).
    """
    ids = sorted(set(file_ids))
    if not ids:
        return {}
    per_file_max = min(PER_FILE_GRANTS_MAX, max(PER_FILE_GRANTS_MIN, listing_pages))
    if len(ids) <= per_file_max:

        def one(file_id: str) -> list[ShareModeGrant]:
            try:
                return client.list_file_share_mode_grants(file_id, limit=page_limit)
            except QumuloNotFound as exc:  # the file went away since the handle listing
                if not exc.object_missing:
                    raise
                return []

        out: dict[str, list[ShareModeGrant]] = {}
        for file_id, grants in zip(ids, pool.map(one, ids), strict=True):
            out[file_id] = [g for g in grants if g.file_id == file_id]
        return out
    wanted = set(ids)
    kept: list[ShareModeGrant] = []
    for page in client.iter_share_mode_grants(limit=page_limit):
        kept.extend(g for g in page if g.file_id in wanted)
    return index_grants(kept)


def grants_from_clients(
    client: QumuloClient, ips: Iterable[str], *, page_limit: int = PAGE_LIMIT
) -> list[ShareModeGrant]:
    """Grants held by these client IPs (server-side ``owner_address`` filter; results re-checked).

    The cluster may write a client as ``10.1.2.3`` or ``::ffff:10.1.2.3`` (IPv6: compressed or written out), and
    the filter may compare strings: every spelling of each address is asked for, duplicates dropped.
    """
    wanted = {normalize_address(ip) for ip in ips}
    forms = sorted({form for ip in ips for form in (ip, *address_forms(ip))})
    out: list[ShareModeGrant] = []
    seen: set[tuple[str, str, str, tuple[str, ...]]] = set()
    for form in forms:
        for page in client.iter_share_mode_grants(owner_address=form, limit=page_limit):
            for g in page:
                key = (g.file_id, g.owner_id, g.owner_address, g.mode)
                if key not in seen and normalize_address(g.owner_address) in wanted:
                    seen.add(key)
                    out.append(g)
    return out


__all__ = ["HandleScan", "grants_for_files", "grants_from_clients", "scan_handles"]
