"""From listings to rows: the narrow lookup of one file, and the join with the cluster directory.

Shared by the search strategies (``searches.py``) and the close path's re-check (``service.py``); each function
takes exactly the client, pool and directory it uses.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Executor

from bot.locks.directory import SESSIONS_UNREADABLE, ClusterDirectory
from bot.locks.join import JoinContext, build_groups, holder_name
from bot.locks.linkage import Linkage, index_locations, measure
from bot.locks.models import FileGroup, LockRow
from bot.qumulo.client import QumuloClient
from bot.qumulo.errors import QumuloNotFound
from bot.qumulo.models import FileHandle, ShareModeGrant, SmbSession

logger = logging.getLogger(__name__)


def narrow(
    client: QumuloClient, pool: Executor, file_number: str
) -> tuple[list[FileHandle], list[ShareModeGrant]]:
    """This file's handles and share-mode grants, fetched concurrently (2 requests)."""
    handles_f = pool.submit(client.list_file_handles, file_number=file_number, resolve_paths=True)
    grants_f = pool.submit(client.list_file_share_mode_grants, file_number)
    try:
        handles = [h for h in handles_f.result() if h.file_number == file_number]
    except QumuloNotFound as exc:
        if not exc.object_missing:  # a 404 from a proxy or a wrong base path is an error, not "no handles"
            grants_f.cancel()
            raise
        handles = []
    try:
        grants = [g for g in grants_f.result() if g.file_id == file_number]
    except QumuloNotFound as exc:
        if not exc.object_missing:
            raise
        grants = []
    return handles, grants


def join(
    directory: ClusterDirectory,
    pool: Executor,
    handles: Sequence[FileHandle],
    grants_by_file: Mapping[str, Sequence[ShareModeGrant]],
    notes: list[str],
    *,
    sessions: tuple[Mapping[str, Sequence[SmbSession]], bool] | None = None,
    fallback_paths: Mapping[str, str] | None = None,
    complete_files: bool = True,
    row_filter: Callable[[LockRow], bool] | None = None,
    prefetch_hosts: Iterable[str] = (),
    all_sessions: Sequence[SmbSession] | None = None,
    sample: Sequence[FileHandle] = (),
) -> list[FileGroup]:
    """Join with cached sessions, names, shares and host names (each fetched for what is needed only).

    ``sessions``: the owners' sessions and whether sessions were readable, when the caller has them already
    (otherwise ``directory.sessions_for`` looks them up). ``prefetch_hosts``: client IPs to resolve concurrently
    with the session lookups (an exact lookup passes its grants' clients, which are the rows' clients, so DNS
    costs no round trip of its own). ``all_sessions``: the full session listing when the caller has it (the
    location index then covers every session, not only the owners').

    The handles are measured against the sessions' locations (``linkage.py``) and added to the cluster's
    evidence; rows use exact session linkage only when that evidence is trusted.
    """
    owners = {h.owner for h in handles}
    dns_notes: list[str] = []
    wanted_hosts = sorted(set(prefetch_hosts))
    dns_f = pool.submit(directory.hostnames_for, wanted_hosts, dns_notes) if wanted_hosts else None
    by_owner, known = sessions if sessions is not None else directory.sessions_for(owners)
    if not known and SESSIONS_UNREADABLE not in notes:
        notes.append(SESSIONS_UNREADABLE)
    pool_sessions = all_sessions if all_sessions is not None else [s for ss in by_owner.values() for s in ss]
    by_location = index_locations(pool_sessions) if known else {}
    # the evidence: these handles, or (a scan) the first handles it read, matching or not
    measured = sample if len(sample) > len(handles) else handles
    verdict = linkage_verdict(directory, measure(measured, by_location) if by_location else Linkage())
    ctx = JoinContext(
        sessions_by_owner=by_owner,
        sessions_known=known,
        shares=directory.share_map(notes),
        by_location=by_location,
        exact_locations=verdict.trusted and bool(by_location),
    )
    unnamed = [o for o in owners if holder_name(o, ctx) == o]
    ctx = dataclasses.replace(ctx, names=directory.names_for(unnamed, notes))
    groups = build_groups(
        handles, grants_by_file, ctx, fallback_paths=fallback_paths, complete_files=complete_files
    )
    contradiction = verdict.note()
    unplaced = any(r.client_ip is None for g in groups for r in g.rows)
    if contradiction and unplaced and contradiction not in notes:
        notes.append(contradiction)
    if row_filter is not None:
        groups = [
            dataclasses.replace(g, rows=rows)
            for g in groups
            if (rows := tuple(r for r in g.rows if row_filter(r)))
        ]
    if dns_f is not None:
        dns_f.result()  # finished before looking again: the cache answers, no second request
        notes.extend(n for n in dns_notes if n not in notes)
    hosts = directory.hostnames_for(_client_ips(groups), notes)
    if hosts:
        groups = [
            dataclasses.replace(
                g,
                rows=tuple(dataclasses.replace(r, client_host=hosts.get(r.client_ip or "")) for r in g.rows),
            )
            for g in groups
        ]
    return groups


def linkage_verdict(directory: ClusterDirectory, observed: Linkage) -> Linkage:
    """The cluster's evidence with ``observed`` added; probed (once) when still undecided."""
    verdict = directory.linkage(observed)
    if verdict.decided:
        return verdict
    return directory.probe_linkage()


def start_probe(directory: ClusterDirectory, pool: Executor) -> None:
    """Start the linkage probe concurrently with a search's first requests, when the cluster is undecided."""
    current = directory.linkage()
    if not current.decided:
        pool.submit(directory.probe_linkage)


def _client_ips(groups: Iterable[FileGroup]) -> set[str]:
    return {r.client_ip for g in groups for r in g.rows if r.client_ip}


__all__ = ["join", "linkage_verdict", "narrow", "start_probe"]
