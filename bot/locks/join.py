"""Pure join: handles + share-mode grants + sessions + names -> :class:`FileGroup` / :class:`LockRow`.

Qumulo documents no handle <-> session or handle <-> grant ID (qumulo-rest.md §9). Each row names the holder of
*that* handle, from the best evidence the cluster gives (``LockRow.evidence``):

- holder = the handle's ``owner`` auth_id -> that user's session(s) (name from the session, else identity/find);
- exact ("session"): when this cluster's handle locations are known to extend their session's location
  (``linkage.py``, checked at run time against owner == user), the handle's session gives client, node, open and
  idle time; the file's grants from that client add the share mode;
- otherwise client = the grants on the same file whose ``owner_address`` is one of that user's session
  originators. If the user has exactly one such client, its IP, node, share mode, open and idle time are shown;
  if several clients (or several sessions from one client) could hold the handle, the row carries a ``note``
  instead of a guess;
- with no session for the owner (sessions unreadable, or opened after the cached snapshot) the file's grants are
  used only when every known handle on the file belongs to that owner.

Addresses are compared normalised (``::ffff:10.1.2.3`` == ``10.1.2.3``; IPv6 in any spelling); rows show the
normalised form. Folder handles (directory access, or a path ending in ``/``) make ``FileGroup.folder`` groups,
sorted after the files.

Sorting puts the likely culprit first: write access, then handles that deny others (``exclude-*``), then the
longest idle session.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from bot.locks.linkage import normalize_address, session_of
from bot.locks.models import FileGroup, HandleRef, LockRow
from bot.locks.shares import EMPTY, ShareMap
from bot.qumulo.models import FileHandle, ShareModeGrant, SmbSession

logger = logging.getLogger(__name__)

_ACCESS = {
    "MS_ACCESS_FILE_READ_DATA": "read",
    "MS_ACCESS_GENERIC_READ": "read",
    "MS_ACCESS_FILE_WRITE_DATA": "write",
    "MS_ACCESS_GENERIC_WRITE": "write",
    "MS_ACCESS_FILE_APPEND_DATA": "append",
    "MS_ACCESS_DELETE": "delete",
    "MS_ACCESS_FILE_EXECUTE": "execute",
    "MS_ACCESS_GENERIC_EXECUTE": "execute",
    "MS_ACCESS_FILE_ALL": "all",
    "MS_ACCESS_GENERIC_ALL": "all",
    "MS_ACCESS_MAXIMUM_ALLOWED": "max-allowed",
    "MS_ACCESS_FILE_LIST_DIRECTORY": "list",
    "MS_ACCESS_FILE_ADD_FILE": "add-file",
    "MS_ACCESS_FILE_ADD_SUBDIRECTORY": "add-subdir",
    "MS_ACCESS_FILE_TRAVERSE": "traverse",
    "MS_ACCESS_FILE_DELETE_CHILD": "delete-child",
    "MS_ACCESS_FILE_READ_ATTRIBUTES": "read-attr",
    "MS_ACCESS_FILE_WRITE_ATTRIBUTES": "write-attr",
    "MS_ACCESS_FILE_READ_EA": "read-ea",
    "MS_ACCESS_FILE_WRITE_EA": "write-ea",
    "MS_ACCESS_READ_CONTROL": "read-acl",
    "MS_ACCESS_WRITE_DAC": "write-acl",
    "MS_ACCESS_WRITE_OWNER": "write-owner",
    "MS_ACCESS_SYSTEM_SECURITY": "system-security",
    "MS_ACCESS_SYNCHRONIZE": "",  # on nearly every handle: noise
}
#: Access only a directory handle carries (Explorer windows, share roots, change-notify watches).
_FOLDER_ACCESS = frozenset(
    {
        "MS_ACCESS_FILE_LIST_DIRECTORY",
        "MS_ACCESS_FILE_ADD_FILE",
        "MS_ACCESS_FILE_ADD_SUBDIRECTORY",
        "MS_ACCESS_FILE_TRAVERSE",
        "MS_ACCESS_FILE_DELETE_CHILD",
    }
)
_METADATA = frozenset({"read-attr", "write-attr", "read-ea", "write-ea", "read-acl"})
_ACCESS_ORDER = {name: i for i, name in enumerate(dict.fromkeys(v for v in _ACCESS.values() if v))}

_SHARE_MODE = {
    "API_SHARE_MODE_READ": "read",
    "API_SHARE_MODE_WRITE": "write",
    "API_SHARE_MODE_DELETE": "delete",
    "API_SHARE_MODE_EXCLUDE_READ": "exclude-read",
    "API_SHARE_MODE_EXCLUDE_WRITE": "exclude-write",
    "API_SHARE_MODE_EXCLUDE_DELETE": "exclude-delete",
}
_MODE_ORDER = {name: i for i, name in enumerate(_SHARE_MODE.values())}


def _short(raw: str, prefixes: tuple[str, ...]) -> str:
    for prefix in prefixes:
        if raw.startswith(prefix):
            raw = raw[len(prefix) :]
            break
    return raw.lower().replace("_", "-")


def access_names(mask: Iterable[str]) -> tuple[str, ...]:
    """``MS_ACCESS_FILE_WRITE_DATA`` -> ``write``; known names in a fixed order, unknown ones after them.

    Attribute/EA/ACL-read access is dropped when the handle has any other access (a preview handle with only
    ``read-attr`` keeps it).
    """
    names = []
    for raw in mask:
        short = _ACCESS[raw] if raw in _ACCESS else _short(raw, ("MS_ACCESS_FILE_", "MS_ACCESS_"))
        if short:
            names.append(short)
    unique = dict.fromkeys(names)
    if any(n not in _METADATA for n in unique):  # metadata access is noise next to data access
        unique = dict.fromkeys(n for n in unique if n not in _METADATA)
    return tuple(sorted(unique, key=lambda n: (_ACCESS_ORDER.get(n, len(_ACCESS_ORDER)), n)))


def is_folder_handle(handle: FileHandle) -> bool:
    """A handle on a folder: directory-only access, or a path the cluster wrote with a trailing slash."""
    return bool(handle.path and len(handle.path) > 1 and handle.path.endswith("/")) or any(
        a in _FOLDER_ACCESS for a in handle.access_mask
    )


def share_mode_names(mode: Iterable[str]) -> tuple[str, ...]:
    """``API_SHARE_MODE_EXCLUDE_WRITE`` -> ``exclude-write``."""
    names = dict.fromkeys(_SHARE_MODE.get(m) or _short(m, ("API_SHARE_MODE_",)) for m in mode)
    return tuple(sorted(names, key=lambda n: (_MODE_ORDER.get(n, len(_MODE_ORDER)), n)))


def denies_others(row: LockRow) -> bool:
    return any(m.startswith("exclude-") for m in row.share_mode)


def culprit_key(row: LockRow) -> tuple[bool, bool, bool, float, str, str]:
    """Sort key: writers first, then handles that deny others, then longest idle, then holder/location."""
    idle = row.session_idle_s
    return (
        not row.writes,
        not denies_others(row),
        idle is None,
        -(idle or 0.0),
        row.holder.casefold(),
        row.ref.location,
    )


@dataclass(frozen=True, slots=True)
class JoinContext:
    """Everything besides handles and grants that a row needs (mostly from caches)."""

    sessions_by_owner: Mapping[str, Sequence[SmbSession]] = field(default_factory=dict)
    sessions_known: bool = True  # False when the sessions listing could not be read
    names: Mapping[str, str] = field(default_factory=dict)  # auth_id -> display name (identity/find)
    hostnames: Mapping[str, str] = field(default_factory=dict)  # client IP -> host name
    shares: ShareMap = EMPTY
    # session location -> session (``linkage.index_locations``), and whether this cluster's handle locations are
    # known to extend their session's location (``Linkage.trusted``); only then is the index used.
    by_location: Mapping[str, SmbSession] = field(default_factory=dict)
    exact_locations: bool = False


def holder_name(owner: str, ctx: JoinContext) -> str:
    for session in ctx.sessions_by_owner.get(owner, ()):
        if session.user_name:
            return session.user_name
    return ctx.names.get(owner) or owner or "?"


def _only(values: Iterable[str]) -> str | None:
    distinct = {v for v in values if v}
    return distinct.pop() if len(distinct) == 1 else None


def join_row(
    handle: FileHandle,
    path: str,
    grants: Sequence[ShareModeGrant],
    ctx: JoinContext,
    *,
    sole_owner: bool,
) -> LockRow:
    """One row for ``handle``. ``grants`` are the grants on its file; ``sole_owner`` is True when every
    handle on the file (as far as we know all of them) belongs to this handle's owner."""
    holder = holder_name(handle.owner, ctx)
    sessions = list(ctx.sessions_by_owner.get(handle.owner, ()))
    linked = session_of(handle.location, ctx.by_location) if ctx.exact_locations else None
    if linked is not None and linked.auth_id != handle.owner:
        linked = None  # this handle disagrees with its owner: no exact answer for it
    evidence: str | None = None
    if linked is not None and linked.originator:
        sessions = [linked]
        ip_norm = normalize_address(linked.originator)
        mine = [g for g in grants if normalize_address(g.owner_address) == ip_norm]
        clients = [ip_norm]
        evidence = "session"
    elif sessions:
        originators = {normalize_address(s.originator) for s in sessions if s.originator}
        mine = [g for g in grants if normalize_address(g.owner_address) in originators]
        locking = {normalize_address(g.owner_address) for g in mine}
        clients = sorted(locking or originators)
        if len(originators) == 1:
            evidence = "only client"
        elif len(locking) == 1:
            evidence = "locks"
    elif sole_owner:
        mine = [g for g in grants if g.owner_address]
        clients = sorted({normalize_address(g.owner_address) for g in mine})
        evidence = "sole holder"
    else:
        mine, clients = [], []

    ip: str | None = None
    node: str | None = None
    share_mode: tuple[str, ...] = ()
    open_s: float | None = None
    idle_s: float | None = None
    notes: list[str] = []
    if len(clients) == 1:
        ip = clients[0]
        from_ip = [s for s in sessions if normalize_address(s.originator) == ip]
        ip_grants = [g for g in mine if normalize_address(g.owner_address) == ip]
        if len(from_ip) == 1:
            open_s, idle_s = from_ip[0].time_open_s, from_ip[0].time_idle_s
        elif len(from_ip) > 1:
            notes.append(
                f"open/idle time unknown: {holder} has {len(from_ip)} sessions from {ip} and the cluster does not "
                "say which one holds this handle"
            )
        node = _only(s.server_address for s in from_ip) or _only(g.node_address for g in ip_grants)
        modes = {share_mode_names(g.mode) for g in ip_grants}
        if len(modes) == 1:
            share_mode = modes.pop()
        elif len(modes) > 1:
            shown = "; ".join(",".join(m) or "none" for m in sorted(modes))
            notes.append(
                f"share mode unknown: {ip} holds this file with {len(modes)} different share modes ({shown}) and "
                f"the cluster does not say which one is this handle's. If the file stays locked after closing this "
                f"handle, the lock is held by another handle from {ip} listed here"
            )
    elif len(clients) > 1:
        evidence = None
        where = "has this file open from" if mine else "has sessions from"
        notes.append(
            f"client unknown: {holder} {where} {len(clients)} clients ({', '.join(clients)}) and the cluster does "
            "not say which one holds this handle. To free the file, close all of this holder's handles on it, "
            "or ask them which machine still has it open"
        )
    elif ctx.sessions_known:
        evidence = None
        notes.append(
            "client unknown: no session found for this holder (it may have ended, or started after the session "
            "list was read). Search the file's full path to look again"
        )
    else:
        evidence = None
        notes.append(
            "client unknown: the session list is not readable. Add PRIVILEGE_SMB_SESSION_READ to the bot's role "
            "to see every holder's client"
        )

    ref = HandleRef(
        location=handle.location, file_number=handle.file_number, owner=handle.owner, path=path, client_ip=ip
    )
    return LockRow(
        ref=ref,
        holder=holder,
        client_ip=ip,
        client_host=ctx.hostnames.get(ip) if ip else None,
        access=access_names(handle.access_mask),
        share_mode=share_mode,
        node=node,
        session_open_s=open_s,
        session_idle_s=idle_s,
        note="; ".join(notes) or None,
        evidence=evidence if ip is not None else None,
    )


