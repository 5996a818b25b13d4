"""A posted answer, updated after a click: the clicked row replaced, and the counts that included it lowered.

Pure: the message comes back in the click payload (``body["message"]``), so the update is computed from its blocks.
A row counts while it still has its **Close handle** button; replacing it (closed, already gone, changed) lowers the
header ("3 open handles on 1 file for …"), the notification text and that file's "3 open handles" line by one, and
the file count when a file has none left. A row that had no button any more (a second update) changes no count.
"""

from __future__ import annotations

import re
from typing import Any

from bot.slack.blocks import CLOSE_ACTION, FILE_BLOCK, HEADER_BLOCK, Block, section
from bot.slack.text import clock_time, code

_TOTAL = re.compile(r"^(\d+) open handles? on (\d+) files?(?= for |$)")
_FILE_COUNT = re.compile(r"(\n|^)(\d+) open handles?( \(continued\))?$")
_FILE_PREFIX = FILE_BLOCK.split("{", 1)[0]


def gone_block(block_id: str, *, at: float, path: str) -> Block:
    """A row whose handle was found gone at the click: no button, and why."""
    text = (
        f"⚪ Already gone at {clock_time(at)}: nothing was closed "
        f"(closed elsewhere, or the client let go of {code(path, 300)})"
    )
    return section(text, block_id=block_id)


def changed_block(block_id: str, *, at: float) -> Block:
    """A row whose location now holds another handle: no button; search again to see it."""
    return section(f"⚠️ Changed since this search (checked {clock_time(at)}): search again", block_id=block_id)


def _counts_row(block: Any) -> bool:
    accessory = block.get("accessory") if isinstance(block, dict) else None
    return isinstance(accessory, dict) and accessory.get("action_id") == CLOSE_ACTION


def _handles(n: int) -> str:
    return f"{n} open handle{'s' if n != 1 else ''}"


def _lower_total(text: str, *, file_emptied: bool) -> str:
    m = _TOTAL.match(text)
    if m is None:
        return text
    handles, files = max(0, int(m.group(1)) - 1), int(m.group(2)) - (1 if file_emptied else 0)
    files = max(0, files)
    return f"{_handles(handles)} on {files} file{'s' if files != 1 else ''}" + text[m.end() :]


def settle_row(
    blocks: list[Block], block_id: str, new: Block, *, text: str
) -> tuple[list[Block], str] | None:
    """``(blocks, text)`` with ``block_id`` replaced by ``new`` and the counts updated; None if it is not there."""
    index = next(
        (i for i, b in enumerate(blocks) if isinstance(b, dict) and b.get("block_id") == block_id), None
    )
    if index is None:
        return None
    out = [dict(b) if isinstance(b, dict) else b for b in blocks]
    counted = _counts_row(out[index])
    out[index] = new
    if not counted:
        return out, text
    file_emptied = False
    file_index = next(
        (
            i
            for i in range(index - 1, -1, -1)
            if isinstance(out[i], dict) and str(out[i].get("block_id", "")).startswith(_FILE_PREFIX)
        ),
        None,
    )
    if file_index is not None:
        heading = dict(out[file_index].get("text") or {})
        m = _FILE_COUNT.search(str(heading.get("text", "")))
        if m is not None:
            left = max(0, int(m.group(2)) - 1)
            file_emptied = left == 0
            heading["text"] = heading["text"][: m.start()] + f"{m.group(1)}{_handles(left)}{m.group(3) or ''}"
            out[file_index] = {**out[file_index], "text": heading}
    for i, block in enumerate(out):
        if (
            isinstance(block, dict)
            and block.get("block_id") == HEADER_BLOCK
            and isinstance(block.get("text"), dict)
        ):
            header = dict(block["text"])
            header["text"] = _lower_total(str(header.get("text", "")), file_emptied=file_emptied)
            out[i] = {**block, "text": header}
    return out, _lower_total(text, file_emptied=file_emptied)


__all__ = ["changed_block", "gone_block", "settle_row"]
