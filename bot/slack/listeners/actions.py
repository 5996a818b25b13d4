"""Buttons: **Close handle** and Prev/Next.

Both ack at once and do the rest on ``deps.run`` (``bot.slack.background``).
Close: ack -> decode the (untrusted) button -> authorize (deny by default) -> double-click guard -> ``LockService.close``
(which re-checks the handle and closes exactly that location, never retried) -> audit (fsync'd, before any Slack post)
-> replace that row in the message -> one line in the channel (through the click's response_url, which needs no
channel membership; ``chat.postMessage`` if that fails). Anything short of "closed" is explained ephemerally and the
list stays as it was.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.audit import AuditRecord
from bot.locks.models import CloseOutcome, CloseStatus, HandleRef
from bot.locks.query import QueryError, parse_query
from bot.qumulo.errors import QumuloError
from bot.slack import messages
from bot.slack.blocks import (
    CLOSE_ACTION,
    MAX_RESULTS,
    PAGE_NEXT_ACTION,
    PAGE_PREV_ACTION,
    client_label,
    closed_block,
    search_message,
)
from bot.slack.deps import Deps
from bot.slack.refs import decode_page, decode_ref
from bot.slack.replies import reply
from bot.slack.update import changed_block, gone_block, settle_row

logger = logging.getLogger(__name__)

Body = dict[str, Any]


def register(app: App, deps: Deps) -> None:
    def close_clicked(ack: Ack, body: Body, client: WebClient, respond: Respond) -> None:
        on_close(deps, ack=ack, body=body, client=client, respond=respond)

    def page_clicked(ack: Ack, body: Body, respond: Respond) -> None:
        on_page(deps, ack=ack, body=body, respond=respond)

    app.action(CLOSE_ACTION)(close_clicked)
    app.action(PAGE_PREV_ACTION)(page_clicked)
    app.action(PAGE_NEXT_ACTION)(page_clicked)


def _ephemeral(respond: Respond, text: str) -> None:
    reply(respond, text=text, response_type="ephemeral", replace_original=False)


class _Attempt:
    """The facts of one click, for audit records."""

    def __init__(self, deps: Deps, body: Body) -> None:
        user, channel, team = _object(body, "user"), _object(body, "channel"), _object(body, "team")
        self.deps = deps
        self.user_id = _text(user, "id") or ""
        self.user_name = _text(user, "username") or _text(user, "name")
        self.team_id = _text(team, "id") or _text(user, "team_id")
        self.channel_id = _text(channel, "id")
        self.channel_name = _text(channel, "name")

    def record(
        self,
        result: str,
        message: str,
        *,
        ref: HandleRef | None = None,
        outcome: CloseOutcome | None = None,
        searcher: str | None = None,
    ) -> AuditRecord:
        row = outcome.row if outcome else None
        return AuditRecord(
            at=self.deps.clock(),
            result=result,
            user_id=self.user_id,
            user_name=self.user_name,
            channel_id=self.channel_id,
            channel_name=self.channel_name,
            team_id=self.team_id,
            file=row.ref.path if row else ref.path if ref else None,
            file_number=ref.file_number if ref else None,
            location=ref.location if ref else None,
            holder=row.holder if row else None,
            client=client_label(row) if row else None,
            message=message,
            searcher_id=searcher,
            cluster=self.deps.cluster,
        )

    def audit(self, record: AuditRecord, *, pending: int | None = None) -> bool:
        if self.deps.metrics is not None:  # every close attempt is audited once: counted here, by its result
            self.deps.metrics.closed(record.result)
        try:
            self.deps.audit.append(record, pending=pending)
        except OSError:
            logger.exception("could not write the audit record for %s (%s)", record.location, record.result)
            return False
        return True


def _object(body: Body, key: str) -> dict[str, Any]:
    """``body[key]`` when it is a JSON object; anything else (a string, a list, null) reads as empty."""
    value = body.get(key) if isinstance(body, dict) else None
    return value if isinstance(value, dict) else {}


def _text(obj: dict[str, Any], key: str, limit: int = 200) -> str | None:
    """A short string field, or None: a number, a list or a megabyte of text is not an ID or a name."""
    value = obj.get(key)
    return value if isinstance(value, str) and 0 < len(value) <= limit else None


def _action(body: Body) -> dict[str, Any]:
    actions = body.get("actions")
    first = actions[0] if isinstance(actions, list) and actions else None
    return first if isinstance(first, dict) else {}


def on_close(deps: Deps, *, ack: Ack, body: Body, client: WebClient, respond: Respond) -> None:
    ack()
    deps.run(
        lambda: close_handle(deps, body=body, client=client, respond=respond), body=body, respond=respond
    )


STOPPED_MID_CLOSE = (
    "close sent to the cluster; if this record still says closing, qlocks stopped before the cluster answered "
    "and the handle may or may not be closed"
)


def close_handle(deps: Deps, *, body: Body, client: WebClient, respond: Respond) -> None:
    """The work after the ack: decode, authorize, guard, close, audit, then tell Slack."""
    attempt = _Attempt(deps, body)
    action = _action(body)
    try:
        button = decode_ref(action.get("value"))
    except ValueError as exc:
        attempt.audit(attempt.record("invalid", str(exc)))
        _ephemeral(respond, messages.invalid_button())
        return
    ref, searcher = button.ref, button.searcher
    if button.cluster != deps.cluster:
        attempt.audit(
            attempt.record("invalid", f"button from cluster {button.cluster!r}", ref=ref, searcher=searcher)
        )
        _ephemeral(respond, messages.wrong_cluster(button.cluster, deps.cluster))
        return
    decision = deps.authz.may_close(attempt.user_id, attempt.channel_id)
    if not decision.allowed:
        attempt.audit(attempt.record("denied", decision.reason, ref=ref, searcher=searcher))
        _ephemeral(respond, decision.reason)
        return
    claim = deps.guard.begin(ref.location, attempt.user_id)
    if claim is not None:
        attempt.audit(attempt.record("duplicate", f"claimed by {claim.user_id}", ref=ref, searcher=searcher))
        _ephemeral(respond, messages.duplicate(closer=claim.user_id, at=claim.at, settled=claim.settled))
        return
    settled = False
    # Committed before anything can reach the cluster: if this process dies mid-close, the store still says who
    # was closing what (a ``closing`` record); every path below completes it with the outcome.
    pending = deps.audit.begin(attempt.record("closed", STOPPED_MID_CLOSE, ref=ref, searcher=searcher))
    try:
        outcome = deps.service.close(ref)
        # Only a close this bot made is settled (later clicks hear "closed by <@U> at HH:MM"). A handle found
        # gone was not closed by the clicker; a later click re-checks and is told it is gone, not who "closed" it.
        settled = outcome.status is CloseStatus.CLOSED
    except QumuloError as exc:
        attempt.audit(attempt.record("failed", str(exc), ref=ref, searcher=searcher), pending=pending)
        _ephemeral(respond, messages.close_error(exc, path=ref.path, cluster=deps.cluster))
        return
    except Exception as exc:  # not handled here: audited (every attempt is), then the app's error handler
        attempt.audit(
            attempt.record("error", type(exc).__name__, ref=ref, searcher=searcher), pending=pending
        )
        raise
    finally:
        deps.guard.finish(ref.location, settled=settled)
    record = attempt.record(
        outcome.status.value, outcome.message, ref=ref, outcome=outcome, searcher=searcher
    )
    audited = attempt.audit(record, pending=pending)
    if outcome.status is not CloseStatus.CLOSED:
        _ephemeral(respond, messages.close_refused(outcome))
        block_id = action.get("block_id")
        if isinstance(block_id, str) and outcome.status in (CloseStatus.GONE, CloseStatus.CHANGED):
            stale = (
                gone_block(block_id, at=record.at, path=ref.path)
                if outcome.status is CloseStatus.GONE
                else changed_block(block_id, at=record.at)
            )
            _replace_row(body, action, respond, new=stale)  # the row loses its button; counts go down
        return
    _replace_row(
        body,
        action,
        respond,
        new=closed_block(
            str(action.get("block_id")),
            closer=attempt.user_id,
            at=record.at,
            ref=outcome.ref,
            row=outcome.row,
        ),
    )
    _announce(record, client=client, respond=respond, channel=attempt.channel_id, deps=deps)
    if not audited:
        _ephemeral(respond, messages.audit_failed())


def _announce(
    record: AuditRecord, *, client: WebClient, respond: Respond, channel: str | None, deps: Deps
) -> None:
    """The channel's who-closed-what line: through the click's response_url first (``in_channel``, a new message),
    which works in private channels, DMs and group DMs the bot is not a member of (``chat:write.public`` covers
    public channels only); through ``chat.postMessage`` when that post fails; a warning to the clicker when both do.

    The click's response_url takes 5 posts: the row replacement used one, this line one, and the warnings below
    (this one and the audit one) at most two more.
    """
    line = messages.closed_line(record)
    sent = reply(
        respond,
        text=line,
        response_type="in_channel",
        replace_original=False,
        unfurl_links=False,
        unfurl_media=False,
    )
    if sent:
        return
    try:
        client.chat_postMessage(channel=channel or "", text=line, unfurl_links=False, unfurl_media=False)
        return
    except SlackApiError as exc:
        error = str(exc.response.get("error") or "error")
    except (SlackClientError, OSError) as exc:
        error = type(exc).__name__
    if deps.metrics is not None:
        deps.metrics.slack_error("chat.postMessage", error)
    logger.warning("the close note could not be posted (response_url failed; chat.postMessage: %s)", error)
    _ephemeral(respond, messages.post_failed(error))


def _replace_row(body: Body, action: dict[str, Any], respond: Respond, *, new: dict[str, Any]) -> None:
    """Re-send the clicked message with the clicked row changed to ``new`` and the counts it was part of lowered."""
    message = _object(body, "message")
    blocks = message.get("blocks")
    block_id = action.get("block_id")
    if not isinstance(blocks, list) or not isinstance(block_id, str):
        return
    text = str(message["text"]) if isinstance(message.get("text"), str) else "qlocks"
    settled = settle_row(blocks, block_id, new, text=text)
    if settled is None:
        logger.warning("clicked block %r not found in the message; row not replaced", block_id)
        return
    reply(respond, text=settled[1], blocks=settled[0], replace_original=True)


def on_page(deps: Deps, *, ack: Ack, body: Body, respond: Respond) -> None:
    ack()
    deps.run(lambda: show_page(deps, body=body, respond=respond), body=body, respond=respond)


def show_page(deps: Deps, *, body: Body, respond: Respond) -> None:
    """The work after the ack: re-run the search and replace the message with the requested page."""
    decision = deps.authz.may_use((body.get("channel") or {}).get("id"))
    if not decision.allowed:
        _ephemeral(respond, decision.reason)
        return
    try:
        page = decode_page(((body.get("actions") or [{}])[0]).get("value"))
    except ValueError:
        _ephemeral(respond, messages.invalid_button())
        return
    try:
        # the page button carries the whole text of the search; it is untrusted, so parsed (checked) again
        query = parse_query(page.query)
    except QueryError as exc:
        _ephemeral(respond, messages.search_error(exc, cluster=deps.cluster))
        return
    result = deps.service.search(query)
    if result.matched_handles > MAX_RESULTS:
        _ephemeral(respond, messages.too_broad(result, MAX_RESULTS))
        return
    # The same search gives the same pages; ``offset`` is the first row of the page asked for (the page holding
    # it, if handles came or went since).
    message = search_message(result, searcher=page.searcher, offset=page.offset, now=deps.clock())
    reply(respond, text=message.text, blocks=message.blocks, replace_original=True)
