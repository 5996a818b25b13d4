"""``/qlocks``: help/usage, and ``search <query>`` answered in the channel after an immediate ack.

The listener acks at once (usage and refusals are the ack's own ephemeral body) and hands the search to ``deps.run``
(``bot.slack.background``), so Slack's 3-second limit holds however slow the cluster is and however many searches are
running. ``QueryError`` and ``QumuloError`` go to ``report_error``, which answers ephemerally.

A search's ack is empty: an ephemeral "Searching…" would stay on screen after the answer arrived, because a slash
command's ephemeral reply cannot be replaced or deleted later (``replace_original``/``delete_original`` on a command's
response_url post a new message instead: slackapi/bolt-js#2287, slackapi/bolt-python#1268). The answer itself is the
feedback; a search still running after ``ProgressPolicy.after_s`` says so, in words that stay true afterwards.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from slack_bolt import Ack, App, Respond

from bot.locks.models import Query
from bot.locks.query import QueryError, parse_query
from bot.slack import messages
from bot.slack.blocks import MAX_RESULTS, search_message
from bot.slack.deps import Deps, ProgressPolicy
from bot.slack.replies import reply
from bot.slack.text import code, command_text, escape_clip

logger = logging.getLogger(__name__)

COMMAND = "/qlocks"


def register(app: App, deps: Deps) -> None:
    def qlocks_command(ack: Ack, command: dict[str, Any], respond: Respond) -> None:
        on_command(deps, ack=ack, command=command, respond=respond)

    app.command(COMMAND)(qlocks_command)


class ProgressReporter:
    """The ``progress`` callback for ``LockService.search``: throttled ephemeral "scanning… N handles" posts."""

    def __init__(self, respond: Respond, deps: Deps, query: Query | None = None) -> None:
        self._respond = respond
        self._what = f" *{escape_clip(deps.cluster, 100)}*" + (
            f" for {code(query.text, 300)}" if query else ""
        )
        self._now = deps.monotonic
        self._policy: ProgressPolicy = deps.progress
        self._started = self._now()
        self._last: float | None = None
        self._sent = 0
        self._lock = threading.Lock()

    @property
    def sent(self) -> int:
        return self._sent

    def __call__(self, scanned: int) -> None:
        now = self._now()
        with self._lock:
            policy = self._policy
            if self._sent >= min(policy.max_updates, 3) or now - self._started < policy.after_s:
                return
            if self._last is not None and now - self._last < policy.every_s:
                return
            self._last = now
            self._sent += 1
        reply(
            self._respond,
            text=f"⏳ Searching{self._what}: {scanned:,} handles scanned so far. The answer will be posted here.",
            response_type="ephemeral",
        )


def looks_like_a_query(text: str) -> bool:
    """True for what can only be a search: a path (``.``, ``/``, ``\\``), a URL or ``ip:``/``host:``/``user:``.

    A plain word (``/qlocks close``, ``/qlocks recent``) is more likely a command we do not have; that one gets
    "did you mean" instead of a search for the word.
    """
    plain = command_text(text).strip().strip("\"'`")
    if plain.lower().startswith(("ip:", "host:", "user:", "smb://", "cifs://")):
        return True
    return any(c in plain for c in "./\\") and len(plain) >= 2


def on_command(deps: Deps, *, ack: Ack, command: dict[str, Any], respond: Respond) -> None:
    text = str(command.get("text") or "").strip()
    sub, _, rest = text.partition(" ")
    sub = sub.lower()
    if sub in ("", "help", "-h", "--help", "usage"):
        ack(text=messages.usage(deps.cluster), response_type="ephemeral")
        return
    if sub == "search":
        pass
    elif looks_like_a_query(text):  # "/qlocks budget.xlsx": the user forgot "search"; do what they meant
        rest = text
    else:
        plain = command_text(text)
        ack(text=messages.unknown_subcommand(plain.partition(" ")[0], plain), response_type="ephemeral")
        return
    decision = deps.authz.may_use(command.get("channel_id"))
    if not decision.allowed:
        ack(text=decision.reason, response_type="ephemeral")
        return
    if not rest.strip():
        ack(text="Search for what? " + messages.usage(deps.cluster), response_type="ephemeral")
        return
    try:
        # Parsed once, here: a query that cannot be understood is answered now, not after "Searching…"
        query = parse_query(command_text(rest))
    except QueryError as exc:
        ack(text=messages.search_error(exc, cluster=deps.cluster), response_type="ephemeral")
        return
    ack()  # nothing to show: the answer follows (see the module docstring)
    user = command.get("user_id")
    logger.info("search by %s in %s: %r", user, command.get("channel_id"), query.text[:200])
    deps.run(lambda: answer_search(deps, query, user=user, respond=respond), body=command, respond=respond)


def answer_search(deps: Deps, query: Query, *, user: str | None, respond: Respond) -> None:
    """The work after the ack: search (with progress), then the in-channel answer or "too broad"."""
    result = deps.service.search(query, progress=ProgressReporter(respond, deps, query))
    if result.matched_handles > MAX_RESULTS:
        reply(respond, text=messages.too_broad(result, MAX_RESULTS), response_type="ephemeral")
        return
    message = search_message(result, searcher=user, offset=0, now=deps.clock())
    # A path that does not exist is the searcher's typo, not news for the channel: only they see it.
    where = "ephemeral" if result.no_such_file else "in_channel"
    reply(respond, text=message.text, blocks=message.blocks, response_type=where)
