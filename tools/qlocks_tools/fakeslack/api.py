"""Slack's side of qlocks, faked once: the Web API methods the bot calls and its response_urls, on one ``Channel``.

Serves the tests (``with FakeSlack(...) as fake``: on its own loopback port), the playground and the bench (mounted
at ``/api/`` and ``/respond/`` of the page's server through ``handle_http``). Every request is recorded in order as
a ``Call``; ``wait_for`` blocks (with a timeout, no sleeps) until the calls so far satisfy a predicate.

Slack's rules where qlocks relies on them: the bot token must match (``not_authed`` / ``invalid_auth``), blocks must
pass slack_sdk's Block Kit validators (``invalid_blocks``) and carry at most ~12k characters of text
(``msg_blocks_too_long``), ``chat.update`` works only on the app's own non-ephemeral messages, a response_url takes at
most 5 posts within 30 minutes (then HTTP 404 ``used_url`` / ``expired_url``), and one from a click replaces the
clicked message unless ``replace_original`` is false.

Knobs: ``fail(method, error, count=)`` (the next ``count`` calls, or all, answer ``ok: false``),
``fail_response_urls(status, count=, when=)``, ``channel.private`` / ``channel.bot_member`` (a private channel, DM or
group DM the bot is not in: Web API posts there answer ``not_in_channel``; response_urls still work), ``groups``
(user group -> members), ``on_call`` (runs before a Web API call or a response_url post is answered, e.g. to look at
the audit log right then).
"""

from __future__ import annotations

import json
import logging
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlsplit

from qlocks_tools.fakeslack.blocks import message_content
from qlocks_tools.fakeslack.channel import (
    APP_ID,
    BOT,
    BOT_ID,
    SLACKBOT,
    TEAM_DOMAIN,
    TEAM_ID,
    Channel,
    Message,
)
from qlocks_tools.fakeslack.wire import Loopback, bearer, parse_body

logger = logging.getLogger(__name__)

JsonDict = dict[str, Any]

RESPONSE_URL_USES = 5
RESPONSE_URL_TTL_S = 30 * 60
# Errors about what the bot tried to post (not about who it is): the channel shows them, Slack would drop them.
CONTENT_ERRORS = frozenset(
    {
        "invalid_blocks",
        "invalid_blocks_format",
        "no_text",
        "msg_too_long",
        "msg_blocks_too_long",
        "invalid_arguments",
    }
)


@dataclass(frozen=True, slots=True)
class Call:
    """One request to the fake Slack: a Web API method, a response_url post (``respond``) or a shown ack (``ack``)."""

    method: str
    body: JsonDict  # the parameters (Web API, token removed) or the posted message (response_url)
    token: str | None = None  # the token the Web API call carried
    status: int = 200  # the HTTP status Slack answered with (always 200 for the Web API)
    error: str | None = None  # Slack's error name (``ok: false`` / the response_url's error body)
    key: str | None = None  # the response_url's key (respond / ack)

    @property
    def ok(self) -> bool:
        return self.status == 200 and self.error is None


@dataclass(slots=True)
class _Target:
    user: str
    source_ts: str | None  # the clicked message: replaced unless replace_original is false
    created: float
    uses: int = 0
    posted_ts: str | None = None  # a command's earlier reply: replaced only when replace_original is true


