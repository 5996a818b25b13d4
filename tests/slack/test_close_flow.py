"""Search -> click -> confirm -> close -> row replaced -> audit line and JSONL, through signed requests."""

from __future__ import annotations

import json
import threading
from typing import Any

from bot.slack.blocks import CLOSE_ACTION
from bot.slack.refs import decode_ref
from bot.slack.text import escape
from tests.slack.blockcheck import assert_valid_blocks
from tests.slack.conftest import ADMIN, CLUSTER, ELSEWHERE, GROUP_MEMBER, OPS, USER, Harness

PATH = "/Finance/2026/budget-q3.xlsx"


def _open(h: Harness, path: str = PATH, *, user: str = "dana", ip: str = "10.9.8.7") -> str:
    return str(h.sim.state.add_handle(path, user=user, client_ip=ip, write=True))


def _blocks(body: dict[str, Any]) -> list[dict[str, Any]]:
    blocks = body["blocks"]
    return json.loads(blocks) if isinstance(blocks, str) else list(blocks)


def test_full_flow_search_click_close(harness: Harness) -> None:
    h = harness
    location = _open(h)
    other = _open(h, user="erin", ip="10.9.8.8")
    audit_at_post: list[int] = []
    h.fake.on_call = lambda call: (
        audit_at_post.append(len(h.audit.read())) if call.key and call.key.startswith("click") else None
    )

    message = h.search("budget-q3.xlsx")
    assert_valid_blocks(message["blocks"])
    block_id = h.row_of(message, location)
    button = next(b["accessory"] for b in message["blocks"] if b.get("block_id") == block_id)
    assert (
        "budget-q3.xlsx" in button["confirm"]["text"]["text"] and "dana" in button["confirm"]["text"]["text"]
    )
    assert decode_ref(button["value"]).searcher == USER

    resp, name = h.click(message, user=ADMIN, block_id=block_id)
    assert resp.status == 200

    # exactly that handle is gone from the cluster; the other client's handle on the same file is untouched
    assert location not in h.open_locations() and other in h.open_locations()
    # the row is replaced in place; the counts drop by one (header, the file's line, the text); the rest unchanged
    update, note = h.posted(name)
    assert update["replace_original"] is True
    new_blocks = _blocks(update)
    assert_valid_blocks(new_blocks)
    assert [b.get("block_id") for b in new_blocks] == [b.get("block_id") for b in message["blocks"]]
    for old, new in zip(message["blocks"], new_blocks, strict=True):
        if old.get("block_id") == block_id:
            assert new["text"]["text"].startswith(f"✅ Closed by <@{ADMIN}> at ")
            assert "dana" in new["text"]["text"] and "accessory" not in new
        elif old.get("block_id") == "qlocks-header":
            assert new["text"]["text"] == "1 open handle on 1 file for budget-q3.xlsx"
            assert old["text"]["text"] == "2 open handles on 1 file for budget-q3.xlsx"
        elif str(old.get("block_id")).startswith("file-"):
            assert new["text"]["text"].endswith("\n1 open handle") and old["text"]["text"].endswith(
                "\n2 open handles"
            )
        else:
            assert new == old
    assert update["text"].startswith("1 open handle on 1 file")
    # one line in the channel, through the click's response_url (a new in_channel message, not a replacement):
    # who closed which file held by whom on which client, mentioning the searcher
    assert note["response_type"] == "in_channel" and note["replace_original"] is False
    line = note["text"]
    assert (
        f"<@{ADMIN}>" in line
        and PATH in line
        and "dana" in line
        and "10.9.8.7" in line
        and f"<@{USER}>" in line
    )
    assert _closed_lines(h) == [line]
    assert h.calls("chat.postMessage") == []
    # the audit record was on disk before Slack was told anything
    assert audit_at_post == [1, 1]
    (record,) = h.audit.read()
    assert record["result"] == "closed" and record["user_id"] == ADMIN and record["channel_id"] == OPS
    assert record["file"] == PATH and record["location"] == location and record["holder"] == "dana"
    assert "10.9.8.7" in record["client"] and record["searcher_id"] == USER and record["cluster"] == CLUSTER


