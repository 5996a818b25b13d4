"""Pure Block Kit renderers: domain records in, ``Message`` (fallback text + block dicts) out.

No I/O, no clock (``now`` is passed in), no config. Every cluster- or user-supplied string is either ``plain_text``
(paths: rendered literally, ``emoji`` off) or escaped with ``bot.slack.text.escape`` inside ``verbatim`` mrkdwn.
A message never has more than 50 blocks: results are paged ``ROWS_PER_PAGE`` handles at a time, which with one file
section per row in the worst case plus header, byline, notes, footer and pager stays at 45.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.locks.models import FileGroup, HandleRef, LockRow, SearchResult
from bot.locks.shares import ShareLocation
from bot.locks.timefmt import format_duration
from bot.slack.refs import encode_page, encode_ref
from bot.slack.text import clip, clock_time, code, escape_clip, mention

Block = dict[str, Any]

CLOSE_ACTION = "close_handle"
PAGE_PREV_ACTION = "page_prev"
PAGE_NEXT_ACTION = "page_next"
HEADER_BLOCK = "qlocks-header"
BYLINE_BLOCK = "qlocks-byline"
FOOTER_BLOCK = "qlocks-footer"
NOTES_BLOCK = "qlocks-notes"
PAGER_BLOCK = "qlocks-pager"
FILE_BLOCK = "file-{n}"
ROW_BLOCK = "row-{n}"
ROWS_PER_PAGE = 20
MAX_BLOCKS = 50
MAX_RESULTS = 500  # more handles than this: "query too broad", not 25+ pages of buttons


@dataclass(frozen=True, slots=True)
class Message:
    text: str  # notification / fallback text
    blocks: list[Block] = field(default_factory=list)


def plain(text: str, limit: int) -> dict[str, Any]:
    """plain_text of one user- or cluster-supplied line: escaped like every Slack text field, clipped to ``limit``."""
    return plain_escaped(escape_clip(text, limit))


def plain_escaped(text: str) -> dict[str, Any]:
    """plain_text whose variable parts the caller has already escaped (multi-line texts, escaped per line)."""
    return {"type": "plain_text", "text": text or " ", "emoji": False}


def mrkdwn(text: str) -> dict[str, Any]:
    """mrkdwn whose variable parts the caller has already escaped."""
    return {"type": "mrkdwn", "text": text, "verbatim": True}


def section(text: str, *, block_id: str | None = None) -> Block:
    block: Block = {"type": "section", "text": mrkdwn(text)}
    if block_id:
        block["block_id"] = block_id
    return block


def client_label(row: LockRow) -> str:
    """The holder's client as plain words (for confirm dialogs, audit): ``10.1.2.3 (laptop-42)``."""
    if row.client_ip and row.client_host:
        return f"{row.client_ip} ({row.client_host})"
    return row.client_ip or row.client_host or "unknown client"


def _client_mrkdwn(row: LockRow) -> str:
    if not row.client_ip and not row.client_host:
        return "_unknown client_"
    parts = []
    if row.client_ip:
        parts.append(f"{code(row.client_ip, 80)}")
    if row.client_host:
        parts.append(
            f"({escape_clip(row.client_host, 160)})" if row.client_ip else escape_clip(row.client_host, 160)
        )
    return " ".join(parts)


def row_text(row: LockRow) -> str:
    """The mrkdwn of one handle row (holder, client, access/share mode, node, open and idle time, join note)."""
    access = escape_clip(", ".join(row.access) or "no data access", 200)
    lines = [
        f"{'✏️ ' if row.writes else ''}*{escape_clip(row.holder or row.ref.owner or '?', 160)}* on {_client_mrkdwn(row)}",
        " · ".join(
            [
                access,
                f"share mode {escape_clip(', '.join(row.share_mode) or 'unknown', 200)}",
                f"node {escape_clip(row.node or '?', 80)}",
                f"open {format_duration(row.session_open_s)}",
                f"idle {format_duration(row.session_idle_s)}",
            ]
        ),
    ]
    if row.note:
        lines.append(f"⚠️ _{escape_clip(row.note, 400)}_")
    if row.possibly:
        lines.append("❔ _possibly this client's: the cluster does not say which client holds this handle_")
    return "\n".join(lines)


