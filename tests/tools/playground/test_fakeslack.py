"""The one fake Slack on its own loopback port (as tests/slack use it): knobs, recording, response_url limits, and
the request builders checked with slack_sdk's verifier."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from urllib.parse import parse_qs

import pytest
import requests
from qlocks_tools.fakeslack import (
    RESPONSE_URL_TTL_S,
    Channel,
    FakeSlack,
    Message,
    block_actions_body,
    click,
    signed_headers,
    slash_command,
)
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.signature import SignatureVerifier
from slack_sdk.webhook import WebhookClient

TOKEN = "xoxb-fake"
SECRET = "a-signing-secret"
CHANNEL = "C0OPS0001"
BUTTON = {
    "type": "button",
    "action_id": "close_handle",
    "value": "v1",
    "text": {"type": "plain_text", "text": "x"},
}
MESSAGE = Message(ts="1.000001", user="U0QLOCKS", text="list", blocks=[
    {"type": "section", "block_id": "row-1", "text": {"type": "mrkdwn", "text": "row"}, "accessory": BUTTON}])  # fmt: skip


class Clock:
    def __init__(self) -> None:
        self.now = 1_760_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def fake(clock: Clock) -> Iterator[FakeSlack]:
    with FakeSlack(Channel(channel_id=CHANNEL, name="ops"), bot_token=TOKEN, clock=clock) as served:
        yield served


def _client(fake: FakeSlack, token: str = TOKEN) -> WebClient:
    return WebClient(token=token, base_url=fake.api_url)


def _bodies() -> list[bytes]:
    command = slash_command(
        "search R&D <x>", user_id="U0DANA", channel_id=CHANNEL, response_url="http://x/r/1"
    )
    clicked = click(
        MESSAGE, action_id="close_handle", user_id="U0ALEX", channel_id=CHANNEL, response_url="http://x/r/2"
    )
    return [command, block_actions_body(clicked)]


@pytest.mark.parametrize("index", [0, 1], ids=["slash_command", "block_actions"])
def test_built_requests_verify_with_slack_sdk_and_tampering_does_not(index: int) -> None:
    body = _bodies()[index]
    headers = signed_headers(SECRET, body, now=time.time())
    stamp, signature = headers["X-Slack-Request-Timestamp"], headers["X-Slack-Signature"]
    verifier = SignatureVerifier(SECRET)
    assert verifier.is_valid(body, stamp, signature)
    assert not verifier.is_valid(body.replace(b"U0", b"U1"), stamp, signature)
    assert not SignatureVerifier(SECRET + "x").is_valid(body, stamp, signature)
    stale = signed_headers(SECRET, body, now=time.time() - 301)
    assert not verifier.is_valid_request(body, stale)


def test_command_text_is_escaped_once_like_slack() -> None:
    form = parse_qs(_bodies()[0].decode())
    assert form["text"] == ["search R&amp;D &lt;x&gt;"]
    wire = slash_command("a &amp; b", user_id="U0DANA", channel_id=CHANNEL, response_url="u", escaped=True)
    assert parse_qs(wire.decode())["text"] == ["a &amp; b"]  # already what Slack sends: unchanged


def test_click_can_forge_a_value_and_needs_the_button() -> None:
    payload = click(MESSAGE, action_id="close_handle", user_id="U0ALEX", channel_id=CHANNEL, response_url="u",
                    value="forged")  # fmt: skip
    assert payload["actions"][0]["value"] == "forged" and BUTTON["value"] == "v1"
    with pytest.raises(LookupError):
        click(MESSAGE, action_id="page_next", user_id="U0ALEX", channel_id=CHANNEL, response_url="u")


def test_web_api_calls_are_recorded_in_order(fake: FakeSlack) -> None:
    client = _client(fake)
    assert client.auth_test()["user_id"] == "U0QLOCKS"
    posted = client.chat_postMessage(channel=CHANNEL, text="hello")
    assert posted["ts"] and fake.channel.get(posted["ts"]) is not None
    with pytest.raises(SlackApiError) as err:
        _client(fake, token="xoxb-wrong").chat_postMessage(channel=CHANNEL, text="x")
    assert err.value.response["error"] == "invalid_auth"
    assert [(c.method, c.ok, c.token) for c in fake.calls] == [
        ("auth.test", True, TOKEN),
        ("chat.postMessage", True, TOKEN),
        ("chat.postMessage", False, "xoxb-wrong"),
    ]
    assert fake.calls_to("chat.postMessage")[0].body == {"channel": CHANNEL, "text": "hello"}
    with pytest.raises(SlackApiError) as err:
        client.chat_postMessage(channel=CHANNEL, text="x", blocks=[{"type": "section"}])
    assert err.value.response["error"] == "invalid_blocks"


def test_failure_knob_answers_ok_false_count_times_or_always(fake: FakeSlack) -> None:
    client = _client(fake)
    fake.fail("chat.postMessage", "not_in_channel", count=2)
    for _ in range(2):
        with pytest.raises(SlackApiError) as err:
            client.chat_postMessage(channel=CHANNEL, text="x")
        assert err.value.response.data == {"ok": False, "error": "not_in_channel"}
    assert client.chat_postMessage(channel=CHANNEL, text="x")["ok"] is True
    fake.fail("auth.test")
    for _ in range(3):
        assert requests.post(fake.api_url + "auth.test", timeout=5).json() == {
            "ok": False,
            "error": "internal_error",
        }
    assert [c.error for c in fake.calls] == ["not_in_channel"] * 2 + [None] + ["internal_error"] * 3


def test_groups_knob(fake: FakeSlack) -> None:
    fake.groups["S0ADMINS"] = ["U0ALEX"]
    assert _client(fake).usergroups_users_list(usergroup="S0ADMINS")["users"] == ["U0ALEX"]
    with pytest.raises(SlackApiError) as err:
        _client(fake).usergroups_users_list(usergroup="S0NOPE")
    assert err.value.response["error"] == "no_such_subteam"


def test_response_url_refuses_the_sixth_post(fake: FakeSlack) -> None:
    hook = WebhookClient(fake.response_url("cmd1", user="U0DANA"))
    answers = [hook.send(text=f"n{i}") for i in range(6)]
    assert [(a.status_code, a.body) for a in answers] == [(200, "ok")] * 5 + [(404, "used_url")]
    assert [c.status for c in fake.responses("cmd1")] == [200] * 5 + [404]
    assert fake.responses("cmd1")[-1].error == "used_url" and fake.responses("other") == []
    assert [m.visible_to for m in fake.channel.messages()] == ["U0DANA"] * 5  # ephemeral by default


def test_response_url_expires_after_30_minutes(fake: FakeSlack, clock: Clock) -> None:
    hook = WebhookClient(fake.response_url(user="U0DANA"))
    assert hook.send(text="in time").status_code == 200
    clock.now += RESPONSE_URL_TTL_S + 1
    resp = hook.send(text="too late")
    assert (resp.status_code, resp.body) == (404, "expired_url")
    assert WebhookClient(fake.base_url + "/respond/never-issued").send(text="x").status_code == 404


def test_failing_response_urls(fake: FakeSlack) -> None:
    hook = WebhookClient(fake.response_url("r", user="U0DANA"))
    fake.fail_response_urls(500)
    assert hook.send(text="x").status_code == 500
    fake.fail_response_urls(None)
    assert hook.send(text="x").status_code == 200
    assert [c.status for c in fake.responses("r")] == [500, 200]


def test_failing_only_some_response_url_posts(fake: FakeSlack) -> None:
    hook = WebhookClient(fake.response_url("r", user="U0DANA"))
    fake.fail_response_urls(404, count=1, when=lambda body: body.get("response_type") == "in_channel")
    assert hook.send(text="private").status_code == 200  # not matched: goes through
    assert hook.send(text="public", response_type="in_channel").status_code == 404
    assert hook.send(text="public", response_type="in_channel").status_code == 200  # count used up
    assert [c.status for c in fake.responses("r")] == [200, 404, 200]


def _section(text: str) -> dict[str, object]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def test_blocks_over_12k_characters_of_text_are_refused(fake: FakeSlack) -> None:
    """Slack's msg_blocks_too_long: each section within 3,000, together over ~12k (button and confirm texts too)."""
    client = _client(fake)
    button = {"type": "button", "action_id": "b", "value": "v" * 2000,
              "text": {"type": "plain_text", "text": "x" * 75}}  # fmt: skip
    fits = [_section("a" * 3000) for _ in range(4)]
    client.chat_postMessage(channel=CHANNEL, text="t", blocks=fits)  # exactly 12,000, values not counted
    over = [*fits[:3], {**_section("a" * 2926), "accessory": button}]
    with pytest.raises(SlackApiError) as err:
        client.chat_postMessage(channel=CHANNEL, text="t", blocks=over)
    assert err.value.response["error"] == "msg_blocks_too_long"
    astral = [*fits[:3], _section("😀" * 1500 + "a")]  # an emoji outside the BMP counts twice
    with pytest.raises(SlackApiError):
        client.chat_postMessage(channel=CHANNEL, text="t", blocks=astral)
    hook = WebhookClient(fake.response_url("r", user="U0DANA"))
    assert (hook.send(text="t", blocks=over).status_code, fake.responses("r")[-1].error) == (
        400,
        "msg_blocks_too_long",
    )
    # the channel shows Slack's refusals, as it does for other content errors
    assert any("msg_blocks_too_long" in m.text for m in fake.channel.messages() if m.kind == "system")


