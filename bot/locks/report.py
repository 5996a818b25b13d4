"""Plain renderings of a ``SearchResult`` for ``qlocks search``: a JSON-ready dict and a terminal table.

``result_to_dict`` is the one data shape (``--json``); ``format_text`` prints the same data grouped by file, with
``no_match_hint`` for an empty answer. Cluster strings are passed through ``printable`` before reaching a terminal
so a crafted file name cannot inject escape sequences.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from typing import Any

from bot.locks.models import FileGroup, LockRow, QueryKind, SearchResult
from bot.locks.query import example_list, last_name, quoted
from bot.locks.shares import ShareLocation
from bot.locks.timefmt import format_duration

logger = logging.getLogger(__name__)

_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def printable(text: str) -> str:
    """Replace control and bidi-override characters with ``\\xNN`` / ``\\uNNNN`` escapes."""

    def esc(m: re.Match[str]) -> str:
        c = ord(m.group())
        return f"\\x{c:02x}" if c < 0x100 else f"\\u{c:04x}"

    return _UNPRINTABLE.sub(esc, text)


def no_match_hint(result: SearchResult) -> str:
    """One or two sentences for an empty answer: what was searched, and what to try."""
    q = result.query
    if result.no_such_file:
        where = (
            f" ({result.resolved_path})" if result.resolved_path and result.resolved_path != q.value else ""
        )
        name = last_name(q.value)
        return (
            f"{q.value}{where} does not exist on {result.cluster}. Paths are case-sensitive: check the spelling, "
            f"or search for part of the name, e.g. {quoted(name)}."
        )
    scanned = f" among {result.scanned_handles:,} open handles" if result.scanned_handles else ""
    if q.kind is QueryKind.PATH:
        return f"Nobody has {result.resolved_path or q.value} open on {result.cluster}{scanned}; it is not locked by SMB."
    if q.kind is QueryKind.FRAGMENT:
        return (
            f"No open handle on {result.cluster} has {quoted(q.value)} in its path{scanned}. Try a shorter part of "
            f"the name, the full path, or one of {example_list()}."
        )
    what = {QueryKind.IP: "client", QueryKind.HOST: "client", QueryKind.USER: "user"}[q.kind]
    return (
        f"No open handles for {what} {quoted(q.value)} on {result.cluster}{scanned}. Check the spelling, "
        'or search by path instead (e.g. "budget.xlsx").'
    )


def row_to_dict(row: LockRow) -> dict[str, Any]:
    return {
        "location": row.ref.location,
        "file_number": row.ref.file_number,
        "owner_auth_id": row.ref.owner,
        "holder": row.holder,
        "client_ip": row.client_ip,
        "client_host": row.client_host,
        "access": list(row.access),
        "writes": row.writes,
        "share_mode": list(row.share_mode),
        "node": row.node,
        "session_open_s": row.session_open_s,
        "session_idle_s": row.session_idle_s,
        "note": row.note,
        "client_evidence": row.evidence,
        "possibly": row.possibly,
    }


def group_to_dict(group: FileGroup) -> dict[str, Any]:
    return {
        "file_number": group.file_number,
        "path": group.path,
        "share": group.share,
        "share_path": group.share_path,
        "folder": group.folder,
        "handles": [row_to_dict(r) for r in group.rows],
    }


def result_to_dict(result: SearchResult) -> dict[str, Any]:
    q = result.query
    return {
        "cluster": result.cluster,
        "query": {
            "kind": q.kind.value,
            "value": q.value,
            "text": q.text,
            "share": q.share,
            "share_path": q.share_path,
        },
        "as_of": dt.datetime.fromtimestamp(result.as_of, tz=dt.UTC).isoformat(),
        "exact": result.exact,
        "no_such_file": result.no_such_file,
        "resolved_path": result.resolved_path,
        "scanned_handles": result.scanned_handles,
        "total_handles": result.total_handles,
        "omitted_handles": result.omitted_handles,
        "folder_handles": result.folder_handles,
        "omitted_folder_handles": result.omitted_folder_handles,
        "total_files": len(result.files),
        "notes": list(result.notes),
        "files": [group_to_dict(g) for g in result.files],
    }


_COLUMNS = ("HOLDER", "CLIENT", "ACCESS", "SHARE MODE", "NODE", "OPEN", "IDLE", "LOCATION")


def _cells(row: LockRow) -> tuple[str, ...]:
    client = row.client_ip or "?"
    if row.client_host:
        client = f"{row.client_host} ({client})"
    return (
        row.holder,
        client,
        ",".join(row.access) or "-",
        ",".join(row.share_mode) or "-",
        row.node or "?",
        format_duration(row.session_open_s),
        format_duration(row.session_idle_s),
        row.ref.location,
    )


def format_text(result: SearchResult) -> str:
    """A readable report: a header, then per file its paths and an aligned table of handles, culprit first."""
    lines: list[str] = []
    when = dt.datetime.fromtimestamp(result.as_of, tz=dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    how = "exact lookup" if result.exact else f"{result.scanned_handles:,} handles scanned"
    lines.append(printable(f"Search: {result.query.text}  (cluster {result.cluster}, {when}, {how})"))
    for note in result.notes:
        lines.append(printable(f"note: {note}"))
    if not result.files:
        lines.append(printable(no_match_hint(result)))
        return "\n".join(lines) + "\n"
    for group in result.files:
        lines.append("")
        title = group.path
        if group.share is not None:
            title += "    " + ShareLocation(group.share, group.share_path or "/").unc(result.cluster)
        kind = "folder" if group.folder else "file"
        lines.append(printable(f"{title}    [{kind} {group.file_number}, {len(group.rows)} handle(s)]"))
        table = [_COLUMNS, *(tuple(printable(c) for c in _cells(r)) for r in group.rows)]
        widths = [max(len(row[i]) for row in table) for i in range(len(_COLUMNS))]
        for i, cells in enumerate(table):
            row = group.rows[i - 1] if i else None
            if row is not None and row.possibly and (i == 1 or not group.rows[i - 2].possibly):
                lines.append("  possibly (the cluster does not say these handles are this client's):")
            lines.append("  " + "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip())
            if row is not None and row.note:
                lines.append(printable(f"    ^ {row.note}"))
    files = len([g for g in result.files if not g.folder])
    folders = len(result.files) - files
    total = f"{result.total_handles - result.folder_handles} handle(s) on {files} file(s)"
    if folders:
        total += f", {result.folder_handles} on {folders} folder(s)"
    if result.omitted_handles:
        total += f"; {result.omitted_handles} more matches not shown: narrow the search"
    if result.omitted_folder_handles:
        total += f"; {result.omitted_folder_handles} more folder handles not shown"
    lines.extend(("", total))
    return "\n".join(lines) + "\n"


__all__ = [
    "format_text",
    "no_match_hint",
    "printable",
    "result_to_dict",
    "row_to_dict",
]
