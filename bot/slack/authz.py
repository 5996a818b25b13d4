"""Who may do what, where. Deny by default; checked on the server for every command and every click.

- ``QLOCKS_CHANNELS`` (empty = anywhere): where ``/qlocks`` and its buttons may be used at all.
- Searching and paging: anyone in an allowed channel.
- Closing: users listed in ``QLOCKS_ADMINS``, or members of a ``QLOCKS_ADMIN_GROUPS`` user group (looked up through
  ``members_of``, i.e. ``usergroups.users.list``, cached for ``ttl_s`` with an injected clock). Nobody when both are empty.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass

from bot.slack.text import escape_clip

logger = logging.getLogger(__name__)


class GroupLookupError(Exception):
    """A user group's members could not be listed (API error, missing scope, plan limits); message says which."""


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    reason: str  # why not (mrkdwn for the user); "" when allowed

    @classmethod
    def allow(cls) -> Decision:
        return cls(True, "")

    @classmethod
    def deny(cls, reason: str) -> Decision:
        return cls(False, reason)


class Authorizer:
    def __init__(
        self,
        *,
        admins: Collection[str],
        admin_groups: Collection[str],
        channels: Collection[str],
        members_of: Callable[[str], Collection[str]],
        ttl_s: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.admins = frozenset(admins)
        self.admin_groups = tuple(sorted(admin_groups))
        self.channels = frozenset(channels)
        self._members_of = members_of
        self._ttl_s = ttl_s
        self._clock = clock
        self._cache: dict[str, tuple[float, frozenset[str]]] = {}
        self._lock = threading.Lock()

    def may_use(self, channel_id: str | None) -> Decision:
        """Searching and paging: only the channel restriction applies."""
        if not self.channels:
            return Decision.allow()
        if channel_id and channel_id in self.channels:
            return Decision.allow()
        where = ", ".join(f"<#{c}>" for c in sorted(self.channels))
        return Decision.deny(f"qlocks is not enabled in this channel. Use it in {where}.")

    def may_close(self, user_id: str | None, channel_id: str | None) -> Decision:
        """Closing a handle: allowed channel AND (listed admin OR member of an admin group)."""
        where = self.may_use(channel_id)
        if not where.allowed:
            return where
        if not user_id:
            return Decision.deny("Not authorized: the request did not say who you are.")
        if user_id in self.admins:
            return Decision.allow()
        failures: list[str] = []
        for group in self.admin_groups:
            try:
                if user_id in self._members(group):
                    return Decision.allow()
            except GroupLookupError as exc:
                logger.warning("admin group %s lookup failed: %s", group, exc)
                failures.append(str(exc))
        if not self.admins and not self.admin_groups:
            return Decision.deny(
                "Not authorized: no qlocks admins are configured (`QLOCKS_ADMINS` / `QLOCKS_ADMIN_GROUPS`), "
                "so nobody can close handles from Slack."
            )
        reason = "Not authorized: only qlocks admins can close handles. Ask one of them, or an operator to add you."
        if failures:
            reason += f" (Admin group membership could not be checked: {escape_clip(failures[0], 200)}.)"
        return Decision.deny(reason)

    def _members(self, group: str) -> frozenset[str]:
        now = self._clock()
        with self._lock:
            cached = self._cache.get(group)
            if cached is not None and cached[0] > now:
                return cached[1]
            members = frozenset(self._members_of(group))  # under the lock: concurrent clicks share one lookup
            self._cache[group] = (now + self._ttl_s, members)
            return members
