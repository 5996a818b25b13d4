"""The domain speaks plain text: no Slack markup (mentions, entities, mrkdwn, code spans) in what it says.

Front ends render the domain's words their own way; a backtick or ``&lt;`` here would show up literally on a
terminal and be interpreted a second time in Slack.
"""

from __future__ import annotations

import re

import pytest

from bot.locks import close, directory, prefetch
from bot.locks.models import HandleRef, LockRow, Query, QueryKind, SearchResult
from bot.locks.query import EXAMPLES, QueryError, example_list, parse_query
from bot.locks.report import no_match_hint
from bot.qumulo.errors import QumuloError
from bot.qumulo.mapping import error_from_response
from bot.qumulo.models import CloseReply, FileHandle

SLACK_SYNTAX = re.compile(
    r"`|<[@!#]|&(?:lt|gt|amp);"  # code spans, mentions/specials, entities
    r"|(?:^|\s)(?P<m>[*_~])[^\s*_~](?:.*?\S)?(?P=m)(?:\s|[.,:;)]|$)"  # *bold*, _italic_, ~strike~
)

REF = HandleRef(location="1.2.3", file_number="42", owner="500", path="/finance/a.xlsx")
ROW = LockRow(REF, "dana", "10.0.0.5", None, ("write",), (), None, None, None)


def _query_errors() -> list[str]:
    bad = [
        "",
        "a",
        "\\\\x",
        "smb://cluster/",
        "ip:1",
        "host:bad host",
        "user:",
        "/a/../b",
        "a\x1bb",
        "x" * 5000,
    ]
    out = []
    for text in bad:
        with pytest.raises(QueryError) as info:
            parse_query(text)
        out.append(str(info.value))
    return out


def _hints() -> list[str]:
    out = []
    for text in ("budget", "/finance/x.xlsx", "ip:10.0.0.1", "host:laptop-42", "user:dana"):
        q = parse_query(text)
        for missing in (False, True):
            result = SearchResult(
                query=q,
                files=(),
                cluster="lab",
                as_of=0.0,
                scanned_handles=3,
                exact=missing,
                no_such_file=missing,
                resolved_path="/fs/x" if missing else None,
            )
            out.append(no_match_hint(result))
    return out


def _close_messages() -> list[str]:
    moved = FileHandle(file_number="42", location="1.2.3", owner="501", path="/x")
    outcomes = [
        close.gone(REF),
        close.compare(REF, moved, "/elsewhere", ROW),
        close.interpret(REF, CloseReply(("",)), ROW),
        close.settle(REF, "the cluster answered the close with 1 result", [], ROW, CloseReply(("denied",))),
        close.settle(REF, "the cluster answered the close with an empty list", [moved], ROW, CloseReply(())),
        close.unconfirmed(REF, "the close request failed (503)", "timed out", ROW),
    ]
    invalid = [HandleRef("", "42", "o", "/p"), HandleRef("l", "x", "o", "/p"), HandleRef("l", "42", "", "p")]
    return [o.message for o in outcomes if o is not None] + [close.validate_ref(r) or "" for r in invalid]


def _cluster_errors() -> list[str]:
    body = b'{"error_class": "x", "description": "nope"}'
    errors: list[QumuloError] = [
        error_from_response(status, body, endpoint=endpoint)
        for status in (401, 403, 404, 409, 500, 302)
        for endpoint in ("/v1/smb/files/", "/v1/session/login")
    ]
    return [str(e) for e in errors]


NOTES = [
    directory.SESSIONS_UNREADABLE,
    directory.IDENTITY_UNREADABLE,
    directory.DNS_UNAVAILABLE,
    directory.SHARES_UNREADABLE,
    prefetch.UNCONFIRMED_NOTE.format(n=3),
]


def test_the_detector_sees_slack_markup() -> None:
    for marked in (
        "see `x`",
        "<@U123>",
        "<!channel>",
        "a &lt; b",
        "*bold* text",
        "an _italic_ word",
        "~gone~.",
    ):
        assert SLACK_SYNTAX.search(marked), marked
    for plain in ('"budget.xlsx"', "QUMULO_HOST / QUMULO_PORT", "exclude-*", "a * b", "~$budget.xlsx", "R&D"):
        assert not SLACK_SYNTAX.search(plain), plain


@pytest.mark.parametrize(
    "text",
    [*EXAMPLES, example_list(), *_query_errors(), *_hints(), *_close_messages(), *_cluster_errors(), *NOTES],
)
def test_domain_messages_are_plain_text(text: str) -> None:
    assert text and not SLACK_SYNTAX.search(text), text


def test_examples_are_searches_that_parse() -> None:
    kinds = {parse_query(e).kind for e in EXAMPLES}
    assert kinds == set(QueryKind)
    assert all(parse_query(e).text == e for e in EXAMPLES)
    assert Query(QueryKind.FRAGMENT, EXAMPLES[0], EXAMPLES[0]) == parse_query(EXAMPLES[0])
