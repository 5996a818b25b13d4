"""The seed tools' search (the baseline) against a real simulator: request pattern, join, per-row names."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from qlocks_tools.bench.seed import TOO_MANY, SeedTool

from bot.locks.query import parse_query
from bot.locks.service import LockService
from bot.qumulo.client import QumuloClient
from tests.conftest import config_for


@pytest.fixture(scope="module")
def big_sim() -> Iterator[Any]:
    """2,500 handles: three pages of 1,000 for every listing."""
    from qlocks_tools.simulator import start_simulator

    s = start_simulator(port=0, handles=2500, seed=3)
    try:
        yield s
    finally:
        s.stop()


@pytest.mark.parametrize("never_end", [False, True])
def test_seed_downloads_grants_then_handles_page_by_page(big_sim: Any, never_end: bool) -> None:
    big_sim.state.lock_listings_never_end = never_end
    big_sim.state.reset_request_log()
    try:
        tool = SeedTool(big_sim.url, big_sim.admin_token)
        result = tool.search("deck v2.dwg", names=False)
    finally:
        big_sim.state.lock_listings_never_end = False
    log = [path for _, path in big_sim.state.request_log]
    grants = [p for p in log if p.startswith("/v1/files/locks/smb/share-mode/")]
    handles = [p for p in log if p.startswith("/v1/smb/files/")]
    # all grant pages strictly before the first handle page: sequential, grants first
    assert log.index(handles[0]) == len(grants)
    # the seed loops until an empty grants page when the listing never ends; else it stops on next=null
    assert len(grants) == (4 if never_end else 3)
    assert len(handles) == 3 and handles[0] == "/v1/smb/files/?resolve_paths=true"
    assert result.stats.requests == len(log) == len(grants) + len(handles)
    assert result.stats.identity_lookups == 0


def test_seed_and_qlocks_find_the_same_handles(big_sim: Any) -> None:
    for text in ("deck v2.dwg", "forecast", "Q3"):
        seed = SeedTool(big_sim.url, big_sim.admin_token).search(text, names=False)
        with QumuloClient(config_for(big_sim)) as client, LockService(client, cluster_name="t") as svc:
            ours = svc.search(parse_query(text))
        assert ours.omitted_handles == 0
        assert {g.path for g in ours.files} == seed.files
        assert ours.total_handles == len(seed.rows)  # one share-mode grant per handle in the simulator


def test_web_tool_names_each_row_with_one_lookup(big_sim: Any) -> None:
    tool = SeedTool(big_sim.url, big_sim.admin_token)
    result = tool.search("Q3 forecast.xlsx", names=True)
    assert result.named and len(result.rows) >= 3
    assert result.stats.identity_lookups == len(result.rows)  # one call per row, not per owner
    assert all(r.user and r.user != TOO_MANY for r in result.rows)


def test_web_tool_gives_up_naming_above_100_files(big_sim: Any) -> None:
    tool = SeedTool(big_sim.url, big_sim.admin_token)
    result = tool.search("/", names=True)  # every file matches
    assert not result.named
    assert result.stats.identity_lookups == 0
    assert {r.user for r in result.rows} == {TOO_MANY}