def confirm_close(row: LockRow) -> dict[str, Any]:
    """The danger-style confirm dialog naming the file and the holder (plain_text, ≤ 300 chars)."""
    warning = "Unsaved changes on that client may be lost; the application there has to reopen the file."
    holder = escape_clip(row.holder or row.ref.owner or "?", 60)
    who = f"Close {holder}'s handle on {escape_clip(client_label(row), 60)}:"
    path = escape_clip(row.ref.path or "(unknown path)", 300 - len(who) - len(warning) - 4)
    return {
        "title": {"type": "plain_text", "text": "Close this SMB handle?", "emoji": False},
        "text": plain_escaped(f"{who}\n{path}\n\n{warning}"),
        "confirm": {"type": "plain_text", "text": "Close handle", "emoji": False},
        "deny": {"type": "plain_text", "text": "Cancel", "emoji": False},
        "style": "danger",
    }


def row_block(n: int, row: LockRow, *, searcher: str | None, cluster: str) -> Block:
    """One handle: a section with a danger **Close handle** button (when its reference fits in a button)."""
    value = encode_ref(row.ref, searcher=searcher, cluster=cluster)
    if value is None:
        text = row_text(row) + "\n_path too long to close from Slack: use `qq smb_close_file_handle`_"
        return section(text, block_id=ROW_BLOCK.format(n=n))
    block = section(row_text(row), block_id=ROW_BLOCK.format(n=n))
    block["accessory"] = {
        "type": "button",
        "action_id": CLOSE_ACTION,
        "style": "danger",
        "text": {"type": "plain_text", "text": "Close handle", "emoji": False},
        "value": value,
        "confirm": confirm_close(row),
    }
    return block


def file_block(n: int, group: FileGroup, *, continued: bool, cluster: str) -> Block:
    """The file heading: FS path and the UNC path users know, as plain_text (never interpreted), handle count."""
    count = len(group.rows)
    lines = [
        f"📁 Folder {escape_clip(group.path, 1300)}"
        if group.folder
        else f"📄 {escape_clip(group.path, 1300)}"
    ]
    if group.share is not None:
        unc = ShareLocation(clip(group.share, 80), group.share_path or "/").unc(clip(cluster, 100))
        lines.append(f"Share: {escape_clip(unc, 1400)}")
    lines.append(f"{count} open handle{'s' if count != 1 else ''}{' (continued)' if continued else ''}")
    return {"type": "section", "block_id": FILE_BLOCK.format(n=n), "text": plain_escaped("\n".join(lines))}


def _footer(result: SearchResult, *, now: float, first: int, last: int) -> Block:
    age = format_duration(max(0.0, now - result.as_of))
    parts = [
        f"Cluster *{escape_clip(result.cluster, 100)}*",
        f"data from {clock_time(result.as_of, seconds=True)} ({age} old)",
        f"{result.scanned_handles:,} handle{'s' if result.scanned_handles != 1 else ''} scanned",
    ]
    total = result.total_handles
    if total > ROWS_PER_PAGE:
        parts.append(f"showing {first}–{last} of {total}")
    return {"type": "context", "block_id": FOOTER_BLOCK, "elements": [mrkdwn(" · ".join(parts))]}


def _pager(query: str, offset: int, total: int, *, searcher: str | None) -> Block | None:
    buttons: list[dict[str, Any]] = []
    if offset > 0:
        buttons.append(
            {
                "type": "button",
                "action_id": PAGE_PREV_ACTION,
                "text": {"type": "plain_text", "text": "◀ Prev"},
                "value": encode_page(query, max(0, offset - ROWS_PER_PAGE), searcher=searcher),
            }
        )
    if offset + ROWS_PER_PAGE < total:
        buttons.append(
            {
                "type": "button",
                "action_id": PAGE_NEXT_ACTION,
                "text": {"type": "plain_text", "text": "Next ▶"},
                "value": encode_page(query, offset + ROWS_PER_PAGE, searcher=searcher),
            }
        )
    return {"type": "actions", "block_id": PAGER_BLOCK, "elements": buttons} if buttons else None


def clamp_offset(offset: int, total: int) -> int:
    """A page start that exists: a multiple of ``ROWS_PER_PAGE`` within ``0..total-1``."""
    if total <= 0:
        return 0
    offset = max(0, min(offset, total - 1))
    return offset - offset % ROWS_PER_PAGE


