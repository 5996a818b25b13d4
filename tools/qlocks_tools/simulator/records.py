"""In-memory records of the simulated cluster and their wire (JSON) form.

Records are compact ``slots`` dataclasses so that 300k handles stay cheap; the JSON dicts the REST API returns are
built by the ``*_json`` functions, never stored (the big listings send cached, byte-identical renderings of them:
``render.py``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

logger = logging.getLogger(__name__)

NS = 1_000_000_000

# Privileges of the simulated cluster (who-am-i enum names). The admin user holds all of them.
ALL_PRIVILEGES: tuple[str, ...] = (
    "PRIVILEGE_ACCESS_TOKENS_READ",
    "PRIVILEGE_ACCESS_TOKENS_WRITE",
    "PRIVILEGE_AD_READ",
    "PRIVILEGE_ANALYTICS_READ",
    "PRIVILEGE_AUDIT_READ",
    "PRIVILEGE_CLUSTER_READ",
    "PRIVILEGE_DNS_READ",
    "PRIVILEGE_DNS_USE",
    "PRIVILEGE_FILE_FULL_ACCESS",
    "PRIVILEGE_FS_ATTRIBUTES_READ",
    "PRIVILEGE_FS_LOCK_READ",
    "PRIVILEGE_FS_LOCK_WRITE",
    "PRIVILEGE_IDENTITY_READ",
    "PRIVILEGE_LOCAL_USER_READ",
    "PRIVILEGE_NETWORK_READ",
    "PRIVILEGE_ROLE_READ",
    "PRIVILEGE_SMB_FILE_HANDLE_READ",
    "PRIVILEGE_SMB_FILE_HANDLE_WRITE",
    "PRIVILEGE_SMB_SESSION_READ",
    "PRIVILEGE_SMB_SESSION_WRITE",
    "PRIVILEGE_SMB_SHARE_READ",
    "PRIVILEGE_SMB_SHARE_WRITE",
)

# access_mask / share-mode templates, shared between records (tuples are never copied per handle).
MASK_WRITE: tuple[str, ...] = (
    "MS_ACCESS_FILE_READ_DATA",
    "MS_ACCESS_FILE_WRITE_DATA",
    "MS_ACCESS_FILE_APPEND_DATA",
    "MS_ACCESS_FILE_READ_EA",
    "MS_ACCESS_FILE_READ_ATTRIBUTES",
    "MS_ACCESS_FILE_WRITE_ATTRIBUTES",
    "MS_ACCESS_READ_CONTROL",
    "MS_ACCESS_SYNCHRONIZE",
)
MASK_READ: tuple[str, ...] = (
    "MS_ACCESS_FILE_READ_DATA",
    "MS_ACCESS_FILE_READ_EA",
    "MS_ACCESS_FILE_READ_ATTRIBUTES",
    "MS_ACCESS_READ_CONTROL",
    "MS_ACCESS_SYNCHRONIZE",
)
MASK_PREVIEW: tuple[str, ...] = ("MS_ACCESS_FILE_READ_ATTRIBUTES", "MS_ACCESS_SYNCHRONIZE")
MODE_WRITE: tuple[str, ...] = ("API_SHARE_MODE_READ", "API_SHARE_MODE_WRITE", "API_SHARE_MODE_EXCLUDE_WRITE")
MODE_READ: tuple[str, ...] = ("API_SHARE_MODE_READ",)
MODE_PREVIEW: tuple[str, ...] = ()
# A folder open in Explorer (or a share root mapped as a drive): list + change-notify watch, shares everything.
MASK_FOLDER: tuple[str, ...] = (
    "MS_ACCESS_FILE_LIST_DIRECTORY",
    "MS_ACCESS_FILE_READ_ATTRIBUTES",
    "MS_ACCESS_FILE_READ_EA",
    "MS_ACCESS_SYNCHRONIZE",
)
MODE_FOLDER: tuple[str, ...] = ("API_SHARE_MODE_READ", "API_SHARE_MODE_WRITE", "API_SHARE_MODE_DELETE")
MODE_EXCLUSIVE: tuple[str, ...] = (
    "API_SHARE_MODE_READ",
    "API_SHARE_MODE_WRITE",
    "API_SHARE_MODE_DELETE",
    "API_SHARE_MODE_EXCLUDE_READ",
    "API_SHARE_MODE_EXCLUDE_WRITE",
    "API_SHARE_MODE_EXCLUDE_DELETE",
)
BYTE_RANGE_MODES: tuple[tuple[str, ...], ...] = (
    ("API_BYTE_RANGE_EXCLUSIVE", "API_BYTE_RANGE_WRITE_OP"),
    ("API_BYTE_RANGE_SHARED", "API_BYTE_RANGE_READ_OP"),
)


@dataclass(slots=True)
class Identity:
    auth_id: str
    name: str
    domain: str  # ACTIVE_DIRECTORY, LOCAL, ...
    uid: int | None
    gid: int | None
    sid: str


@dataclass(slots=True)
class Session:
    seq: int
    location: str  # opaque session location
    handle_prefix: str  # handle locations are "<handle_prefix>.<seq>" (opaque to clients)
    originator: str  # client IP
    server_address: str  # node
    auth_id: str
    opened_at: float  # wall-clock seconds
    last_active: float
    is_encrypted: bool
    num_opens: int = 0
    share_names: list[str] = field(default_factory=list)
    grant_address: str = ""  # the client as lock grants name it (``owner_address``); "" = ``originator``


@dataclass(slots=True)
class FileRec:
    number: int
    path: str
    size: int
    created: float
    modified: float
    share: str = ""  # share_name of the longest matching share fs_path
    handles: list[int] = field(default_factory=list)  # handle seqs, ascending
    is_dir: bool = False  # a folder with handles on it (Explorer windows, share roots); path ends with "/"


@dataclass(slots=True)
class Handle:
    """An open handle. Its location is ``<session location>.<seq>`` and its owner is the session's user,
    both derived on demand so that 300k handles stay small."""

    seq: int
    file_number: int
    session: int  # Session.seq
    access_mask: tuple[str, ...]
    share_mode: tuple[str, ...]
    byte_ranges: tuple[tuple[int, int, int], ...] = ()  # (offset, size, BYTE_RANGE_MODES index)


OPEN_KINDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "write": (MASK_WRITE, MODE_WRITE),
    "read": (MASK_READ, MODE_READ),
    "preview": (MASK_PREVIEW, MODE_PREVIEW),
    "exclusive": (MASK_WRITE, MODE_EXCLUSIVE),
    "folder": (MASK_FOLDER, MODE_FOLDER),
}


def handle_location(h: Handle, s: Session) -> str:
    return f"{s.handle_prefix}.{h.seq}"


def identity_json(ident: Identity) -> dict[str, Any]:
    return {
        "domain": ident.domain,
        "auth_id": ident.auth_id,
        "uid": ident.uid,
        "gid": ident.gid,
        "sid": ident.sid,
        "name": ident.name,
    }


def handle_json(h: Handle, s: Session, path: str | None) -> dict[str, Any]:
    info: dict[str, Any] = {
        "location": handle_location(h, s),
        "version": 1,
        "num_byte_range_locks": len(h.byte_ranges),
        "owner": s.auth_id,
        "access_mask": list(h.access_mask),
    }
    info["path"] = path if path is not None else ""
    return {"file_number": str(h.file_number), "handle_info": info}


def owner_id(h: Handle) -> str:
    return str((1 << 32) + h.seq)


def share_mode_grant_json(h: Handle, s: Session) -> dict[str, Any]:
    return {
        "file_id": str(h.file_number),
        "stream_id": "0",
        "snapshot_id": "",
        "owner_id": owner_id(h),
        "mode": list(h.share_mode),
        "owner_address": s.grant_address or s.originator,
        "node_address": s.server_address,
    }


def byte_range_grant_json(h: Handle, s: Session, index: int, owner_name: str) -> dict[str, Any]:
    offset, size, mode = h.byte_ranges[index]
    grant = share_mode_grant_json(h, s)
    grant.update(
        {
            "mode": list(BYTE_RANGE_MODES[mode]),
            "offset": str(offset),
            "size": str(size),
            "owner_name": owner_name,
        }
    )
    return grant


def session_json(s: Session, user: Identity, now: float) -> dict[str, Any]:
    return {
        "location": s.location,
        "tenant_id": 1,
        "originator": s.originator,
        "server_address": s.server_address,
        "user": identity_json(user),
        "num_opens": s.num_opens,
        "is_guest": False,
        "time_open": {"nanoseconds": str(max(0, int((now - s.opened_at) * NS)))},
        "time_idle": {"nanoseconds": str(max(0, int((now - s.last_active) * NS)))},
        "is_encrypted": s.is_encrypted,
        "share_names": list(s.share_names),
    }


def _rfc3339(ts: float) -> str:
    import datetime as dt

    return dt.datetime.fromtimestamp(ts, tz=dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f000Z")


def attributes_json(f: FileRec, owner: Identity | None) -> dict[str, Any]:
    if f.is_dir:
        return dir_attributes_json(f.path, f.number)
    name = f.path.rsplit("/", 1)[-1]
    return {
        "path": f.path,
        "name": name,
        "num_links": 1,
        "type": "FS_FILE_TYPE_FILE",
        "major_minor_numbers": {"major": 0, "minor": 0},
        "symlink_target_type": "FS_FILE_TYPE_UNKNOWN",
        "file_number": str(f.number),
        "id": str(f.number),
        "mode": "0644",
        "owner": owner.auth_id if owner else "500",
        "owner_details": {"id_type": "SMB_SID", "id_value": owner.sid if owner else "S-1-5-32-544"},
        "group": "513",
        "group_details": {"id_type": "SMB_SID", "id_value": "S-1-5-21-2142-3318-5011-513"},
        "blocks": str((f.size + 4095) // 4096),
        "datablocks": str((f.size + 4095) // 4096),
        "metablocks": "1",
        "size": str(f.size),
        "access_time": _rfc3339(f.modified),
        "modification_time": _rfc3339(f.modified),
        "change_time": _rfc3339(f.modified),
        "creation_time": _rfc3339(f.created),
        "child_count": 0,
        "extended_attributes": {
            "read_only": False,
            "hidden": name.startswith("~$"),
            "system": False,
            "archive": True,
            "temporary": False,
            "compressed": False,
            "not_content_indexed": False,
            "sparse_file": False,
            "offline": False,
        },
    }


def dir_attributes_json(path: str, number: int) -> dict[str, Any]:
    """Attributes of a directory that exists only as a parent of generated files."""
    name = path.rstrip("/").rsplit("/", 1)[-1]
    return {
        "path": path if path.endswith("/") else path + "/",
        "name": name,
        "type": "FS_FILE_TYPE_DIRECTORY",
        "file_number": str(number),
        "id": str(number),
        "mode": "0755",
        "size": "0",
        "child_count": 1,
    }


def share_json(share_id: int, name: str, path: str, description: str) -> dict[str, Any]:
    return {
        "id": str(share_id),
        "tenant_id": 1,
        "share_name": name,
        "fs_path": path,
        "description": description,
        "permissions": [
            {
                "type": "ALLOWED",
                "trustee": {
                    "domain": "WORLD",
                    "auth_id": "8589934592",
                    "uid": None,
                    "gid": None,
                    "sid": "S-1-1-0",
                    "name": None,
                },
                "rights": ["READ", "WRITE", "CHANGE_PERMISSIONS"],
            }
        ],
        "network_permissions": [
            {"type": "ALLOWED", "address_ranges": [], "rights": ["READ", "WRITE", "CHANGE_PERMISSIONS"]}
        ],
        "access_based_enumeration_enabled": False,
        "default_file_create_mode": "0644",
        "default_directory_create_mode": "0755",
        "require_encryption": False,
    }