def test_non_admin_click_is_refused_and_audited(harness: Harness) -> None:
    h = harness
    location = _open(h)
    message = h.search("budget-q3.xlsx")
    _, name = h.click(message, user=USER, block_id=h.row_of(message, location))
    assert location in h.open_locations()
    (reply,) = h.posted(name)
    assert reply["response_type"] == "ephemeral" and reply["replace_original"] is False
    assert "Not authorized" in reply["text"]
    assert h.calls("chat.postMessage") == []
    (record,) = h.audit.read()
    assert record["result"] == "denied" and record["user_id"] == USER and record["location"] == location


def test_admin_group_member_may_close_and_membership_is_cached(make_harness: Any) -> None:
    h: Harness = make_harness(admins=(), groups=("S0ADMINS1",))
    h.fake.groups["S0ADMINS1"] = [GROUP_MEMBER]
    first, second = _open(h, "/Finance/a-first.xlsx"), _open(h, "/Finance/a-second.xlsx")
    message = h.search("Finance/a-")
    h.click(message, user=GROUP_MEMBER, block_id=h.row_of(message, first))
    h.click(message, user=GROUP_MEMBER, block_id=h.row_of(message, second))
    h.click(message, user=USER, block_id=h.row_of(message, second))
    assert first not in h.open_locations() and second not in h.open_locations()
    assert [r["result"] for r in h.audit.read()] == ["closed", "closed", "denied"]
    assert len(h.calls("usergroups.users.list")) == 1


def test_click_outside_allowed_channels_is_refused(harness: Harness) -> None:
    h = harness
    location = _open(h)
    message = h.search("budget-q3.xlsx")
    _, name = h.click(message, user=ADMIN, channel=ELSEWHERE, block_id=h.row_of(message, location))
    assert location in h.open_locations()
    assert "not enabled in this channel" in h.posted(name)[0]["text"]
    assert h.audit.read()[0]["result"] == "denied"


def test_vanished_handle_is_explained_and_its_row_marked_gone(harness: Harness) -> None:
    h = harness
    location = _open(h)
    message = h.search("budget-q3.xlsx")
    h.sim.state.close_handle(location)  # the client let go (or another tool closed it)
    block_id = h.row_of(message, location)
    _, name = h.click(message, user=ADMIN, block_id=block_id)
    reply, update = h.posted(name)
    assert reply["response_type"] == "ephemeral" and "already gone" in reply["text"]
    # the row loses its button and says so; the header no longer counts it
    row = next(b for b in _blocks(update) if b.get("block_id") == block_id)
    assert "Already gone" in row["text"]["text"] and "accessory" not in row
    assert update["replace_original"] is True and update["text"].startswith("0 open handles on 0 files")
    assert_valid_blocks(_blocks(update))
    assert h.calls("chat.postMessage") == []
    assert h.audit.read()[0]["result"] == "gone"


def test_a_vanished_handle_is_never_reported_as_closed_by_the_clicker(harness: Harness) -> None:
    """Regression: the first click on a handle the client had let go settled it under the clicker's name, so the
    next click (anyone's) was told "already closed by <@that admin>", who had closed nothing."""
    h = harness
    location = _open(h)
    message = h.search("budget-q3.xlsx")
    h.sim.state.close_handle(location)
    block_id = h.row_of(message, location)
    _, first = h.click(message, user=ADMIN, block_id=block_id)
    _, second = h.click(message, user=ADMIN, block_id=block_id)
    for name in (first, second):
        reply = h.posted(name)[0]
        assert "already gone" in reply["text"] and "closed by <@" not in reply["text"]
    assert [r["result"] for r in h.audit.read()] == ["gone", "gone"]


