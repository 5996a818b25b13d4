"""``settle_row``: the clicked row replaced, the header, the text and the file's count lowered once."""

from __future__ import annotations

from bot.slack.blocks import search_message
from bot.slack.update import changed_block, gone_block, settle_row
from tests.slack.blockcheck import assert_valid_blocks
from tests.slack.factories import make_result, make_row

NOW = 1_780_000_000.0


def _message() -> tuple[list[dict[str, object]], str]:
    result = make_result(
        [
            (
                "/share/a.xlsx",
                [make_row("/share/a.xlsx", location="1.1"), make_row("/share/a.xlsx", location="1.2")],
            ),
            ("/share/b.xlsx", [make_row("/share/b.xlsx", location="1.3")]),
        ]
    )
    msg = search_message(result, searcher=None, offset=0, now=NOW)
    return msg.blocks, msg.text


def _row_ids(blocks: list[dict[str, object]]) -> list[str]:
    return [str(b["block_id"]) for b in blocks if str(b.get("block_id", "")).startswith("row-")]


def test_counts_drop_once_per_row_and_files_when_emptied() -> None:
    blocks, text = _message()
    assert text.startswith("3 open handles on 2 files")
    first, _, last = _row_ids(blocks)
    blocks, text = settle_row(blocks, last, gone_block(last, at=NOW, path="/share/b.xlsx"), text=text) or (
        [],
        "",
    )
    assert text.startswith("2 open handles on 1 file ")
    header = next(b for b in blocks if b.get("block_id") == "qlocks-header")
    assert header["text"]["text"].startswith("2 open handles on 1 file ")  # type: ignore[index]
    again = settle_row(blocks, last, changed_block(last, at=NOW), text=text)
    assert again is not None and again[1] == text  # a row without a button changes no count
    blocks, text = settle_row(blocks, first, changed_block(first, at=NOW), text=text) or ([], "")
    assert text.startswith("1 open handle on 1 file ")
    files = [b["text"]["text"] for b in blocks if str(b.get("block_id", "")).startswith("file-")]  # type: ignore[index]
    assert files[0].endswith("\n1 open handle") and files[1].endswith("\n0 open handles")
    assert_valid_blocks(blocks)


def test_an_unknown_block_is_none() -> None:
    blocks, text = _message()
    assert settle_row(blocks, "row-99", changed_block("row-99", at=NOW), text=text) is None
