"""Operations: ``/metrics`` (Prometheus), ``/healthz`` and ``/readyz``, in HTTP mode and on Socket Mode's
``QLOCKS_METRICS_PORT``; every count made by a signed request through the app, read back over HTTP."""

from __future__ import annotations

import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families
from qlocks_tools.fakeslack import FakeSlack

from bot.config import ConfigError, QlocksConfig
from bot.metrics import Metrics, readiness
from bot.slack.run import ThreadingWSGIServer, start_ops_server
from bot.slack.web import make_wsgi_app
from tests.slack.conftest import ADMIN, BOT_TOKEN, Harness
from tests.slack.test_web import env_for, serve

PATH = "/Finance/2026/budget-q3.xlsx"


def get(url: str) -> tuple[int, str, str]:
    """(status, content type, body) of a GET."""
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:
            return resp.status, resp.headers.get("content-type", ""), resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers.get("content-type", ""), exc.read().decode()


def sample(text: str, name: str, **labels: str) -> float | None:
    """The value of the sample ``name{labels}`` in Prometheus text, None when absent."""
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                return float(s.value)
    return None


@pytest.fixture
def http(make_harness: Any) -> Iterator[tuple[Harness, str]]:
    """A bot served in HTTP mode as ``qlocks run`` serves it (metrics and readiness included)."""
    h: Harness = make_harness()
    wsgi = make_wsgi_app(h.app, metrics=h.bot.metrics, not_ready=h.bot.not_ready)
    for base in serve(wsgi):
        yield h, base


def _open(h: Harness) -> str:
    return str(h.sim.state.add_handle(PATH, user="dana", client_ip="10.9.8.7", write=True))


def test_a_search_is_counted_by_kind_outcome_latency_cache_and_cluster_requests(
    http: tuple[Harness, str],
) -> None:
    h, base = http
    status, ctype, before = get(base + "/metrics")
    assert status == 200 and ctype.startswith("text/plain; version=")
    assert sample(before, "qlocks_searches_total", kind="fragment", outcome="ok") is None
    h.search("budget-q3")
    _, _, text = get(base + "/metrics")
    assert sample(text, "qlocks_searches_total", kind="fragment", outcome="ok") == 1
    assert sample(text, "qlocks_search_duration_seconds_count", kind="fragment") == 1
    assert sample(text, "qlocks_search_cache_misses_total") == 1
    assert sample(text, "qlocks_search_cache_hits_total") == 0
    assert (sample(text, "qlocks_cluster_requests_total", endpoint="/v1/smb/files/", status="200") or 0) >= 1
    h.search(
        "Budget-Q3"
    )  # the same search (fragments ignore case): answered from the cache, no cluster request
    _, _, again = get(base + "/metrics")
    assert sample(again, "qlocks_searches_total", kind="fragment", outcome="ok") == 2
    assert sample(again, "qlocks_search_cache_hits_total") == 1
    assert sample(again, "qlocks_cluster_requests_total", endpoint="/v1/smb/files/", status="200") == sample(
        text, "qlocks_cluster_requests_total", endpoint="/v1/smb/files/", status="200"
    )


def test_kinds_and_outcomes_other_than_ok(http: tuple[Harness, str]) -> None:
    h, base = http
    resp, _ = h.command("search /Finance/no-such-file.xlsx")  # answered ephemerally: "No such file"
    assert resp.status == 200
    _, _, text = get(base + "/metrics")
    assert sample(text, "qlocks_searches_total", kind="path", outcome="no_such_file") == 1
    # the cluster answered 404 for that path's attributes: counted with its status, by normalized endpoint
    assert (
        sample(
            text, "qlocks_cluster_requests_total", endpoint="/v1/files/{ref}/info/attributes", status="404"
        )
        == 1
    )
    assert "no-such-file" not in text  # no label carries a path


