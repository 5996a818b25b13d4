"""``start_playground``: simulator + the real bot (HTTP mode, signed requests) + the playground page, in-process.

The bot is built the way a deployment builds it: ``QumuloClient`` -> ``LockService`` -> ``bot.slack.app.build_app``
-> ``bot.slack.web.make_wsgi_app``, served by a threaded WSGI server on a loopback port. Its Web API client points at
the playground's fake Slack; the playground signs every request it sends to the bot with a per-run signing secret.
"""

from __future__ import annotations

import logging
import secrets
import shutil
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

from bot.config import QumuloConfig
from qlocks_tools.fakeslack import ALEX, BotLink, Channel, FakeSlack
from qlocks_tools.playground.cluster import SimCluster
from qlocks_tools.playground.server import PlaygroundServer

logger = logging.getLogger(__name__)

BOT_TOKEN = "xoxb-playground"
CLUSTER_NAME = "qumulo-sim"
CACHE_TTL_S = 2.0  # short, so "open a file from another client" shows up in the next search


@dataclass(eq=False)
class Playground:
    """A running playground. ``stop()`` (or leaving the ``with`` block) shuts everything down."""

    url: str  # the page
    bot_url: str  # the bot's POST /slack/events
    sim: Any  # qlocks_tools.simulator.Simulator
    channel: Channel
    slack: FakeSlack
    server: PlaygroundServer
    audit_path: Path
    _closers: list[Callable[[], None]] = field(default_factory=list, repr=False)
    _stopped: bool = field(default=False, repr=False)

    def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        run_all(self._closers)

    def __enter__(self) -> Playground:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def run_all(closers: list[Callable[[], None]]) -> None:
    """Run cleanups newest first; one failing does not stop the others."""
    while closers:
        closer = closers.pop()
        try:
            closer()
        except Exception:
            logger.exception("playground shutdown step failed")


def start_playground(
    *,
    port: int = 0,
    host: str = "127.0.0.1",
    handles: int = 400,
    seed: int = 7,
    audit_log: Path | None = None,
    latency_ms: float = 0.0,
) -> Playground:
    """Start the simulator, the bot and the playground server; returns once all three accept requests."""
    from qlocks_tools.simulator import start_simulator

    closers: list[Callable[[], None]] = []
    try:
        sim = start_simulator(host="127.0.0.1", port=0, handles=handles, seed=seed, latency_ms=latency_ms)
        closers.append(sim.stop)
        if audit_log is None:
            tmp = Path(tempfile.mkdtemp(prefix="qlocks-playground-"))
            closers.append(lambda: shutil.rmtree(tmp, ignore_errors=True))
            audit_log = tmp / "qlocks-audit.jsonl"

        channel = Channel()
        slack = FakeSlack(channel, bot_token=BOT_TOKEN)
        link = BotLink(events_url=None, signing_secret=secrets.token_hex(32))
        server = PlaygroundServer(
            channel=channel, slack=slack, bot=link, cluster=SimCluster(sim.state), host=host, port=port
        ).start()
        closers.append(server.stop)

        bot_url = start_bot(
            qumulo_config=QumuloConfig(
                host=sim.host, port=sim.port, scheme="http", access_token=sim.admin_token
            ),
            channel=channel,
            api_url=server.url + "/api/",
            link=link,
            audit_log=audit_log,
            closers=closers,
        )
        link.events_url = bot_url
    except BaseException:
        run_all(closers)
        raise
    logger.info("playground at %s, bot at %s, simulator at %s", server.url, bot_url, sim.url)
    return Playground(
        url=server.url,
        bot_url=bot_url,
        sim=sim,
        channel=channel,
        slack=slack,
        server=server,
        audit_path=audit_log,
        _closers=closers,
    )


def start_bot(
    *,
    qumulo_config: QumuloConfig,
    channel: Channel,
    api_url: str,
    link: BotLink,
    audit_log: Path,
    closers: list[Callable[[], None]],
    bot_token: str = BOT_TOKEN,
    cluster_name: str = CLUSTER_NAME,
    cache_ttl_s: float = CACHE_TTL_S,
) -> str:
    """Build the production stack against a cluster and serve it over HTTP; returns its events URL.

    Only ``channel``'s admin (alex) may close. Cleanups are appended to ``closers`` (run them newest first).
    Used by the playground and by the benchmark's Slack measurements.
    """
    from slack_sdk import WebClient

    from bot.compose import build_bot
    from bot.config import QlocksConfig, SlackConfig
    from bot.slack.run import make_http_server
    from bot.slack.web import EVENTS_PATH, make_wsgi_app

    # The bot's state store (claims, audit records) is as new as the simulator: a fresh SQLite file per run.
    state_dir = Path(tempfile.mkdtemp(prefix="qlocks-state-"))
    closers.append(lambda: shutil.rmtree(state_dir, ignore_errors=True))
    qlocks = QlocksConfig(
        admins=frozenset({ALEX.id}),
        channels=frozenset({channel.id}),
        audit_log=str(audit_log),
        state_dir=str(state_dir),
        cache_ttl_s=cache_ttl_s,
        cluster_name=cluster_name,
    )
    slack = SlackConfig(bot_token=bot_token, signing_secret=link.signing_secret, api_url=api_url)
    bot = build_bot(
        qumulo=qumulo_config,
        slack=slack,
        qlocks=qlocks,
        web_client=WebClient(token=bot_token, base_url=api_url),
    )
    closers.append(bot.close)
    app = bot.app

    httpd = make_http_server(make_wsgi_app(app), host="127.0.0.1", port=0)  # the `qlocks run` server
    thread = threading.Thread(
        target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="playground-bot-http", daemon=True
    )
    thread.start()

    def stop_bot() -> None:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)

    closers.append(stop_bot)
    return f"http://127.0.0.1:{httpd.server_port}{EVENTS_PATH}"