class FakeSlack:
    """Web API methods (``call``) and response_url posts (``respond``) applied to ``channel``."""

    def __init__(
        self,
        channel: Channel | None = None,
        *,
        bot_token: str,
        groups: Mapping[str, list[str]] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.channel = channel if channel is not None else Channel(clock=clock)
        self.base_url = ""  # where it is served (serve() or the playground); response_urls are built on it
        self.bot_token = bot_token
        self.groups: dict[str, list[str]] = {k: list(v) for k, v in (groups or {}).items()}
        self.on_call: Callable[[Call], None] | None = None
        self._clock = clock
        self._cond = threading.Condition()
        self._calls: list[Call] = []
        self._targets: dict[str, _Target] = {}
        self._failures: dict[str, tuple[str, int | None]] = {}
        self._response_status: int | None = None
        self._response_count: int | None = None
        self._response_when: Callable[[JsonDict], bool] | None = None
        self._loopback: Loopback | None = None
        self._methods: dict[str, Callable[[JsonDict], JsonDict]] = {
            "auth.test": self._auth_test,
            "chat.postMessage": self._post_message,
            "chat.postEphemeral": self._post_ephemeral,
            "chat.update": self._update,
            "users.info": self._users_info,
            "usergroups.users.list": self._usergroup_users,
        }

    # -- serving -----------------------------------------------------------------------------------------------
    def serve(self, *, host: str = "127.0.0.1", port: int = 0) -> FakeSlack:
        """Listen on a loopback port of its own (``stop()`` or leaving the ``with`` block shuts it down)."""
        self._loopback = Loopback(self.handle_http, host=host, port=port)
        self.base_url = self._loopback.url
        return self

    @property
    def api_url(self) -> str:
        """``WebClient(base_url=...)`` for the bot."""
        return self.base_url + "/api/"

    def stop(self) -> None:
        if self._loopback is not None:
            self._loopback.stop()
            self._loopback = None

    def __enter__(self) -> FakeSlack:
        """``with FakeSlack(...) as fake``: served on its own loopback port for the block (unless already served)."""
        return self if self.base_url else self.serve()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def handle_http(
        self, target: str, raw: bytes, *, content_type: str = "", authorization: str = ""
    ) -> tuple[int, str, bytes] | None:
        """(status, Content-Type, body) for a request to ``/api/<method>`` or ``/respond/<key>``; else None."""
        url = urlsplit(target)
        body = parse_body(url.query, content_type, raw)
        if url.path.startswith("/respond/"):
            status, answer = self.respond(url.path[len("/respond/") :], body)
            return status, "text/plain; charset=utf-8", answer.encode("utf-8")
        if not url.path.startswith("/api/"):
            return None
        if body is None:
            result: JsonDict = {"ok": False, "error": "invalid_json"}
        else:
            token = bearer(authorization) or body.get("token")
            body.pop("token", None)
            result = self.call(url.path[len("/api/") :], body, token=token)
        return 200, "application/json; charset=utf-8", json.dumps(result).encode("utf-8")

    # -- knobs -------------------------------------------------------------------------------------------------
    def fail(self, method: str, error: str = "internal_error", *, count: int | None = None) -> None:
        """The next ``count`` calls to ``method`` (all, when None) answer ``{"ok": false, "error": error}``."""
        with self._cond:
            self._failures[method] = (error, count)

    def fail_response_urls(
        self,
        status: int | None,
        *,
        count: int | None = None,
        when: Callable[[JsonDict], bool] | None = None,
    ) -> None:
        """Response_url posts answer HTTP ``status`` (None: back to normal): all of them, or only those whose body
        satisfies ``when`` (e.g. the in_channel ones), and only the next ``count`` such posts when given."""
        with self._cond:
            self._response_status = status
            self._response_count = count
            self._response_when = when

    def _response_failure(self, body: Any) -> int | None:
        with self._cond:
            status, when = self._response_status, self._response_when
            if status is None or (when is not None and not (isinstance(body, dict) and when(body))):
                return None
            if self._response_count is not None:
                self._response_count -= 1
                if self._response_count <= 0:
                    self._response_status = None
            return status

    # -- recorded calls ----------------------------------------------------------------------------------------
    @property
    def calls(self) -> list[Call]:
        with self._cond:
            return list(self._calls)

    def calls_to(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    def responses(self, key: str | None = None) -> list[Call]:
        """Posts to response_urls (to the one named ``key``, if given), in order."""
        return [c for c in self.calls if c.method == "respond" and key in (None, c.key)]

    def wait_for(self, predicate: Callable[[list[Call]], bool], timeout: float = 5.0) -> list[Call]:
        """Block until ``predicate(calls)`` holds; returns the calls. AssertionError after ``timeout`` seconds."""
        with self._cond:
            if not self._cond.wait_for(lambda: predicate(list(self._calls)), timeout=timeout):
                raise AssertionError(f"timed out waiting; calls so far: {[c.method for c in self._calls]}")
            return list(self._calls)

    def _record(self, call: Call, *, user: str | None = None) -> None:
        with self._cond:
            self._calls.append(call)
            self._cond.notify_all()
        if call.ok:
            return
        logger.info("fake Slack: %s -> %s", call.method, call.error)
        if call.error in CONTENT_ERRORS:  # Slack would drop it silently; the channel should say so
            note = (
                f"Slack rejected a message from {BOT.name} ({call.method}): {call.error}. Nothing was shown."
            )
            self.channel.post(user=SLACKBOT.id, text=note, kind="system", visible_to=user or None)

    # -- Web API -----------------------------------------------------------------------------------------------
    def call(self, method: str, params: JsonDict, *, token: str | None) -> JsonDict:
        """Answer Web API ``method`` (as Slack would, always HTTP 200 with ``ok``)."""
        request = Call(method, dict(params), token=token)
        if self.on_call is not None:
            self.on_call(request)
        result = self._injected_failure(method) or self._answer(method, params, token)
        self._record(replace(request, error=None if result.get("ok") else str(result.get("error"))))
        return result

    def _injected_failure(self, method: str) -> JsonDict | None:
        with self._cond:
            if method not in self._failures:
                return None
            error, count = self._failures[method]
            if count is not None and count <= 1:
                del self._failures[method]
            elif count is not None:
                self._failures[method] = (error, count - 1)
        return {"ok": False, "error": error}

    def _answer(self, method: str, params: JsonDict, token: str | None) -> JsonDict:
        if not token:
            return {"ok": False, "error": "not_authed"}
        if not secrets.compare_digest(token, self.bot_token):
            return {"ok": False, "error": "invalid_auth"}
        if method not in self._methods:
            return {"ok": False, "error": "unknown_method"}
        return self._methods[method](params)

    def _auth_test(self, params: JsonDict) -> JsonDict:
        return {"ok": True, "url": f"https://{TEAM_DOMAIN}.slack.com/", "team": "qlocks playground", "user": BOT.name,
                "team_id": TEAM_ID, "user_id": BOT.id, "bot_id": BOT_ID, "app_id": APP_ID,
                "is_enterprise_install": False}  # fmt: skip

    def _check_channel(self, params: JsonDict) -> str | None:
        wanted = str(params.get("channel", ""))
        if wanted not in (self.channel.id, self.channel.name, "#" + self.channel.name):
            return "channel_not_found"
        if self.channel.private and not self.channel.bot_member:
            return "not_in_channel"
        return None

    def _message_json(self, msg: Message) -> JsonDict:
        return {"type": "message", "user": msg.user, "bot_id": BOT_ID, "ts": msg.ts, "text": msg.text,
                "blocks": msg.blocks}  # fmt: skip

    def _post_message(self, params: JsonDict) -> JsonDict:
        error = self._check_channel(params)
        content = message_content(params)
        if error or isinstance(content, str):
            return {"ok": False, "error": error or content}
        msg = self.channel.post(user=BOT.id, text=content[0], blocks=content[1])
        return {"ok": True, "channel": self.channel.id, "ts": msg.ts, "message": self._message_json(msg)}

    def _post_ephemeral(self, params: JsonDict) -> JsonDict:
        error = self._check_channel(params)
        user = str(params.get("user", ""))
        if not error and user not in self.channel.users:
            error = "user_not_in_channel"
        content = message_content(params)
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
        content = message_content(params)
        if isinstance(msg, str) or isinstance(content, str):
            return {"ok": False, "error": msg if isinstance(msg, str) else content}
        updated = self.channel.replace(msg.ts, text=content[0], blocks=content[1])
        return {"ok": True, "channel": self.channel.id, "ts": updated.ts, "text": updated.text,
                "message": self._message_json(updated)}  # fmt: skip

    def _users_info(self, params: JsonDict) -> JsonDict:
        user = self.channel.users.get(str(params.get("user", "")))
        if user is None:
            return {"ok": False, "error": "user_not_found"}
        profile = {"display_name": user.name, "real_name": user.real_name}
        return {"ok": True, "user": {"id": user.id, "team_id": TEAM_ID, "name": user.name,
                                     "real_name": user.real_name, "is_bot": user.is_bot, "profile": profile}}  # fmt: skip

    def _usergroup_users(self, params: JsonDict) -> JsonDict:
        group = str(params.get("usergroup", ""))
        with self._cond:
            members = self.groups.get(group)
        if members is None:
            return {"ok": False, "error": "no_such_subteam"}
        return {"ok": True, "users": list(members)}

    # -- response_url ------------------------------------------------------------------------------------------
    def response_url(self, key: str | None = None, *, user: str = "", source_ts: str | None = None) -> str:
        """A response_url for ``user``'s command, or their click on message ``source_ts``; ``key`` names it.

        Asking again for a key already handed out returns the same URL (its uses and age are kept).
        """
        key = key or secrets.token_urlsafe(18)
        with self._cond:
            self._targets.setdefault(key, _Target(user=user, source_ts=source_ts, created=self._clock()))
        return f"{self.base_url}/respond/{key}"

    def respond(self, key: str, body: Any) -> tuple[int, str]:
        """Apply a post to ``/respond/<key>``; returns (HTTP status, body) as Slack would answer."""
        if self.on_call is not None:
            self.on_call(Call("respond", dict(body) if isinstance(body, dict) else {"body": body}, key=key))
        failing = self._response_failure(body)
        status, answer = (failing, "internal_error") if failing else self._respond(key, body, count=True)
        return self._record_post("respond", key, body, status, answer)

    def apply_ack(self, response_url: str, body: JsonDict, *, ts: str | None = None) -> tuple[int, str]:
        """Show a command's ack body (the HTTP response) like a reply through its response_url, not counted.

        ``ts`` (reserved when the command was sent) keeps it ahead of replies the bot posted while the ack was
        still on its way back.
        """
        key = response_url.rsplit("/", 1)[-1]
        status, answer = self._respond(key, body, count=False, ts=ts)
        return self._record_post("ack", key, body, status, answer)

    def _record_post(self, method: str, key: str, body: Any, status: int, answer: str) -> tuple[int, str]:
        with self._cond:
            target = self._targets.get(key)
        params = dict(body) if isinstance(body, dict) else {"body": body}
        call = Call(method, params, status=status, error=None if status == 200 else answer, key=key)
        self._record(call, user=target.user if target else None)
        return status, answer

    def _respond(self, key: str, body: Any, *, count: bool, ts: str | None = None) -> tuple[int, str]:
        with self._cond:
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
        target: _Target,
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
        content = message_content(body)
        if isinstance(content, str):
            return 400, content
        replace_original = body.get("replace_original")
        if source is not None and (replace_original is True or (clicked and replace_original is not False)):
            self.channel.replace(source.ts, text=content[0], blocks=content[1])
            return 200, "ok"
        visible_to = None if body.get("response_type") == "in_channel" else target.user
        msg = self.channel.post(user=BOT.id, text=content[0], blocks=content[1], visible_to=visible_to, ts=ts)
        if not clicked:
            with self._cond:
                if target.posted_ts is None or ts is None:
                    target.posted_ts = msg.ts
        return 200, "ok"
