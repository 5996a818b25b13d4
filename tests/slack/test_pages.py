"""Pages by size: every page fits Slack's limits (50 blocks, ~12k characters of text) and Prev/Next list every row
exactly once, whatever the paths' lengths and characters."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.locks.models import LockRow, SearchResult
from bot.slack.blocks import (
    CLOSE_ACTION,
    PAGE_NEXT_ACTION,
    PAGE_PREV_ACTION,
    PAGER_BLOCK,
    ROWS_PER_PAGE,
    Message,
    closed_block,
    search_message,
)
from bot.slack.pages import TEXT_BUDGET, clip_escaped, length, page_of, plan, text_size
from bot.slack.refs import decode_page, decode_ref
from bot.slack.text import escape
from bot.slack.update import gone_block, settle_row
from tests.slack.blockcheck import MAX_BLOCKS_TEXT, assert_escaped_mrkdwn, assert_valid_blocks, blocks_text
from tests.slack.factories import NOW, make_result, make_row

SEARCHER = "U0SEARCH1"


def _button(blocks: list[dict[str, Any]], action_id: str) -> dict[str, Any] | None:
    for block in blocks:
        for el in [block.get("accessory"), *(block.get("elements") or [])]:
            if isinstance(el, dict) and el.get("action_id") == action_id:
                return el
    return None


def _locations(message: Message) -> list[str]:
    return [
        decode_ref(b["accessory"]["value"]).ref.location
        for b in message.blocks
        if isinstance(b.get("accessory"), dict) and b["accessory"].get("action_id") == CLOSE_ACTION
    ]


def _result(paths: list[str], *, per_file: int = 1, **kw: Any) -> SearchResult:
    groups = []
    for f, path in enumerate(paths):
        rows = [
            make_row(path, location=f"loc-{f}-{r}", file_number=str(1000 + f), holder=f"u{r}")
            for r in range(per_file)
        ]
        groups.append((path, rows))
    return make_result(groups, **kw)


def walk(result: SearchResult) -> list[Message]:
    """Every page, from the first through Next, checked against Slack's limits; then back through Prev."""
    pages: list[Message] = []
    offsets: list[int] = []
    offset = 0
    while True:
        message = search_message(result, searcher=SEARCHER, offset=offset, now=NOW)
        assert_valid_blocks(message.blocks)
        assert blocks_text(message.blocks) <= TEXT_BUDGET
        pages.append(message)
        offsets.append(offset)
        assert len(pages) <= result.total_handles, "paging does not end"
        nxt = _button(message.blocks, PAGE_NEXT_ACTION)
        if nxt is None:
            break
        page = decode_page(nxt["value"])
        assert page.query == result.query.text and page.searcher == SEARCHER
        offset = page.offset
    # Prev from every page leads to the page before it
    for i in range(len(pages) - 1, 0, -1):
        prev = _button(pages[i].blocks, PAGE_PREV_ACTION)
        assert prev is not None
        back = search_message(result, searcher=SEARCHER, offset=decode_page(prev["value"]).offset, now=NOW)
        assert back.blocks == pages[i - 1].blocks
    assert _button(pages[0].blocks, PAGE_PREV_ACTION) is None
    return pages


def assert_every_row_once(result: SearchResult, pages: list[Message]) -> None:
    listed = [location for page in pages for location in _locations(page)]
    assert listed == [row.ref.location for group in result.files for row in group.rows]


@pytest.mark.parametrize(("path_length", "most_per_page"), [(181, 13), (981, 5)])
def test_pages_with_long_paths_fit_and_list_every_row_once(path_length: int, most_per_page: int) -> None:
    """Regression: 20 rows of 181-character paths carried ~17-20k characters of text, of 981-character paths ~50k;
    Slack refuses such a message (msg_blocks_too_long)."""
    paths = [("/share/" + "d" * path_length)[: path_length - 14] + f"/file{f:04d}.docx" for f in range(57)]
    assert all(len(p) == path_length for p in paths)
    result = _result(paths)
    pages = walk(result)
    assert_every_row_once(result, pages)
    assert max(len(_locations(p)) for p in pages) <= most_per_page  # cut by size, not by ROWS_PER_PAGE
    assert len(pages) > 57 // ROWS_PER_PAGE + 1
    for page in pages[:-1]:  # and no page is needlessly short: the next row would not have fitted
        assert text_size(page.blocks) > TEXT_BUDGET - 3 * (path_length + 600)


