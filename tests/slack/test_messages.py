from __future__ import annotations

import pytest

from bot.locks import close as closing
from bot.locks.models import CloseOutcome, CloseStatus, HandleRef, LockRow
from bot.locks.query import QueryError
from bot.qumulo.errors import (
    QumuloAuthError,
    QumuloConnectionError,
    QumuloError,
    QumuloNotFound,
    QumuloPermissionError,
    QumuloServerError,
    QumuloTimeout,
    QumuloTLSError,
)
from bot.qumulo.models import FileHandle
from bot.slack import messages
from tests.slack.blockcheck import assert_escaped_mrkdwn
from tests.slack.factories import make_result

EVIL = "<!channel> & <@U123ABCDE>"


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (QueryError(f"`{EVIL}` is not an IP address"), "Can't search for that"),
        (QumuloConnectionError(f"connection refused {EVIL}"), "Can't reach the cluster"),
        (QumuloTimeout("read timed out"), "did not answer in time"),
        (QumuloTLSError("certificate verify failed"), "QUMULO_CA_BUNDLE"),
        (QumuloAuthError("401 token expired"), "QUMULO_ACCESS_TOKEN"),
        (
            QumuloPermissionError(
                "403", missing_privileges=("PRIVILEGE_SMB_FILE_HANDLE_READ", "PRIVILEGE_<x>")
            ),
            "`PRIVILEGE_SMB_FILE_HANDLE_READ`, `PRIVILEGE_&lt;x&gt;`",
        ),
        (QumuloNotFound("no such path"), "does not exist"),
        (QumuloServerError(f"503 {EVIL}"), "returned an error"),
        (QumuloError("odd"), "returned an error"),
    ],
)
def test_search_errors_are_actionable_and_escaped(exc: Exception, expected: str) -> None:
    text = messages.search_error(exc, cluster="prod<1>")
    assert expected in text
    assert_escaped_mrkdwn(text)


def test_every_message_is_escaped() -> None:
    ref = HandleRef("loc", "1", "2", f"/a/{EVIL}")
    texts = [
        messages.usage(EVIL),
        messages.unknown_subcommand(EVIL, EVIL),
        messages.too_broad(make_result(text=EVIL), 500),
        messages.invalid_button(),
        messages.wrong_cluster(EVIL, EVIL),
        messages.duplicate(closer="U0ADMIN01", at=0, settled=True),
        messages.duplicate(closer=EVIL, at=0, settled=False),
        messages.close_error(QumuloError(EVIL), path=EVIL, cluster=EVIL),
        messages.post_failed(EVIL),
        messages.audit_failed(),
        messages.internal_error("abc123"),
    ]
    texts += [
        messages.close_refused(CloseOutcome(s, ref, EVIL)) for s in CloseStatus if s is not CloseStatus.CLOSED
    ]
    for text in texts:
        assert_escaped_mrkdwn(text)
    assert "&lt;!channel&gt;" in messages.close_refused(CloseOutcome(CloseStatus.GONE, ref, "x"))


def test_close_refusals_say_what_happened() -> None:
    ref = HandleRef("loc", "1", "2", "/a/b.xlsx")
    assert "already gone" in messages.close_refused(CloseOutcome(CloseStatus.GONE, ref, "not found"))
    assert "no longer the one" in messages.close_refused(
        CloseOutcome(CloseStatus.CHANGED, ref, "owner differs")
    )
    failed = messages.close_refused(CloseOutcome(CloseStatus.FAILED, ref, "cluster said no"))
    assert "failed" in failed and "cluster said no" in failed and "retried" in failed


def test_gone_and_changed_refusals_say_it_once() -> None:
    """Regression: the domain's own sentence was quoted inside the Slack one ("…already gone (…): That handle on
    … is no longer open (…); nothing to do. Nothing was closed.", "Not closed: … (Not closed: …)")."""
    ref = HandleRef("loc", "1", "2", "/a/b&c.xlsx")
    gone = messages.close_refused(CloseOutcome(CloseStatus.GONE, ref, closing.gone(ref).message))
    assert gone.count("b&amp;c.xlsx") == 1 and gone.count("already") == 1 and "nothing to do" not in gone
    now = LockRow(
        ref=HandleRef("loc", "1", "3", "/a/b&c.xlsx"),
        holder="<!here> bob",
        client_ip=None,
        client_host=None,
        access=(),
        share_mode=(),
        node=None,
        session_open_s=None,
        session_idle_s=None,
    )
    handle = FileHandle(file_number="1", location="loc", owner="3", path="/a/b&c.xlsx", access_mask=())
    outcome = closing.compare(ref, handle, "/a/b&c.xlsx", now)
    assert outcome is not None
    changed = messages.close_refused(outcome)
    assert changed.count("Not closed") == 1 and changed.count("Search again") == 1
    assert "it now belongs to *&lt;!here&gt; bob*" in changed
    assert_escaped_mrkdwn(changed)
