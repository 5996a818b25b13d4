"""Request signing and the shapes of what the fake Slack sends to the app, checked against slack_sdk's own code."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs

from hypothesis import given
from hypothesis import strategies as st
from qlocks_tools.fakeslack import (
    ALEX,
    DANA,
    BotReply,
    Message,
    block_actions_body,
    click,
    find_element,
    sign,
    signed_headers,
    slash_command,
)
from slack_sdk.signature import SignatureVerifier

NOW = 1_760_000_000.0


def _form(body: bytes) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(body.decode(), keep_blank_values=True).items()}


def _unescape(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


@given(secret=st.text(min_size=1, max_size=64).filter(str.strip), body=st.text(max_size=2000).map(str.encode))
def test_signature_matches_slack_sdk(secret: str, body: bytes) -> None:
    headers = signed_headers(secret, body, now=NOW)
    verifier = SignatureVerifier(secret, clock=type("Clock", (), {"now": staticmethod(lambda: NOW + 30)})())
    assert headers["X-Slack-Signature"] == verifier.generate_signature(timestamp=str(int(NOW)), body=body)
    assert verifier.is_valid(body, headers["X-Slack-Request-Timestamp"], headers["X-Slack-Signature"])
    assert not SignatureVerifier(secret + "x").is_valid(body, str(int(NOW)), headers["X-Slack-Signature"])


def test_signature_known_vector() -> None:
    # Slack's documented example (docs.slack.dev "Verifying requests from Slack").
    body = (b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V"
            b"&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text="
            b"&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN"
            b"&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c")  # fmt: skip
    assert (
        sign("8f742231b10e8888abcd99yyyzzz85a5", "1531420618", body)
        == "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"
    )


@given(text=st.text(max_size=300))
def test_command_text_round_trips_through_slack_escaping(text: str) -> None:
    body = slash_command(text, user_id=DANA.id, channel_id="C0STORAGE", response_url="http://x/r/1")
    form = _form(body)
    assert "<" not in form["text"] and ">" not in form["text"]
    assert _unescape(form["text"]) == text
    assert form["user_id"] == DANA.id and form["command"] == "/qlocks"


def test_find_element_in_accessory_and_actions() -> None:
    button = {"type": "button", "action_id": "close_handle", "value": "v"}
    blocks: list[dict[str, Any]] = [
        {"type": "section", "block_id": "a", "text": {"type": "mrkdwn", "text": "x"}, "accessory": button},
        {"type": "actions", "block_id": "b", "elements": [{"type": "button", "action_id": "next"}, button]},
    ]
    assert find_element(blocks, action_id="close_handle", block_id="a") == ("a", button)
    assert find_element(blocks, action_id="close_handle", block_id="b") == ("b", button)
    assert find_element(blocks, action_id="close_handle") == ("a", button)  # the first one anywhere
    assert find_element(blocks, action_id="next", block_id="a") is None
    assert find_element(blocks, action_id="close_handle", block_id="c") is None


@given(value=st.text(max_size=200), text=st.text(max_size=200))
def test_block_actions_body_carries_the_payload_exactly(value: str, text: str) -> None:
    element = {"type": "button", "action_id": "close_handle", "value": value, "style": "danger",
               "text": {"type": "plain_text", "text": "Close handle"}}  # fmt: skip
    blocks = [
        {
            "type": "section",
            "block_id": "row-1",
            "text": {"type": "mrkdwn", "text": text},
            "accessory": element,
        }
    ]
    message = Message(ts="1.000001", user="U0QLOCKS", text=text, blocks=blocks)
    payload = click(message, action_id="close_handle", block_id="row-1", user_id=ALEX.id, channel_id="C0STORAGE",
                    response_url="http://x/respond/k", now=NOW)  # fmt: skip
    decoded = json.loads(parse_qs(block_actions_body(payload).decode())["payload"][0])
    assert decoded == payload
    assert decoded["actions"][0]["value"] == value and decoded["message"]["blocks"] == blocks
    assert decoded["actions"][0]["block_id"] == "row-1" and decoded["user"]["id"] == ALEX.id


def test_bot_reply_json() -> None:
    assert BotReply(200, b"", "text/plain", 1.0).json() is None
    assert BotReply(200, b'{"text": "hi"}', "application/json;charset=utf-8", 1.0).json() == {"text": "hi"}
    assert BotReply(200, b"plain words", "text/plain", 1.0).json() == {"text": "plain words"}
    assert BotReply(200, b"[1]", "application/json", 1.0).json() == {"text": "[1]"}
    assert not BotReply(None, b"", "", 3000.0, error="operation_timeout").ok