def test_short_rows_still_page_by_twenty() -> None:
    result = _result([f"/s/f{f}.docx" for f in range(45)])
    pages = walk(result)
    assert [len(_locations(p)) for p in pages] == [20, 20, 5]
    assert "showing 21–40 of 45" in str(pages[1].blocks[-2])


def test_many_rows_of_one_file_repeat_the_heading_as_continued() -> None:
    result = _result(["/share/" + "x" * 400 + "/big.xlsx"], per_file=40)
    pages = walk(result)
    assert_every_row_once(result, pages)
    for i, page in enumerate(pages):
        heading = page.blocks[2]["text"]["text"]
        assert heading.endswith("(continued)") == (i > 0)


def test_an_offset_inside_a_page_shows_that_page_and_past_the_end_the_last() -> None:
    result = _result(["/share/" + "y" * 900 + f"/{f}.docx" for f in range(20)])
    pages = walk(result)
    second = pages[1]
    start = decode_page(_button(pages[0].blocks, PAGE_NEXT_ACTION)["value"]).offset  # type: ignore[index]
    assert search_message(result, searcher=SEARCHER, offset=start + 1, now=NOW).blocks == second.blocks
    assert search_message(result, searcher=SEARCHER, offset=10_000, now=NOW).blocks == pages[-1].blocks


paths = st.builds(
    lambda parts, name: "/" + "/".join(parts) + "/" + name,
    st.lists(
        st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=300)
        | st.text(alphabet='&<>\\"`*_~ 😀é', min_size=1, max_size=300),
        max_size=12,
    ),
    st.text(min_size=1, max_size=120),
)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(paths, st.integers(1, 4)), min_size=1, max_size=30))
def test_any_paths_page_within_limits_and_list_every_row_once(files: list[tuple[str, int]]) -> None:
    groups = [
        (
            path,
            [make_row(path, location=f"loc-{f}-{r}", file_number=str(f), holder=f"u{r}") for r in range(n)],
        )
        for f, (path, n) in enumerate(files)
    ]
    result = make_result(groups)
    pages = walk(result)
    assert_every_row_once(result, pages)


def _huge_row(n: int, path: str) -> LockRow:
    wide = "😀" * 500  # every field past its clip, in characters that count twice
    return make_row(
        path,
        location=f"loc-{n}",
        holder=wide,
        client_host=wide,
        client_ip="2001:db8::" + "1" * 4,
        access=(wide,) * 3,
        share_mode=(wide,) * 3,
        node=wide,
        note=wide,
    )


def test_a_row_too_big_on_its_own_is_clipped_in_display_only() -> None:
    """The last resort: every field at its clip, astral characters, a long query and notes: one row alone would be
    over the limit, so its display texts are clipped with an ellipsis; its button keeps the exact path."""
    path = "/" + "😀" * 1000 + "/" + "é" * 3000 + "/end.txt"
    rows = [_huge_row(n, path) for n in range(3)]
    result = make_result(
        [(path, rows)],
        text="😀" * 2000,
        notes=tuple("😀" * 400 for _ in range(8)),
        resolved_path="😀" * 2000,
        share="😀" * 100,
    )
    pages = walk(result)
    assert [len(_locations(p)) for p in pages] == [1, 1, 1]
    for page in pages:
        assert "…" in str(page.blocks)
        button = next(
            b["accessory"] for b in page.blocks if "accessory" in b and b["block_id"].startswith("row")
        )
        assert decode_ref(button["value"]).ref.path == path


