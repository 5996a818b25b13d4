"""≥ 1,000 fuzzed clicks on real Close buttons: forged users, disallowed channels, edited values, garbage.

Every click is signed (Slack delivered it) but its content is the attacker's: who clicks, where, and the button's
value. None of them may close anything (no edit below names a real handle completely); every one is audited.
"""

from __future__ import annotations

import json
import random
from typing import Any

from tests.attack import tally
from tests.slack.conftest import ADMIN, ELSEWHERE, OPS, USER, Harness

CLICKS = 1000


def _button_values(message: dict[str, Any]) -> list[str]:
    return [b["accessory"]["value"] for b in message["blocks"] if b.get("accessory", {}).get("value")]


def _edited(rng: random.Random, real: str, other: str) -> str:
    """One real value with one or two fields changed, or taken from another handle's button (never all of them)."""
    obj, alt = json.loads(real), json.loads(other)
    edits = {
        "l": lambda: alt["l"],  # another handle's location, this one's file/owner/path
        "f": lambda: alt["f"],
        "o": lambda: alt["o"],
        "p": lambda: alt["p"],
        "i": lambda: "10.255.0.1",
        "c": lambda: "another-cluster",
        "s": lambda: "<!channel>",
        "v": lambda: 1,
    }
    for key in rng.sample(sorted(edits), rng.randint(1, 2)):
        obj[key] = edits[key]()
    if obj == json.loads(real) or obj == alt:
        obj["l"] = obj["l"] + "9"
    return json.dumps(obj, separators=(",", ":"))


def _garbage(rng: random.Random, real: str) -> str:
    kinds = [
        lambda: "",
        lambda: "null",
        lambda: "[]",
        lambda: real[: rng.randrange(1, len(real))],
        lambda: "z1:" + "".join(rng.choice("AZaz09-_=%") for _ in range(rng.randint(1, 80))),
        lambda: json.dumps({"v": 2}),
        lambda: "x" * rng.randint(1, 2100),
        lambda: real.replace('"v":2', '"v":"2"'),
    ]
    return kinds[rng.randrange(len(kinds))]()


def test_a_thousand_fuzzed_clicks_close_nothing_and_are_all_audited(harness: Harness) -> None:
    h = harness
    rng = random.Random(1337)
    for i in range(6):
        h.sim.state.add_handle(
            f"/Finance/2026/click-fuzz-{i}.xlsx", user=f"user{i}", client_ip=f"10.7.0.{i + 1}"
        )
    message = h.search("click-fuzz-")
    values = _button_values(message)
    assert len(values) == 6
    before = h.open_locations()
    kinds: dict[str, int] = {}
    for _ in range(CLICKS * tally.SCALE):
        real, other = rng.sample(values, 2)
        roll = rng.random()
        if roll < 0.35:
            kind, user, channel, value = (
                "forged user",
                rng.choice([USER, "U0NOBODY1", "W0STRANGE"]),
                OPS,
                real,
            )
        elif roll < 0.55:
            kind, user, channel, value = (
                "disallowed channel",
                ADMIN,
                rng.choice([ELSEWHERE, "C0NOPE0001"]),
                real,
            )
        elif roll < 0.85:
            kind, user, channel, value = "edited value", ADMIN, OPS, _edited(rng, real, other)
        else:
            kind, user, channel, value = "garbage value", ADMIN, OPS, _garbage(rng, real)
        kinds[kind] = kinds.get(kind, 0) + 1
        resp, _ = h.click(message, user=user, channel=channel, value=value)
        ok = resp.status == 200
        tally.record("fuzzed clicks", ok, word="closed nothing")
        assert ok, (kind, value[:200], resp.status)
    assert h.open_locations() == before, "a fuzzed click closed a handle"
    records = h.audit.read()
    assert len(records) == CLICKS * tally.SCALE  # every attempt audited, refusals included
    results = {r["result"] for r in records}
    assert "closed" not in results
    assert {"denied", "invalid"} <= results and results & {"changed", "gone"}  # edits reached the re-check
    assert set(kinds) == {"forged user", "disallowed channel", "edited value", "garbage value"}
