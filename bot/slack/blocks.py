"""Pure Block Kit renderers: domain records in, ``Message`` (fallback text + block dicts) out.

No I/O, no clock (``now`` is passed in), no config. Every cluster- or user-supplied string is either ``plain_text``
(paths: rendered literally, ``emoji`` off) or escaped with ``bot.slack.text.escape`` inside ``verbatim`` mrkdwn.
A message never has more than 50 blocks: results are paged at most ``ROWS_PER_PAGE`` handles at a time, which with one
file section per row in the worst case plus header, byline, notes, footer and pager stays at 45. Pages are also cut
by size (``bot.slack.pages``), so no page carries more text than Slack accepts in one message.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bot.locks.models import FileGroup, HandleRef, LockRow, SearchResult
from bot.locks.query import last_name
from bot.locks.shares import ShareLocation
from bot.locks.timefmt import format_duration
from bot.slack.pages import TEXT_BUDGET, length, page_of, plan, shrink, text_size
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
PAGER_LABELS = ("◀ Prev", "Next ▶")
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
        "exact lookup"
        if result.exact
        else f"{result.scanned_handles:,} handle{'s' if result.scanned_handles != 1 else ''} scanned",
    ]
    total = result.total_handles
    if total and (first > 1 or last < total):
        parts.append(f"showing {first}–{last} of {total}")
    return {"type": "context", "block_id": FOOTER_BLOCK, "elements": [mrkdwn(" · ".join(parts))]}


def _pager(query: str, page: range, pages: list[range], *, total: int, searcher: str | None) -> Block | None:
    """◀ Prev / Next ▶ (each carrying the whole query and the first row of its page), or, when the query cannot fit
    in a button, a note saying the search cannot be paged: never a button that would run another search.

    ``pages`` runs at least through ``page`` (``_layout``): Next needs only where ``page`` stops.
    """
    index = pages.index(page)
    targets = [
        (PAGE_PREV_ACTION, PAGER_LABELS[0], pages[index - 1].start if index > 0 else None),
        (PAGE_NEXT_ACTION, PAGER_LABELS[1], page.stop if page.stop < total else None),
    ]
    buttons: list[dict[str, Any]] = []
    for action_id, label, offset in targets:
        if offset is None:
            continue
        value = encode_page(query, offset, searcher=searcher)
        if value is None:
            return _unpageable(page, total=total, length=len(query))
        buttons.append(
            {
                "type": "button",
                "action_id": action_id,
                "text": {"type": "plain_text", "text": label},
                "value": value,
            }
        )
    return {"type": "actions", "block_id": PAGER_BLOCK, "elements": buttons} if buttons else None


def _unpageable(page: range, *, total: int, length: int) -> Block:
    text = (
        f"⚠️ This search ({length:,} characters) is too long to page through from Slack: these are handles "
        f"{page.start + 1}–{page.stop} of {total:,}. Search for a shorter part of the path to see the others."
    )
    return {"type": "context", "block_id": PAGER_BLOCK, "elements": [mrkdwn(text)]}


def _layout(result: SearchResult, row: Callable[[int], Block], *, fixed: int, through: int) -> list[range]:
    """The result's pages up to the one holding row ``through``: at most ``ROWS_PER_PAGE`` rows, and no more text
    than Slack takes (``bot.slack.pages``)."""
    groups = [i for i, group in enumerate(result.files) for _ in group.rows]
    headings: dict[tuple[int, bool], int] = {}

    def heading_cost(i: int, continued: bool) -> int:
        if (i, continued) not in headings:
            block = file_block(i, result.files[i], continued=continued, cluster=result.cluster)
            headings[i, continued] = text_size(block)
        return headings[i, continued]

    return plan(
        groups,
        row_cost=lambda n: text_size(row(n)),
        heading_cost=heading_cost,
        fixed=fixed,
        max_rows=ROWS_PER_PAGE,
        through=through,
    )


def search_message(result: SearchResult, *, searcher: str | None, offset: int, now: float) -> Message:
    """The in-channel answer to a search: header, byline, one page of files and handle rows, footer, pager.

    Pages hold at most ``ROWS_PER_PAGE`` rows and fit Slack's limit on a message's text; ``offset`` is any row of
    the page to show (Prev/Next carry the first one).
    """
    total = result.total_handles
    query = result.query.text
    s = "s" if total != 1 else ""
    if total == 0:
        return _empty_message(result, searcher=searcher, now=now)
    text = f"{total} open handle{s} on {len(result.files)} file{'s' if len(result.files) != 1 else ''} for {query}"
    top: list[Block] = [
        {"type": "header", "block_id": HEADER_BLOCK, "text": plain(text, 150)},
        _byline(result, searcher),
        *_notes(result),
    ]
    listed = [(i, group, row) for i, group in enumerate(result.files) for row in group.rows]
    rendered: dict[int, Block] = {}

    def row(n: int) -> Block:  # rendered once, when the layout or the page needs it
        if n not in rendered:
            rendered[n] = row_block(n, listed[n][2], searcher=searcher, cluster=result.cluster)
        return rendered[n]

    widest_pager = max(  # what the pager can cost on any page: both buttons, or the note in their place
        sum(map(length, PAGER_LABELS)),
        text_size(_unpageable(range(total - 1, total), total=total, length=len(query))),
    )
    fixed = text_size(top) + text_size(_footer(result, now=now, first=total, last=total)) + widest_pager
    pages = _layout(result, row, fixed=fixed, through=max(0, offset))
    page = pages[page_of(pages, offset)]
    blocks = list(top)
    for n in page:
        file_index, group, _ = listed[n]
        if n == page.start or listed[n - 1][0] != file_index:
            continued = n == page.start and n > 0 and listed[n - 1][0] == file_index
            blocks.append(file_block(file_index, group, continued=continued, cluster=result.cluster))
        blocks.append(row(n))
    blocks.append(_footer(result, now=now, first=page.start + 1, last=page.stop))
    pager = _pager(query, page, pages, total=total, searcher=searcher)
    if pager is not None:
        blocks.append(pager)
    if text_size(blocks) > TEXT_BUDGET:  # one row too big on its own: the last resort clips its display texts
        shrink(blocks)
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
        where = f"{code(query, 1000)}"
        if result.resolved_path and result.resolved_path != query:
            where += f" ({code(result.resolved_path, 1000)})"
        name = last_name(result.query.value)
        body = (
            f"{where} does not exist on *{escape_clip(result.cluster, 100)}*. Paths are case-sensitive: check the "
            f"spelling, or search for part of the name: {code('/qlocks search ' + name, 300)}"
        )
    else:
        body = (
            f"No open handles match {code(query, 2000)}.\n"
            "Try a shorter fragment of the path or file name, or `user:&lt;login&gt;`, `ip:&lt;address&gt;`, `host:&lt;name&gt;`."
        )
    text = f"No such file or folder: {query}" if result.no_such_file else f"No open handles for {query}"
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
