from __future__ import annotations

import dataclasses
import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.locks.models import HandleRef
from bot.slack.blocks import (
    CLOSE_ACTION,
    MAX_BLOCKS,
    PAGE_NEXT_ACTION,
    PAGE_PREV_ACTION,
    ROWS_PER_PAGE,
    closed_block,
    replace_block,
    search_message,
)
from bot.slack.refs import decode_page, decode_ref
from bot.slack.text import escape
from tests.slack.blockcheck import assert_valid_blocks, text_objects
from tests.slack.factories import NOW, make_result, make_row, many_rows

SEARCHER = "U0SEARCH1"


def buttons(blocks: list[dict[str, Any]], action_id: str) -> list[dict[str, Any]]:
    found = []
    for b in blocks:
        for el in [b.get("accessory"), *(b.get("elements") or [])]:
            if isinstance(el, dict) and el.get("action_id") == action_id:
                found.append(el)
    return found


def all_text(blocks: list[dict[str, Any]]) -> str:
    return "\n".join(t["text"] for t in text_objects(blocks))


def test_search_message_structure() -> None:
    msg = search_message(make_result(), searcher=SEARCHER, offset=0, now=NOW)
    blocks = assert_valid_blocks(msg.blocks)
    assert (
        blocks[0]["type"] == "header" and "1 open handle on 1 file for forecast" in blocks[0]["text"]["text"]
    )
    assert f"<@{SEARCHER}>" in blocks[1]["elements"][0]["text"]
    file_block, row_block = blocks[2], blocks[3]
    assert file_block["text"]["type"] == "plain_text"
    assert "/projects/q3/forecast.xlsx" in file_block["text"]["text"]
    # the UNC path a user would paste: \\cluster\Share\rest (regression: the cluster name was missing)
    assert "Share: \\\\qumulo-prod\\Finance\\projects\\q3\\forecast.xlsx" in file_block["text"]["text"]
    row = row_block["text"]["text"]
    for part in (
        "*dana*",
        "`10.1.2.3`",
        "(laptop-42)",
        "read, write",
        "share mode read",
        "node 10.0.0.1",
        "idle 1h00m",
    ):
        assert part in row
    button = row_block["accessory"]
    assert button["action_id"] == CLOSE_ACTION and button["style"] == "danger"
    assert button["text"]["text"] == "Close handle"
    confirm = button["confirm"]
    assert confirm["style"] == "danger"
    assert "dana" in confirm["text"]["text"] and "/projects/q3/forecast.xlsx" in confirm["text"]["text"]
    assert "Unsaved changes" in confirm["text"]["text"]
    decoded = decode_ref(button["value"])
    assert decoded.ref == make_row().ref and decoded.searcher == SEARCHER and decoded.cluster == "qumulo-prod"
    footer = blocks[-1]["elements"][0]["text"]
    assert "Cluster *qumulo-prod*" in footer and "(12s old)" in footer and "40,000 handles scanned" in footer


def test_hostile_strings_render_literally() -> None:
    evil = "<!channel> <@U123ABCDE> <https://x.example|click> & <!subteam^S1>"
    row = make_row(f"/share/{evil}.xlsx", holder=evil, client_host=evil, note=evil)
    result = make_result([(f"/share/{evil}.xlsx", [row])], text=evil, cluster=evil)
    msg = search_message(result, searcher=SEARCHER, offset=0, now=NOW)
    assert_valid_blocks(msg.blocks)  # includes: no unescaped < > & in any mrkdwn
    mrkdwn = [t["text"] for t in text_objects(msg.blocks) if t["type"] == "mrkdwn"]
    assert any("&lt;!channel&gt;" in t for t in mrkdwn)
    assert not any("<!channel>" in t or "<@U123ABCDE>" in t for t in mrkdwn)
    plain = [t["text"] for t in text_objects(msg.blocks) if t["type"] == "plain_text"]
    shown = escape(f"/share/{evil}.xlsx")  # Slack decodes the entities: the reader sees the name as it is
    assert any(shown in t for t in plain)
    assert all(
        t.get("emoji") is False
        for t in text_objects(msg.blocks)
        if t["type"] == "plain_text" and escape(evil) in t["text"]
    )
    assert "<!channel>" not in msg.text and "&lt;!channel&gt;" in msg.text  # the notification text too


def test_paging_fits_50_blocks_and_covers_every_row_once() -> None:
    result = make_result(many_rows(n_files=57, per_file=1))
    seen: list[str] = []
    offset = 0
    pages = 0
    while True:
        msg = search_message(result, searcher=SEARCHER, offset=offset, now=NOW)
        assert len(msg.blocks) <= MAX_BLOCKS
        assert_valid_blocks(msg.blocks)
        seen += [decode_ref(b["value"]).ref.location for b in buttons(msg.blocks, CLOSE_ACTION)]
        pages += 1
        nxt = buttons(msg.blocks, PAGE_NEXT_ACTION)
        prev = buttons(msg.blocks, PAGE_PREV_ACTION)
        assert bool(prev) == (offset > 0)
        if prev:
            assert decode_page(prev[0]["value"]).offset == offset - ROWS_PER_PAGE
        if not nxt:
            break
        page = decode_page(nxt[0]["value"])
        assert page.query == "forecast" and page.searcher == SEARCHER
        assert "showing" in all_text(msg.blocks)
        offset = page.offset
    assert pages == 3
    assert seen == [f"loc-{f}-0" for f in range(57)]


