"""User-facing wording: usage, refused/failed searches, refused/failed closes. Pure; returns mrkdwn strings.

Everything variable is escaped here (``escape``/``escape_clip``); exception messages from the domain are escaped
as a whole because they quote what the user typed.
"""

from __future__ import annotations

from bot.audit import AuditRecord
from bot.locks.models import CloseOutcome, CloseStatus, SearchResult
from bot.locks.query import EXAMPLES, QueryError
from bot.qumulo.errors import (
    QumuloAuthError,
    QumuloConnectionError,
    QumuloError,
    QumuloNotFound,
    QumuloPermissionError,
    QumuloTimeout,
    QumuloTLSError,
)
from bot.slack.text import clock_time, code, escape, escape_clip, mention, slack_id

MAX_ERROR = 600  # characters of a cluster's error text shown in Slack
MAX_PRIVILEGES = 5  # missing privileges named in one message


def usage(cluster: str) -> str:
    return (
        f"*qlocks* finds who holds a file open on *{escape_clip(cluster, 100)}* and lets admins close that handle.\n"
        "• `/qlocks search &lt;what&gt;`: part of a path, a full path, a client IP or host name, or a user, e.g. "
        + ", ".join(code(example, 100) for example in EXAMPLES)
        + ".\n"
        "  Results are posted in the channel, grouped by file, with holder, client, access, node and idle time.\n"
        "• *Close handle* (admins only) closes exactly that handle after re-checking it is still the same one; "
        "unsaved changes on the client may be lost. Every attempt is audited.\n"
        "• `/qlocks help` shows this."
    )


def unknown_subcommand(word: str, text: str) -> str:
    """``/qlocks frobnicate``: name the word, offer the search it may have meant, point at help (not all of it)."""
    return (
        f"I don't know the command {code(word, 100)}. To find who has a file open: "
        f"{code('/qlocks search ' + text, 300)}. `/qlocks help` shows everything qlocks can do."
    )


def search_error(exc: Exception, *, cluster: str) -> str:
    """An actionable explanation of a refused or failed search (``QueryError`` or a ``QumuloError``)."""
    name = f"*{escape_clip(cluster, 100)}*"
    detail = escape_clip(str(exc), MAX_ERROR)
    if isinstance(exc, QueryError):
        return f"Can't search for that: {detail}"
    if isinstance(exc, QumuloTLSError):
        return (
            f"Can't talk to the cluster {name} securely: {detail}\n"
            "An operator should run `qlocks doctor`: it shows the certificate the cluster presents and the safe fix "
            "(`QUMULO_CA_BUNDLE` via `qlocks trust-cluster`, or `QUMULO_TLS_FINGERPRINT`)."
        )
    if isinstance(exc, QumuloTimeout):
        return f"The cluster {name} did not answer in time: {detail}\nTry again in a minute, or narrow the search."
    if isinstance(exc, QumuloConnectionError):
        return (
            f"Can't reach the cluster {name}: {detail}\n"
            "Check that it is up and reachable from the bot (`QUMULO_HOST`, `QUMULO_PORT`); `qlocks doctor` tests it."
        )
    if isinstance(exc, QumuloAuthError):
        return (
            f"The cluster {name} rejected qlocks' credentials (expired token or wrong password): {detail}\n"
            "An operator should renew `QUMULO_ACCESS_TOKEN` (or fix `QUMULO_USERNAME`/`QUMULO_PASSWORD`) and restart."
        )
    if isinstance(exc, QumuloPermissionError):
        named = exc.missing_privileges  # parsed from the cluster's 403 text: as many as it wrote
        missing = ", ".join(code(p, 100) for p in named[:MAX_PRIVILEGES]) or "(not named by the cluster)"
        if len(named) > MAX_PRIVILEGES:
            missing += f" and {len(named) - MAX_PRIVILEGES:,} more"
        return (
            f"qlocks' user on {name} is missing the privilege {missing}: {detail}\n"
            "Add it to that user's role (see the README's least-privilege role); `qlocks doctor` lists what is missing."
        )
    if isinstance(exc, QumuloNotFound):
        return f"The cluster {name} says it does not exist: {detail}"
    if isinstance(exc, QumuloError):
        return f"The cluster {name} returned an error: {detail}\nNothing was changed. Try again, or run `qlocks doctor`."
    return f"The search failed: {detail}"


