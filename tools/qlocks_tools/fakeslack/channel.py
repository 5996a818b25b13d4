"""In-memory state of the fake Slack's one channel: people, messages in order, a version to wait on.

Thread-safe: the page's requests, the bot's Web API calls and its response_url posts all arrive on different threads.
Messages are copied in and out, so callers never hold a reference into the store.
"""

from __future__ import annotations

import copy
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

logger = logging.getLogger(__name__)

JsonDict = dict[str, Any]

TEAM_ID = "T0PLAYGND"
TEAM_DOMAIN = "qlocks-playground"
APP_ID = "A0QLOCKS"
BOT_ID = "B0QLOCKS"


@dataclass(frozen=True, slots=True)
class User:
    id: str
    name: str  # what a mention shows: @name
    real_name: str  # what the "who am I" switch shows
    is_bot: bool = False
    is_admin: bool = False  # only for the page's label; the bot decides from its own QlocksConfig


DANA = User("U0DANA", "dana", "dana (help desk)")
ALEX = User("U0ALEX", "alex", "alex (storage admin)", is_admin=True)
BOT = User("U0QLOCKS", "qlocks", "qlocks", is_bot=True)
SLACKBOT = User("USLACKBOT", "Slackbot", "Slackbot", is_bot=True)
DEFAULT_USERS = (DANA, ALEX, BOT, SLACKBOT)


@dataclass(slots=True)
class Message:
    ts: str
    user: str  # author's user id
    text: str
    blocks: list[JsonDict] = field(default_factory=list)
    kind: str = "bot"  # "user" (typed in the page), "bot" (from the app), "system" (Slack's own notes)
    visible_to: str | None = None  # set for an ephemeral message: only this user sees it
    updates: int = 0  # how many times it was replaced or updated

    @property
    def ephemeral(self) -> bool:
        return self.visible_to is not None

    def to_json(self) -> JsonDict:
        return {
            "ts": self.ts,
            "user": self.user,
            "text": self.text,
            "blocks": copy.deepcopy(self.blocks),
            "kind": self.kind,
            "ephemeral": self.ephemeral,
            "updated": self.updates > 0,
        }


class Channel:
    """One channel's message list. ``version`` increases on every change; ``wait_for_change`` blocks on it."""

    def __init__(
        self,
        *,
        channel_id: str = "C0STORAGE",
        name: str = "storage-ops",
        users: tuple[User, ...] = DEFAULT_USERS,
        clock: Callable[[], float] = time.time,
        private: bool = False,
        bot_member: bool = True,
    ) -> None:
        self.id = channel_id
        self.name = name
        # Knobs: a private channel, DM or group DM the bot is not a member of takes no Web API posts from it
        # (``chat:write.public`` covers public channels only); response_urls still work there.
        self.private = private
        self.bot_member = bot_member
        self.users: dict[str, User] = {u.id: u for u in users}
        self._clock = clock
        self._messages: list[Message] = []
        self._version = 0
        self._last_us = 0
        self._cond = threading.Condition()

    # -- reading -------------------------------------------------------------------------------------------------
    @property
    def version(self) -> int:
        with self._cond:
            return self._version

    def get(self, ts: str) -> Message | None:
        """A copy of the message with this ts (ephemeral ones included), or None."""
        with self._cond:
            msg = self._find(ts)
            return copy.deepcopy(msg) if msg is not None else None

    def messages(self) -> list[Message]:
        """Copies of every message, in order (what an observer with full access would see)."""
        with self._cond:
            return copy.deepcopy(self._messages)

    def visible_to(self, user_id: str) -> list[Message]:
        """What ``user_id`` sees: every public message and the ephemeral ones addressed to them."""
        with self._cond:
            return [copy.deepcopy(m) for m in self._messages if m.visible_to in (None, user_id)]

    def wait_for_change(self, since: int, timeout: float) -> int:
        """Block until ``version > since`` or ``timeout`` seconds pass; returns the current version."""
        with self._cond:
            self._cond.wait_for(lambda: self._version > since, timeout=max(0.0, timeout))
            return self._version

    # -- writing -------------------------------------------------------------------------------------------------
    def post(
        self,
        *,
        user: str,
        text: str,
        blocks: list[JsonDict] | None = None,
        kind: str = "bot",
        visible_to: str | None = None,
        ts: str | None = None,
    ) -> Message:
        """Append a message; with ``ts`` (from ``reserve_ts``) it goes where that moment falls in the history."""
        with self._cond:
            msg = Message(
                ts=ts or self._next_ts(),
                user=user,
                text=text,
                blocks=copy.deepcopy(blocks or []),
                kind=kind,
                visible_to=visible_to,
            )
            index = len(self._messages)
            while index > 0 and _ts_key(self._messages[index - 1].ts) > _ts_key(msg.ts):
                index -= 1
            self._messages.insert(index, msg)
            self._changed()
            logger.debug("posted %s (%s%s)", msg.ts, kind, ", ephemeral" if visible_to else "")
            return copy.deepcopy(msg)

    def reserve_ts(self) -> str:
        """A ts for a message that will be posted later but belongs at this moment (a command's ack)."""
        with self._cond:
            return self._next_ts()

    def replace(self, ts: str, *, text: str, blocks: list[JsonDict] | None) -> Message:
        """Replace a message's text and blocks in place (keeps its ts, author and visibility). KeyError if absent."""
        with self._cond:
            msg = self._find(ts)
            if msg is None:
                raise KeyError(ts)
            msg.text = text
            msg.blocks = copy.deepcopy(blocks or [])
            msg.updates += 1
            self._changed()
            return copy.deepcopy(msg)

    def delete(self, ts: str) -> Message:
        with self._cond:
            msg = self._find(ts)
            if msg is None:
                raise KeyError(ts)
            self._messages.remove(msg)
            self._changed()
            return msg

    def touch(self) -> None:
        """Signal a change that is not a message (e.g. the cluster changed), waking long-polls."""
        with self._cond:
            self._changed()

    def wake_all(self) -> None:
        """Wake every waiter without a change (used on shutdown)."""
        with self._cond:
            self._version += 1
            self._cond.notify_all()

    # -- internals -----------------------------------------------------------------------------------------------
    def _find(self, ts: str) -> Message | None:
        for msg in self._messages:
            if msg.ts == ts:
                return msg
        return None

    def _changed(self) -> None:
        self._version += 1
        self._cond.notify_all()

    def _next_ts(self) -> str:
        """Slack-style ``seconds.micros``, strictly increasing even within one microsecond."""
        now_us = int(self._clock() * 1_000_000)
        self._last_us = max(self._last_us + 1, now_us)
        return f"{self._last_us // 1_000_000}.{self._last_us % 1_000_000:06d}"


def _ts_key(ts: str) -> tuple[int, int]:
    seconds, _, micros = ts.partition(".")
    return int(seconds), int(micros or 0)