def test_changed_handle_is_refused(harness: Harness) -> None:
    """A button whose handle now names another file/owner (here: a tampered value) closes nothing."""
    h = harness
    location = _open(h)
    message = h.search("budget-q3.xlsx")
    block_id = h.row_of(message, location)
    value = json.loads(
        next(b["accessory"]["value"] for b in message["blocks"] if b.get("block_id") == block_id)
    )
    value["o"] = "999999"  # someone else's auth_id
    _, name = h.click(message, user=ADMIN, block_id=block_id, value=json.dumps(value))
    assert location in h.open_locations()
    reply, update = h.posted(name)
    assert reply["response_type"] == "ephemeral" and "Not closed" in reply["text"]
    row = next(b for b in _blocks(update) if b.get("block_id") == block_id)
    assert "Changed since this search" in row["text"]["text"] and "accessory" not in row
    assert h.audit.read()[0]["result"] == "changed"


def test_double_click_closes_once(harness: Harness) -> None:
    h = harness
    location = _open(h)
    message = h.search("budget-q3.xlsx")
    block_id = h.row_of(message, location)
    h.sim.state.reset_request_log()
    h.click(message, user=ADMIN, block_id=block_id)
    _, second = h.click(message, user=ADMIN, block_id=block_id)
    closes = [p for m, p in h.sim.state.request_log if m == "POST" and p.startswith("/v1/smb/files/close")]
    assert len(closes) == 1
    (reply,) = h.posted(second)
    assert reply["response_type"] == "ephemeral" and "already closed by" in reply["text"]
    assert [r["result"] for r in h.audit.read()] == ["closed", "duplicate"]
    assert len(_closed_lines(h)) == 1