def too_broad(result: SearchResult, limit: int) -> str:
    query = code(result.query.text, 400)
    return (
        f"{query} matches {result.matched_handles:,} open handles on {len(result.files):,} files: too broad to list "
        f"here (limit {limit}). Narrow it down: a longer part of the path, a full path, `user:&lt;login&gt;`, "
        "`ip:&lt;address&gt;` or `host:&lt;name&gt;`."
    )


def invalid_button() -> str:
    return "That button's data could not be read (it may come from an older version of qlocks). Search again."


def wrong_cluster(button_cluster: str, cluster: str) -> str:
    return (
        f"That list came from cluster *{escape_clip(button_cluster, 100)}*, but this bot serves "
        f"*{escape_clip(cluster, 100)}*. Search again."
    )


def duplicate(*, closer: str | None, at: float, settled: bool) -> str:
    if settled:
        return (
            f"That handle was already closed by {mention(closer)} at {clock_time(at)}. Nothing else was done."
        )
    return (
        f"{mention(closer)} is closing that handle right now (since {clock_time(at)}). Nothing else was done."
    )


def close_refused(outcome: CloseOutcome) -> str:
    """Why a close did not happen (gone / changed / failed); the list stays as it was."""
    path = code(outcome.ref.path, 500)
    detail = escape_clip(outcome.message, MAX_ERROR)
    # The domain's message for GONE/CHANGED is a full sentence of its own; quoting it here said everything twice.
    if outcome.status is CloseStatus.GONE:
        return (
            f"That handle on {path} is already gone (closed by someone else, or the client let go of the file)."
            "\nNothing was closed."
        )
    if outcome.status is CloseStatus.CHANGED:
        now = outcome.row
        changes = []
        if now is not None and now.ref.owner != outcome.ref.owner:
            changes.append(f"it now belongs to *{escape_clip(now.holder or now.ref.owner, 160)}*")
        if now is not None and now.ref.path != outcome.ref.path:
            changes.append(f"it is now on {code(now.ref.path, 500)}")
        why = f" ({'; '.join(changes)})" if changes else ""
        return (
            f"Not closed: the handle on {path} is no longer the one in this list{why}. "
            "Search again to see who holds it now."
        )
    if outcome.status is CloseStatus.STILL_OPEN:
        return f"The handle on {path} is still open: {detail}\nNothing was retried; you may try again."
    return f"Closing the handle on {path} failed: {detail}\nNothing was retried; search again before another try."


def close_error(exc: QumuloError, *, path: str, cluster: str) -> str:
    return f"Could not close the handle on {code(path, 500)}. " + search_error(exc, cluster=cluster)


def post_failed(error: str) -> str:
    return (
        f"The handle was closed and audited, but I could not post the note in this channel ({code(error, 200)})."
        " Invite the qlocks bot to the channel so everyone sees who closed what."
    )


def audit_failed() -> str:
    return "Warning: the handle was closed, but the audit log could not be written. Tell the qlocks operator."


def internal_error(incident: str) -> str:
    return f"Something went wrong inside qlocks (incident `{escape(incident)}`). The operator can find it in the logs."


def closed_line(record: AuditRecord) -> str:
    """The channel's note for a close: ``🔓 <@closer> closed the SMB handle on `/path` held by *dana* on 10.1.2.3
    (laptop) (from <@searcher>'s search)``. The path is one code span, so ``*``/``_``/``~`` in a file name (Office's
    ``~$budget.xlsx``) cannot format the line; every variable part is escaped; only valid IDs become mentions."""
    closer = (
        mention(record.user_id)
        if slack_id(record.user_id)
        else escape_clip(record.user_name or "someone", 200)
    )
    path = code(record.file or "(unknown file)", 1000)
    holder = escape_clip(record.holder or "an unknown user", 200)
    client = escape_clip(record.client or "an unknown client", 300)
    line = f"🔓 {closer} closed the SMB handle on {path} held by *{holder}* on {client}"
    if slack_id(record.searcher_id):
        line += f" (from {mention(record.searcher_id)}'s search)"
    return line