def build_groups(
    handles: Iterable[FileHandle],
    grants_by_file: Mapping[str, Sequence[ShareModeGrant]],
    ctx: JoinContext,
    *,
    fallback_paths: Mapping[str, str] | None = None,
    complete_files: bool = True,
) -> list[FileGroup]:
    """Group handles by file (and by the path each handle reported), join each, sort.

    A handle's path comes from the handle itself (``resolve_paths``); ``fallback_paths`` (file_number -> path,
    from the attributes call of an exact lookup) is used only for a handle that came without one. Handles with
    no path at all are dropped. ``complete_files`` says the handles given are all the handles on their files.
    Duplicate locations (paging churn) are kept once.
    """
    fallback_paths = fallback_paths or {}
    by_key: dict[tuple[str, str], list[FileHandle]] = defaultdict(list)
    owners: dict[str, set[str]] = defaultdict(set)
    seen: set[str] = set()
    for h in handles:
        if h.location in seen:
            continue
        seen.add(h.location)
        path = h.path or fallback_paths.get(h.file_number)
        if not path:
            logger.debug("dropping handle %s on file %s: no path", h.location, h.file_number)
            continue
        by_key[(h.file_number, path)].append(h)
        owners[h.file_number].add(h.owner)
    groups = []
    for (file_number, path), file_handles in by_key.items():
        grants = grants_by_file.get(file_number, ())
        sole = complete_files and len(owners[file_number]) == 1
        rows = sorted(
            (join_row(h, path, grants, ctx, sole_owner=sole) for h in file_handles),
            key=culprit_key,
        )
        where = ctx.shares.locate(path)
        groups.append(
            FileGroup(
                file_number=file_number,
                path=path,
                share=where.share if where else None,
                share_path=where.share_path if where else None,
                rows=tuple(rows),
                folder=any(is_folder_handle(h) for h in file_handles),
            )
        )
    groups.sort(key=lambda g: (g.folder, g.path.casefold(), g.path, g.file_number))
    return groups


def index_sessions(sessions: Iterable[SmbSession]) -> dict[str, list[SmbSession]]:
    """auth_id -> that user's sessions (duplicates by location dropped)."""
    out: dict[str, list[SmbSession]] = defaultdict(list)
    seen: set[str] = set()
    for s in sessions:
        key = s.location or f"{s.auth_id}@{s.originator}"
        if key in seen:
            continue
        seen.add(key)
        out[s.auth_id].append(s)
    return dict(out)


def index_grants(grants: Iterable[ShareModeGrant]) -> dict[str, list[ShareModeGrant]]:
    """file_id -> grants on that file."""
    out: dict[str, list[ShareModeGrant]] = defaultdict(list)
    for g in grants:
        out[g.file_id].append(g)
    return dict(out)


__all__ = [
    "JoinContext",
    "access_names",
    "build_groups",
    "culprit_key",
    "denies_others",
    "holder_name",
    "index_grants",
    "index_sessions",
    "is_folder_handle",
    "join_row",
    "share_mode_names",
]
