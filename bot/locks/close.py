"""Pure decisions of the close path: validate an (untrusted) ref, match it against a fresh narrow listing,
and interpret the cluster's per-item close result. ``LockService.recheck`` / ``close`` do the I/O.

Rules:
- only the handle at exactly ``ref.location`` on ``ref.file_number`` is considered (never "the first handle on
  that file", never every handle on it);
- gone (no such location any more) -> ``GONE``; same location but a different owner or path, or (when the search
  knew the client) a different or no longer identifiable client -> ``CHANGED``; both are refused with an
  explanation and nothing is closed;
- a 200 from ``/v1/smb/files/close`` can still carry a per-item ``error_message``: "not found"-like -> ``GONE``,
  anything else -> ``FAILED`` with the cluster's words.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence

from bot.locks.models import CloseOutcome, CloseStatus, HandleRef, LockRow
from bot.qumulo.models import CloseResult, FileHandle

logger = logging.getLogger(__name__)

MAX_LOCATION = 512
_NOT_FOUND = re.compile(
    r"not found|no such|does not exist|doesn't exist|unknown (handle|location)|not open", re.I
)


def validate_ref(ref: HandleRef) -> str | None:
    """Why this ref cannot be acted on (it comes back from a button and is untrusted), or None."""
    if not ref.location or len(ref.location) > MAX_LOCATION or not ref.location.isprintable():
        return "The handle reference is not valid (bad location); search again."
    if not ref.file_number.isdigit() or len(ref.file_number) > 20:
        return "The handle reference is not valid (bad file number); search again."
    if not ref.owner or not ref.path.startswith("/"):
        return "The handle reference is not valid (no owner or path); search again."
    return None


def gone(ref: HandleRef) -> CloseOutcome:
    return CloseOutcome(
        status=CloseStatus.GONE,
        ref=ref,
        message=f"That handle on {ref.path} is no longer open (already closed, or the client let go); nothing to do.",
    )


def find_handle(ref: HandleRef, handles: Sequence[FileHandle]) -> FileHandle | None:
    """The handle at exactly ``ref.location`` on ``ref.file_number``, if still listed."""
    for handle in handles:
        if handle.location == ref.location and handle.file_number == ref.file_number:
            return handle
    return None


def compare(ref: HandleRef, handle: FileHandle, path: str, row: LockRow | None) -> CloseOutcome | None:
    """``CHANGED`` when the handle at that location is not the one the button was made for, else None."""
    changes = []
    if handle.owner != ref.owner:
        who = row.holder if row is not None else handle.owner
        changes.append(f"it now belongs to {who}")
    if path != ref.path:
        changes.append(f"it is now on {path}")
    if ref.client_ip is not None:
        now_ip = row.client_ip if row is not None else None
        if now_ip is None:
            changes.append(f"it can no longer be confirmed to be held from {ref.client_ip}")
        elif now_ip != ref.client_ip:
            changes.append(f"it is now held from {now_ip}, not {ref.client_ip}")
    if not changes:
        return None
    return CloseOutcome(
        status=CloseStatus.CHANGED,
        ref=ref,
        message=f"Not closed: the handle at that location changed since the search ({'; '.join(changes)}). "
        "Search again.",
        row=row,
    )


def interpret(ref: HandleRef, results: Sequence[CloseResult], row: LockRow | None) -> CloseOutcome:
    """The outcome of closing exactly one location."""
    if len(results) != 1:
        return CloseOutcome(
            status=CloseStatus.FAILED,
            ref=ref,
            message=f"The cluster answered the close with {len(results)} results for one handle; search again "
            "to see whether it is still open.",
            row=row,
        )
    result = results[0]
    if result.ok:
        who = f"{row.holder}'s handle" if row is not None else "The handle"
        client = f" from {row.client_ip}" if row is not None and row.client_ip else ""
        return CloseOutcome(
            status=CloseStatus.CLOSED, ref=ref, message=f"{who}{client} on {ref.path} was closed.", row=row
        )
    if _NOT_FOUND.search(result.error_message):
        out = gone(ref)
        return CloseOutcome(status=out.status, ref=ref, message=out.message, row=row)
    return CloseOutcome(
        status=CloseStatus.FAILED,
        ref=ref,
        message=f"The cluster refused to close the handle on {ref.path}: {result.error_message}",
        row=row,
    )


def says_not_found(text: str) -> bool:
    """The cluster's words mean "no such handle"."""
    return bool(_NOT_FOUND.search(text))


def failed(ref: HandleRef, why: str, row: LockRow | None = None) -> CloseOutcome:
    return CloseOutcome(status=CloseStatus.FAILED, ref=ref, message=why, row=row)


__all__ = ["compare", "failed", "find_handle", "gone", "interpret", "says_not_found", "validate_ref"]
