"""What Slack accepts as a message: Block Kit checked with slack_sdk's own validators, plus message-level rules.

Message-level rules slack_sdk does not check: at most 50 blocks, unique ``block_id``s, at most ``MAX_TEXT`` characters of
``text``, and at most ``MAX_BLOCKS_TEXT`` characters of text across all blocks (``msg_blocks_too_long``: undocumented,
reported at roughly 12-13k; every text object counts, section and context text, headers, button labels, confirm
dialogs). Characters are counted in UTF-16 code units (an emoji outside the BMP counts twice), the stricter reading.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import Block

JsonDict = dict[str, Any]

MAX_BLOCKS = 50
MAX_TEXT = 40_000
MAX_BLOCKS_TEXT = 12_000


def blocks_text_length(obj: Any) -> int:
    """Characters of text in every text object (``{"type": "plain_text"|"mrkdwn", "text": ...}``) within ``obj``."""
    if isinstance(obj, dict):
        own = obj.get("text") if obj.get("type") in ("plain_text", "mrkdwn") else None
        total = len(own.encode("utf-16-le")) // 2 if isinstance(own, str) else 0
        return total + sum(
            blocks_text_length(v) for k, v in obj.items() if not (own is not None and k == "text")
        )
    if isinstance(obj, list):
        return sum(blocks_text_length(v) for v in obj)
    return 0


def validate_blocks(blocks: Any) -> str | None:
    """Slack's error name for an unacceptable ``blocks`` value, or None when it would be accepted."""
    if not isinstance(blocks, list):
        return "invalid_blocks_format"
    if len(blocks) > MAX_BLOCKS:
        return "invalid_blocks"
    seen: set[str] = set()
    for block in blocks:
        if not isinstance(block, dict):
            return "invalid_blocks_format"
        try:
            parsed = Block.parse(block)
            if parsed is None:
                return "invalid_blocks"
            parsed.to_dict()  # runs the length / enum validators recursively
        except (SlackObjectFormationError, KeyError, TypeError, ValueError):
            return "invalid_blocks"
        block_id = block.get("block_id")
        if block_id is not None:
            if block_id in seen:
                return "invalid_blocks"
            seen.add(block_id)
    if blocks_text_length(blocks) > MAX_BLOCKS_TEXT:
        return "msg_blocks_too_long"
    return None


def message_content(params: Mapping[str, Any]) -> tuple[str, list[JsonDict]] | str:
    """(text, blocks) of a message Slack would accept, or the error name it answers with."""
    text = params.get("text")
    blocks = blocks_param(params.get("blocks"))
    if blocks is not None:
        error = validate_blocks(blocks)
        if error:
            return error
    if not text and not blocks:
        return "no_text"
    if text is not None and not isinstance(text, str):
        return "invalid_arguments"
    if text and len(text) > MAX_TEXT:
        return "msg_too_long"
    return text or "", blocks or []


def blocks_param(value: Any) -> Any:
    """Blocks arrive as a list (JSON bodies) or as a JSON string (form bodies)."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value
