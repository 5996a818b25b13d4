"""The per-file / full-listing grant hybrid of path scans (``bot/locks/prefetch.py``), against the simulator."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from qlocks_tools.simulator import start_simulator

from bot.locks.join import JoinContext, build_groups, index_sessions
from bot.locks.prefetch import PER_FILE_FIRST, REFETCH_MAX, GrantPrefetch, settle
from bot.locks.query import parse_query
from bot.locks.service import LockService
from bot.qumulo.client import QumuloClient
from bot.qumulo.models import FileHandle
from tests.conftest import config_for
from tests.locks.causal import CausalClient, follow
from tests.locks.conftest import FakeClock, service_for, truth
from tests.locks.test_search import assert_rows_true, file_with, rows

LISTING = "/v1/files/locks/smb/share-mode/"
PER_FILE = "/v1/files/{ref}/locks/smb/share-mode/"


@pytest.fixture(scope="module")
def big() -> Iterator[Any]:
    with start_simulator(port=0, handles=3000, seed=7) as sim:
        yield sim


def _pages(n: int, limit: int) -> int:
    return -(-n // limit)


def test_broad_scan_crosses_the_threshold_one_listing_and_correct_rows(big: Any) -> None:
    real = truth(big)
    client, svc = service_for(big, page_limit=100)
    with client, svc:
        result = svc.search(parse_query("xlsx"))
    expected = {loc for loc, t in real.items() if "xlsx" in t.path.lower()}
    files = {t.file_number for loc, t in real.items() if loc in expected}
    assert len(files) > PER_FILE_FIRST + _pages(len(real), 100)  # enough to cross the threshold
    assert set(rows(result)) == expected
    assert_rows_true(result, real)
    counts = client.stats.by_endpoint
    handle_pages = counts["/v1/smb/files/"]
    assert handle_pages == _pages(len(real), 100)
    # exactly one pass over the grant listing (no churn: as many pages as grants), never one lookup per file
    assert counts[LISTING] == _pages(len(real), 100)
    assert counts[PER_FILE] <= 2 * PER_FILE_FIRST + REFETCH_MAX
    listing_pages = handle_pages + counts[LISTING] + counts["/v1/smb/sessions/"]
    assert client.stats.requests - listing_pages <= 2 * PER_FILE_FIRST + REFETCH_MAX + 4  # pages + O(1)


def test_selective_scan_stays_per_file(big: Any) -> None:
    real = truth(big)
    path = file_with(real)
    client, svc = service_for(big, page_limit=100)
    with client, svc:
        result = svc.search(parse_query(path.rsplit("/", 1)[1]))
    assert {f.path for f in result.files} >= {path}
    assert client.stats.by_endpoint[LISTING] == 0
    assert 1 <= client.stats.by_endpoint[PER_FILE] <= 2 * len(result.files)


def test_request_count_grows_with_pages_not_with_matches() -> None:
    """Same cluster, two page sizes: the grant requests beyond the listing pages stay bounded."""
    with start_simulator(port=0, handles=3000, seed=7) as sim:
        extra = []
        for limit in (100, 300):
            client, svc = service_for(sim, page_limit=limit)
            with client, svc:
                svc.search(parse_query("xlsx"))
            c = client.stats.by_endpoint
            assert c[LISTING] == _pages(3000, limit)
            extra.append(client.stats.requests - c["/v1/smb/files/"] - c[LISTING] - c["/v1/smb/sessions/"])
        assert max(extra) <= 2 * PER_FILE_FIRST + REFETCH_MAX + 4


def _handles_of(client: QumuloClient, file_id: str) -> list[FileHandle]:
    return client.list_file_handles(file_number=file_id, resolve_paths=True)


@pytest.mark.parametrize("refetch_max", [REFETCH_MAX, 0])
def test_a_handle_opened_after_the_listing_passed_never_gets_the_listings_client(refetch_max: int) -> None:
    """Churn between grant pages and handle pages: the listing saw the user's handle from client A, which then
    closed; the scan then lists the user's new handle from client B. The row must say B (fresh lookup) or that
    the client is unknown, never A."""
    with start_simulator(port=0, handles=0, seed=1) as sim:
        st = sim.state
        others = [
            st.add_handle(f"/projects/other-{i}.dwg", user=f"u{i}", client_ip=f"10.7.0.{i + 1}")
            for i in range(8)
        ]
        a_loc = st.add_handle("/finance/q3.xlsx", user="ann", client_ip="10.8.0.1")
        st.add_handle("/home/ann/notes.txt", user="ann", client_ip="10.8.0.2")  # ann has a second client, B
        with QumuloClient(config_for(sim)) as client, ThreadPoolExecutor(4) as pool:
            prefetch = GrantPrefetch(client, pool, page_limit=1000, start_after_pages=1, per_file_first=2)
            f_id = st.file_number_of("/finance/q3.xlsx")
            assert f_id is not None and others
            first = [
                h for h in client.list_file_handles(resolve_paths=True) if "/home/" not in (h.path or "")
            ]
            prefetch.on_page(1, first)  # 9 files matched on page 1 > 2 + 1: the listing starts
            assert prefetch.listing is not None
            assert prefetch.listing.wait(30)  # it has passed every grant, ann's from A included
            st.close_handle(a_loc)
            b_loc = st.add_handle("/finance/q3.xlsx", user="ann", client_ip="10.8.0.2")
            later = _handles_of(client, f_id)  # page 2 of the scan brings the new handle
            prefetch.on_page(2, later)
            got = prefetch.finish(2)
            assert f_id in got.unconfirmed
            assert {g.owner_address for g in got.by_file[f_id]} == {"10.8.0.1"}  # the stale listing
            sessions = index_sessions(client.list_smb_sessions())
            owners = {h.owner for h in first + later}
            by_owner = {o: sessions.get(o, []) for o in owners}
            settled = settle(client, pool, got, first + later, by_owner, refetch_max=refetch_max)
        groups = build_groups(
            [h for h in first + later if h.location != a_loc],
            settled.by_file,
            JoinContext(sessions_by_owner=by_owner),
        )
        row = next(r for g in groups for r in g.rows if r.ref.location == b_loc)
        assert row.client_ip != "10.8.0.1"
        if refetch_max:
            assert settled.refetched == 1 and row.client_ip == "10.8.0.2" and row.note is None
        else:
            assert settled.unconfirmed == 1 and row.client_ip is None and "client unknown" in (row.note or "")


def test_files_matched_before_the_listing_started_are_confirmed() -> None:
    with start_simulator(port=0, handles=0, seed=1) as sim:
        for i in range(6):
            sim.state.add_handle(f"/projects/p-{i}.dwg", user=f"u{i}", client_ip=f"10.7.0.{i + 1}")
        with QumuloClient(config_for(sim)) as client, ThreadPoolExecutor(2) as pool:
            prefetch = GrantPrefetch(client, pool, start_after_pages=1, per_file_first=2)
            page = client.list_file_handles(resolve_paths=True)
            prefetch.on_page(1, page)
            got = prefetch.finish(1)
        assert got.listing_pages >= 1 and got.unconfirmed == frozenset()
        assert {f: len(gs) for f, gs in got.by_file.items()} == {h.file_number: 1 for h in page}


# -- exact paths: round trips ---------------------------------------------------------------------


@pytest.mark.parametrize(("form", "most"), [("fs", 3), ("unc", 4)])
def test_exact_path_round_trips_cold(form: str, most: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """Round trips counted by what waits on what (``tests/locks/causal.py``), not by start/end timestamps: on a
    busy machine a lookup submitted together with others can start after they ended and look sequential."""
    workers = 8
    with start_simulator(port=0, handles=600, seed=3) as sim:
        real = truth(sim)
        fs = file_with(real, min_handles=2)
        text = fs if form == "fs" else "\\\\lab\\Finance" + fs[len("/finance") :].replace("/", "\\")
        meter = follow(monkeypatch)
        client = CausalClient(config_for(sim), meter=meter)
        with client, LockService(client, cluster_name="lab", clock=FakeClock(), workers=workers) as svc:
            result = svc.search(parse_query(text))
        assert {r.ref.location for f in result.files for r in f.rows} == {
            t.location for t in real.values() if t.path == fs
        }
        sent = meter.sent()
        assert meter.untracked == [] and sent
        assert meter.round_trips <= most, sent
        # the meter counts waits, not pool capacity: every wave fits the pool, so it really runs at once
        assert max(Counter(s.depth for s in sent).values()) <= workers, sent
        assert not any(s.path.startswith(LISTING) for s in sent)
