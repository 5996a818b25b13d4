"""``/qlocks`` through signed requests: usage, answers in the channel, refusals, paging, progress, errors."""

from __future__ import annotations

import json
from typing import Any

import pytest
from qlocks_tools.fakeslack import signed_headers, slash_command
from slack_bolt.request import BoltRequest

from bot.locks.models import Query, SearchResult
from bot.slack.blocks import CLOSE_ACTION, MAX_RESULTS, PAGE_NEXT_ACTION, PAGE_PREV_ACTION
from bot.slack.deps import ProgressPolicy
from bot.slack.refs import decode_ref
from tests.slack.blockcheck import assert_valid_blocks
from tests.slack.conftest import CLUSTER, ELSEWHERE, OPS, SECRET, USER, Harness, bolt_request


def ack_text(resp: Any) -> str:
    return str(json.loads(resp.body).get("text", "")) if resp.body else ""


@pytest.mark.parametrize("text", ["", "help", "  HELP ", "frobnicate the thing", "search"])
def test_usage_is_ephemeral_ack(harness: Harness, text: str) -> None:
    resp, name = harness.command(text)
    assert resp.status == 200
    body = json.loads(resp.body)
    assert "/qlocks search" in body["text"] and body.get("response_type", "ephemeral") == "ephemeral"
    assert harness.posted(name) == []  # nothing sent to the channel
    if text.startswith("frob"):
        assert "I don't know the command `frobnicate`" in body["text"]


def test_search_answers_in_channel_with_one_section_per_file(harness: Harness) -> None:
    h = harness
    a = h.sim.state.add_handle("/Finance/zz-report.xlsx", user="dana", client_ip="10.0.0.7")
    b = h.sim.state.add_handle("/Finance/zz-report.xlsx", user="erin", client_ip="10.0.0.8", write=False)
    c = h.sim.state.add_handle("/Finance/zz-other.docx", user="dana", client_ip="10.0.0.7")
    resp, name = h.command("search zz-")
    assert resp.status == 200 and ack_text(resp) == ""  # no "Searching…" left behind once the answer is there
    (answer,) = h.posted(name)  # and nothing else: the answer is the only message
    assert answer["response_type"] == "in_channel"
    blocks = answer["blocks"]
    assert_valid_blocks(blocks)
    assert "3 open handles on 2 files" in blocks[0]["text"]["text"]
    files = [b for b in blocks if b.get("block_id", "").startswith("file-")]
    assert len(files) == 2
    locations = {decode_ref(b["accessory"]["value"]).ref.location for b in blocks if "accessory" in b}
    assert locations == {a, b, c}
    rows = [b["text"]["text"] for b in blocks if b.get("block_id", "").startswith("row-")]
    assert any("*dana*" in r and "10.0.0.7" in r for r in rows)


def test_search_not_allowed_outside_configured_channels(harness: Harness) -> None:
    resp, name = harness.command("search zz-report", channel=ELSEWHERE)
    assert "not enabled in this channel" in ack_text(resp) and f"<#{OPS}>" in ack_text(resp)
    assert harness.posted(name) == []


def test_no_match_and_no_such_file(harness: Harness) -> None:
    message = harness.search("no-such-thing-anywhere")
    assert "No open handles match" in json.dumps(message["blocks"])
    # a typo is the searcher's business: answered to them only, once, with what to try
    resp, name = harness.command("search /Finance/does/not/exist.xlsx")
    assert resp.status == 200 and ack_text(resp) == ""
    [answer] = harness.posted(name)
    assert answer["response_type"] == "ephemeral"
    shown = json.dumps(answer["blocks"], ensure_ascii=False)
    assert shown.count("No such file") == 1 and "does not exist" in shown
    assert "`/qlocks search exist.xlsx`" in shown
    assert "exact lookup" in shown and "handles scanned" not in shown