def search_message(result: SearchResult, *, searcher: str | None, offset: int, now: float) -> Message:
    """The in-channel answer to a search: header, byline, one page of files and handle rows, footer, pager."""
    total = result.total_handles
    query = result.query.text
    s = "s" if total != 1 else ""
    if total == 0:
        return _empty_message(result, searcher=searcher, now=now)
    offset = clamp_offset(offset, total)
    text = f"{total} open handle{s} on {len(result.files)} file{'s' if len(result.files) != 1 else ''} for {query}"
    blocks: list[Block] = [
        {"type": "header", "block_id": HEADER_BLOCK, "text": plain(text, 150)},
        _byline(result, searcher),
        *_notes(result),
    ]
    n = 0
    end = offset + ROWS_PER_PAGE
    for file_index, group in enumerate(result.files):
        if n + len(group.rows) <= offset:
            n += len(group.rows)
            continue
        if n >= end:
            break
        blocks.append(file_block(file_index, group, continued=n < offset, cluster=result.cluster))
        for row in group.rows:
            if offset <= n < end:
                blocks.append(row_block(n, row, searcher=searcher, cluster=result.cluster))
            n += 1
    blocks.append(_footer(result, now=now, first=offset + 1, last=min(end, total)))
    pager = _pager(query, offset, total, searcher=searcher)
    if pager is not None:
        blocks.append(pager)
    return Message(text=escape_clip(text, 3000), blocks=blocks)


def _byline(result: SearchResult, searcher: str | None) -> Block:
    line = f"Search by {mention(searcher)}: {code(result.query.text, 400)}"
    if result.resolved_path and result.resolved_path != result.query.text:
        line += f" → {code(result.resolved_path, 1000)}"
    return {"type": "context", "block_id": BYLINE_BLOCK, "elements": [mrkdwn(line)]}


def _notes(result: SearchResult) -> list[Block]:
    """Degradations the search reported (unreadable sessions, rows left out), once, as one context block."""
    notes = list(result.notes)
    if result.omitted_handles:
        notes.append(f"{result.omitted_handles:,} more matching handles were left out; narrow the search")
    if not notes:
        return []
    text = "\n".join(f"⚠️ {escape_clip(note, 2900 // len(notes) - 4)}" for note in notes[:10])
    return [{"type": "context", "block_id": NOTES_BLOCK, "elements": [mrkdwn(text[:3000])]}]


def _empty_message(result: SearchResult, *, searcher: str | None, now: float) -> Message:
    query = result.query.text
    if result.no_such_file:
        body = f"No such file on *{escape_clip(result.cluster, 100)}*: {code(query, 2000)}"
    else:
        body = (
            f"No open handles match {code(query, 2000)}.\n"
            "Try a shorter fragment of the path or file name, or `user:&lt;login&gt;`, `ip:&lt;address&gt;`, `host:&lt;name&gt;`."
        )
    text = f"No such file: {query}" if result.no_such_file else f"No open handles for {query}"
    return Message(
        text=escape_clip(text, 3000),
        blocks=[
            {"type": "header", "block_id": HEADER_BLOCK, "text": plain(text, 150)},
            _byline(result, searcher),
            *_notes(result),
            section(body),
            _footer(result, now=now, first=0, last=0),
        ],
    )


def closed_block(block_id: str, *, closer: str, at: float, ref: HandleRef, row: LockRow | None) -> Block:
    """What a row becomes once its handle is closed: "Closed by <@U…> at HH:MM" and whose handle it was."""
    who = (
        f"*{escape_clip(row.holder, 160)}* on {_client_mrkdwn(row)}"
        if row
        else f"owner {code(ref.owner, 80)}"
    )
    text = f"✅ Closed by {mention(closer)} at {clock_time(at)}: was held by {who}"
    return section(text, block_id=block_id)


def replace_block(blocks: list[Block], block_id: str, new: Block) -> list[Block] | None:
    """``blocks`` with the block ``block_id`` swapped for ``new`` (others untouched); None if it is not there."""
    out: list[Block] = []
    found = False
    for block in blocks:
        if isinstance(block, dict) and block.get("block_id") == block_id and not found:
            out.append(new)
            found = True
        else:
            out.append(block)
    return out if found else None
