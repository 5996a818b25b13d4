from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bot.locks.models import QueryKind
from bot.locks.query import parse_query
from bot.slack.text import (
    clip,
    code,
    command_text,
    escape,
    escape_clip,
    mention,
    reveal,
    slack_id,
    unescape,
)


def slack_escape(s: str) -> str:
    """What Slack does to typed command text (``&`` first), and nothing else."""
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def test_escape_only_slack_control_characters() -> None:
    assert escape("a & <b> *c* _d_") == "a &amp; &lt;b&gt; *c* _d_"
    assert escape("<!channel>") == "&lt;!channel&gt;"
    assert escape("&lt;") == "&amp;lt;"


@given(st.text())
def test_unescape_and_command_text_invert_slack_escaping(s: str) -> None:
    # escape also writes invisible/bidi characters out as \\uXXXX: its inverse gives the revealed text
    assert unescape(escape(s)) == reveal(s)
    assert command_text(slack_escape(s)) == s  # whatever the user typed reaches the search parser unchanged


def test_command_text_undoes_entities_once() -> None:
    assert command_text("R&amp;D &lt;draft&gt;.docx") == "R&D <draft>.docx"
    assert command_text("a&amp;lt;b") == "a&lt;b"  # the user typed "&lt;" literally
    assert command_text("&lt;!channel&gt; &amp; &lt;@U123ABCDE&gt;") == "<!channel> & <@U123ABCDE>"


def test_a_pasted_link_becomes_the_path() -> None:
    pasted = "<smb://cluster/Share/x.xlsx|smb://cluster/Share/x.xlsx>"
    assert command_text(pasted) == "smb://cluster/Share/x.xlsx"
    q = parse_query(command_text(pasted))
    assert (q.kind, q.share, q.share_path) == (QueryKind.PATH, "Share", "/x.xlsx")
    assert command_text("<smb://cluster/R&amp;D/a%20b.xlsx>") == "smb://cluster/R&D/a%20b.xlsx"
    assert command_text("<smb://cluster/Share/x.xlsx|link>") == "smb://cluster/Share/x.xlsx"
    assert command_text("  <smb://c/S/a> ") == "  smb://c/S/a "


def test_links_slack_made_up_keep_what_was_typed() -> None:
    assert command_text("<http://notes.md|notes.md>") == "notes.md"
    assert command_text("user:<mailto:dana@corp.example|dana@corp.example>") == "user:dana@corp.example"


def test_mentions_and_specials_are_not_links() -> None:
    for special in ("<!channel>", "<@U123ABCDE>", "<@U123|dana>", "<#C123|general>", "<!subteam^S1|@ops>"):
        assert command_text(special) == special


@given(st.text(), st.integers(min_value=1, max_value=300))
def test_clip_bounds_and_keeps_both_ends(s: str, limit: int) -> None:
    out = clip(s, limit)
    assert len(out) <= limit
    if len(s) <= limit:
        assert out == s
    elif limit >= 8:
        assert out.startswith(s[:2]) and out.endswith(s[-2:])


@given(st.text(alphabet=st.sampled_from("ab&<>é")), st.integers(min_value=1, max_value=120))
def test_escape_clip_never_splits_an_entity(s: str, limit: int) -> None:
    out = escape_clip(s, limit)
    assert len(out) <= limit
    body = out.replace("…", "")
    # re-escaping the unescaped text gives it back: only whole entities, no bare & < >
    assert escape(unescape(body)) == body


def test_mentions_only_for_real_ids() -> None:
    assert mention("U012AB3CD") == "<@U012AB3CD>"
    assert mention("U12>|<!channel") == "someone"
    assert mention(None) == "someone"
    assert slack_id("W0123ABC") == "W0123ABC"
    assert slack_id("u012") is None


def test_code_span_cannot_be_broken_by_a_backtick() -> None:
    assert code("a`b<c>", 100) == "`aˋb&lt;c&gt;`"
    assert code("*bold* _it_ ~x~", 100) == "`*bold* _it_ ~x~`"
    assert code("x" * 50, 10).count("`") == 2


@given(st.text(max_size=300))
def test_code_is_always_one_span(s: str) -> None:
    out = code(s, 120)
    assert out.startswith("`") and out.endswith("`") and out.count("`") == 2
    assert "<" not in out and ">" not in out