@pytest.mark.parametrize(
    "text",
    ["budget.xlsx", "zz-report.xlsx", "/Finance/zz-report.xlsx", "ip:10.0.0.7", "Finance\\zz-report.xlsx"],
)
def test_a_bare_query_without_search_is_searched(harness: Harness, text: str) -> None:
    """``/qlocks budget.xlsx`` (forgot ``search``) does what the user meant."""
    harness.sim.state.add_handle("/Finance/zz-report.xlsx", user="dana", client_ip="10.0.0.7")
    resp, name = harness.command(text)
    assert resp.status == 200 and ack_text(resp) == ""
    [answer] = harness.posted(name)
    assert answer["blocks"][1]["elements"][0]["text"].endswith(f"`{text.replace(chr(92) * 2, chr(92))}`")


@pytest.mark.parametrize("text", ["close", "recent today", "frobnicate R&amp;D"])
def test_an_unknown_word_gets_did_you_mean_not_all_of_help(harness: Harness, text: str) -> None:
    resp, name = harness.command(text)
    said = ack_text(resp)
    word = text.split()[0]
    assert said.startswith(f"I don't know the command `{word}`")
    assert "`/qlocks search " + text.replace("&amp;", "&amp;") + "`" in said
    assert "`/qlocks help`" in said and "Close handle" not in said  # a pointer to help, not all of it
    assert harness.posted(name) == []


def test_slack_escaping_and_links_are_undone_once(harness: Harness) -> None:
    """Slack sends ``R&D`` as ``R&amp;D`` and a pasted path as link markup: the search gets what was typed."""
    h = harness
    plain = h.sim.state.add_handle("/Finance/zq-R&D plan.xlsx", user="dana")
    literal = h.sim.state.add_handle("/Finance/zq-R&amp;D notes.xlsx", user="dana")

    def found(message: dict[str, Any]) -> set[str]:
        return {
            decode_ref(b["accessory"]["value"]).ref.location for b in message["blocks"] if "accessory" in b
        }

    assert found(h.search("zq-R&amp;D")) == {plain}
    assert found(h.search("zq-R&amp;amp;D")) == {literal}  # the user typed "&amp;" themselves
    fs = h.sim.state.shares[0]["fs_path"].rstrip("/")
    share = h.sim.state.shares[0]["share_name"]
    path = h.sim.state.add_handle(f"{fs}/pasted/x.xlsx", user="erin")
    url = f"smb://qumulo/{share}/pasted/x.xlsx"
    message = h.search(f"<{url}|{url}>")
    assert found(message) == {path}
    assert url in json.dumps(message["blocks"])  # the byline quotes the path, not the markup


@pytest.mark.parametrize("query", ["ip:&lt;!channel&gt;", "a", "/a/../b"])
def test_query_error_is_the_ephemeral_ack_and_escaped(harness: Harness, query: str) -> None:
    """Regression: a query that cannot be parsed was first acknowledged with "🔎 Searching… for `a`", then
    refused in a second message; now the refusal is the ack itself and nothing else is posted."""
    resp, name = harness.command(f"search {query}")
    assert resp.status == 200
    body = json.loads(resp.body)
    assert body.get("response_type", "ephemeral") == "ephemeral"
    assert "Can't search for that" in body["text"] and "Searching" not in body["text"]
    assert harness.posted(name) == []
    if "channel" in query:
        assert "&lt;!channel&gt;" in body["text"] and "<!channel>" not in body["text"]


def test_expired_token(harness: Harness) -> None:
    harness.sim.state.expire_token(harness.sim.admin_token)
    _, name = harness.command("search budget")
    (reply,) = harness.posted(name)
    assert reply["response_type"] == "ephemeral" and "QUMULO_ACCESS_TOKEN" in reply["text"]


