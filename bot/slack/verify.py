"""The HTTP edge's checks, before Bolt sees a request: signature, shape, and the body Bolt should have parsed.

- ``signature_problem``: Slack's v0 signature (slack_sdk's ``SignatureVerifier`` computes it) over the raw body, with
  a timestamp that is a plain decimal integer within five minutes of now. Anything else is a reason to answer 401 and
  do nothing at all: no listener, no error handler, no outbound call, no log line with the body (it holds a
  ``response_url``). slack_sdk's own ``is_valid`` raises on a timestamp like ``1.5e9``; this never raises.
- ``parse_body``: what Slack sent, parsed the way Slack means it: a form whose ``payload`` field is a JSON object
  (interactivity), a JSON object (Events API), or a plain form (slash commands). Bolt's own parser treats any body
  that merely *contains* the word ``payload`` as an interactivity payload, so ``/qlocks search payload.xlsx`` came
  out empty; and a ``payload`` of ``null``, ``[]`` or ``NaN`` crashed it (HTTP 500). ``BodyError`` -> 400.
"""

from __future__ import annotations

import hmac
import json
import re
from typing import Any
from urllib.parse import parse_qsl

from slack_sdk.signature import SignatureVerifier

MAX_SKEW_S = 5 * 60  # Slack's documented replay window
MAX_BODY_BYTES = 1024 * 1024  # a block_actions payload with a full 50-block message stays far below this
_TIMESTAMP = re.compile(r"[0-9]{1,12}")
_SIGNATURE = re.compile(r"v0=[0-9a-f]{64}")


class BodyError(ValueError):
    """A signed body that is not a Slack request qlocks can read (the message is for logs, never the body)."""


def signature_problem(
    *, secret: str, body: str | bytes, timestamp: str | None, signature: str | None, now: float
) -> str | None:
    """Why this request is not from Slack (a short reason for the log), or None when it is."""
    if not secret:
        return "no signing secret configured"
    if timestamp is None or not _TIMESTAMP.fullmatch(timestamp) or not timestamp.isascii():
        return "timestamp missing or not a plain integer"
    if abs(now - int(timestamp)) > MAX_SKEW_S:
        return "timestamp outside the 5-minute window (stale, replayed or from the future)"
    if signature is None or not _SIGNATURE.fullmatch(signature):
        return "signature missing or malformed"
    try:
        expected = SignatureVerifier(secret).generate_signature(timestamp=timestamp, body=body) or ""
    except UnicodeDecodeError:  # Slack sends UTF-8; slack_sdk cannot sign anything else
        return "body is not UTF-8"
    if not hmac.compare_digest(expected.encode("ascii"), signature.encode("ascii")):
        return "signature does not match"
    return None


def _reject_constant(name: str) -> Any:
    raise BodyError(f"JSON constant {name} is not allowed")


def _json_object(text: str, what: str) -> dict[str, Any]:
    try:
        value = json.loads(text, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as exc:
        raise BodyError(f"{what} is not valid JSON") from exc
    if not isinstance(value, dict):
        raise BodyError(f"{what} is not a JSON object")
    return value


# Interactivity payload types qlocks listens to. Bolt's own matchers crash (HTTP 500, even in its error handler) on
# some shapes Slack never sends, e.g. ``block_actions`` with ``actions: []``; so only these, checked, reach it.
HANDLED_PAYLOADS = frozenset({"block_actions"})


def unhandled_shape(body: dict[str, Any]) -> str | None:
    """Why Bolt should not see this (parsed) request, or None. Slash commands pass; payloads must be well formed."""
    if "command" in body and "type" not in body:
        return None
    kind = body.get("type")
    if kind not in HANDLED_PAYLOADS:
        return f"payload type {str(kind)[:40]!r} is not one qlocks handles"
    actions = body.get("actions")
    if not isinstance(actions, list) or not actions or len(actions) > 10:
        return "block_actions without a list of actions"
    for action in actions:
        if not isinstance(action, dict) or not isinstance(action.get("action_id"), str):
            return "an action without an action_id"
    return None


def parse_body(body: str, content_type: str | None) -> dict[str, Any]:
    """The request as Slack means it; ``BodyError`` when it is none of Slack's three shapes."""
    kind = (content_type or "").split(";", 1)[0].strip().lower()
    if not body:
        raise BodyError("empty body")
    if kind == "application/json":
        return _json_object(body, "body")
    if kind not in ("application/x-www-form-urlencoded", ""):
        raise BodyError(f"unexpected content type {kind!r}")
    try:
        fields = parse_qsl(body, keep_blank_values=True, strict_parsing=True, max_num_fields=200)
    except ValueError as exc:
        raise BodyError("body is not a form") from exc
    form: dict[str, str] = {}
    for key, value in fields:
        if key in form:
            raise BodyError(f"form field {key!r} appears twice")
        form[key] = value
    if "payload" in form:
        if len(form) != 1:
            raise BodyError("an interactivity form carries only its payload")
        payload = _json_object(form["payload"], "payload")
        if not isinstance(payload.get("type"), str):
            raise BodyError("payload has no type")
        return payload
    if not isinstance(form.get("command"), str) or not form["command"]:
        raise BodyError("form is neither a slash command nor an interactivity payload")
    return dict(form)


__all__ = [
    "HANDLED_PAYLOADS",
    "MAX_BODY_BYTES",
    "MAX_SKEW_S",
    "BodyError",
    "parse_body",
    "signature_problem",
    "unhandled_shape",
]
