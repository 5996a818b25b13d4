"""Issue #12 items 4 and 5 against the simulator, under both behaviours of each knob.

- The API under ``/api`` (a cluster's web UI port 443): the base URL carries the prefix; ``paging.next`` links with
  the prefix (lock listings) and without it (file listings) both name the next page.
- Pages shorter than ``limit`` that are not the last: every listing is followed to its end (``next`` null or an
  empty page), never cut at a short page.
"""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.locks.query import parse_query
from bot.locks.service import LockService
from bot.qumulo.client import QumuloClient
from bot.qumulo.errors import QumuloNotFound, QumuloProtocolError
from bot.qumulo.paging import follow_link, iter_pages
from tests.conftest import config_for
from tests.locks.conftest import FakeClock


@contextlib.contextmanager
def service_for(sim: Any, *, config: Any = None, page_limit: int = 1000) -> Iterator[LockService]:
    with (
        QumuloClient(config or config_for(sim)) as client,
        LockService(client, cluster_name="lab", clock=FakeClock(), page_limit=page_limit) as svc,
    ):
        yield svc


def _listings(client: QumuloClient, limit: int) -> dict[str, list[str]]:
    """Every listing qlocks walks, as the ids of what it listed."""
    one_file = client.list_file_handles(limit=1000)[0]
    one_ip = client.list_smb_sessions(limit=1000)[0].originator
    return {
        "files": [h.location for p in client.iter_file_handles(limit=limit) for h in p],
        "files of one file": [
            h.location for h in client.list_file_handles(file_number=one_file.file_number, limit=1)
        ],
        "sessions": [s.location for p in client.iter_smb_sessions(limit=limit) for s in p],
        "share-mode": [g.owner_id for p in client.iter_share_mode_grants(limit=limit) for g in p],
        "share-mode of one client": [
            g.owner_id for p in client.iter_share_mode_grants(owner_address=one_ip, limit=limit) for g in p
        ],
        "share-mode of one file": [
            g.owner_id for g in client.list_file_share_mode_grants(one_file.file_number, limit=1)
        ],
    }


def _truth(sim: Any, client: QumuloClient) -> dict[str, Counter[str]]:
    """The same listings in one page each, from the simulator with no knob set."""
    saved = (sim.state.short_pages, sim.state.lock_listings_never_end)
    sim.state.short_pages, sim.state.lock_listings_never_end = False, False
    try:
        return {k: Counter(v) for k, v in _listings(client, 100_000).items()}
    finally:
        sim.state.short_pages, sim.state.lock_listings_never_end = saved