def test_a_close_is_counted_by_result(http: tuple[Harness, str]) -> None:
    h, base = http
    location = _open(h)
    message = h.search("budget-q3.xlsx")
    block_id = h.row_of(message, location)
    h.click(message, user=ADMIN, block_id=block_id)
    assert location not in h.open_locations()
    h.click(message, user="U0USER001", block_id=block_id)  # not an admin: denied
    _, _, text = get(base + "/metrics")
    assert sample(text, "qlocks_closes_total", result="closed") == 1
    assert sample(text, "qlocks_closes_total", result="denied") == 1
    assert sample(text, "qlocks_cluster_requests_total", endpoint="/v1/smb/files/close", status="200") == 1


def test_slack_failures_are_counted(http: tuple[Harness, str]) -> None:
    h, base = http
    location = _open(h)
    message = h.search("budget-q3.xlsx")
    # the channel's close note: its response_url post fails, then chat.postMessage fails too
    h.fake.fail_response_urls(500, when=lambda body: body.get("response_type") == "in_channel")
    h.fake.fail("chat.postMessage", "channel_not_found")
    h.click(message, user=ADMIN, block_id=h.row_of(message, location))
    _, _, text = get(base + "/metrics")
    assert sample(text, "qlocks_slack_api_errors_total", method="response_url", error="http_500") == 1
    assert (
        sample(text, "qlocks_slack_api_errors_total", method="chat.postMessage", error="channel_not_found")
        == 1
    )
    assert BOT_TOKEN not in text


def test_healthz_and_readyz_follow_the_cluster(http: tuple[Harness, str]) -> None:
    h, base = http
    assert get(base + "/healthz")[0] == 200
    assert get(base + "/readyz")[0::2] == (200, "ready\n")
    h.sim.stop()
    status, _, body = get(base + "/readyz")
    assert status == 503
    assert body.startswith("not ready: cluster: ") and body.count("\n") == 1
    assert BOT_TOKEN not in body and h.sim.url not in body
    assert get(base + "/healthz")[0] == 200  # alive, just not ready


def test_readyz_names_the_database_when_it_does_not_answer(http: tuple[Harness, str]) -> None:
    h, base = http
    h.store.close()  # the state store gone from under the bot (its connection closed)
    assert get(base + "/readyz")[0::2] == (503, "not ready: database: StoreError\n")


def test_readiness_is_bounded_and_names_the_check() -> None:
    hang = threading.Event()
    started = time.monotonic()
    problem = readiness({"cluster": lambda: hang.wait(5), "database": lambda: None}, timeout_s=0.2)
    assert problem == "cluster: no answer within 0.2 s"
    assert time.monotonic() - started < 2
    hang.set()

    def refuse() -> None:
        raise OSError("secret detail")

    assert readiness({"cluster": lambda: None, "database": refuse}) == "database: OSError"
    assert readiness({"cluster": lambda: None, "database": lambda: None}) is None


def test_socket_mode_ops_server_serves_the_same_paths(make_harness: Any) -> None:
    h: Harness = make_harness()
    server = start_ops_server(h.bot, host="127.0.0.1", port=0)
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}"
        h.search("budget-q3")
        status, _, text = get(base + "/metrics")
        assert status == 200
        assert sample(text, "qlocks_searches_total", kind="fragment", outcome="ok") == 1
        assert get(base + "/healthz")[0] == 200
        assert get(base + "/readyz")[0] == 200
        assert get(base + "/slack/events")[0] == 404  # only the operations paths
        h.sim.stop()
        status, _, body = get(base + "/readyz")
        assert status == 503 and body.startswith("not ready: cluster: ")
    finally:
        server.shutdown()
        server.server_close()


def test_ops_server_port_in_use_is_one_config_line(make_harness: Any) -> None:
    h: Harness = make_harness()
    first = start_ops_server(h.bot, host="127.0.0.1", port=0)
    try:
        port = first.server_address[1]
        with pytest.raises(ConfigError) as err:
            start_ops_server(h.bot, host="127.0.0.1", port=port)
        assert str(err.value).startswith(f"QLOCKS_METRICS_PORT: cannot listen on 127.0.0.1:{port} (")
        assert "\n" not in str(err.value)
    finally:
        first.shutdown()
        first.server_close()


