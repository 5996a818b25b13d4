"""HTTP mode over real sockets: ack before work, /healthz, signatures; composition from the environment."""

from __future__ import annotations

import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from qlocks_tools.fakeslack import BotLink, FakeSlack, slash_command

from bot.compose import bot_from_env
from bot.config import ConfigError
from bot.slack.run import ThreadingWSGIServer, make_http_server, run_bot
from bot.slack.web import create_wsgi_app, make_wsgi_app
from tests.slack.conftest import BOT_TOKEN, OPS, SECRET, USER, Harness

#: Slack shows the user an error when a slash command or click is not acknowledged within 3 seconds.
SLACK_ACK_DEADLINE_S = 3.0


def serve(wsgi: Any) -> Iterator[str]:
    server: ThreadingWSGIServer = make_http_server(wsgi, host="127.0.0.1", port=0)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def post(events_url: str, body: bytes, *, secret: str = SECRET) -> tuple[int | None, bytes]:
    """Sign ``body`` and POST it like Slack does (the playground's link to the bot); (status, body)."""
    link = BotLink(events_url=events_url, signing_secret=secret, timeout_s=10)
    try:
        reply = link.post(body)
    finally:
        link.close()
    return reply.status, reply.body


def command(text: str, *, response_url: str) -> bytes:
    return slash_command(text, user_id=USER, channel_id=OPS, response_url=response_url)


def get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


@pytest.fixture
def http_harness(make_harness: Any) -> Iterator[tuple[Harness, str]]:
    h: Harness = make_harness(process_before_response=False)  # production setting: work after the ack
    for base in serve(make_wsgi_app(h.app)):
        yield h, base