def test_missing_privilege_is_named(make_harness: Any, sim: Any) -> None:
    token = sim.mint_token("weak", ["PRIVILEGE_SMB_SESSION_READ"])
    h: Harness = make_harness(qumulo={"access_token": token})
    _, name = h.command("search budget")
    (reply,) = h.posted(name)
    assert reply["response_type"] == "ephemeral" and "missing the privilege" in reply["text"]
    assert "SMB_FILE_HANDLE_READ" in reply["text"]


@pytest.mark.parametrize("by_acl", [False, True], ids=["privilege-needed", "acl-allows"])
def test_exact_path_search_without_fs_attributes_read(make_harness: Any, sim: Any, by_acl: bool) -> None:
    """#12 item 1: a full path or UNC path needs the attributes lookup; refused, the reply names the privilege."""
    from bot.qumulo.models import OPTIONAL_PRIVILEGES, REQUIRED_PRIVILEGES

    sim.state.attributes_by_file_access = by_acl
    loc = sim.state.add_handle("/finance/zz-exact.xlsx", user="dana", client_ip="10.0.0.7")
    privileges = [
        p for p in [*REQUIRED_PRIVILEGES, *OPTIONAL_PRIVILEGES] if p != "PRIVILEGE_FS_ATTRIBUTES_READ"
    ]
    h: Harness = make_harness(qumulo={"access_token": sim.mint_token("no-attrs", privileges)})
    share = sim.state.share_for("/finance/zz-exact.xlsx")
    for query in ("/finance/zz-exact.xlsx", f"\\\\{CLUSTER}\\{share}\\zz-exact.xlsx"):
        _, name = h.command(f"search {query}")
        (reply,) = h.posted(name)
        if by_acl:
            assert reply["response_type"] == "in_channel", reply
            assert loc in json.dumps(reply["blocks"])
        else:
            assert reply["response_type"] == "ephemeral"
            assert "missing the privilege `PRIVILEGE_FS_ATTRIBUTES_READ`" in reply["text"]
            assert "exact-path searches" in reply["text"]


def test_untrusted_certificate_reply_names_the_safe_fixes_with_the_whole_fingerprint(
    make_harness: Any,
) -> None:
    from qlocks_tools.simulator import start_simulator

    from bot.qumulo.tls import colon_hex

    with start_simulator(port=0, handles=5, tls=True) as tls_sim:
        h: Harness = make_harness(cluster=tls_sim, qumulo={"ca_bundle": None})
        _, name = h.command("search budget")
        (reply,) = h.posted(name)
        pin = colon_hex(tls_sim.cert_fingerprint)
    assert reply["response_type"] == "ephemeral" and "securely" in reply["text"]
    assert f"QUMULO_TLS_FINGERPRINT={pin}" in reply["text"] and "qlocks trust-cluster" in reply["text"]
    assert "QUMULO_VERIFY_TLS" not in reply["text"]


def test_cluster_unreachable(make_harness: Any, refused_port: int) -> None:
    h: Harness = make_harness(qumulo={"port": refused_port, "timeout_s": 2.0})
    _, name = h.command("search budget")
    (reply,) = h.posted(name)
    assert reply["response_type"] == "ephemeral" and "Can't reach the cluster" in reply["text"]


def test_query_too_broad(harness: Harness) -> None:
    for i in range(MAX_RESULTS + 1):
        harness.sim.state.add_handle(f"/Projects/broad-x/f{i}.dwg", user="dana")
    _, name = harness.command("search broad-x")
    (reply,) = harness.posted(name)
    assert reply["response_type"] == "ephemeral" and "too broad" in reply["text"]
    assert f"{MAX_RESULTS + 1:,}" in reply["text"]


