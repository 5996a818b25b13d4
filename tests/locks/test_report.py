"""Plain renderings: JSON shape, the text table, hints, durations, terminal-safe strings."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.locks.models import FileGroup, HandleRef, LockRow, Query, QueryKind, SearchResult
from bot.locks.query import parse_query
from bot.locks.report import format_text, no_match_hint, printable, result_to_dict
from bot.locks.timefmt import format_duration


def _row(holder: str, loc: str, *, ip: str | None = "10.0.0.5", note: str | None = None) -> LockRow:
    return LockRow(
        ref=HandleRef(loc, "100", "1001", "/finance/2026/a.xlsx"),
        holder=holder,
        client_ip=ip,
        client_host="DANA-PC" if ip else None,
        access=("read", "write"),
        share_mode=("read", "exclude-write"),
        node="10.20.0.11",
        session_open_s=7200.0,
        session_idle_s=65.0,
        note=note,
    )


def _result(files: tuple[FileGroup, ...] = (), **kw: object) -> SearchResult:
    return SearchResult(
        query=kw.pop("query", parse_query("a.xlsx")),  # type: ignore[arg-type]
        files=files,
        cluster="qumulo-lab",
        as_of=1_780_000_000.0,
        scanned_handles=300,
        **kw,  # type: ignore[arg-type]
    )


GROUP = FileGroup(
    "100",
    "/finance/2026/a.xlsx",
    "Finance",
    "/2026/a.xlsx",
    (_row("dana", "1.1.1"), _row("eve", "1.1.2", ip=None, note="eve has sessions from 2 clients")),
)


def test_json_has_the_same_data_as_the_table() -> None:
    result = _result((GROUP,), notes=("client host names are not shown",))
    data = json.loads(json.dumps(result_to_dict(result)))
    assert data["total_handles"] == 2 and data["total_files"] == 1 and data["cluster"] == "qumulo-lab"
    assert data["query"] == {
        "kind": "fragment",
        "value": "a.xlsx",
        "text": "a.xlsx",
        "share": None,
        "share_path": None,
    }
    f = data["files"][0]
    assert (f["path"], f["share"], f["share_path"]) == ("/finance/2026/a.xlsx", "Finance", "/2026/a.xlsx")
    assert [h["holder"] for h in f["handles"]] == ["dana", "eve"]
    assert f["handles"][0]["location"] == "1.1.1" and f["handles"][0]["writes"] is True
    text = format_text(result)
    for needle in (
        "/finance/2026/a.xlsx",
        "\\\\qumulo-lab\\Finance\\2026\\a.xlsx",
        "dana",
        "DANA-PC (10.0.0.5)",
        "read,write",
        "exclude-write",
        "2h00m",
        "1m05s",
        "1.1.1",
        "eve has sessions from 2 clients",
        "note: client host names are not shown",
        "2 handle(s) on 1 file(s)",
        "300 handles scanned",
    ):
        assert needle in text
    assert text.index("dana") < text.index("eve")


def test_omitted_matches_are_announced() -> None:
    text = format_text(_result((GROUP,), omitted_handles=40))
    assert "40 more matches not shown" in text


@pytest.mark.parametrize(
    ("query", "kw", "needle"),
    [
        ("budget.xlsx", {}, "Try a shorter part"),
        ("/finance/x.xlsx", {"no_such_file": True, "exact": True}, "/finance/x.xlsx does not exist"),
        (
            "\\\\c\\Finance\\x.xlsx",
            {"no_such_file": True, "resolved_path": "/finance/x.xlsx"},
            "(/finance/x.xlsx)",
        ),
        ("/finance/x.xlsx", {"exact": True}, "Nobody has /finance/x.xlsx open"),
        ("ip:10.0.0.1", {}, 'client "10.0.0.1"'),
        ("user:dana", {}, 'user "dana"'),
    ],
)
def test_no_match_hints(query: str, kw: dict[str, object], needle: str) -> None:
    result = _result((), query=parse_query(query), **kw)
    assert needle in no_match_hint(result)
    assert needle in format_text(result)
    assert result_to_dict(result)["files"] == []


def test_durations() -> None:
    """One format for the terminal table and Slack (rows' open/idle time, the footer's data age)."""
    assert format_duration(float("nan")) == format_duration(float("inf")) == "?"
    assert [format_duration(s) for s in (300, 2 * 3600 + 5 * 60, 3 * 86400 + 4 * 3600)] == [
        "5m00s",
        "2h05m",
        "3d04h",
    ]
    assert [format_duration(s) for s in (None, -3, 0, 59.9, 60, 3599, 3600, 86399, 86400 * 3 + 7200)] == [
        "?",
        "0s",
        "0s",
        "59s",
        "1m00s",
        "59m59s",
        "1h00m",
        "23h59m",
        "3d02h",
    ]


def test_terminal_escapes_are_neutralised() -> None:
    evil = FileGroup("1", "/x/\x1b[2Jpwn\u202etxt.exe", None, None, (_row("ev\x07il", "1.1.9"),))
    text = format_text(_result((evil,), query=Query(QueryKind.FRAGMENT, "pwn", "pwn")))
    assert "\x1b" not in text and "\x07" not in text and "\u202e" not in text
    assert "\\x1b[2Jpwn\\u202etxt.exe" in text


@given(st.text(max_size=50))
def test_printable_output_has_no_control_characters(text: str) -> None:
    out = printable(text)
    assert all(ord(c) >= 0x20 and not 0x7F <= ord(c) <= 0x9F for c in out)