class ClusterGate:
    """Holds every request the bot's cluster client sends until ``open()``: a search is provably unfinished while
    the gate is shut, whatever the machine's load (no latency to race against)."""

    def __init__(self, h: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
        self._open = threading.Event()
        self.reached = threading.Event()  # a search has sent its first cluster request
        client = h.service.client
        send = client.request

        def held(*args: Any, **kwargs: Any) -> Any:
            self.reached.set()
            if not self._open.wait(30):
                raise AssertionError("the test never opened the cluster gate")
            return send(*args, **kwargs)

        monkeypatch.setattr(client, "request", held)

    def open(self) -> None:
        self._open.set()


def test_ack_returns_before_a_slow_search_finishes(
    http_harness: tuple[Harness, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    h, base = http_harness
    h.sim.state.add_handle("/Finance/slow-report.xlsx", user="dana")
    gate = ClusterGate(h, monkeypatch)  # the search cannot finish until the ack is checked
    url = h.fake.response_url("slow", user=USER)
    started = time.monotonic()
    status, body = post(f"{base}/slack/events", command("search slow-report", response_url=url))
    acked = time.monotonic() - started
    assert status == 200 and body == b""  # an empty ack: the answer is the feedback
    assert h.posted("slow") == []  # the answer was not there yet when Slack got its ack
    assert gate.reached.wait(10)  # and the search was under way, waiting on the cluster
    assert h.posted("slow") == []
    gate.open()
    h.fake.wait_for(
        lambda calls: any(
            c.method == "respond" and c.body.get("response_type") == "in_channel" for c in calls
        ),
        timeout=30,
    )
    assert acked < SLACK_ACK_DEADLINE_S, acked


def test_healthz_events_and_unknown_paths(http_harness: tuple[Harness, str]) -> None:
    h, base = http_harness
    assert get(f"{base}/healthz") == (200, b"ok\n")
    assert get(f"{base}/nope")[0] == 404
    url = h.fake.response_url("x", user=USER)
    status, _ = post(f"{base}/slack/events", command("help", response_url=url), secret="bad")
    assert status == 401
    status, body = post(f"{base}/slack/events", command("help", response_url=url))
    assert status == 200 and b"/qlocks search" in body


def test_unhealthy_probe(make_harness: Any) -> None:
    h: Harness = make_harness()
    for base in serve(make_wsgi_app(h.app, healthy=lambda: False)):
        assert get(f"{base}/healthz") == (503, b"unhealthy\n")


def env_for(sim: Any, fake: FakeSlack, tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {
        "QUMULO_HOST": f"http://{sim.host}",
        "QUMULO_PORT": str(sim.port),
        "QUMULO_ACCESS_TOKEN": sim.admin_token,
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": fake.api_url,
        "QLOCKS_AUDIT_LOG": str(tmp_path / "audit.jsonl"),
        "QLOCKS_STATE_DIR": str(tmp_path / "state"),
        "QLOCKS_ADMINS": "U0ADMIN01",
        "QLOCKS_CLUSTER_NAME": "from-env",
    }
    env.update(extra)
    return env


def test_build_from_env_uses_slack_api_url_and_serves_searches(
    sim: Any, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    bot = bot_from_env(env_for(sim, fake_slack, tmp_path))
    try:
        assert [c.method for c in fake_slack.calls] == [
            "auth.test"
        ]  # token checked at start-up, via SLACK_API_URL
        assert (tmp_path / "audit.jsonl").exists()
        sim.state.add_handle("/Finance/env-report.xlsx", user="dana")
        for base in serve(make_wsgi_app(bot.app)):
            url = fake_slack.response_url("env", user=USER)
            status, _ = post(
                f"{base}/slack/events",
                command("search env-report", response_url=url),
            )
            assert status == 200
            (answer,) = fake_slack.wait_for(
                lambda calls: any(c.method == "respond" for c in calls), timeout=10
            )[1:]
            assert answer.body.get("response_type") == "in_channel", answer.body
            assert "from-env" in str(answer.body["blocks"])
    finally:
        bot.close()


def test_create_wsgi_app_factory(
    sim: Any, fake_slack: FakeSlack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # no stray .env is picked up
    for name, value in env_for(sim, fake_slack, tmp_path).items():
        monkeypatch.setenv(name, value)
    for base in serve(create_wsgi_app()):
        assert get(f"{base}/healthz") == (200, b"ok\n")


def test_unwritable_audit_log_stops_start_up(sim: Any, fake_slack: FakeSlack, tmp_path: Path) -> None:
    env = env_for(sim, fake_slack, tmp_path, QLOCKS_AUDIT_LOG=str(tmp_path / "no-such-dir" / "audit.jsonl"))
    with pytest.raises(ConfigError, match="QLOCKS_AUDIT_LOG"):
        bot_from_env(env)


def test_missing_signing_secret_in_http_mode(sim: Any, fake_slack: FakeSlack, tmp_path: Path) -> None:
    env = env_for(sim, fake_slack, tmp_path)
    del env["SLACK_SIGNING_SECRET"]
    with pytest.raises(ConfigError, match="SLACK_SIGNING_SECRET"):
        bot_from_env(env)


def test_http_requests_are_refused_when_no_signing_secret_is_configured(
    sim: Any, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    """Regression: a Socket Mode configuration (no signing secret) served over HTTP (the Procfile's ``web:`` with
    a shared .env) made Bolt's verifier raise on every request; the error handler then answered 200 and posted an
    "incident" to whatever response_url the *unverified* body named. Such requests must get 401 and no post."""
    env = env_for(sim, fake_slack, tmp_path, SLACK_APP_TOKEN="xapp-1-A0000000001-0000000002-qlockstest")
    del env["SLACK_SIGNING_SECRET"]
    bot = bot_from_env(env)
    try:
        for base in serve(make_wsgi_app(bot.app)):
            for secret in ("attacker-guess", SECRET):
                url = fake_slack.response_url(f"forged-{len(secret)}", user=USER)
                status, _ = post(
                    f"{base}/slack/events",
                    command("help", response_url=url),
                    secret=secret,
                )
                assert status == 401
        assert fake_slack.responses() == []
    finally:
        bot.close()


def test_procfile_processes(
    sim: Any, fake_slack: FakeSlack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``web:`` is gunicorn loading our factory (one worker: the double-click guard is per process); ``worker:`` is
    ``qlocks run`` (Socket Mode when SLACK_APP_TOKEN is set)."""
    import shlex

    from gunicorn.util import import_app

    root = Path(__file__).resolve().parents[2]
    procs = dict(line.split(": ", 1) for line in (root / "Procfile").read_text().splitlines() if line.strip())
    assert procs["worker"] == "qlocks run"
    web = shlex.split(procs["web"])
    assert (
        web[0] == "gunicorn"
        and web[web.index("--workers") + 1] == "1"
        and "$PORT" in web[web.index("--bind") + 1]
    )
    monkeypatch.chdir(tmp_path)
    for name, value in env_for(sim, fake_slack, tmp_path).items():
        monkeypatch.setenv(name, value)
    wsgi = import_app(web[-1])  # exactly what gunicorn does with 'bot.slack.web:create_wsgi_app()'
    for base in serve(wsgi):
        assert get(f"{base}/healthz") == (200, b"ok\n")


def test_run_bot_http_mode(
    sim: Any, fake_slack: FakeSlack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``run_bot`` serves on ``$PORT``. The server binds port 0 here: a free port picked in advance and released
    could be taken by another process before the bot binds it."""
    import bot.slack.run as run

    make = run.make_http_server
    asked: list[int] = []

    def any_free_port(wsgi: Any, **kwargs: Any) -> ThreadingWSGIServer:
        asked.append(kwargs.pop("port"))
        return make(wsgi, **kwargs, port=0)

    monkeypatch.setattr(run, "make_http_server", any_free_port)
    listening: list[ThreadingWSGIServer] = []
    ready = threading.Event()

    def on_listening(server: ThreadingWSGIServer) -> None:
        listening.append(server)
        ready.set()

    result: list[int] = []
    env = env_for(sim, fake_slack, tmp_path, PORT="8765")
    thread = threading.Thread(
        target=lambda: result.append(run.run_bot(env, on_listening=on_listening)), daemon=True
    )
    thread.start()
    assert ready.wait(10)
    assert asked == [8765]
    assert get(f"http://127.0.0.1:{listening[0].server_address[1]}/healthz") == (200, b"ok\n")
    listening[0].shutdown()
    thread.join(10)
    assert result == [0]


def test_run_bot_socket_mode_when_app_token_is_set(sim: Any, fake_slack: FakeSlack, tmp_path: Path) -> None:
    """With SLACK_APP_TOKEN the bot opens a Socket Mode connection (apps.connections.open with the xapp- token,
    through SLACK_API_URL) instead of listening on a port; here the fake refuses the token, so start-up fails."""
    from bot.slack.run import run_bot

    env = env_for(sim, fake_slack, tmp_path, SLACK_APP_TOKEN="xapp-1-A0000000001-0000000002-qlockstest")
    with pytest.raises(ConfigError, match=r"SLACK_APP_TOKEN.*invalid_auth"):
        run_bot(env)
    opens = fake_slack.calls_to("apps.connections.open")
    assert opens and opens[0].token == "xapp-1-A0000000001-0000000002-qlockstest"


def test_rejected_bot_token_is_one_clear_error(sim: Any, fake_slack: FakeSlack, tmp_path: Path) -> None:
    fake_slack.fail("auth.test", "invalid_auth")
    with pytest.raises(ConfigError, match="SLACK_BOT_TOKEN"):
        bot_from_env(env_for(sim, fake_slack, tmp_path))


def test_every_ack_is_fast_while_many_slow_searches_run(
    http_harness: tuple[Harness, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """More concurrent searches than Bolt's default 5 listener threads: each still acks at once. The cluster is
    held shut until every ack is back, so no ack can have waited for a search (an ack queued behind searches
    would never come back: the link's 10 s timeout fails the test)."""
    h, base = http_harness
    gate = ClusterGate(h, monkeypatch)
    n = 24  # more than the listener threads (16) and the work threads (16)
    acks: list[float] = []
    statuses: list[int | None] = []
    lock = threading.Lock()

    def one(i: int) -> None:
        url = h.fake.response_url(f"many{i}", user=USER)
        started = time.monotonic()
        status, _ = post(
            f"{base}/slack/events",
            command(f"search many-{i}", response_url=url),
        )
        with lock:
            acks.append(time.monotonic() - started)
            statuses.append(status)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert statuses == [200] * n, statuses  # all acked with the cluster still shut
    assert h.fake.responses() == []  # no search had answered
    gate.open()
    assert max(acks) < SLACK_ACK_DEADLINE_S, sorted(acks)
    # every search still answers in the channel (progress posts, if any, are ephemeral)
    h.fake.wait_for(
        lambda calls: (
            sum(c.method == "respond" and c.body.get("response_type") == "in_channel" for c in calls) >= n
        ),
        timeout=60,
    )


def test_qlocks_run_on_a_busy_port_is_one_line(sim: Any, fake_slack: FakeSlack, tmp_path: Path) -> None:
    import socket

    with socket.socket() as busy:
        busy.bind(("0.0.0.0", 0))
        busy.listen(1)
        env = env_for(sim, fake_slack, tmp_path, PORT=str(busy.getsockname()[1]))
        with pytest.raises(ConfigError, match=r"^PORT: cannot listen on 0\.0\.0\.0:\d+ \("):
            run_bot(env)
