"""Signed but malformed requests: a clean 4xx, or a 200 with a clear ephemeral refusal; never a 5xx, never a close;
every click that reaches the close listener is audited; the bot keeps serving.

Signed with the real secret: this is what a buggy client, a proxy that mangles bodies, or Slack itself at its
strangest could deliver. Hypothesis adds arbitrary JSON payloads to the hand-written cases.
"""

from __future__ import annotations

import json
import time
import urllib.parse
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from slack_sdk.signature import SignatureVerifier

from bot.slack.web import make_wsgi_app
from tests.attack import tally
from tests.attack.test_signature import _post, signed_search
from tests.slack.conftest import ADMIN, OPS, SECRET, Harness
from tests.slack.test_web import serve


def _signed(body: str) -> dict[str, str]:
    ts = str(int(time.time()))
    sig = SignatureVerifier(SECRET).generate_signature(timestamp=ts, body=body) or ""
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": sig}


def _form(**fields: str) -> str:
    return urllib.parse.urlencode(fields)


def _click(**overrides: Any) -> str:
    payload: dict[str, Any] = {
        "type": "block_actions",
        "user": {"id": ADMIN, "name": "ada"},
        "team": {"id": "T0TEST"},
        "channel": {"id": OPS},
        "api_app_id": "A0QLOCKS",
        "actions": [{"action_id": "close_handle", "block_id": "row-0", "value": "{}", "type": "button"}],
    }
    payload.update(overrides)
    return _form(payload=json.dumps(payload))


MALFORMED = [
    ("payload=null", _form(payload="null")),
    ("payload=[]", _form(payload="[]")),
    ("payload=NaN", _form(payload="NaN")),
    ("payload=1", _form(payload="1")),
    ('payload="x"', _form(payload='"x"')),
    ("payload={}", _form(payload="{}")),
    ("payload truncated", _form(payload='{"type": "block_actions", "user": {"id": "U0')),
    ("payload with NaN inside", _form(payload='{"type": "block_actions", "x": NaN}')),
    ("payload twice", _form(payload="{}") + "&" + _form(payload="{}")),
    ("payload next to other fields", _form(payload='{"type": "block_actions"}', command="/qlocks")),
    ("JSON under a form content type", json.dumps({"type": "block_actions", "user": {"id": ADMIN}})),
    ("JSON array", "[1, 2, 3]"),
    ("empty body", ""),
    ("not a form", "%%%=%%%&&&"),
    ("form without command", _form(text="search budget")),
    ("deeply nested", _form(payload='{"type": "block_actions", "a": ' + "[" * 5000 + "]" * 5000 + "}")),
    ("team is a number", _click(team=5)),
    ("authorizations is a string", _click(authorizations="x")),
]

# Readable requests whose fields have the wrong types: the close listener runs and must audit a refusal.
ODD_CLICKS = [
    ("enterprise is a list", _click(enterprise=[1])),
    ("user is a string", _click(user="U0ADMIN01")),
    ("user is a list", _click(user=["U0ADMIN01"])),
    ("user is null", _click(user=None)),
    ("user id is a number", _click(user={"id": 12345})),
    ("user id is huge", _click(user={"id": "U" * 100_000})),
    ("channel is a string", _click(channel=OPS)),
    ("channel is a list", _click(channel=[OPS])),
    ("value is a number", _click(actions=[{"action_id": "close_handle", "block_id": "row-0", "value": 5}])),
    ("value is an object", _click(actions=[{"action_id": "close_handle", "block_id": "b", "value": {}}])),
    ("value is garbage", _click(actions=[{"action_id": "close_handle", "block_id": "b", "value": "z1:%%%"}])),
    ("block_id is a list", _click(actions=[{"action_id": "close_handle", "block_id": [], "value": "{}"}])),
    ("message is a string", _click(message="hi")),
    ("message blocks are a dict", _click(message={"blocks": {"a": 1}})),
]


@pytest.fixture
def http_bot(make_harness: Any) -> Iterator[tuple[Harness, str]]:
    h: Harness = make_harness(
        process_before_response=True
    )  # the listener's work is done when the POST returns
    for base in serve(make_wsgi_app(h.app)):
        yield h, base


def _still_serving(h: Harness, base: str) -> None:
    body, headers = signed_search(h, "still", user=ADMIN)
    assert _post(base, body, headers) == 200
    assert h.fake.responses("still"), "the bot stopped answering"


def test_malformed_signed_bodies_get_a_clean_4xx(http_bot: tuple[Harness, str]) -> None:
    h, base = http_bot
    before = {loc for loc in h.open_locations()}
    bad = []
    for label, body in MALFORMED:
        status = _post(base, body.encode(), _signed(body))
        ok = 400 <= status < 500
        tally.record("malformed", ok, word="refused cleanly")
        if not ok:
            bad.append((label, status))
    assert bad == []
    assert h.open_locations() == before
    _still_serving(h, base)


def test_clicks_with_odd_field_types_are_refused_and_audited(http_bot: tuple[Harness, str]) -> None:
    h, base = http_bot
    before = h.open_locations()
    bad = []
    for n, (label, body) in enumerate(ODD_CLICKS, start=1):
        status = _post(base, body.encode(), _signed(body))
        audited = len(h.audit.read()) == n
        ok = status in (200, 400) and audited
        tally.record("malformed click audited", ok, word="audited, refused")
        if not ok:
            bad.append((label, status, audited))
    assert bad == []
    assert {r["result"] for r in h.audit.read()} <= {"denied", "invalid"}
    assert h.open_locations() == before
    _still_serving(h, base)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=20,
)
payloads = st.fixed_dictionaries(
    {"type": st.sampled_from(["block_actions", "view_submission", "shortcut", "x"])},
    optional={
        "user": json_values,
        "channel": json_values,
        "team": json_values,
        "enterprise": json_values,
        "actions": json_values
        | st.lists(
            st.fixed_dictionaries(
                {"action_id": st.sampled_from(["close_handle", "page_next", "page_prev"])},
                optional={"value": json_values, "block_id": json_values},
            ),
            max_size=2,
        ),
        "message": json_values,
        "container": json_values,
    },
)


@settings(max_examples=150 * tally.SCALE, deadline=None, suppress_health_check=list(HealthCheck))
@given(payload=payloads)
def test_arbitrary_signed_payloads_never_5xx_and_never_close(
    http_bot_module: tuple[Harness, str], payload: dict[str, Any]
) -> None:
    h, base = http_bot_module
    before = h.open_locations()
    body = _form(payload=json.dumps(payload))
    status = _post(base, body.encode(), _signed(body))
    ok = status < 500 and h.open_locations() == before
    tally.record("fuzzed payloads", ok, word="no 5xx, no close")
    assert ok, (status, payload)


@pytest.fixture
def http_bot_module(make_harness: Any) -> Iterator[tuple[Harness, str]]:
    h: Harness = make_harness(process_before_response=True)
    for base in serve(make_wsgi_app(h.app)):
        yield h, base
