"""The channel store: ordering, visibility, replacement, waiting."""

from __future__ import annotations

import pytest
from qlocks_tools.fakeslack import ALEX, BOT, DANA, Channel


def test_ts_strictly_increasing_with_a_frozen_clock() -> None:
    channel = Channel(clock=lambda: 1_700_000_000.0)
    stamps = [channel.post(user=BOT.id, text=str(i)).ts for i in range(5)]
    assert stamps == sorted(stamps, key=float) and len(set(stamps)) == 5
    assert stamps[0] == "1700000000.000000"
    assert stamps[1] == "1700000000.000001"


def test_ephemeral_messages_are_only_visible_to_their_user() -> None:
    channel = Channel()
    channel.post(user=BOT.id, text="public")
    eph = channel.post(user=BOT.id, text="for dana", visible_to=DANA.id)
    assert [m.text for m in channel.visible_to(DANA.id)] == ["public", "for dana"]
    assert [m.text for m in channel.visible_to(ALEX.id)] == ["public"]
    replaced = channel.replace(eph.ts, text="still for dana", blocks=[{"type": "divider"}])
    assert replaced.visible_to == DANA.id and replaced.updates == 1
    assert [m.text for m in channel.visible_to(ALEX.id)] == ["public"]


def test_copies_do_not_alias_the_store() -> None:
    channel = Channel()
    blocks = [{"type": "divider"}]
    msg = channel.post(user=BOT.id, text="x", blocks=blocks)
    blocks.append({"type": "divider"})
    got = channel.get(msg.ts)
    assert got is not None and got.blocks == [{"type": "divider"}]
    got.blocks.clear()
    assert channel.messages()[0].blocks == [{"type": "divider"}]


def test_replace_and_delete_unknown_raise() -> None:
    channel = Channel()
    with pytest.raises(KeyError):
        channel.replace("1.0", text="x", blocks=None)
    with pytest.raises(KeyError):
        channel.delete("1.0")


def test_versions_and_waiting() -> None:
    channel = Channel()
    v0 = channel.version
    assert channel.wait_for_change(v0, 0.01) == v0  # times out, nothing changed
    channel.post(user=BOT.id, text="x")
    assert channel.wait_for_change(v0, 5) == v0 + 1  # returns at once
    channel.touch()
    assert channel.version == v0 + 2


def test_reserved_ts_keeps_its_place() -> None:
    channel = Channel(clock=lambda: 1_700_000_000.0)
    first = channel.post(user=DANA.id, text="command")
    reserved = channel.reserve_ts()
    channel.post(user=BOT.id, text="reply")
    channel.post(user=BOT.id, text="ack", ts=reserved)
    assert [m.text for m in channel.messages()] == ["command", "ack", "reply"]
    assert first.ts < reserved
