"""The playground server without the bot: signed requests out, fake Slack in, channel state for the page."""

from __future__ import annotations

import json
import re
import threading
import time
from typing import Any

import pytest
import requests
from qlocks_tools.fakeslack import ALEX, BOT, DANA
from qlocks_tools.playground.server import PlaygroundServer
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.webhook import WebhookClient

from tests.tools.playground.conftest import TOKEN, FakeBot, Received

BUTTON_BLOCKS: list[dict[str, Any]] = [
    {"type": "header", "text": {"type": "plain_text", "text": "Open handles"}},
    {
        "type": "section",
        "block_id": "row-1",
        "text": {"type": "mrkdwn", "text": "`/finance/budget.xlsx` dana @ 10.0.0.1", "verbatim": True},
        "accessory": {
            "type": "button",
            "action_id": "close_handle",
            "style": "danger",
            "text": {"type": "plain_text", "text": "Close handle"},
            "value": "qumulo:1.2.3",
            "confirm": {
                "title": {"type": "plain_text", "text": "Close SMB handle?"},
                "text": {"type": "plain_text", "text": "dana will lose unsaved changes."},
                "confirm": {"type": "plain_text", "text": "Close handle"},
                "deny": {"type": "plain_text", "text": "Cancel"},
                "style": "danger",
            },
        },
    },
    {"type": "actions", "block_id": "pager", "elements": [
        {"type": "button", "action_id": "page_next", "text": {"type": "plain_text", "text": "Next"}, "value": "2"}]},
]  # fmt: skip


def page_post(pg: PlaygroundServer, path: str, body: dict[str, Any]) -> dict[str, Any]:
    resp = requests.post(pg.url + path, json=body, timeout=10)
    assert resp.status_code == 200, resp.text
    data: dict[str, Any] = resp.json()
    return data


def state(pg: PlaygroundServer, user: str, **params: Any) -> dict[str, Any]:
    resp = requests.get(pg.url + "/pg/state", params={"as": user, **params}, timeout=15)
    assert resp.status_code == 200
    data: dict[str, Any] = resp.json()
    return data


def web(pg: PlaygroundServer, token: str = TOKEN) -> WebClient:
    return WebClient(token=token, base_url=pg.url + "/api/")


# -- slash commands ----------------------------------------------------------------------------------------------
def test_command_is_a_signed_slack_form_with_escaped_text(
    playground: PlaygroundServer, fake_bot: FakeBot
) -> None:
    result = page_post(playground, "/pg/command", {"as": DANA.id, "text": "/qlocks search R&D/<draft> plan"})
    got = fake_bot.next()
    assert got.valid_signature
    assert abs(int(got.headers["x-slack-request-timestamp"]) - time.time()) < 60
    assert got.headers["content-type"] == "application/x-www-form-urlencoded"
    form = got.form
    assert form["command"] == "/qlocks"
    assert form["text"] == "search R&amp;D/&lt;draft&gt; plan"  # Slack escapes the control characters
    assert (form["user_id"], form["user_name"]) == (DANA.id, DANA.name)
    assert form["channel_id"] == playground.channel.id
    assert form["response_url"].startswith(playground.url + "/respond/")
    assert form["team_id"] and form["api_app_id"] and form["trigger_id"]
    assert result["ok"] is True and result["status"] == 200
    # the typed line is in the channel (escaped like any Slack message text)
    assert [m.text for m in playground.channel.messages()] == ["/qlocks search R&amp;D/&lt;draft&gt; plan"]


def test_ack_body_is_shown_ephemerally_to_the_caller(playground: PlaygroundServer, fake_bot: FakeBot) -> None:
    fake_bot.reply = lambda r: (200, "application/json", b'{"text": "Searching\\u2026"}')
    page_post(playground, "/pg/command", {"as": DANA.id, "text": "/qlocks search budget"})
    dana = state(playground, DANA.id)["messages"]
    alex = state(playground, ALEX.id)["messages"]
    assert [m["text"] for m in dana] == ["/qlocks search budget", "Searching…"]
    assert dana[1]["ephemeral"] is True and dana[1]["user"] == BOT.id
    assert [m["text"] for m in alex] == ["/qlocks search budget"]


