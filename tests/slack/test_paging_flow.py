"""Prev/Next through signed requests: long paths, long queries, queries JSON doubles; the fake Slack refuses any
message over ~12k characters of text (msg_blocks_too_long), so a page that does not fit fails here."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest

from bot.slack.blocks import CLOSE_ACTION, PAGE_NEXT_ACTION, PAGE_PREV_ACTION, PAGER_BLOCK
from bot.slack.refs import decode_page, decode_ref
from tests.slack.blockcheck import assert_valid_blocks
from tests.slack.conftest import USER, Harness


def _element(message: dict[str, Any], action_id: str) -> dict[str, Any] | None:
    for block in message["blocks"]:
        for el in [block.get("accessory"), *(block.get("elements") or [])]:
            if isinstance(el, dict) and el.get("action_id") == action_id:
                return el
    return None


def _locations(message: dict[str, Any]) -> list[str]:
    return [
        decode_ref(b["accessory"]["value"]).ref.location
        for b in message["blocks"]
        if isinstance(b.get("accessory"), dict) and b["accessory"].get("action_id") == CLOSE_ACTION
    ]


def _turn(h: Harness, message: dict[str, Any], action_id: str) -> dict[str, Any]:
    _, name = h.click(message, user=USER, action_id=action_id)
    (page,) = h.posted(name)
    assert page["replace_original"] is True, page
    assert_valid_blocks(page["blocks"])
    return page


def page_through(h: Harness, query: str) -> list[dict[str, Any]]:
    """Search, then Next until there is none, then Prev back to the first page; every post accepted by Slack."""
    first = h.search(query)
    assert_valid_blocks(first["blocks"])
    pages = [first]
    while _element(pages[-1], PAGE_NEXT_ACTION) is not None:
        assert decode_page(_element(pages[-1], PAGE_NEXT_ACTION)["value"]).query == query  # type: ignore[index]
        pages.append(_turn(h, pages[-1], PAGE_NEXT_ACTION))
        assert len(pages) < 100
    back = pages[-1]
    for i in range(len(pages) - 2, -1, -1):
        back = _turn(h, back, PAGE_PREV_ACTION)
        assert _locations(back) == _locations(pages[i])
    assert _element(back, PAGE_PREV_ACTION) is None
    rejected = [c for c in h.fake.calls if not c.ok]
    assert rejected == [], [(c.method, c.error) for c in rejected]
    return pages


def _open_many(h: Harness, paths: list[str]) -> list[str]:
    return [
        str(h.sim.state.add_handle(p, user=f"user{i % 3}", client_ip=f"10.7.0.{i % 200 + 1}"))
        for i, p in enumerate(paths)
    ]


@pytest.mark.parametrize(("path_length", "files"), [(181, 40), (981, 24)])
def test_long_paths_page_within_slack_limits_and_list_every_handle_once(
    harness: Harness, path_length: int, files: int
) -> None:
    """Regression: a page of 181-character paths carried ~19.6k characters of text, of 981-character ones ~51.6k;
    Slack answers msg_blocks_too_long and shows nothing."""
    paths = []
    for f in range(files):
        tail = f"/zp-{f:03d}.docx"
        paths.append(("/Finance/zpage/" + "long folder name/" * 60)[: path_length - len(tail)] + tail)
    assert {len(p) for p in paths} == {path_length}
    locations = _open_many(harness, paths)
    pages = page_through(harness, "zpage/")
    listed = [loc for page in pages for loc in _locations(page)]
    assert sorted(listed) == sorted(locations) and len(listed) == len(set(listed))
    assert len(pages) > 2


def test_a_3000_character_query_pages_the_same_search(harness: Harness) -> None:
    """Regression: a query over ~1,950 characters was cut in the page button, so Next ran another search."""
    fragment = ("zq-" + "a-very-long-folder-name/" * 130)[:3000]
    assert len(fragment) == 3000
    locations = _open_many(harness, [f"/Finance/{fragment}{f}.docx" for f in range(8)])
    # a handle the cut query would also match, but the full one does not
    harness.sim.state.add_handle(f"/Finance/{fragment[:1900]}-other.docx", user="erin")
    pages = page_through(harness, fragment)
    value = _element(pages[0], PAGE_NEXT_ACTION)["value"]  # type: ignore[index]
    assert value.startswith("z1:") and len(value) <= 2000
    listed = [loc for page in pages for loc in _locations(page)]
    assert sorted(listed) == sorted(locations)


def test_a_query_of_backslashes_and_quotes_pages(harness: Harness) -> None:
    """Regression: JSON doubles every backslash and quote; such a query was cut to ``""`` and the button refused."""
    typed = "zq" + '\\"' * 700 + "x"
    folder = "/Finance/zq" + '/"' * 700 + "x"
    locations = _open_many(harness, [f"{folder}/{f}.txt" for f in range(12)])
    pages = page_through(harness, typed)
    listed = [loc for page in pages for loc in _locations(page)]
    assert sorted(listed) == sorted(locations) and len(pages) > 1


def test_a_query_that_cannot_fit_a_button_is_answered_without_paging(harness: Harness) -> None:
    """A long query that does not compress cannot ride in a button: the first page says so, clearly, instead of
    offering a Next that would run another search."""
    rng = random.Random(11)
    fragment = "".join(chr(rng.randrange(0x4E00, 0x9FFF)) for _ in range(2500))
    _open_many(harness, [f"/Finance/{fragment}/{f}.docx" for f in range(10)])
    message = harness.search(fragment)
    assert_valid_blocks(message["blocks"])
    assert _element(message, PAGE_NEXT_ACTION) is None and _element(message, PAGE_PREV_ACTION) is None
    (note,) = [b for b in message["blocks"] if b.get("block_id") == PAGER_BLOCK]
    text = note["elements"][0]["text"]
    assert "(2,500 characters) is too long to page through from Slack" in text and "of 10" in text


def test_an_older_page_button_is_refused_clearly(harness: Harness) -> None:
    _open_many(harness, [f"/Finance/zold/{f}.docx" for f in range(25)])
    message = harness.search("zold/")
    old = json.dumps({"q": "zold/", "offset": 20, "s": None})  # version 1: its query may have been cut
    _, name = harness.click(message, user=USER, action_id=PAGE_NEXT_ACTION, value=old)
    (reply,) = harness.posted(name)
    assert reply["response_type"] == "ephemeral" and "older version" in reply["text"]
