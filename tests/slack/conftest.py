"""The Slack app end to end: signed requests into ``app.dispatch``, the fake Slack, the simulator as the cluster."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from qlocks_tools.fakeslack import (
    BOT,
    TEAM_ID,
    Call,
    Channel,
    FakeSlack,
    Message,
    block_actions_body,
    click,
    signed_headers,
    slash_command,
)
from slack_bolt import App, BoltResponse
from slack_bolt.authorization import AuthorizeResult
from slack_bolt.request import BoltRequest
from slack_sdk import WebClient

from bot.audit import AuditLog
from bot.config import QlocksConfig, SlackConfig
from bot.slack.blocks import CLOSE_ACTION
from bot.slack.deps import ProgressPolicy
from bot.slack.refs import decode_ref
from tests.conftest import config_for

ADMIN = "U0ADMIN01"
USER = "U0USER001"
GROUP_MEMBER = "U0GROUP01"
OPS = "C0OPS0001"
ELSEWHERE = "C0RANDOM1"
CLUSTER = "qumulo-test"
BOT_TOKEN = "xoxb-0000000001-0000000002-qlockstest"
SECRET = "test-signing-secret-0123456789abcdef"
# The clicked message's ts: what the bot posts through response_urls carries none.
MESSAGE_TS = "1700000000.000100"


def stub_authorize(**_: Any) -> AuthorizeResult:
    return AuthorizeResult(enterprise_id=None, team_id=TEAM_ID, bot_token=BOT_TOKEN, bot_user_id=BOT.id)


def bolt_request(body: bytes, *, secret: str = SECRET, now: float | None = None) -> BoltRequest:
    """``body`` as Slack delivers it to ``app.dispatch``: signed with ``secret`` at ``now``."""
    signed = signed_headers(secret, body, now=time.time() if now is None else now)
    headers: dict[str, str | Sequence[str]] = {**signed}
    return BoltRequest(body=body.decode("utf-8"), headers=headers)


@pytest.fixture
def fake_slack() -> Iterator[FakeSlack]:
    with FakeSlack(Channel(channel_id=OPS, name="ops"), bot_token=BOT_TOKEN) as fake:
        yield fake


@dataclass
class Harness:
    """One bot against one simulator and one fake Slack; helpers speak Slack's wire format.

    ``make_harness(store=…)`` builds it on a given state store (the bot owns and closes it); by default a SQLite
    file in the test's tmp dir."""

    app: App
    fake: FakeSlack
    sim: Any
    audit: AuditLog  # reads the JSONL export
    service: Any
    store: Any = None  # the bot's state store (bot.store.Store)
    bot: Any = None  # the whole stack (bot.compose.Bot): its metrics and readiness
    _n: int = field(default=0)

    def _url(self, prefix: str, user: str) -> tuple[str, str]:
        self._n += 1
        name = f"{prefix}{self._n}"
        return name, self.fake.response_url(name, user=user)

    def command(
        self, text: str, *, user: str = USER, channel: str = OPS, **kw: Any
    ) -> tuple[BoltResponse, str]:
        """``/qlocks <text>`` (text as Slack sends it, entity-escaped). Returns (ack response, response_url name)."""
        name, url = self._url("cmd", user)
        body = slash_command(text, user_id=user, channel_id=channel, response_url=url, escaped=True, **kw)
        return self.app.dispatch(bolt_request(body)), name

    def posted(self, name: str) -> list[dict[str, Any]]:
        """Bodies posted to that response_url, in order (blocks parsed)."""
        out = []
        for call in self.fake.responses(name):
            body = dict(call.body)
            if isinstance(body.get("blocks"), str):
                body["blocks"] = json.loads(body["blocks"])
            out.append(body)
        return out

    def search(self, query: str, *, user: str = USER, channel: str = OPS) -> dict[str, Any]:
        """Run a search and return the in-channel message it posted."""
        resp, name = self.command(f"search {query}", user=user, channel=channel)
        assert resp.status == 200, resp.body
        answers = [p for p in self.posted(name) if p.get("response_type") == "in_channel"]
        assert len(answers) == 1, self.posted(name)
        return answers[0]

    def click(
        self,
        message: dict[str, Any],
        *,
        user: str,
        action_id: str = CLOSE_ACTION,
        channel: str = OPS,
        **kw: Any,
    ) -> tuple[BoltResponse, str]:
        """Click ``action_id`` (in ``block_id=``, with a forged ``value=``) in a message the bot posted."""
        name, url = self._url("click", user)
        shown = Message(ts=MESSAGE_TS, user=BOT.id, text=message.get("text", ""), blocks=message["blocks"])
        payload = click(shown, action_id=action_id, user_id=user, channel_id=channel, response_url=url, **kw)
        return self.app.dispatch(bolt_request(block_actions_body(payload))), name

    def row_of(self, message: dict[str, Any], location: str) -> str:
        """block_id of the row whose Close button carries ``location``."""
        for block in message["blocks"]:
            button = block.get("accessory") or {}
            if (
                button.get("action_id") == CLOSE_ACTION
                and decode_ref(button["value"]).ref.location == location
            ):
                return str(block["block_id"])
        raise AssertionError(f"no row for {location}")

    def open_locations(self) -> set[str]:
        return {h["handle_info"]["location"] for h in self.sim.state.handles_snapshot()}

    def calls(self, method: str) -> list[Call]:
        return self.fake.calls_to(method)


@pytest.fixture
def make_harness(sim: Any, fake_slack: FakeSlack, tmp_path: Path) -> Iterator[Callable[..., Harness]]:
    from bot.compose import Domain, build_bot, build_domain

    cleanups: list[Callable[[], None]] = []

    def make(
        *,
        admins: tuple[str, ...] = (ADMIN,),
        groups: tuple[str, ...] = (),
        channels: tuple[str, ...] = (OPS,),
        process_before_response: bool = True,
        progress: ProgressPolicy | None = None,
        service: Any = None,
        cache_ttl_s: float = 10.0,
        qumulo: dict[str, Any] | None = None,
        cluster: Any = None,
        store: Any = None,
    ) -> Harness:
        cluster = cluster or sim
        qumulo_config = config_for(cluster, **(qumulo or {}))
        qlocks = QlocksConfig(
            admins=frozenset(admins),
            admin_groups=frozenset(groups),
            channels=frozenset(channels),
            audit_log=str(tmp_path / "audit.jsonl"),
            state_dir=str(tmp_path / "state"),
            cluster_name=CLUSTER,
            cache_ttl_s=cache_ttl_s,
        )
        domain = build_domain(qumulo_config, qlocks) if service is None else Domain(service.client, service)
        slack = SlackConfig(bot_token=BOT_TOKEN, signing_secret=SECRET, api_url=fake_slack.api_url)
        bot = build_bot(
            qumulo=qumulo_config,
            slack=slack,
            qlocks=qlocks,
            domain=domain,
            web_client=WebClient(token=BOT_TOKEN, base_url=fake_slack.api_url),
            authorize=stub_authorize,
            process_before_response=process_before_response,
            progress=progress,
            store=store,
        )
        cleanups.append(bot.close)
        return Harness(
            app=bot.app,
            fake=fake_slack,
            sim=cluster,
            audit=AuditLog(qlocks.audit_log),
            service=bot.service,
            store=bot.store,
            bot=bot,
        )

    yield make
    for cleanup in reversed(cleanups):
        cleanup()


@pytest.fixture
def harness(make_harness: Callable[..., Harness]) -> Harness:
    return make_harness()