def test_ack_stays_ahead_of_replies_posted_before_it_returned(
    playground: PlaygroundServer, fake_bot: FakeBot
) -> None:
    def reply_first(received: Received) -> tuple[int, str, bytes]:
        # the listener's reply reaches Slack before the ack's HTTP response does
        WebhookClient(received.form["response_url"]).send(text="the list", response_type="in_channel")
        return 200, "application/json", b'{"text": "Searching..."}'

    fake_bot.reply = reply_first
    page_post(playground, "/pg/command", {"as": DANA.id, "text": "/qlocks search budget"})
    texts = [m["text"] for m in state(playground, DANA.id)["messages"]]
    assert texts == ["/qlocks search budget", "Searching...", "the list"]


def test_bot_failure_becomes_a_slackbot_note(playground: PlaygroundServer, fake_bot: FakeBot) -> None:
    fake_bot.reply = lambda r: (500, "text/plain", b"boom")
    result = page_post(playground, "/pg/command", {"as": DANA.id, "text": "/qlocks search x"})
    assert result["ok"] is False and result["status"] == 500
    note = state(playground, DANA.id)["messages"][-1]
    assert note["kind"] == "system" and note["ephemeral"] is True
    assert "dispatch_failed" in note["text"]


def test_wrong_secret_is_rejected_by_slacks_own_verifier(
    playground: PlaygroundServer, fake_bot: FakeBot
) -> None:
    playground.bot.signing_secret = "not-the-secret"
    result = page_post(playground, "/pg/command", {"as": DANA.id, "text": "/qlocks help"})
    assert fake_bot.next().valid_signature is False
    assert result["status"] == 401
    assert "HTTP 401" in state(playground, DANA.id)["messages"][-1]["text"]


def test_other_commands_and_plain_messages_never_reach_the_bot(
    playground: PlaygroundServer, fake_bot: FakeBot
) -> None:
    assert page_post(playground, "/pg/command", {"as": DANA.id, "text": "/giphy cats"})["ok"] is False
    assert page_post(playground, "/pg/command", {"as": DANA.id, "text": "hello <team> & all"})["ok"] is True
    assert fake_bot.received.empty()
    texts = [m["text"] for m in state(playground, DANA.id)["messages"]]
    assert texts[-1] == "hello &lt;team&gt; &amp; all"
    assert "not a valid command" in texts[0]


def test_response_url_in_channel_and_ephemeral(playground: PlaygroundServer, fake_bot: FakeBot) -> None:
    page_post(playground, "/pg/command", {"as": DANA.id, "text": "/qlocks search budget"})
    hook = WebhookClient(fake_bot.next().form["response_url"])
    assert hook.send(text="only for dana", response_type="ephemeral").status_code == 200
    assert hook.send(text="for everyone", blocks=BUTTON_BLOCKS, response_type="in_channel").status_code == 200
    alex = [m for m in state(playground, ALEX.id)["messages"] if m["user"] == BOT.id]
    dana = [m for m in state(playground, DANA.id)["messages"] if m["user"] == BOT.id]
    assert [m["text"] for m in alex] == ["for everyone"]
    assert alex[0]["blocks"] == BUTTON_BLOCKS
    assert [m["text"] for m in dana] == ["only for dana", "for everyone"]
    methods = [c.method for c in playground.slack.calls]
    assert methods == ["respond", "respond"]


def test_response_url_allows_five_posts(playground: PlaygroundServer, fake_bot: FakeBot) -> None:
    page_post(playground, "/pg/command", {"as": DANA.id, "text": "/qlocks search budget"})
    hook = WebhookClient(fake_bot.next().form["response_url"])
    statuses = [hook.send(text=f"n{i}").status_code for i in range(6)]
    assert statuses == [200] * 5 + [404]
    assert WebhookClient(playground.url + "/respond/made-up").send(text="x").status_code == 404