def test_paging_prev_next(harness: Harness) -> None:
    h = harness
    opened = {h.sim.state.add_handle(f"/Projects/pagetest/f{i:02d}.dwg", user="dana") for i in range(45)}
    message = h.search("pagetest")
    seen: list[str] = []
    offsets = []
    for _ in range(3):
        blocks = message["blocks"]
        assert_valid_blocks(blocks)
        seen += [decode_ref(b["accessory"]["value"]).ref.location for b in blocks if "accessory" in b]
        footer = next(b for b in blocks if b.get("block_id") == "qlocks-footer")["elements"][0]["text"]
        offsets.append(footer.split("showing ")[1])
        if not any(el.get("action_id") == PAGE_NEXT_ACTION for b in blocks for el in b.get("elements", [])):
            break
        _, name = h.click(message, user=USER, action_id=PAGE_NEXT_ACTION)  # anyone in the channel may page
        (message,) = h.posted(name)
        assert message["replace_original"] is True
    assert offsets == ["1–20 of 45", "21–40 of 45", "41–45 of 45"]
    assert set(seen) == opened and len(seen) == 45
    _, name = h.click(message, user=USER, action_id=PAGE_PREV_ACTION)
    (back,) = h.posted(name)
    assert "showing 21–40 of 45" in json.dumps(back["blocks"], ensure_ascii=False)
    # the searcher stays the person who ran the search, whoever pages
    button = next(
        b["accessory"] for b in back["blocks"] if b.get("accessory", {}).get("action_id") == CLOSE_ACTION
    )
    assert decode_ref(button["value"]).searcher == USER


def test_long_scan_reports_progress_within_response_url_budget(make_harness: Any) -> None:
    from qlocks_tools.simulator import start_simulator

    with start_simulator(port=0, handles=3500, seed=2) as big:  # several 1,000-handle pages
        h: Harness = make_harness(
            cluster=big, progress=ProgressPolicy(after_s=0.0, every_s=0.0, max_updates=2)
        )
        _, name = h.command("search xlsx")
    posts = h.posted(name)
    scanning = [p for p in posts if p["text"].startswith("⏳ Searching")]
    assert [p["text"] for p in scanning] == [
        f"⏳ Searching *{CLUSTER}* for `xlsx`: {n} handles scanned so far. The answer will be posted here."
        for n in ("1,000", "2,000")
    ]
    assert all(p["response_type"] == "ephemeral" for p in scanning)
    assert posts[-1] not in scanning  # the answer (or "too broad") comes last
    assert len(posts) <= 5
    assert all(c.status == 200 for c in h.fake.responses(name))


class BrokenLocks:
    """A lock service that fails in a way nobody planned for."""

    cluster_name = "qumulo-test"
    client = type("NoClient", (), {"close": lambda self: None})()

    def shutdown(self) -> None:
        pass

    def search(self, query: Query, *, progress: Any = None) -> SearchResult:
        raise RuntimeError("secret internal detail")


def test_unexpected_error_shows_only_an_incident_id(
    make_harness: Any, caplog: pytest.LogCaptureFixture
) -> None:
    h: Harness = make_harness(service=BrokenLocks())
    resp, name = h.command("search budget")
    assert resp.status == 200
    (reply,) = h.posted(name)
    assert "incident" in reply["text"] and "secret internal detail" not in reply["text"]
    incident = reply["text"].split("`")[1]
    assert any(incident in r.getMessage() for r in caplog.records)


def test_bad_signature_and_stale_timestamp_are_rejected(harness: Harness) -> None:
    url = harness.fake.response_url("x", user=USER)
    body = slash_command("search budget", user_id=USER, channel_id=OPS, response_url=url)
    assert harness.app.dispatch(bolt_request(body, secret="wrong-secret")).status == 401
    import time

    stale = slash_command("search budget", user_id=USER, channel_id=OPS, response_url=url)
    assert harness.app.dispatch(bolt_request(stale, now=time.time() - 301)).status == 401
    headers = signed_headers(SECRET, body, now=time.time())
    tampered = body.replace(b"budget", b"xlsx")
    assert harness.app.dispatch(BoltRequest(body=tampered.decode(), headers={**headers})).status == 401
    assert harness.posted("x") == []
