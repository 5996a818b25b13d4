"""The channel's "who closed what" line, rendered from a plain audit record (``bot.slack.messages.closed_line``)."""

from __future__ import annotations

from bot.slack.messages import closed_line
from tests.test_audit import record


def test_closed_line_names_closer_file_holder_client_and_searcher() -> None:
    line = closed_line(record())
    assert line.startswith("🔓 <@U0ADMIN01> closed the SMB handle on `/projects/q3/forecast.xlsx`")
    assert "held by *dana* on 10.1.2.3 (laptop-42)" in line
    assert "(from <@U0SEARCH1>'s search)" in line


def test_closed_line_escapes_and_never_mentions_from_data() -> None:
    evil = "<!channel> & <@U999EVIL1>"
    line = closed_line(
        record(file=evil, holder=evil, client=evil, user_id="<!here>", user_name=evil, searcher_id=evil)
    )
    assert "<!channel>" not in line and "<@U999EVIL1>" not in line and "<!here>" not in line
    assert line.count("&lt;!channel&gt;") == 4  # file, holder, client, user name
    assert "(from" not in line  # an invalid searcher ID is dropped, not interpolated


def test_closed_line_keeps_file_names_out_of_mrkdwn_formatting() -> None:
    line = closed_line(record(file="/finance/~$*budget*_v2`final`.xlsx"))
    assert "`/finance/~$*budget*_v2ˋfinalˋ.xlsx`" in line  # one code span, unbroken
    assert line.count("`") == 2


def test_closed_line_falls_back_to_the_escaped_user_name() -> None:
    line = closed_line(record(user_id="", user_name="<b>ada</b>"))
    assert line.startswith("🔓 &lt;b&gt;ada&lt;/b&gt; closed")
