"""Domain records for lock search and close (no I/O, no Slack)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class QueryKind(StrEnum):
    FRAGMENT = "fragment"  # case-insensitive substring of the FS path
    PATH = "path"  # a full path: absolute FS path, UNC (\\cluster\Share\...) or smb:// URL
    IP = "ip"  # ip:10.1.2.3
    HOST = "host"  # host:laptop-42
    USER = "user"  # user:dana


@dataclass(frozen=True, slots=True)
class Query:
    kind: QueryKind
    value: str  # fragment / FS path / IP / host / user, as the user meant it
    text: str  # what the user typed, for display
    share: str | None = None  # share name when given as UNC / smb URL
    share_path: str | None = None  # path inside that share, '/'-separated, leading '/'


@dataclass(frozen=True, slots=True)
class HandleRef:
    """What a Close button carries: enough to re-find *that* handle and check it is still the same one.

    Untrusted when it comes back from the button: the close path re-fetches the handle and compares.
    """

    location: str
    file_number: str
    owner: str  # auth_id of the handle's owner
    path: str
    client_ip: str | None = None  # the holder's client when the search could tell; the close re-checks it


@dataclass(frozen=True, slots=True)
class LockRow:
    """One open handle, joined with its grant(s) and session."""

    ref: HandleRef
    holder: str  # display name of the owner ("dana" / "DOMAIN\\dana"); auth_id if unresolvable
    client_ip: str | None
    client_host: str | None
    access: tuple[str, ...]  # short access names, e.g. ("read", "write", "delete")
    # short share-mode names of the matching grant, e.g. ("read", "exclude-write")
    share_mode: tuple[str, ...]
    node: str | None  # node the client is connected to
    session_open_s: float | None
    session_idle_s: float | None
    note: str | None = None  # set when the join is ambiguous ("2 sessions for dana: client unknown")
    # How the client was found (None: it was not): "session" (the handle's location extends that session's
    # location, checked on this cluster), "only client" (the holder's sessions all come from it), "locks" (the
    # only one of the holder's clients that locks this file), "sole holder" (no session; the file's locks all
    # come from this client and every handle on the file is this holder's).
    evidence: str | None = None
    # Kept by an ip:/host: search without proof that it is that client's (shown apart as "possibly").
    possibly: bool = False

    @property
    def writes(self) -> bool:
        return any(a in ("write", "append", "delete", "all") for a in self.access)


@dataclass(frozen=True, slots=True)
class FileGroup:
    """All matching handles on one file, likely culprit first."""

    file_number: str
    path: str  # FS path
    share: str | None  # share name, when the path is inside a share
    share_path: str | None  # path relative to that share (as users know it)
    rows: tuple[LockRow, ...]
    folder: bool = False  # a folder (Explorer window, share root): listed after files, never "too broad"


@dataclass(frozen=True, slots=True)
class SearchResult:
    query: Query
    files: tuple[FileGroup, ...]
    cluster: str
    as_of: float  # wall-clock time (epoch seconds) the data was fetched
    scanned_handles: int  # how many handles the search looked at
    exact: bool = False  # answered by the narrow O(1) lookup
    no_such_file: bool = False  # an exact path that does not exist
    resolved_path: str | None = None  # the FS path an exact/UNC query (or a folder) was translated to
    omitted_handles: int = 0  # file matches beyond the row cap (counted, not returned)
    notes: tuple[str, ...] = ()  # degradations worth showing once ("sessions not readable: ...")
    omitted_folder_handles: int = 0  # folder matches beyond the folder cap (counted, not returned)

    @property
    def total_handles(self) -> int:
        return sum(len(f.rows) for f in self.files)

    @property
    def folder_handles(self) -> int:
        return sum(len(f.rows) for f in self.files if f.folder)

    @property
    def matched_handles(self) -> int:
        """Every match on a file, including those left out by the row cap. Folder handles do not count: they
        have their own cap and never make a query too broad."""
        return self.total_handles - self.folder_handles + self.omitted_handles


class CloseStatus(StrEnum):
    CLOSED = "closed"
    GONE = "gone"  # the handle no longer exists (already closed, client went away)
    CHANGED = "changed"  # a handle with that location exists but is not the same (path/owner differ)
    STILL_OPEN = "still_open"  # the close did not take: a listing after it still shows the handle
    FAILED = "failed"  # the cluster refused or errored and whether the handle is open is unknown


@dataclass(frozen=True, slots=True)
class CloseOutcome:
    status: CloseStatus
    ref: HandleRef
    message: str  # one line for the admin
    row: LockRow | None = None  # the re-checked row (holder, client) when it was found