def test_file_heading_repeats_on_the_next_page() -> None:
    result = make_result(many_rows(n_files=1, per_file=30))
    page2 = search_message(result, searcher=SEARCHER, offset=ROWS_PER_PAGE, now=NOW)
    assert "(continued)" in page2.blocks[2]["text"]["text"]
    assert len(buttons(page2.blocks, CLOSE_ACTION)) == 10


def test_offset_out_of_range_is_clamped() -> None:
    result = make_result(many_rows(n_files=3, per_file=10))
    msg = search_message(result, searcher=SEARCHER, offset=999, now=NOW)
    assert len(buttons(msg.blocks, CLOSE_ACTION)) == 10 and not buttons(msg.blocks, PAGE_NEXT_ACTION)


def test_empty_and_no_such_file() -> None:
    empty = search_message(make_result([]), searcher=SEARCHER, offset=0, now=NOW)
    assert_valid_blocks(empty.blocks)
    assert "No open handles match `forecast`" in all_text(empty.blocks)
    assert not buttons(empty.blocks, CLOSE_ACTION)
    missing = search_message(make_result([], no_such_file=True), searcher=SEARCHER, offset=0, now=NOW)
    assert (
        "does not exist" in all_text(missing.blocks) and all_text(missing.blocks).count("No such file") == 1
    )
    # the header and notification text must not claim the file exists but is not open
    assert (
        missing.text == "No such file or folder: forecast"
        and missing.blocks[0]["text"]["text"] == missing.text
    )


def test_notes_resolved_path_and_omitted_rows_are_shown() -> None:
    result = make_result(
        notes=("sessions not readable: <missing privilege>",), omitted_handles=7, resolved_path="/fs/a"
    )
    text = all_text(search_message(result, searcher=SEARCHER, offset=0, now=NOW).blocks)
    assert "sessions not readable: &lt;missing privilege&gt;" in text
    assert "7 more matching handles" in text
    assert "→ `/fs/a`" in text


def test_too_long_ref_renders_without_button() -> None:
    path = "/" + "".join(chr(0x4E00 + i % 20000) for i in range(4000))  # incompressible, far over 2,000
    msg = search_message(make_result([(path, [make_row(path)])]), searcher=SEARCHER, offset=0, now=NOW)
    assert_valid_blocks(msg.blocks)
    assert not buttons(msg.blocks, CLOSE_ACTION)
    assert "qq smb_close_file_handle" in all_text(msg.blocks)


def test_closed_block_and_replace_keep_other_rows() -> None:
    result = make_result(many_rows(n_files=2, per_file=2))
    msg = search_message(result, searcher=SEARCHER, offset=0, now=NOW)
    row = result.files[0].rows[1]
    new = closed_block("row-1", closer="U0ADMIN01", at=NOW, ref=row.ref, row=row)
    replaced = replace_block(msg.blocks, "row-1", new)
    assert replaced is not None
    assert_valid_blocks(replaced)
    assert [b.get("block_id") for b in replaced] == [b.get("block_id") for b in msg.blocks]
    changed = [i for i, (a, b) in enumerate(zip(msg.blocks, replaced, strict=True)) if a != b]
    assert len(changed) == 1
    assert replaced[changed[0]]["text"]["text"].startswith("✅ Closed by <@U0ADMIN01> at ")
    assert "accessory" not in replaced[changed[0]]
    assert replace_block(msg.blocks, "row-99", new) is None


def test_closed_block_without_row_uses_owner() -> None:
    block = closed_block("row-0", closer="U0ADMIN01", at=NOW, ref=HandleRef("l", "1", "<o>", "/p"), row=None)
    assert_valid_blocks([block])
    assert "owner `&lt;o&gt;`" in block["text"]["text"]


names = st.text(min_size=0, max_size=400) | st.sampled_from(
    ["<!channel>", "<@U123>", "&amp;", "a" * 5000, "`*_~"]
)


@settings(max_examples=60, deadline=None)
@given(
    path=st.text(min_size=1, max_size=6000).map(lambda s: "/" + s),
    holder=names,
    host=st.none() | names,
    ip=st.none() | names,
    note=st.none() | names,
    query=st.text(min_size=1, max_size=5000),
    cluster=names,
    access=st.lists(names, max_size=5).map(tuple),
)
def test_arbitrary_strings_always_render_valid_escaped_blocks(
    path: str,
    holder: str,
    host: str | None,
    ip: str | None,
    note: str | None,
    query: str,
    cluster: str,
    access: tuple[str, ...],
) -> None:
    row = make_row(path, holder=holder, client_host=host, client_ip=ip, note=note, access=access)
    result = make_result([(path, [row, row])], text=query, cluster=cluster, notes=(holder,))
    msg = search_message(result, searcher=SEARCHER, offset=0, now=NOW)
    assert_valid_blocks(msg.blocks)
    assert len(msg.text) <= 3000
    for b in buttons(msg.blocks, CLOSE_ACTION):
        assert decode_ref(b["value"]).ref == row.ref
    closed = closed_block("row-0", closer=SEARCHER, at=NOW, ref=row.ref, row=row)
    assert_valid_blocks([closed])
    json.dumps(msg.blocks)


def test_footer_counts_one_handle_in_the_singular() -> None:
    """Regression: an exact lookup's footer read "1 handles scanned"."""
    result = dataclasses.replace(make_result(), scanned_handles=1)
    footer = search_message(result, searcher=SEARCHER, offset=0, now=NOW).blocks[-1]["elements"][0]["text"]
    assert "· 1 handle scanned" in footer
