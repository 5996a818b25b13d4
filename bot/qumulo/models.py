"""Typed records built from the Qumulo REST API's JSON at the edge (``from_json``).

Raw JSON stops in ``bot.qumulo``: everything above works with these frozen dataclasses.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


def _ns_to_s(value: Any) -> float | None:
    """Qumulo durations are ``{"nanoseconds": "<string>"}``."""
    if not isinstance(value, dict):
        return None
    try:
        return int(value.get("nanoseconds", "")) / 1e9
    except (TypeError, ValueError):
        return None


@dataclass(frozen=True, slots=True)
class FileHandle:
    """One open SMB file handle (``/v1/smb/files/`` entry)."""

    file_number: str
    location: str
    owner: str  # auth_id of the handle's owner
    access_mask: tuple[str, ...] = ()
    path: str | None = None  # only with resolve_paths
    version: int = 1
    num_byte_range_locks: int = 0

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> FileHandle:
        hi = d["handle_info"]
        return cls(
            file_number=str(d["file_number"]),
            location=str(hi["location"]),
            owner=str(hi.get("owner", "")),
            access_mask=tuple(hi.get("access_mask") or ()),
            path=hi.get("path") or None,
            version=int(hi.get("version", 1)),
            num_byte_range_locks=int(hi.get("num_byte_range_locks", 0)),
        )


@dataclass(frozen=True, slots=True)
class ShareModeGrant:
    """One SMB share-mode grant (``/v1/files/locks/smb/share-mode/`` entry)."""

    file_id: str
    owner_id: str
    mode: tuple[str, ...]
    owner_address: str  # client IP
    node_address: str  # node serving the client
    stream_id: str = "0"
    snapshot_id: str = ""

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> ShareModeGrant:
        return cls(
            file_id=str(d["file_id"]),
            owner_id=str(d.get("owner_id", "")),
            mode=tuple(d.get("mode") or ()),
            owner_address=str(d.get("owner_address", "")),
            node_address=str(d.get("node_address", "")),
            stream_id=str(d.get("stream_id", "0")),
            snapshot_id=str(d.get("snapshot_id") or ""),
        )


@dataclass(frozen=True, slots=True)
class SmbSession:
    """One SMB session (``/v1/smb/sessions/`` entry)."""

    location: str
    originator: str  # client IP
    server_address: str  # node
    auth_id: str
    user_name: str
    user_domain: str = ""
    sid: str = ""
    num_opens: int = 0
    time_open_s: float | None = None
    time_idle_s: float | None = None
    share_names: tuple[str, ...] = ()
    is_guest: bool = False

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> SmbSession:
        user = d.get("user") or {}
        return cls(
            location=str(d.get("location", "")),
            originator=str(d.get("originator", "")),
            server_address=str(d.get("server_address", "")),
            auth_id=str(user.get("auth_id", "")),
            user_name=str(user.get("name") or ""),
            user_domain=str(user.get("domain") or ""),
            sid=str(user.get("sid") or ""),
            num_opens=int(d.get("num_opens", 0)),
            time_open_s=_ns_to_s(d.get("time_open")),
            time_idle_s=_ns_to_s(d.get("time_idle")),
            share_names=tuple(d.get("share_names") or ()),
            is_guest=bool(d.get("is_guest", False)),
        )


@dataclass(frozen=True, slots=True)
class Identity:
    """``/v1/identity/find`` result."""

    auth_id: str
    name: str | None
    domain: str = ""
    uid: int | None = None
    sid: str | None = None

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Identity:
        uid = d.get("uid")
        return cls(
            auth_id=str(d.get("auth_id", "")),
            name=d.get("name") or None,
            domain=str(d.get("domain") or ""),
            uid=int(uid) if isinstance(uid, int | str) and str(uid).lstrip("-").isdigit() else None,
            sid=d.get("sid") or None,
        )


@dataclass(frozen=True, slots=True)
class SmbShare:
    """``/v3/smb/shares/`` entry: share name <-> filesystem path."""

    id: str
    share_name: str
    fs_path: str

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> SmbShare:
        return cls(id=str(d.get("id", "")), share_name=str(d["share_name"]), fs_path=str(d["fs_path"]))


@dataclass(frozen=True, slots=True)
class FileAttributes:
    """``/v1/files/{ref}/info/attributes`` (the fields qlocks uses)."""

    id: str  # == file_number == grant file_id
    path: str
    type: str = "FS_FILE_TYPE_FILE"

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> FileAttributes:
        return cls(
            id=str(d.get("id") or d["file_number"]),
            path=str(d.get("path", "")),
            type=str(d.get("type", "FS_FILE_TYPE_FILE")),
        )


@dataclass(frozen=True, slots=True)
class WhoAmI:
    """``/v1/session/who-am-i``."""

    id: str
    name: str
    privileges: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> WhoAmI:
        return cls(
            id=str(d.get("id", "")),
            name=str(d.get("name", "")),
            privileges=frozenset(d.get("privileges") or ()),
        )


@dataclass(frozen=True, slots=True)
class CloseReply:
    """What ``POST /v1/smb/files/close`` answered, as it came.

    Qumulo's docs promise an array of ``{"error_message": ...}``, not one entry per handle sent, so the entries
    are not matched to locations here; ``bot.locks.close`` decides what a reply proves (and re-lists when it
    proves nothing).
    """

    errors: tuple[str, ...] = ()  # each entry's error_message, in order ("" = none)
    well_formed: bool = True  # a JSON array of objects whose error_message, when present, is a string

    @property
    def plain_success(self) -> bool:
        """Exactly one entry, without an error: the one handle sent was closed."""
        return self.well_formed and self.errors == ("",)

    @property
    def messages(self) -> tuple[str, ...]:
        """The non-empty error messages."""
        return tuple(e for e in self.errors if e)

    def describe(self) -> str:
        """The reply's shape in a few words, for an admin ("an empty list", "2 results", "no JSON array")."""
        if not self.well_formed:
            return "a reply that is not a list of results"
        if not self.errors:
            return "an empty list"
        return "1 result" if len(self.errors) == 1 else f"{len(self.errors)} results"

    @classmethod
    def from_json(cls, data: Any) -> CloseReply:
        if not isinstance(data, list):
            return cls((), well_formed=False)
        errors: list[str] = []
        well_formed = True
        for item in data:
            msg = item.get("error_message") if isinstance(item, dict) else item
            if msg is None:
                msg = ""
            if not isinstance(item, dict) or not isinstance(msg, str):
                well_formed = False
                msg = str(msg)[:200]
            errors.append(msg)
        return cls(tuple(errors), well_formed=well_formed)


# Privileges qlocks needs, and what each is for (doctor and error messages name them).
REQUIRED_PRIVILEGES: dict[str, str] = {
    "PRIVILEGE_SMB_FILE_HANDLE_READ": "list open SMB file handles",
    "PRIVILEGE_SMB_FILE_HANDLE_WRITE": "close SMB file handles",
    "PRIVILEGE_FS_LOCK_READ": "list SMB share-mode locks",
    "PRIVILEGE_FS_ATTRIBUTES_READ": "look up a full path or \\\\cluster\\share path (exact-path searches)",
    "PRIVILEGE_SMB_SESSION_READ": "show client IP, open and idle times of SMB sessions",
    "PRIVILEGE_IDENTITY_READ": "resolve handle owners to user names",
    "PRIVILEGE_SMB_SHARE_READ": "translate \\\\cluster\\share paths to filesystem paths",
}
OPTIONAL_PRIVILEGES: dict[str, str] = {
    "PRIVILEGE_DNS_USE": "resolve client IPs to host names (host: searches)",
}