def test_response_url_rejects_invalid_blocks(playground: PlaygroundServer, fake_bot: FakeBot) -> None:
    page_post(playground, "/pg/command", {"as": DANA.id, "text": "/qlocks search budget"})
    hook = WebhookClient(fake_bot.next().form["response_url"])
    too_long = [{"type": "header", "text": {"type": "plain_text", "text": "x" * 151}}]
    resp = hook.send(text="t", blocks=too_long)
    assert resp.status_code == 400 and resp.body == "invalid_blocks"
    assert playground.slack.calls[-1].error == "invalid_blocks"
    note = state(playground, DANA.id)["messages"][-1]
    assert note["kind"] == "system" and note["ephemeral"] and "invalid_blocks" in note["text"]


# -- Web API -----------------------------------------------------------------------------------------------------
def test_web_api_post_update_and_recording(playground: PlaygroundServer) -> None:
    client = web(playground)
    assert client.auth_test()["user_id"] == BOT.id
    posted = client.chat_postMessage(channel=playground.channel.id, text="list", blocks=BUTTON_BLOCKS)
    ts = posted["ts"]
    client.chat_update(channel=playground.channel.id, ts=ts, text="updated", blocks=BUTTON_BLOCKS[:1])
    msg = playground.channel.get(ts)
    assert msg is not None and msg.text == "updated" and msg.blocks == BUTTON_BLOCKS[:1] and msg.updates == 1
    eph = client.chat_postEphemeral(channel=playground.channel.id, user=DANA.id, text="psst")
    with pytest.raises(SlackApiError) as err:  # ephemeral messages cannot be updated through the Web API
        client.chat_update(channel=playground.channel.id, ts=eph["message_ts"], text="x")
    assert err.value.response["error"] == "message_not_found"
    assert client.usergroups_users_list(usergroup="S0ADMINS")["users"] == [ALEX.id]
    assert client.users_info(user=DANA.id)["user"]["name"] == "dana"
    calls = playground.slack.calls
    assert [c.method for c in calls] == ["auth.test", "chat.postMessage", "chat.update", "chat.postEphemeral",
                                         "chat.update", "usergroups.users.list", "users.info"]  # fmt: skip
    assert calls[1].body["blocks"] == BUTTON_BLOCKS and calls[1].body["channel"] == playground.channel.id
    assert calls[4].ok is False


@pytest.mark.filterwarnings("ignore:The top-level `text` argument is missing:UserWarning")
@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"channel": "C0NOPE", "text": "x"}, "channel_not_found"),
        ({"channel": "C0STORAGE"}, "no_text"),
        ({"channel": "C0STORAGE", "text": "x", "blocks": [{"type": "section"}]}, "invalid_blocks"),
        ({"channel": "C0STORAGE", "text": "x", "blocks": [{"type": "divider"}] * 51}, "invalid_blocks"),
        (
            {"channel": "C0STORAGE", "text": "x", "blocks": [{"type": "divider", "block_id": "a"}] * 2},
            "invalid_blocks",
        ),
    ],
)
def test_web_api_rejects_what_slack_rejects(
    playground: PlaygroundServer, kwargs: dict[str, Any], error: str
) -> None:
    with pytest.raises(SlackApiError) as err:
        web(playground).chat_postMessage(**kwargs)
    assert err.value.response["error"] == error
    notes = [(m.kind, m.visible_to) for m in playground.channel.messages()]
    # what Slack drops silently, the playground explains (a bad channel is not about the content)
    assert notes == ([] if error == "channel_not_found" else [("system", None)])


def test_web_api_checks_the_token(playground: PlaygroundServer) -> None:
    with pytest.raises(SlackApiError) as err:
        web(playground, token="xoxb-wrong").chat_postMessage(channel="C0STORAGE", text="x")
    assert err.value.response["error"] == "invalid_auth"
    resp = requests.post(
        playground.url + "/api/chat.postMessage", data={"channel": "C0STORAGE", "text": "x"}, timeout=5
    )
    assert resp.json() == {"ok": False, "error": "not_authed"}
    assert playground.channel.messages() == []


# -- button clicks -----------------------------------------------------------------------------------------------
def _posted_list(pg: PlaygroundServer) -> str:
    ts: str = web(pg).chat_postMessage(channel=pg.channel.id, text="list", blocks=BUTTON_BLOCKS)["ts"]
    return ts