@pytest.mark.parametrize(
    ("raw", "line"),
    [
        ("metrics", "QLOCKS_METRICS_PORT must be a whole number, got 'metrics'"),
        ("0", "QLOCKS_METRICS_PORT must be between 1 and 65535, got 0"),
        ("65536", "QLOCKS_METRICS_PORT must be between 1 and 65535, got 65536"),
        ("-9100", "QLOCKS_METRICS_PORT must be a whole number, got '-9100'"),
    ],
)
def test_bad_metrics_port_is_one_config_line(raw: str, line: str) -> None:
    with pytest.raises(ConfigError) as err:
        QlocksConfig.from_env({"QLOCKS_METRICS_PORT": raw})
    assert str(err.value) == line


def test_metrics_port_and_host_settings() -> None:
    assert QlocksConfig.from_env({}).metrics_port is None
    config = QlocksConfig.from_env({"QLOCKS_METRICS_PORT": "9100"})
    assert (config.metrics_port, config.metrics_host) == (9100, "127.0.0.1")
    assert QlocksConfig.from_env({"QLOCKS_METRICS_HOST": "0.0.0.0"}).metrics_host == "0.0.0.0"
    with pytest.raises(ConfigError, match=r"^QLOCKS_METRICS_HOST must be an IP address or host name"):
        QlocksConfig.from_env({"QLOCKS_METRICS_HOST": "http://0.0.0.0:9100/"})


def test_each_bot_has_its_own_registry(make_harness: Any) -> None:
    a: Harness = make_harness()
    b: Harness = make_harness()
    a.search("budget-q3")
    assert (
        sample(a.bot.metrics.render().decode(), "qlocks_searches_total", kind="fragment", outcome="ok") == 1
    )
    assert (
        sample(b.bot.metrics.render().decode(), "qlocks_searches_total", kind="fragment", outcome="ok")
        is None
    )
    assert isinstance(Metrics().render(), bytes)


def test_qlocks_run_serves_ops_on_both_ports(
    sim: Any, fake_slack: FakeSlack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``run_bot`` in HTTP mode with ``QLOCKS_METRICS_PORT``: the composed stack (``bot_from_env``) serves
    ``/metrics`` and ``/readyz`` on ``$PORT`` and on the operations port (loopback). Both bind port 0 here."""
    import bot.slack.run as run

    make = run.make_http_server
    asked: list[tuple[str, int]] = []
    servers: list[ThreadingWSGIServer] = []

    def any_free_port(wsgi: Any, **kwargs: Any) -> ThreadingWSGIServer:
        asked.append((kwargs.get("host", "0.0.0.0"), kwargs.pop("port")))
        server = make(wsgi, **kwargs, port=0)
        servers.append(server)
        return server

    monkeypatch.setattr(run, "make_http_server", any_free_port)
    ready = threading.Event()
    result: list[int] = []
    env = env_for(sim, fake_slack, tmp_path, PORT="8765", QLOCKS_METRICS_PORT="9109")
    thread = threading.Thread(
        target=lambda: result.append(run.run_bot(env, on_listening=lambda _: ready.set())), daemon=True
    )
    thread.start()
    assert ready.wait(10)
    assert asked == [("127.0.0.1", 9109), ("0.0.0.0", 8765)]
    ops, web = (f"http://127.0.0.1:{s.server_address[1]}" for s in servers)
    for base in (ops, web):
        assert get(base + "/readyz")[0::2] == (200, "ready\n")
        status, _, text = get(base + "/metrics")
        assert status == 200
        assert sample(text, "qlocks_cluster_requests_total", endpoint="/v1/session/who-am-i", status="200")
    servers[1].shutdown()
    thread.join(10)
    assert result == [0]
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(ops + "/healthz", timeout=2)
