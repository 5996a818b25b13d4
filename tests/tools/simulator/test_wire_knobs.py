"""The simulator's knobs for issue #12 items 4-6, through the network: the API under a prefix (port 443), short
pages that are not the last, close reply shapes and a close that does not close."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from qlocks_tools.simulator import Simulator, start_simulator

from tests.tools.simulator.sim_helpers import Api


@pytest.fixture
def sim() -> Iterator[Simulator]:
    with start_simulator(port=0, handles=60, seed=4) as s:
        yield s


@pytest.fixture
def rw(sim: Simulator) -> Iterator[Api]:
    a = Api(sim)
    yield a
    a.close()


def _walk(rw: Api, first: str, key: str) -> tuple[list[dict[str, Any]], list[str]]:
    """Every item of a listing, and every ``paging.next`` seen, GETting the links exactly as sent."""
    items: list[dict[str, Any]] = []
    links: list[str] = []
    url: str | None = first
    while url:
        data = rw.ok("GET", url)
        items += data[key]
        url = data["paging"]["next"]
        if url:
            links.append(url)
    return items, links


@pytest.mark.parametrize("echo", ["locks", "all", "none"])
def test_api_prefix_and_which_next_links_echo_it(sim: Simulator, rw: Api, echo: str) -> None:
    sim.state.api_prefix, sim.state.prefix_echo = "/api", echo
    assert rw.get("/v1/session/who-am-i").status_code == 404  # only under the prefix, like port 443
    assert rw.ok("GET", "/api/v1/session/who-am-i")["name"]
    locks_echo = echo in ("locks", "all")
    files_echo = echo == "all"
    for first, _key, echoes in (
        ("/api/v1/files/locks/smb/share-mode/?limit=7", "grants", locks_echo),
        ("/api/v1/files/locks/smb/byte-range/?limit=3", "grants", locks_echo),
        ("/api/v1/smb/files/?limit=7", "file_handles", files_echo),
        ("/api/v1/smb/sessions/?limit=7", "session_infos", files_echo),
    ):
        links = rw.ok("GET", first)["paging"]["next"]
        assert links.startswith("/api/v1/" if echoes else "/v1/"), (first, links)
    # the real-cluster case (echo="locks"), followed by a client that prefixes /api when a link lacks it
    if echo == "locks":
        for first, key in (
            ("/api/v1/files/locks/smb/share-mode/?limit=7", "grants"),
            ("/api/v1/smb/files/?limit=7", "file_handles"),
        ):
            items: list[dict[str, Any]] = []
            url: str | None = first
            while url:
                data = rw.ok("GET", url)
                items += data[key]
                nxt = data["paging"]["next"]
                url = None if nxt is None else (nxt if nxt.startswith("/api/") else "/api" + nxt)
            assert len(items) == sim.state.handle_count


def test_without_a_prefix_the_api_is_where_it_always_was(rw: Api) -> None:
    assert rw.get("/api/v1/session/who-am-i").status_code == 404
    assert rw.ok("GET", "/v1/session/who-am-i")["name"]


@pytest.mark.parametrize(
    ("first", "key"),
    [
        ("/v1/smb/files/?limit=7", "file_handles"),
        ("/v1/smb/sessions/?limit=7", "session_infos"),
        ("/v1/files/locks/smb/share-mode/?limit=7", "grants"),
    ],
)
def test_short_pages_are_short_and_not_the_last(sim: Simulator, rw: Api, first: str, key: str) -> None:
    everything, _ = _walk(rw, first.replace("limit=7", "limit=10000"), key)
    sim.state.short_pages = True
    sizes: list[int] = []
    url: str | None = first
    while url:
        data = rw.ok("GET", url)
        sizes.append(len(data[key]))
        url = data["paging"]["next"]
    assert sizes[0] == 3 and set(sizes[1:-1]) == {6}  # fewer than the 7 asked for, with a next link
    assert sum(sizes) == len(everything)


def _close(rw: Api, location: str) -> Any:
    resp = rw.post("/v1/smb/files/close", [{"handle_info": {"location": location}}])
    assert resp.status_code == 200
    return resp.json()


@pytest.mark.parametrize("noop", [False, True])
def test_close_reply_shapes(sim: Simulator, rw: Api, noop: bool) -> None:
    sim.state.close_noop = noop
    expected = {
        "per-location": lambda loc: [{"error_message": ""}],
        "empty": lambda loc: [],
        "garbage": lambda loc: {"status": "done", "closed": 1},
    }
    for shape in ("per-location", "empty", "other-location", "garbage"):
        sim.state.close_reply = shape
        loc = sim.state.handles_snapshot()[0]["handle_info"]["location"]
        reply = _close(rw, loc)
        if shape == "other-location":
            [entry] = reply
            assert "not found" in entry["error_message"] and loc not in entry["error_message"]
        else:
            assert reply == expected[shape](loc)
        assert (sim.state.handle_by_location(loc) is not None) is noop, shape
    sim.state.close_reply = "per-location"
    missing = _close(rw, "9.9.9.9")  # an unknown location still says so, noop or not
    assert missing[0]["error_message"].startswith("SMB file handle not found")


def test_cli_api_prefix_prints_a_base_url_the_bot_accepts(capsys: pytest.CaptureFixture[str]) -> None:
    import argparse
    import io
    import threading

    from qlocks_tools.simulator import cli

    from bot.config import QumuloConfig

    parser = argparse.ArgumentParser()
    cli.add_arguments(parser)
    stop = threading.Event()
    stop.set()
    out = io.StringIO()
    args = parser.parse_args(["--port", "0", "--handles", "3", "--api-prefix", "/api"])
    assert cli.run(args, stop=stop, out=out) == 0
    env = dict(
        line.split("=", 1)
        for line in out.getvalue().splitlines()
        if line.startswith("QUMULO_") and "=" in line
    )
    cfg = QumuloConfig.from_env(env)
    assert cfg.base_path == "/api" and cfg.base_url.startswith("http://127.0.0.1:")
    bad = parser.parse_args(["--port", "0", "--handles", "3", "--api-prefix", "api/"])
    assert cli.run(bad, stop=stop, out=out) == 2
    assert "--api-prefix" in capsys.readouterr().err
