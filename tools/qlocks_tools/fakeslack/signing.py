"""What Slack sends to an app, built and signed the way Slack does it: one place, for the tests and the playground.

- ``sign`` / ``signed_headers``: ``X-Slack-Signature`` v0, computed by slack_sdk's own ``SignatureVerifier``.
- ``slash_command``: the urlencoded form Slack POSTs for ``/command text``; the text is entity-escaped here, as
  Slack does (``&`` ``<`` ``>``).
- ``click``: the ``block_actions`` payload for pressing a button in a message; ``block_actions_body`` its form.
- ``BotLink.post``: POST a signed body to the app's events URL (within Slack's 3 s) and report what came back.
"""

from __future__ import annotations

import json
import logging
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import requests
from slack_sdk.signature import SignatureVerifier

from qlocks_tools.fakeslack.channel import APP_ID, BOT, BOT_ID, TEAM_DOMAIN, TEAM_ID, Message

logger = logging.getLogger(__name__)

JsonDict = dict[str, Any]
VERIFICATION_TOKEN = "unused-verification-token"  # deprecated field Slack still sends; apps must ignore it


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The ``X-Slack-Signature`` header value for ``body`` sent at ``timestamp``."""
    signature = SignatureVerifier(secret).generate_signature(timestamp=timestamp, body=body)
    if signature is None:
        raise ValueError("no timestamp to sign")
    return signature


def signed_headers(secret: str, body: bytes, *, now: float) -> dict[str, str]:
    timestamp = str(int(now))
    return {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": sign(secret, timestamp, body),
    }


def slack_escape(text: str) -> str:
    """Slack's escaping of the control characters, as it applies it to typed text."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _trigger_id() -> str:
    return f"{secrets.randbelow(10**12)}.{secrets.randbelow(10**12)}.{secrets.token_hex(16)}"


def slash_command(
    text: str,
    *,
    user_id: str,
    channel_id: str,
    response_url: str,
    user_name: str = "someone",
    channel_name: str = "general",
    command: str = "/qlocks",
    escaped: bool = False,
) -> bytes:
    """The form Slack POSTs for ``/command text``: ``text`` as typed, escaped here as Slack does.

    ``escaped=True``: ``text`` is already what Slack would send (entities in place) and goes out unchanged.
    """
    form = {
        "token": VERIFICATION_TOKEN,
        "team_id": TEAM_ID,
        "team_domain": TEAM_DOMAIN,
        "channel_id": channel_id,
        "channel_name": channel_name,
        "user_id": user_id,
        "user_name": user_name,
        "command": command,
        "text": text if escaped else slack_escape(text),
        "api_app_id": APP_ID,
        "is_enterprise_install": "false",
        "response_url": response_url,
        "trigger_id": _trigger_id(),
    }
    return urlencode(form).encode("utf-8")


def find_element(
    blocks: list[JsonDict], *, action_id: str, block_id: str | None = None
) -> tuple[str, JsonDict] | None:
    """(block_id, element) of the first interactive element ``action_id`` (an accessory or an actions element),
    in block ``block_id`` when given."""
    for block in blocks:
        if block_id is not None and block.get("block_id") != block_id:
            continue
        candidates: list[Any] = []
        if isinstance(block.get("accessory"), dict):
            candidates.append(block["accessory"])
        if isinstance(block.get("elements"), list):
            candidates.extend(block["elements"])
        for element in candidates:
            if isinstance(element, dict) and element.get("action_id") == action_id:
                return str(block.get("block_id")), element
    return None


