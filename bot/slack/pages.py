"""How much of a result fits in one message: paging by size as well as by row count. Pure.

Slack rejects a message whose blocks carry more than roughly 12-13k characters of text in total
(``msg_blocks_too_long``; undocumented, and separate from the 50-block and 3,000-per-section limits). Every text
object counts: section and context text, the header, button labels and confirm dialogs; button values do not.

``text_size`` counts like that, in UTF-16 code units (an emoji outside the BMP counts twice: whether Slack does is
not documented, so the stricter reading). ``plan`` cuts the rows of a result into pages greedily from the first row:
a page takes rows while they fit in ``TEXT_BUDGET`` and ``max_rows``, and always at least one. The same result gives
the same pages, so a Prev/Next button only needs the first row of the page it goes to.

A page of one row too big on its own (every field at its clip, in astral-plane characters) is the last resort for
``shrink``: its longest display texts are clipped further with an ellipsis in the middle, never inside an entity or a
mention; button values (the exact path the close re-checks) are left alone.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from bot.slack.text import ELLIPSIS

TEXT_LIMIT = 12_000  # Slack's msg_blocks_too_long threshold, at its lowest reported
# What a page may use. The margin covers the uncertainty of the count and the rows a click replaces later (a closed
# or gone row can be a little longer than the row it replaces once that had a short path).
TEXT_BUDGET = 11_000
MIN_CLIPPED = 160  # ``shrink`` leaves every text at least this long

# One unit of escaped text: an entity, one of qlocks' own ``<@U…>``/``<#C…>`` tokens, or one character.
_UNIT = re.compile(r"&(?:amp|lt|gt);|<[@#!][^<>]{1,40}>|.", re.DOTALL)


def length(text: str) -> int:
    """``text``'s length in UTF-16 code units."""
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


def _text_objects(obj: Any) -> Iterator[dict[str, Any]]:
    if isinstance(obj, dict):
        if obj.get("type") in ("plain_text", "mrkdwn") and isinstance(obj.get("text"), str):
            yield obj
            return
        for value in obj.values():
            yield from _text_objects(value)
    elif isinstance(obj, list):
        for value in obj:
            yield from _text_objects(value)


def text_size(obj: Any) -> int:
    """Characters of text in every text object within ``obj`` (a block, a list of blocks, a message's blocks)."""
    return sum(length(t["text"]) for t in _text_objects(obj))


def plan(
    groups: Sequence[int],
    *,
    row_cost: Callable[[int], int],
    heading_cost: Callable[[int, bool], int],
    fixed: int,
    max_rows: int,
    budget: int = TEXT_BUDGET,
    through: int | None = None,
) -> list[range]:
    """Consecutive pages (ranges of row indexes) covering every row once (with ``through``: only up to the page
    holding that row, all a page and its Prev/Next need; the costs of later rows are never asked for).

    ``groups[i]`` is the file of row ``i`` (rows of a file are adjacent); a page shows a file's heading once, before
    its first row there (``continued`` when the file started on an earlier page). ``row_cost(i)`` and
    ``heading_cost(file, continued)`` are text sizes; ``fixed`` is what every page carries (header, footer, pager…).
    """
    pages: list[range] = []
    start, n = 0, len(groups)
    while start < n:
        used, end = fixed, start
        while end < n and end - start < max_rows:
            cost = row_cost(end)
            if end == start:
                cost += heading_cost(groups[end], start > 0 and groups[start - 1] == groups[start])
            elif groups[end - 1] != groups[end]:
                cost += heading_cost(groups[end], False)
            if end > start and used + cost > budget:
                break
            used += cost
            end += 1
        pages.append(range(start, end))
        if through is not None and end > through:
            break
        start = end
    return pages


def page_of(pages: Sequence[range], offset: int) -> int:
    """The index of the page holding row ``offset`` (the last page past the end, the first before it)."""
    for index, page in enumerate(pages):
        if offset < page.stop:
            return index
    return max(0, len(pages) - 1)


def clip_escaped(text: str, limit: int) -> str:
    """Already-escaped ``text`` cut to about ``limit`` code units, head and tail around an ellipsis, without splitting
    an entity (``&amp;``) or a mention (``<@U…>``)."""
    if length(text) <= limit:
        return text
    units = _UNIT.findall(text)
    head_budget = (limit - 1) * 2 // 5
    head: list[str] = []
    used = 0
    for unit in units:
        if used + length(unit) > head_budget:
            break
        head.append(unit)
        used += length(unit)
    tail: list[str] = []
    for unit in reversed(units[len(head) :]):
        if used + length(unit) > limit - 1:
            break
        tail.append(unit)
        used += length(unit)
    return "".join(head) + ELLIPSIS + "".join(reversed(tail))


def shrink(blocks: list[dict[str, Any]], budget: int = TEXT_BUDGET, *, keep: int = 1) -> list[dict[str, Any]]:
    """``blocks`` with their longest texts clipped until the text fits ``budget`` (in place; returned).

    The first ``keep`` blocks (the header) are left alone; no text is clipped below ``MIN_CLIPPED``. Returns the
    blocks even if they still do not fit (they always do for qlocks' pages: see tests/slack/test_pages.py).
    """
    over = text_size(blocks) - budget
    texts = sorted(
        (t for block in blocks[keep:] for t in _text_objects(block)),
        key=lambda t: length(t["text"]),
        reverse=True,
    )
    for obj in texts:
        if over <= 0:
            break
        size = length(obj["text"])
        if size <= MIN_CLIPPED:
            break
        obj["text"] = clip_escaped(obj["text"], max(MIN_CLIPPED, size - over))
        over -= size - length(obj["text"])
    return blocks


__all__ = ["TEXT_BUDGET", "TEXT_LIMIT", "clip_escaped", "length", "page_of", "plan", "shrink", "text_size"]
