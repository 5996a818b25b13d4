"""Message-level checks every rendered message must pass (slack_sdk validators + the rules they do not cover)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from slack_sdk.models.blocks import Block

_OWN_TOKENS = re.compile(r"<[@#][A-Z][A-Z0-9]{2,30}>")  # mentions qlocks itself writes (validated IDs)
_ENTITY = re.compile(r"&(amp|lt|gt);")


def text_objects(obj: Any) -> Iterator[dict[str, Any]]:
    """Every composition text object (``{"type": "mrkdwn"|"plain_text", "text": ...}``) anywhere in ``obj``."""
    if isinstance(obj, dict):
        if obj.get("type") in ("mrkdwn", "plain_text") and isinstance(obj.get("text"), str):
            yield obj
        for value in obj.values():
            yield from text_objects(value)
    elif isinstance(obj, list):
        for value in obj:
            yield from text_objects(value)


def assert_escaped_mrkdwn(text: str) -> None:
    """No raw ``<``/``>`` except qlocks' own ``<@U…>``/``<#C…>``; every ``&`` starts an entity."""
    stripped = _OWN_TOKENS.sub("", text)
    assert "<" not in stripped and ">" not in stripped, text
    assert stripped.count("&") == len(_ENTITY.findall(stripped)), text


# Slack's msg_blocks_too_long: roughly 12-13k characters of text across a message's blocks (undocumented; the lowest
# report). Counted here on its own, independently of bot.slack.pages, in UTF-16 code units (an astral emoji is two).
MAX_BLOCKS_TEXT = 12_000


def blocks_text(blocks: Any) -> int:
    """Characters of text in every text object of ``blocks``: sections, contexts, headers, buttons, confirms."""
    return sum(len(t["text"].encode("utf-16-le")) // 2 for t in text_objects(blocks))


def assert_valid_blocks(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    assert 0 < len(blocks) <= 50, len(blocks)
    assert blocks_text(blocks) <= MAX_BLOCKS_TEXT, blocks_text(blocks)
    ids = [b["block_id"] for b in blocks if "block_id" in b]
    assert len(ids) == len(set(ids)), ids
    out = []
    for block in blocks:
        parsed = Block.parse(block)
        assert parsed is not None, block
        out.append(parsed.to_dict())  # raises SlackObjectFormationError on a bad length / enum
        for el in block.get("elements") or []:
            if el.get("type") == "button":
                assert len(el.get("value") or "") <= 2000
        accessory = block.get("accessory") or {}
        assert len(accessory.get("value") or "") <= 2000
    for obj in text_objects(blocks):
        if obj["type"] == "mrkdwn":
            assert obj.get("verbatim") is True, obj
        assert_escaped_mrkdwn(obj["text"])  # plain_text too: Slack decodes entities in every text field
    return out