@pytest.mark.parametrize("never_end", [False, True], ids=["lock-next-null", "lock-next-never-null"])
@pytest.mark.parametrize("short", [False, True], ids=["full-pages", "short-pages"])
def test_no_listing_is_cut_at_a_short_page(
    sim: Any, client: QumuloClient, short: bool, never_end: bool
) -> None:
    for ip in ("10.77.0.1", "10.77.0.2"):  # a file with several grants, so its per-file listing has pages
        sim.state.add_handle("/finance/many.xlsx", user="dana", client_ip=ip, write=False)
    truth = _truth(sim, client)
    sim.state.short_pages, sim.state.lock_listings_never_end = short, never_end
    sim.state.reset_request_log()
    got = {k: Counter(v) for k, v in _listings(client, 7).items()}
    assert got == truth
    assert all(max(c.values()) == 1 for c in got.values() if c), "nothing listed twice"
    pages = sum(1 for _, p in sim.state.request_log if p.startswith("/v1/files/locks/smb/share-mode/?"))
    full = -(-sum(truth["share-mode"].values()) // 7)
    assert pages > full if short else pages >= full  # short pages (3, then 6 of 7 asked) take more requests


def test_a_short_lock_page_used_to_end_the_listing(sim: Any, client: QumuloClient) -> None:
    """The case of the issue: the cluster chose a smaller page than asked on a lock listing."""
    sim.state.page_size = 5
    total = len(sim.state.grants_snapshot())
    assert len([g for p in client.iter_share_mode_grants(limit=1000) for g in p]) == total > 5


def test_a_broad_search_under_short_pages_finds_the_same(sim: Any) -> None:
    query = parse_query("budget")
    with service_for(sim) as svc:
        before = svc.search(query)
    sim.state.short_pages = True
    with service_for(sim, page_limit=7) as svc:
        after = svc.search(query)
    rows = lambda r: sorted((row.ref.location, row.client_ip) for f in r.files for row in f.rows)  # noqa: E731
    assert rows(after) == rows(before) and before.total_handles > 0


@pytest.mark.parametrize("echo", ["locks", "all", "none"])
def test_the_api_under_a_prefix(sim: Any, echo: str) -> None:
    """``https://cluster/api``: every path goes under the prefix; next links with and without it are followed."""
    with QumuloClient(config_for(sim)) as plain:
        truth = _truth(sim, plain)
    sim.state.api_prefix, sim.state.prefix_echo = "/api", echo
    sim.state.reset_request_log()
    with QumuloClient(config_for(sim, base_path="/api")) as client:
        assert client.who_am_i().name
        got = {k: Counter(v) for k, v in _listings(client, 7).items()}
        assert got == truth
        victim = client.list_file_handles(limit=1000)[-1].location
        assert client.close_file_handles([victim]).plain_success
    assert sim.state.handle_by_location(victim) is None
    log = [p for _, p in sim.state.request_log]
    assert log and all(p.startswith("/api/v1/") or p.startswith("/api/v3/") for p in log)
    assert not any(p.startswith("/api/api/") for p in log)


def test_the_prefix_is_not_optional_on_a_prefixed_cluster(sim: Any) -> None:
    """The simulator's port-443 mode answers nothing outside ``/api``: the product cannot lean on a quirk."""
    sim.state.api_prefix = "/api"
    with QumuloClient(config_for(sim)) as client, pytest.raises(QumuloNotFound):
        client.who_am_i()


def test_a_search_and_close_under_the_prefix(sim: Any) -> None:
    sim.state.api_prefix = "/api"
    sim.state.short_pages = True
    loc = sim.state.add_handle("/finance/prefixed.xlsx", user="dana", client_ip="10.9.9.9")
    with service_for(sim, config=config_for(sim, base_path="/api"), page_limit=7) as svc:
        result = svc.search(parse_query("prefixed.xlsx"))
        [row] = [r for f in result.files for r in f.rows]
        assert row.client_ip == "10.9.9.9"
        assert svc.close(row.ref).status.value == "closed"
    assert sim.state.handle_by_location(loc) is None


@pytest.mark.parametrize(
    ("link", "base", "expected"),
    [
        ("/v1/smb/files/?after=x&limit=2", "", "/v1/smb/files/?after=x&limit=2"),
        ("/v1/smb/files/?after=x&limit=2", "/api", "/v1/smb/files/?after=x&limit=2"),
        ("/api/v1/files/locks/smb/share-mode/?after=x", "/api", "/v1/files/locks/smb/share-mode/?after=x"),
        ("/api/v1/files/locks/smb/share-mode/?after=x", "", "/v1/files/locks/smb/share-mode/?after=x"),
        ("/qumulo/api/v1/smb/files/?after=x", "/qumulo/api", "/v1/smb/files/?after=x"),
        ("/apiv1/x", "/api", "/apiv1/x"),  # a prefix is a whole segment
    ],
)
def test_follow_link(link: str, base: str, expected: str) -> None:
    assert follow_link(link, base) == expected


@pytest.mark.parametrize(
    "link", ["https://elsewhere.example/v1/smb/files/?after=x", "//elsewhere/v1/x", "v1/x"]
)
def test_a_link_off_the_cluster_is_refused_not_followed(link: str) -> None:
    calls: list[str] = []

    def get(path: str) -> Any:
        calls.append(path)
        return {"file_handles": [{"n": len(calls)}], "paging": {"next": link}}

    with pytest.raises(QumuloProtocolError, match="not a path on the cluster"):
        list(iter_pages(get, "/v1/smb/files/", "file_handles", dict, base_path="/api"))
    assert calls == ["/v1/smb/files/"]


@given(
    sizes=st.lists(st.integers(min_value=0, max_value=5), min_size=1, max_size=12), limit=st.integers(1, 5)
)
def test_pages_of_any_size_are_followed_until_next_is_null_or_a_page_is_empty(
    sizes: list[int], limit: int
) -> None:
    """A fake cluster serving pages of arbitrary sizes (never more than ``limit``): everything up to the first
    empty page or null link is listed, in order, with one request per page."""
    sizes = [min(s, limit) for s in sizes]
    pages: list[list[int]] = []
    n = 0
    for size in sizes:
        pages.append(list(range(n, n + size)))
        n += size
    calls: list[str] = []

    def get(path: str) -> Any:
        i = int(path.rpartition("=")[2]) if "=" in path else 0
        calls.append(path)
        nxt = f"/api/v1/smb/files/?after={i + 1}" if i + 1 < len(pages) else None
        return {"file_handles": [{"n": v} for v in pages[i]], "paging": {"next": nxt}}

    got = [item["n"] for page in iter_pages(get, "/v1/smb/files/", "file_handles", dict) for item in page]
    end = next((i for i, p in enumerate(pages) if not p), len(pages) - 1)
    assert got == [v for p in pages[: end + 1] for v in p]
    assert len(calls) == end + 1