def test_clicked_rows_replaced_keep_a_full_page_within_the_limit() -> None:
    """A page filled to the budget grows a little when a row becomes "already gone" (its path is shown again): the
    margin covers every row of a page replaced."""
    paths = [f"/s/{f}/" + "z" * 260 + ".docx" for f in range(40)]
    result = _result(paths)
    message = search_message(result, searcher=SEARCHER, offset=0, now=NOW)
    blocks, text = message.blocks, message.text
    for block_id in [b["block_id"] for b in message.blocks if str(b.get("block_id")).startswith("row-")]:
        n = int(block_id.split("-")[1])
        row = result.files[n].rows[0]
        if n % 2:
            new = gone_block(block_id, at=NOW, path=paths[n])
        else:
            new = closed_block(block_id, closer="U0ADMIN01", at=NOW, ref=row.ref, row=row)
        settled = settle_row(blocks, block_id, new, text=text)
        assert settled is not None
        blocks, text = settled
        assert blocks_text(blocks) <= MAX_BLOCKS_TEXT
    assert_valid_blocks(blocks)


def test_a_query_too_long_for_a_button_says_so_instead_of_paging() -> None:
    import random

    rng = random.Random(3)
    query = "".join(chr(rng.randrange(0x4E00, 0x9FFF)) for _ in range(2500))
    result = _result([f"/s/{query}/{f}.docx" for f in range(30)], text=query)
    message = search_message(result, searcher=SEARCHER, offset=0, now=NOW)
    assert_valid_blocks(message.blocks)
    assert _button(message.blocks, PAGE_NEXT_ACTION) is None
    note = message.blocks[-1]
    assert note["block_id"] == PAGER_BLOCK and note["type"] == "context"
    shown = sum(1 for b in message.blocks if str(b.get("block_id")).startswith("row-"))
    assert 0 < shown < 30
    assert (
        f"too long to page through from Slack: these are handles 1–{shown} of 30"
        in note["elements"][0]["text"]
    )


def test_plan_always_moves_on_and_respects_max_rows() -> None:
    costs = [5, 55, 5, 5, 200, 5]
    pages = plan(
        [0, 0, 1, 2, 3, 3],
        row_cost=lambda n: costs[n],
        heading_cost=lambda f, continued: 1,
        fixed=10,
        max_rows=2,
        budget=70,
    )
    assert pages == [range(0, 1), range(1, 2), range(2, 4), range(4, 5), range(5, 6)]
    assert [page_of(pages, n) for n in (0, 1, 2, 3, 4, 5, 99)] == [0, 1, 2, 2, 3, 4, 4]
    assert plan([], row_cost=len, heading_cost=lambda f, c: 0, fixed=0, max_rows=3) == []


@given(
    st.lists(st.sampled_from(["a", "😀", "&amp;", "&lt;", "&gt;", "<@U0ADMIN01>", "`", "é"]), max_size=300),
    st.integers(1, 400),
)
def test_clip_escaped_never_splits_an_entity_or_a_mention(units: list[str], limit: int) -> None:
    text = "".join(units)
    clipped = clip_escaped(text, limit)
    assert length(clipped) <= max(limit, 1) or clipped == text
    assert_escaped_mrkdwn(clipped)
    if length(text) <= limit:
        assert clipped == text
    else:
        head, _, tail = clipped.partition("…")
        assert text.startswith(head) and text.endswith(tail)


def test_text_size_counts_every_text_object_like_slack() -> None:
    blocks = [
        {"type": "header", "text": {"type": "plain_text", "text": "abc"}},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": "😀"}]},
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": escape("<&>")},
            "accessory": {
                "type": "button",
                "text": {"type": "plain_text", "text": "Close"},
                "value": "x" * 1000,  # values are not text
                "confirm": {
                    "title": {"type": "plain_text", "text": "T"},
                    "text": {"type": "plain_text", "text": "12"},
                    "confirm": {"type": "plain_text", "text": "ok"},
                    "deny": {"type": "plain_text", "text": "no"},
                },
            },
        },
    ]
    assert text_size(blocks) == 3 + 2 + len("&lt;&amp;&gt;") + 5 + 1 + 2 + 2 + 2 == blocks_text(blocks)
