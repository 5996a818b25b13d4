from __future__ import annotations

import pytest

from bot.locks.models import CloseOutcome, CloseStatus, HandleRef
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