def click(
    message: Message,
    *,
    action_id: str,
    user_id: str,
    channel_id: str,
    response_url: str,
    block_id: str | None = None,
    user_name: str = "someone",
    channel_name: str = "general",
    value: str | None = None,
    now: float | None = None,
) -> JsonDict:
    """The ``block_actions`` payload Slack sends when the user clicks ``action_id`` (in ``block_id``) in ``message``.

    ``value`` replaces the button's own value (a forged click). LookupError when there is no such element.
    """
    found = find_element(message.blocks, action_id=action_id, block_id=block_id)
    if found is None:
        raise LookupError(f"no element {action_id!r} in block {block_id!r}")
    found_block, element = found
    action: JsonDict = {
        "type": element.get("type", "button"),
        "action_id": action_id,
        "block_id": found_block,
        "text": element.get("text"),
        "action_ts": f"{time.time() if now is None else now:.6f}",
    }
    for key in ("value", "style", "url"):
        if key in element:
            action[key] = element[key]
    if value is not None:
        action["value"] = value
    payload: JsonDict = {
        "type": "block_actions",
        "user": {"id": user_id, "username": user_name, "name": user_name, "team_id": TEAM_ID},
        "api_app_id": APP_ID,
        "token": VERIFICATION_TOKEN,
        "container": {
            "type": "message",
            "message_ts": message.ts,
            "channel_id": channel_id,
            "is_ephemeral": message.ephemeral,
        },
        "trigger_id": _trigger_id(),
        "team": {"id": TEAM_ID, "domain": TEAM_DOMAIN},
        "enterprise": None,
        "is_enterprise_install": False,
        "channel": {"id": channel_id, "name": channel_name},
        "state": {"values": {}},
        "response_url": response_url,
        "actions": [action],
    }
    if not message.ephemeral:  # Slack leaves the message out of clicks on ephemeral messages
        payload["message"] = {
            "type": "message",
            "subtype": "bot_message",
            "ts": message.ts,
            "user": BOT.id,
            "bot_id": BOT_ID,
            "app_id": APP_ID,
            "team": TEAM_ID,
            "text": message.text,
            "blocks": message.blocks,
        }
    return payload


def block_actions_body(payload: Mapping[str, Any]) -> bytes:
    return urlencode({"payload": json.dumps(payload, separators=(",", ":"))}).encode("utf-8")


@dataclass(frozen=True, slots=True)
class BotReply:
    status: int | None  # None when the app could not be reached or did not answer in time
    body: bytes
    content_type: str
    elapsed_ms: float
    error: str | None = None  # Slack's name for the failure: operation_timeout, dispatch_failed, ...

    @property
    def ok(self) -> bool:
        return self.status == 200

    def json(self) -> JsonDict | None:
        """The ack body as a message dict, or None when it is empty (Slack then shows nothing)."""
        text = self.body.decode("utf-8", "replace").strip()
        if not text:
            return None
        if self.content_type.startswith("application/json"):
            try:
                data = json.loads(text)
            except ValueError:
                return {"text": text}
            return data if isinstance(data, dict) else {"text": text}
        return {"text": text}


class BotLink:
    """Signs and POSTs request bodies to the app's events URL, like Slack's servers (3 s budget)."""

    def __init__(
        self,
        *,
        events_url: str | None,
        signing_secret: str,
        timeout_s: float = 3.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.events_url = events_url
        self.signing_secret = signing_secret
        self._timeout_s = timeout_s
        self._clock = clock
        self._session = requests.Session()
        self._session.trust_env = False  # loopback only: never through a proxy from the environment

    def post(self, body: bytes) -> BotReply:
        if self.events_url is None:
            return BotReply(None, b"", "", 0.0, error="dispatch_failed: no app is connected")
        headers = signed_headers(self.signing_secret, body, now=self._clock())
        started = time.monotonic()
        try:
            resp = self._session.post(self.events_url, data=body, headers=headers, timeout=self._timeout_s)
        except requests.Timeout:
            return BotReply(None, b"", "", (time.monotonic() - started) * 1000, error="operation_timeout")
        except requests.RequestException as exc:
            logger.warning("could not reach the app: %s", type(exc).__name__)
            return BotReply(None, b"", "", (time.monotonic() - started) * 1000, error="dispatch_failed")
        elapsed = (time.monotonic() - started) * 1000
        error = None if resp.status_code == 200 else f"dispatch_failed (HTTP {resp.status_code})"
        return BotReply(resp.status_code, resp.content, resp.headers.get("Content-Type", ""), elapsed, error)

    def close(self) -> None:
        self._session.close()