def test_concurrent_clicks_close_once(harness: Harness) -> None:
    h = harness
    location = _open(h)
    message = h.search("budget-q3.xlsx")
    block_id = h.row_of(message, location)
    h.sim.state.latency_s = 0.05  # keep the first close in flight while the others arrive
    h.sim.state.reset_request_log()
    start = threading.Barrier(4)

    def go() -> None:
        start.wait()
        h.click(message, user=ADMIN, block_id=block_id)

    threads = [threading.Thread(target=go) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    closes = [p for m, p in h.sim.state.request_log if m == "POST" and p.startswith("/v1/smb/files/close")]
    assert len(closes) == 1
    results = sorted(r["result"] for r in h.audit.read())
    assert results == ["closed", "duplicate", "duplicate", "duplicate"]


def _closed_lines(h: Harness) -> list[str]:
    """The who-closed-what lines the channel shows (however they were posted)."""
    return [m.text for m in h.fake.channel.messages() if not m.ephemeral and m.text.startswith("🔓")]


def _in_channel(body: dict[str, Any]) -> bool:
    return body.get("response_type") == "in_channel"


def test_private_channel_gets_the_line_through_the_response_url(make_harness: Any) -> None:
    """In a private channel (DM, group DM) the bot is not in, chat.postMessage answers not_in_channel: the line
    goes through the click's response_url, and nobody is told to invite the bot."""
    h: Harness = make_harness()
    h.fake.channel.private, h.fake.channel.bot_member = True, False
    location = _open(h)
    message = h.search("budget-q3.xlsx")
    _, name = h.click(message, user=ADMIN, block_id=h.row_of(message, location))
    assert location not in h.open_locations()
    update, note = h.posted(name)
    assert update["replace_original"] is True
    assert _in_channel(note) and note["replace_original"] is False and PATH in note["text"]
    assert _closed_lines(h) == [note["text"]]
    assert all(c.ok for c in h.fake.calls), [c for c in h.fake.calls if not c.ok]
    assert h.calls("chat.postMessage") == []
    assert h.audit.read()[0]["result"] == "closed"


def test_private_channel_old_path_fails_for_the_right_reason(make_harness: Any) -> None:
    """The knob is real: a chat.postMessage in that channel is refused with not_in_channel."""
    h: Harness = make_harness()
    h.fake.channel.private, h.fake.channel.bot_member = True, False
    from slack_sdk import WebClient
    from slack_sdk.errors import SlackApiError

    from tests.slack.conftest import BOT_TOKEN

    try:
        WebClient(token=BOT_TOKEN, base_url=h.fake.api_url).chat_postMessage(channel=OPS, text="x")
    except SlackApiError as exc:
        assert exc.response["error"] == "not_in_channel"
    else:
        raise AssertionError("chat.postMessage was accepted in a private channel the bot is not in")
    h.fake.channel.bot_member = True  # invited: then it works
    WebClient(token=BOT_TOKEN, base_url=h.fake.api_url).chat_postMessage(channel=OPS, text="x")


def test_response_url_failing_falls_back_to_chat_post_message(harness: Harness) -> None:
    h = harness
    location = _open(h)
    message = h.search("budget-q3.xlsx")
    h.fake.fail_response_urls(500, when=_in_channel)  # the row replacement goes through; the line does not
    _, name = h.click(message, user=ADMIN, block_id=h.row_of(message, location))
    assert location not in h.open_locations()
    (post,) = h.calls("chat.postMessage")
    assert post.ok and post.body["channel"] == OPS and PATH in post.body["text"]
    assert _closed_lines(h) == [post.body["text"]]
    replies = h.posted(name)
    assert replies[0]["replace_original"] is True and _in_channel(replies[1])  # tried first, refused
    assert len(replies) == 2  # no warning: the line got through
    assert h.audit.read()[0]["result"] == "closed"


def test_both_failing_still_audited_and_user_told(make_harness: Any) -> None:
    h: Harness = make_harness()
    h.fake.channel.private, h.fake.channel.bot_member = True, False  # chat.postMessage: not_in_channel
    location = _open(h)
    message = h.search("budget-q3.xlsx")
    h.fake.fail_response_urls(404, when=_in_channel)
    _, name = h.click(message, user=ADMIN, block_id=h.row_of(message, location))
    assert location not in h.open_locations()
    assert h.audit.read()[0]["result"] == "closed"
    replies = h.posted(name)
    assert replies[0]["replace_original"] is True  # the row still shows who closed it
    warning = replies[-1]
    assert warning["response_type"] == "ephemeral" and warning["replace_original"] is False
    assert "closed and audited" in warning["text"] and "not_in_channel" in warning["text"]
    assert _closed_lines(h) == []
    assert len(replies) <= 5  # within the click's response_url budget


def test_both_failing_and_no_audit_log_says_both(harness: Harness) -> None:
    h = harness
    location = _open(h)
    message = h.search("budget-q3.xlsx")
    h.fake.fail_response_urls(500, when=_in_channel)
    h.fake.fail("chat.postMessage", "ratelimited")
    h.audit.path.mkdir()  # the audit log cannot be written (a directory is in its place; root or not)
    _, name = h.click(message, user=ADMIN, block_id=h.row_of(message, location))
    assert location not in h.open_locations()
    texts = [r["text"] for r in h.posted(name) if r.get("response_type") == "ephemeral"]
    assert any("ratelimited" in t for t in texts) and any(
        "audit log could not be written" in t for t in texts
    )
    assert len(h.posted(name)) <= 5


def test_garbage_and_foreign_buttons_close_nothing(harness: Harness) -> None:
    h = harness
    location = _open(h)
    message = h.search("budget-q3.xlsx")
    block_id = h.row_of(message, location)
    _, bad = h.click(message, user=ADMIN, block_id=block_id, value="{not json")
    assert "could not be read" in h.posted(bad)[0]["text"]
    value = json.loads(
        next(b["accessory"]["value"] for b in message["blocks"] if b.get("block_id") == block_id)
    )
    value["c"] = "another-cluster"
    _, foreign = h.click(message, user=ADMIN, block_id=block_id, value=json.dumps(value))
    assert "another-cluster" in h.posted(foreign)[0]["text"]
    assert location in h.open_locations()
    assert [r["result"] for r in h.audit.read()] == ["invalid", "invalid"]


def test_escaping_end_to_end(harness: Harness) -> None:
    h = harness
    path = "/Finance/<!channel> & <@U123ABCDE> *bold*.xlsx"
    location = _open(h, path, user="mal<lory>")
    # Slack delivers & < > in command text as entities
    message = h.search("&lt;!channel&gt; &amp; &lt;@U123ABCDE&gt;")
    assert_valid_blocks(message["blocks"])  # no raw < > & in any mrkdwn
    plain = [b["text"]["text"] for b in message["blocks"] if b.get("text", {}).get("type") == "plain_text"]
    assert any(escape(path) in t for t in plain)  # escaped like every text field; Slack shows it as it is
    _, name = h.click(message, user=ADMIN, block_id=h.row_of(message, location))
    assert_valid_blocks(h.posted(name)[0]["blocks"])
    line = h.posted(name)[1]["text"]
    assert "&lt;!channel&gt; &amp; &lt;@U123ABCDE&gt;" in line and "<!channel>" not in line
    assert "<@U123ABCDE>" not in line


def test_cluster_name_in_footer(harness: Harness) -> None:
    _open(harness)
    message = harness.search("budget-q3.xlsx")
    footer = message["blocks"][-1]["elements"][0]["text"]
    assert f"Cluster *{CLUSTER}*" in footer and "handles scanned" in footer
    assert any(b.get("accessory", {}).get("action_id") == CLOSE_ACTION for b in message["blocks"])


def test_missing_close_privilege_is_named_and_nothing_retried(make_harness: Any, sim: Any) -> None:
    from bot.qumulo.models import OPTIONAL_PRIVILEGES, REQUIRED_PRIVILEGES

    privileges = [
        p for p in [*REQUIRED_PRIVILEGES, *OPTIONAL_PRIVILEGES] if p != "PRIVILEGE_SMB_FILE_HANDLE_WRITE"
    ]
    h: Harness = make_harness(qumulo={"access_token": sim.mint_token("readonly", privileges)})
    location = _open(h)
    message = h.search("budget-q3.xlsx")
    h.sim.state.reset_request_log()
    _, name = h.click(message, user=ADMIN, block_id=h.row_of(message, location))
    assert location in h.open_locations()
    closes = [p for m, p in h.sim.state.request_log if m == "POST" and p.startswith("/v1/smb/files/close")]
    assert len(closes) == 1  # tried once, refused, not retried
    (reply,) = h.posted(name)
    assert reply["response_type"] == "ephemeral" and "SMB_FILE_HANDLE_WRITE" in reply["text"]
    assert h.audit.read()[0]["result"] == "failed"
    assert h.calls("chat.postMessage") == []


def test_unexpected_close_error_is_audited_and_reported_with_an_incident_id(
    make_harness: Any, sim: Any
) -> None:
    from bot.locks.service import LockService
    from bot.qumulo.client import QumuloClient
    from tests.conftest import config_for

    class ExplodingClose(LockService):
        def close(self, ref: Any) -> Any:
            raise RuntimeError("internal detail")

    client = QumuloClient(config_for(sim))
    service = ExplodingClose(client, cluster_name=CLUSTER)
    try:
        h: Harness = make_harness(service=service)
        location = _open(h)
        message = h.search("budget-q3.xlsx")
        _, name = h.click(message, user=ADMIN, block_id=h.row_of(message, location))
        (reply,) = h.posted(name)
        assert "incident" in reply["text"] and "internal detail" not in reply["text"]
        assert h.audit.read()[0]["result"] == "error"
        assert location in h.open_locations()
        # the guard was released: a later click is not mistaken for a duplicate
        h.click(message, user=ADMIN, block_id=h.row_of(message, location))
        assert [r["result"] for r in h.audit.read()] == ["error", "error"]
    finally:
        service.shutdown()
        client.close()