def test_private_channel_knob_refuses_web_api_posts_not_response_urls(fake: FakeSlack) -> None:
    fake.channel.private, fake.channel.bot_member = True, False
    client = _client(fake)
    for call in (
        lambda: client.chat_postMessage(channel=CHANNEL, text="x"),
        lambda: client.chat_postEphemeral(channel=CHANNEL, user="U0DANA", text="x"),
        lambda: client.chat_update(channel=CHANNEL, ts="1.000001", text="x"),
    ):
        with pytest.raises(SlackApiError) as err:
            call()
        assert err.value.response["error"] == "not_in_channel"
    hook = WebhookClient(fake.response_url("r", user="U0DANA", source_ts=None))
    assert (
        hook.send(text="seen by all", response_type="in_channel", replace_original=False).status_code == 200
    )
    assert [m.text for m in fake.channel.messages() if not m.ephemeral] == ["seen by all"]
    fake.channel.bot_member = True  # invited
    assert client.chat_postMessage(channel=CHANNEL, text="x")["ok"] is True


def test_on_call_runs_before_the_answer(fake: FakeSlack) -> None:
    seen: list[tuple[str, int]] = []
    fake.on_call = lambda call: seen.append((call.method, len(fake.calls)))
    _client(fake).auth_test()
    _client(fake).auth_test()
    WebhookClient(fake.response_url("r", user="U0DANA")).send(text="x")
    assert seen == [("auth.test", 0), ("auth.test", 1), ("respond", 2)]


def test_wait_for_wakes_on_a_call_and_times_out_without_one(fake: FakeSlack) -> None:
    started = time.monotonic()
    with pytest.raises(AssertionError, match="timed out"):
        fake.wait_for(lambda calls: bool(calls), timeout=0.05)
    assert time.monotonic() - started < 2
    thread = threading.Thread(target=lambda: _client(fake).auth_test())
    thread.start()
    calls = fake.wait_for(lambda calls: any(c.method == "auth.test" for c in calls), timeout=10)
    thread.join(5)
    assert [c.method for c in calls] == ["auth.test"]


def test_unknown_paths_and_methods(fake: FakeSlack) -> None:
    assert requests.post(fake.base_url + "/nope", timeout=5).status_code == 404
    answer = requests.post(
        fake.api_url + "chat.frobnicate", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=5
    )
    assert answer.json() == {"ok": False, "error": "unknown_method"}
