"""The playground's stand-in for Slack's servers: the Web API methods qlocks calls and the response_url sink.

Every call is recorded (``calls``) so tests can assert on what the bot sent. Validation follows Slack where it
matters for qlocks: the bot token must match, blocks must pass slack_sdk's Block Kit validators (``invalid_blocks``),
``chat.update`` works only on the app's own non-ephemeral messages, and a response_url takes at most 5 posts within
30 minutes. A response_url from a click replaces the clicked message unless ``replace_original`` is false.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from qlocks_tools.playground.blockcheck import MAX_TEXT, blocks_param, validate_blocks
from qlocks_tools.playground.channel import (
    APP_ID,
    BOT,
    BOT_ID,
    SLACKBOT,
    TEAM_DOMAIN,
    TEAM_ID,
    Channel,
    Message,
)

logger = logging.getLogger(__name__)

JsonDict = dict[str, Any]

RESPONSE_URL_USES = 5
RESPONSE_URL_TTL_S = 30 * 60
# Errors about what the bot tried to post (not about who it is): the playground shows them in the channel.
CONTENT_ERRORS = frozenset(
    {"invalid_blocks", "invalid_blocks_format", "no_text", "msg_too_long", "invalid_arguments"}
)


@dataclass(frozen=True, slots=True)
class ApiCall:
    """One recorded request to the fake Slack: a Web API method or a response_url post (method ``respond``)."""

    method: str
    params: JsonDict
    ok: bool
    error: str | None = None


@dataclass(slots=True)
class _ResponseTarget:
    user: str
    source_ts: str | None  # the clicked message: replaced unless replace_original is false
    created: float
    uses: int = 0
    posted_ts: str | None = None  # a command's earlier reply: replaced only when replace_original is true


class FakeSlack:
    """Web API methods (``call``) and response_url posts (``respond``) applied to one ``Channel``."""

    def __init__(
        self,
        channel: Channel,
        *,
        bot_token: str,
        usergroups: Mapping[str, list[str]] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.channel = channel
        self.base_url = ""  # the server's URL, set once it listens; response_urls are built on it
        self._bot_token = bot_token
        self._usergroups = {k: list(v) for k, v in (usergroups or {}).items()}
        self._clock = clock
        self._lock = threading.Lock()
        self._calls: list[ApiCall] = []
        self._targets: dict[str, _ResponseTarget] = {}
        self._methods: dict[str, Callable[[JsonDict], JsonDict]] = {
            "api.test": lambda p: {"ok": True, "args": p},
            "auth.test": self._auth_test,
            "chat.postMessage": self._post_message,
            "chat.postEphemeral": self._post_ephemeral,
            "chat.update": self._update,
            "chat.delete": self._delete,
            "conversations.info": self._conversations_info,
            "users.info": self._users_info,
            "usergroups.users.list": self._usergroup_users,
        }

    # -- recording -------------------------------------------------------------------------------------------
    @property
    def calls(self) -> list[ApiCall]:
        with self._lock:
            return list(self._calls)

    def _record(self, method: str, params: JsonDict, result: JsonDict, *, user: str | None = None) -> None:
        call = ApiCall(method, params, bool(result.get("ok")), result.get("error"))
        with self._lock:
            self._calls.append(call)
        if call.ok:
            return
        logger.info("fake Slack: %s -> %s", method, call.error)
        if call.error in CONTENT_ERRORS:  # Slack would drop it silently; a playground should say so
            note = f"Slack rejected a message from {BOT.name} ({method}): {call.error}. Nothing was shown."
            self.channel.post(user=SLACKBOT.id, text=note, kind="system", visible_to=user)

    # -- Web API ---------------------------------------------------------------------------------------------
    def call(self, method: str, params: JsonDict, *, token: str | None) -> JsonDict:
        """Answer Web API ``method`` (as Slack would, always HTTP 200 with ``ok``)."""
        if not token:
            result: JsonDict = {"ok": False, "error": "not_authed"}
        elif not secrets.compare_digest(token, self._bot_token):
            result = {"ok": False, "error": "invalid_auth"}
        elif method not in self._methods:
            result = {"ok": False, "error": "unknown_method"}
        else:
            result = self._methods[method](params)
        self._record(method, params, result)
        return result

    def _auth_test(self, params: JsonDict) -> JsonDict:
        return {
            "ok": True,
            "url": f"https://{TEAM_DOMAIN}.slack.com/",
            "team": "qlocks playground",
            "user": BOT.name,
            "team_id": TEAM_ID,
            "user_id": BOT.id,
            "bot_id": BOT_ID,
            "app_id": APP_ID,
            "is_enterprise_install": False,
        }

    def _check_channel(self, params: JsonDict) -> str | None:
        wanted = str(params.get("channel", ""))
        if wanted not in (self.channel.id, self.channel.name, "#" + self.channel.name):
            return "channel_not_found"
        return None

    def _message_content(self, params: JsonDict) -> tuple[str, list[JsonDict]] | str:
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

    def _message_json(self, msg: Message) -> JsonDict:
        return {"type": "message", "user": msg.user, "bot_id": BOT_ID, "ts": msg.ts, "text": msg.text,
                "blocks": msg.blocks}  # fmt: skip

    def _post_message(self, params: JsonDict) -> JsonDict:
        error = self._check_channel(params)
        content = self._message_content(params)
        if error or isinstance(content, str):
            return {"ok": False, "error": error or content}
        msg = self.channel.post(user=BOT.id, text=content[0], blocks=content[1])
        return {"ok": True, "channel": self.channel.id, "ts": msg.ts, "message": self._message_json(msg)}

    def _post_ephemeral(self, params: JsonDict) -> JsonDict:
        error = self._check_channel(params)
        user = str(params.get("user", ""))
        if not error and user not in self.channel.users:
            error = "user_not_in_channel"
        content = self._message_content(params)
        if error or isinstance(content, str):
            return {"ok": False, "error": error or content}
        msg = self.channel.post(user=BOT.id, text=content[0], blocks=content[1], visible_to=user)
        return {"ok": True, "message_ts": msg.ts}

    def _own_message(self, params: JsonDict) -> Message | str:
        error = self._check_channel(params)
        if error:
            return error
        msg = self.channel.get(str(params.get("ts", "")))
        if msg is None or msg.ephemeral:  # ephemeral messages cannot be edited through the Web API
            return "message_not_found"
        if msg.user != BOT.id:
            return "cant_update_message"
        return msg

    def _update(self, params: JsonDict) -> JsonDict:
        msg = self._own_message(params)
        content = self._message_content(params)
        if isinstance(msg, str) or isinstance(content, str):
            return {"ok": False, "error": msg if isinstance(msg, str) else content}
        updated = self.channel.replace(msg.ts, text=content[0], blocks=content[1])
        return {"ok": True, "channel": self.channel.id, "ts": updated.ts, "text": updated.text,
                "message": self._message_json(updated)}  # fmt: skip

    def _delete(self, params: JsonDict) -> JsonDict:
        msg = self._own_message(params)
        if isinstance(msg, str):
            return {"ok": False, "error": "cant_delete_message" if msg == "cant_update_message" else msg}
        self.channel.delete(msg.ts)
        return {"ok": True, "channel": self.channel.id, "ts": msg.ts}

    def _conversations_info(self, params: JsonDict) -> JsonDict:
        error = self._check_channel(params)
        if error:
            return {"ok": False, "error": error}
        channel = {"id": self.channel.id, "name": self.channel.name, "is_channel": True, "is_member": True}
        return {"ok": True, "channel": channel}

    def _users_info(self, params: JsonDict) -> JsonDict:
        user = self.channel.users.get(str(params.get("user", "")))
        if user is None:
            return {"ok": False, "error": "user_not_found"}
        profile = {"display_name": user.name, "real_name": user.real_name}
        return {"ok": True, "user": {"id": user.id, "team_id": TEAM_ID, "name": user.name,
                                     "real_name": user.real_name, "is_bot": user.is_bot, "profile": profile}}  # fmt: skip

    def _usergroup_users(self, params: JsonDict) -> JsonDict:
        group = str(params.get("usergroup", ""))
        if group not in self._usergroups:
            return {"ok": False, "error": "no_such_subteam"}
        return {"ok": True, "users": list(self._usergroups[group])}

    # -- response_url ----------------------------------------------------------------------------------------
    def new_response_url(self, *, user: str, source_ts: str | None) -> str:
        key = secrets.token_urlsafe(18)
        with self._lock:
            self._targets[key] = _ResponseTarget(user=user, source_ts=source_ts, created=self._clock())
        return f"{self.base_url}/respond/{key}"

    def respond(self, key: str, body: Any) -> tuple[int, str]:
        """Apply a post to ``/respond/<key>``; returns (HTTP status, body) as Slack would answer."""
        status, answer = self._respond(key, body, count=True)
        params = dict(body) if isinstance(body, dict) else {"body": body}
        with self._lock:
            target = self._targets.get(key)
        result = {"ok": status == 200, "error": None if status == 200 else answer}
        self._record("respond", params, result, user=target.user if target else None)
        return status, answer

    def apply_ack(self, response_url: str, body: JsonDict, *, ts: str | None = None) -> tuple[int, str]:
        """Show a command's ack body (the HTTP response) like a reply through its response_url, not counted.

        ``ts`` (reserved when the command was sent) keeps it ahead of replies the bot posted while the ack was
        still on its way back.
        """
        key = response_url.rsplit("/", 1)[-1]
        status, answer = self._respond(key, body, count=False, ts=ts)
        with self._lock:
            target = self._targets.get(key)
        result = {"ok": status == 200, "error": None if status == 200 else answer}
        self._record("ack", dict(body), result, user=target.user if target else None)
        return status, answer

    def _respond(self, key: str, body: Any, *, count: bool, ts: str | None = None) -> tuple[int, str]:
        with self._lock:
            target = self._targets.get(key)
            if target is None or self._clock() - target.created > RESPONSE_URL_TTL_S:
                return 404, "expired_url"
            if count and target.uses >= RESPONSE_URL_USES:
                return 404, "used_url"
            target.uses += int(count)
        if not isinstance(body, dict):
            return 400, "invalid_payload"
        clicked = target.source_ts is not None
        original_ts = target.source_ts or target.posted_ts
        source = self.channel.get(original_ts) if original_ts else None
        try:
            return self._apply(target, source, body, clicked=clicked, ts=ts)
        except KeyError:  # the original vanished between lookup and change
            return 404, "message_not_found"

    def _apply(
        self,
        target: _ResponseTarget,
        source: Message | None,
        body: JsonDict,
        *,
        clicked: bool,
        ts: str | None,
    ) -> tuple[int, str]:
        if body.get("delete_original") is True:
            if source is None:
                return 404, "message_not_found"
            self.channel.delete(source.ts)
            return 200, "ok"
        content = self._message_content(body)
        if isinstance(content, str):
            return 400, content
        replace = body.get("replace_original")
        if source is not None and (replace is True or (clicked and replace is not False)):
            self.channel.replace(source.ts, text=content[0], blocks=content[1])
            return 200, "ok"
        visible_to = None if body.get("response_type") == "in_channel" else target.user
        msg = self.channel.post(user=BOT.id, text=content[0], blocks=content[1], visible_to=visible_to, ts=ts)
        if not clicked:
            with self._lock:
                if target.posted_ts is None or ts is None:
                    target.posted_ts = msg.ts
        return 200, "ok"
