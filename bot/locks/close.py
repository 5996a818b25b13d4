"""Pure decisions of the close path: validate an (untrusted) ref, match it against a fresh narrow listing,
and interpret the cluster's per-item close result. ``LockService.recheck`` / ``close`` do the I/O.

Rules:
- only the handle at exactly ``ref.location`` on ``ref.file_number`` is considered (never "the first handle on
  that file", never every handle on it);
- gone (no such location any more) -> ``GONE``; same location but a different owner or path, or (when the search
  knew the client) a different or no longer identifiable client -> ``CHANGED``; both are refused with an
  explanation and nothing is closed;
- the close reply (Qumulo's docs promise an array of ``{error_message}``, *not* one entry per handle sent) is
  trusted only when it is exactly one entry without an error: ``CLOSED``. Any other reply (an error, an empty
  array, several entries, garbage), and a close request that failed on the way (timeout, 5xx), is settled by what
  the cluster shows: a fresh narrow listing of that file (``settle``): the handle gone -> ``CLOSED`` (or ``GONE``
  when the reply said our handle was not found), still listed -> ``STILL_OPEN``; only when that listing fails too
  is the result ``FAILED`` ("may or may not be closed").
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence

from bot.locks.models import CloseOutcome, CloseStatus, HandleRef, LockRow
from bot.qumulo.models import CloseReply, FileHandle

logger = logging.getLogger(__name__)

MAX_LOCATION = 512
_NOT_FOUND = re.compile(
    r"not found|no such|does not exist|doesn't exist|unknown (handle|location)|not open", re.I
)
# What a handle location looks like in a message (``4.676543750958.39903``): dotted numbers.
_LOCATION = re.compile(r"\d+(?:\.\d+)+")


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


def closed(ref: HandleRef, row: LockRow | None, *, how: str = "") -> CloseOutcome:
    who = f"{row.holder}'s handle" if row is not None else "The handle"
    client = f" from {row.client_ip}" if row is not None and row.client_ip else ""
    return CloseOutcome(
        status=CloseStatus.CLOSED, ref=ref, message=f"{who}{client} on {ref.path} was closed{how}.", row=row
    )


def interpret(ref: HandleRef, reply: CloseReply, row: LockRow | None) -> CloseOutcome | None:
    """What the reply to closing exactly one location proves on its own: ``CLOSED`` for one entry without an
    error; None for anything else (the caller re-lists the file and calls ``settle``)."""
    if reply.plain_success:
        return closed(ref, row)
    return None


def _names_other_location(message: str, location: str) -> bool:
    return any(found != location for found in _LOCATION.findall(message))


def settle(
    ref: HandleRef, what: str, handles: Sequence[FileHandle], row: LockRow | None, reply: CloseReply | None
) -> CloseOutcome:
    """The outcome of a close whose answer proved nothing, from a fresh listing of ``ref``'s file taken after it.

    ``what`` says what the close request got, in a few words ("the cluster answered with an empty list",
    "the close request failed (...)"); ``reply`` is the reply, when there was one.
    """
    words = "; ".join(reply.messages) if reply is not None else ""
    said = f" (the cluster said: {words})" if words else ""
    if find_handle(ref, handles) is not None:
        return CloseOutcome(
            status=CloseStatus.STILL_OPEN,
            ref=ref,
            message=f"Not closed: {what}{said}, and a fresh listing still shows the handle on {ref.path} open.",
            row=row,
        )
    ours_not_found = (
        reply is not None
        and reply.well_formed
        and len(reply.errors) == 1
        and says_not_found(reply.errors[0])
        and not _names_other_location(reply.errors[0], ref.location)
    )
    if ours_not_found:
        out = gone(ref)
        return CloseOutcome(status=out.status, ref=ref, message=out.message, row=row)
    return closed(ref, row, how=f" ({what}{said}; a fresh listing shows it gone)")


def unconfirmed(ref: HandleRef, what: str, why: str, row: LockRow | None) -> CloseOutcome:
    """The close's answer proved nothing and the listing that should have settled it failed too."""
    return CloseOutcome(
        status=CloseStatus.FAILED,
        ref=ref,
        message=f"{what[:1].upper()}{what[1:]}, and re-listing the file to check failed ({why}): the handle "
        "may or may not be closed; search again to see.",
        row=row,
    )


def says_not_found(text: str) -> bool:
    """The cluster's words mean "no such handle"."""
    return bool(_NOT_FOUND.search(text))


def failed(ref: HandleRef, why: str, row: LockRow | None = None) -> CloseOutcome:
    return CloseOutcome(status=CloseStatus.FAILED, ref=ref, message=why, row=row)


__all__ = [
    "closed",
    "compare",
    "failed",
    "find_handle",
    "gone",
    "interpret",
    "says_not_found",
    "settle",
    "unconfirmed",
    "validate_ref",
]
