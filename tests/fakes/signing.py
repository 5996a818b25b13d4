"""Build Slack requests the way Slack sends them: form bodies with real v0 signatures.

``signed_command`` and ``signed_action`` return ``(body, headers)``; ``bolt_request`` wraps them for
``app.dispatch``; ``post`` sends them over HTTP to a running server. ``click`` builds the ``block_actions`` payload
for pressing a button in a message the bot rendered (the button's real ``value``, the message's blocks).
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence
from typing import Any

from slack_bolt.request import BoltRequest
from slack_sdk.signature import SignatureVerifier

SECRET = "test-signing-secret-0123456789abcdef"
TEAM = "T0TEST"
Headers = dict[str, str | Sequence[str]]


def sign(body: str, *, secret: str = SECRET, ts: int | None = None) -> Headers:
    stamp = str(int(time.time()) if ts is None else ts)
    sig = SignatureVerifier(secret).generate_signature(timestamp=stamp, body=body) or ""
    return {
        "content-type": ["application/x-www-form-urlencoded"],
        "x-slack-signature": [sig],
        "x-slack-request-timestamp": [stamp],
    }


def signed_command(
    text: str,
    *,
    user: str,
    channel: str,
    response_url: str,
    command: str = "/qlocks",
    user_name: str = "someone",
    secret: str = SECRET,
    ts: int | None = None,
) -> tuple[str, Headers]:
    """A slash command as Slack posts it (``text`` already entity-escaped as Slack would send it)."""
    form = {
        "token": "legacy-unused",
        "team_id": TEAM,
        "team_domain": "qlocks-test",
        "channel_id": channel,
        "channel_name": "ops",
        "user_id": user,
        "user_name": user_name,
        "command": command,
        "text": text,
        "api_app_id": "A0QLOCKS",
        "is_enterprise_install": "false",
        "response_url": response_url,
        "trigger_id": "1.2.3",
    }
    body = urllib.parse.urlencode(form)
    return body, sign(body, secret=secret, ts=ts)


def signed_action(
    payload: dict[str, Any], *, secret: str = SECRET, ts: int | None = None
) -> tuple[str, Headers]:
    body = urllib.parse.urlencode({"payload": json.dumps(payload)})
    return body, sign(body, secret=secret, ts=ts)


def bolt_request(signed: tuple[str, Headers]) -> BoltRequest:
    body, headers = signed
    return BoltRequest(body=body, headers=headers)


def find_button(
    blocks: list[dict[str, Any]], *, block_id: str | None = None, action_id: str
) -> tuple[str, dict[str, Any]]:
    """(block_id, button element) of the first matching button in ``blocks``."""
    for block in blocks:
        if block_id is not None and block.get("block_id") != block_id:
            continue
        candidates = (
            [block.get("accessory")] if block.get("type") == "section" else block.get("elements") or []
        )
        for el in candidates:
            if isinstance(el, dict) and el.get("type") == "button" and el.get("action_id") == action_id:
                return block["block_id"], el
    raise AssertionError(f"no button {action_id!r} in block {block_id!r}")


def click(
    message: dict[str, Any],
    *,
    action_id: str,
    user: str,
    channel: str,
    response_url: str,
    block_id: str | None = None,
    user_name: str = "someone",
    value: str | None = None,
    message_ts: str = "1700000000.000100",
) -> dict[str, Any]:
    """The ``block_actions`` payload for clicking a button in ``message`` (``{"text":..., "blocks": [...]}``)."""
    found_block, button = find_button(message["blocks"], block_id=block_id, action_id=action_id)
    return {
        "type": "block_actions",
        "user": {"id": user, "username": user_name, "name": user_name, "team_id": TEAM},
        "api_app_id": "A0QLOCKS",
        "token": "legacy-unused",
        "container": {
            "type": "message",
            "message_ts": message_ts,
            "channel_id": channel,
            "is_ephemeral": False,
        },
        "trigger_id": "1.2.3",
        "team": {"id": TEAM, "domain": "qlocks-test"},
        "channel": {"id": channel, "name": "ops"},
        "message": {
            "type": "message",
            "ts": message_ts,
            "text": message.get("text", ""),
            "blocks": message["blocks"],
        },
        "response_url": response_url,
        "actions": [
            {
                "type": "button",
                "action_id": action_id,
                "block_id": found_block,
                "text": button["text"],
                "value": button.get("value") if value is None else value,
                "style": button.get("style"),
                "action_ts": "1700000001.000200",
            }
        ],
    }


def post(url: str, signed: tuple[str, Headers], timeout: float = 10.0) -> tuple[int, bytes]:
    """POST a signed body to a running server; (status, body), also for 4xx/5xx."""
    body, headers = signed
    req = urllib.request.Request(url, data=body.encode("utf-8"), method="POST")
    for name, values in headers.items():
        req.add_header(name, values if isinstance(values, str) else values[0])
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()