def test_click_sends_a_signed_block_actions_payload(playground: PlaygroundServer, fake_bot: FakeBot) -> None:
    ts = _posted_list(playground)
    result = page_post(
        playground, "/pg/action", {"as": ALEX.id, "ts": ts, "block_id": "row-1", "action_id": "close_handle"}
    )
    assert result["ok"] is True
    got = fake_bot.next()
    assert got.valid_signature and set(got.form) == {"payload"}
    p = got.payload
    assert p["type"] == "block_actions"
    assert p["user"]["id"] == ALEX.id and p["channel"]["id"] == playground.channel.id
    assert p["container"] == {"type": "message", "message_ts": ts, "channel_id": playground.channel.id,
                              "is_ephemeral": False}  # fmt: skip
    assert p["message"]["ts"] == ts and p["message"]["blocks"] == BUTTON_BLOCKS
    action = p["actions"][0]
    assert (action["action_id"], action["block_id"], action["value"]) == (
        "close_handle",
        "row-1",
        "qumulo:1.2.3",
    )
    assert p["response_url"].startswith(playground.url + "/respond/")


def test_click_response_url_replaces_unless_told_otherwise(
    playground: PlaygroundServer, fake_bot: FakeBot
) -> None:
    ts = _posted_list(playground)
    page_post(
        playground, "/pg/action", {"as": DANA.id, "ts": ts, "block_id": "row-1", "action_id": "close_handle"}
    )
    hook = WebhookClient(fake_bot.next().payload["response_url"])
    assert (
        hook.send(text="Not authorized", response_type="ephemeral", replace_original=False).status_code == 200
    )
    closed = [
        {
            "type": "section",
            "block_id": "row-1-closed",
            "text": {"type": "mrkdwn", "text": "Closed by <@U0ALEX>"},
        }
    ]
    assert hook.send(text="list", blocks=closed, replace_original=True).status_code == 200
    dana, alex = state(playground, DANA.id)["messages"], state(playground, ALEX.id)["messages"]
    assert [m["text"] for m in dana] == ["list", "Not authorized"] and dana[1]["ephemeral"]
    assert len(alex) == 1 and alex[0]["blocks"] == closed and alex[0]["updated"] is True
    assert hook.send(delete_original=True).status_code == 200
    assert [m["text"] for m in state(playground, ALEX.id)["messages"]] == []


def test_click_on_a_missing_button_or_someone_elses_ephemeral(
    playground: PlaygroundServer, fake_bot: FakeBot
) -> None:
    ts = _posted_list(playground)
    resp = requests.post(playground.url + "/pg/action", json={"as": DANA.id, "ts": ts, "block_id": "row-9",
                                                              "action_id": "close_handle"}, timeout=5)  # fmt: skip
    assert resp.status_code == 404
    eph = web(playground).chat_postEphemeral(
        channel="C0STORAGE", user=ALEX.id, text="t", blocks=BUTTON_BLOCKS
    )
    resp = requests.post(playground.url + "/pg/action", json={"as": DANA.id, "ts": eph["message_ts"],
                                                              "block_id": "row-1", "action_id": "close_handle"}, timeout=5)  # fmt: skip
    assert resp.status_code == 404
    assert fake_bot.received.empty()
    page_post(
        playground,
        "/pg/action",
        {"as": ALEX.id, "ts": eph["message_ts"], "block_id": "pager", "action_id": "page_next"},
    )
    p = fake_bot.next().payload
    assert p["container"]["is_ephemeral"] is True and "message" not in p  # as Slack: no message for ephemeral
    assert p["actions"][0]["value"] == "2"


def test_click_on_an_outdated_button_reaches_the_bot_as_it_was_shown(
    playground: PlaygroundServer, fake_bot: FakeBot
) -> None:
    """As in Slack: the message changed after the page showed it; the click goes to the bot, which decides."""
    ts = _posted_list(playground)
    state(playground, ALEX.id)  # alex's page is shown the list and its Close button
    gone = [{"type": "section", "block_id": "row-1", "text": {"type": "mrkdwn", "text": "Already gone"}}]
    web(playground).chat_update(channel=playground.channel.id, ts=ts, text="list", blocks=gone)
    click = {
        "as": ALEX.id,
        "ts": ts,
        "block_id": "row-1",
        "action_id": "close_handle",
        "value": "qumulo:1.2.3",
    }
    assert page_post(playground, "/pg/action", click)["ok"] is True
    p = fake_bot.next().payload
    assert p["actions"][0]["value"] == "qumulo:1.2.3" and p["actions"][0]["block_id"] == "row-1"  # as shown
    assert p["actions"][0]["text"]["text"] == "Close handle"
    assert p["message"]["ts"] == ts and p["message"]["blocks"] == gone  # the message as it is now
    # a button this user's page was never shown is not sent: not dana's (she has not looked), not a made-up value
    for body in ({**click, "as": DANA.id}, {**click, "value": "qumulo:9.9.9"}):
        resp = requests.post(playground.url + "/pg/action", json=body, timeout=5)
        assert resp.status_code == 404 and "never showed" in resp.json()["error"]
    assert fake_bot.received.empty()


# -- page plumbing -----------------------------------------------------------------------------------------------
def test_state_long_poll_wakes_on_change(playground: PlaygroundServer) -> None:
    version = state(playground, DANA.id)["version"]
    result: dict[str, Any] = {}

    def poll() -> None:
        started = time.monotonic()
        result["state"] = state(playground, DANA.id, since=version, wait=10)
        result["took"] = time.monotonic() - started

    thread = threading.Thread(target=poll)
    thread.start()
    web(playground).chat_postMessage(channel="C0STORAGE", text="hi")
    thread.join(15)
    assert result["state"]["version"] > version
    assert result["took"] < 5
    assert [m["text"] for m in result["state"]["messages"]] == ["hi"]


def test_state_never_names_a_version_newer_than_its_messages(
    playground: PlaygroundServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Regression: the state read the messages, then the version. A post landing in between was counted as seen
    though it was not in the snapshot, so the page long-polled past it and never showed it (the browser tests
    then waited 20 s for the bot's reply on a busy machine). The post is made to land exactly there."""
    channel = playground.channel
    snapshot = channel.visible_to

    def then_a_post(user_id: str) -> Any:
        seen = snapshot(user_id)
        channel.post(user=BOT.id, text="posted meanwhile")
        return seen

    monkeypatch.setattr(channel, "visible_to", then_a_post)
    got = state(playground, DANA.id)
    monkeypatch.undo()
    assert "posted meanwhile" not in [m["text"] for m in got["messages"]]
    assert got["version"] < channel.version  # so the page's next long-poll returns at once ...
    again = state(playground, DANA.id, since=got["version"], wait=10)
    assert "posted meanwhile" in [m["text"] for m in again["messages"]]  # ... with the post


def test_page_and_assets_are_served_with_a_strict_csp(playground: PlaygroundServer) -> None:
    page = requests.get(playground.url + "/", timeout=5)
    assert page.status_code == 200 and "text/html" in page.headers["Content-Type"]
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    for name in ("app.js", "blockkit.js", "style.css"):
        asset = requests.get(f"{playground.url}/static/{name}", timeout=5)
        assert asset.status_code == 200 and asset.content
        assert not re.search(r"innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(", asset.text)
    for bad in (
        "/static/../server.py",
        "/static/%2e%2e/server.py",
        "/static/server.py",
        "/static/.hidden.js",
    ):
        assert requests.get(playground.url + bad, timeout=5).status_code == 404


def test_guards_against_rebinding_and_cross_site_posts(playground: PlaygroundServer) -> None:
    resp = requests.get(playground.url + "/pg/state", headers={"Host": "evil.example:80"}, timeout=5)
    assert resp.status_code == 403
    resp = requests.post(playground.url + "/pg/command", data=json.dumps({"as": DANA.id, "text": "hi"}),
                         headers={"Content-Type": "text/plain"}, timeout=5)  # fmt: skip
    assert resp.status_code == 415
    resp = requests.post(playground.url + "/pg/command", json={"as": "U0QLOCKS", "text": "hi"}, timeout=5)
    assert resp.status_code == 400  # nobody can type as the bot
    assert playground.channel.messages() == []
