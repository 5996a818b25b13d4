"""The causal round-trip meter (``tests/locks/causal.py``) the exact-path round-trip tests rely on."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from qlocks_tools.bench.stats import TimingClient, round_trips
from qlocks_tools.simulator import start_simulator

from tests.conftest import config_for
from tests.locks.causal import CausalClient, follow


def test_waits_count_and_concurrency_does_not(monkeypatch: pytest.MonkeyPatch) -> None:
    with start_simulator(port=0, handles=5, seed=1) as sim:
        meter = follow(monkeypatch)
        with CausalClient(config_for(sim), meter=meter) as client:
            client.who_am_i()
            client.who_am_i()  # after the first one's answer
            assert [s.depth for s in meter.sent()] == [1, 2]
            with meter.executor(4) as pool:  # what the service's pools now are
                both = [pool.submit(client.who_am_i) for _ in range(2)]
                assert len(list(pool.map(lambda _: client.list_smb_shares(), range(3)))) == 3
                for f in both:
                    f.result()
                client.who_am_i()  # after those
            assert [s.depth for s in meter.sent()] == [1, 2, 3, 3, 3, 3, 3, 4]
            assert meter.round_trips == 4 and meter.untracked == []


def test_a_late_sibling_is_still_concurrent_and_a_task_carries_its_depth_back(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The case timestamps get wrong on a busy machine: a task submitted together with another starts only after
    the other one ended. It waited on nothing of the other's, so it is the same round trip."""
    with start_simulator(port=0, handles=5, seed=1) as sim:
        meter = follow(monkeypatch)
        timing = TimingClient(config_for(sim))
        with CausalClient(config_for(sim), meter=meter) as client, timing:
            go = threading.Event()

            def late() -> None:
                assert go.wait(10)
                client.who_am_i()
                timing.who_am_i()

            with meter.executor(2) as pool:
                first = pool.submit(lambda: (client.who_am_i(), timing.who_am_i()))
                second = pool.submit(late)
                first.result()
                go.set()  # only now may the sibling start
                second.result()
            assert [s.depth for s in meter.sent()] == [1, 1]
            assert round_trips([(t.start, t.end) for t in timing.timeline()]) == 2  # what the clock says

            def two_in_a_row() -> None:
                client.who_am_i()
                client.who_am_i()

            with meter.executor(2) as pool:
                pool.submit(two_in_a_row).result()
            client.who_am_i()
            assert [s.depth for s in meter.sent()][2:] == [2, 3, 4]


def test_paged_listings_count_one_round_trip_per_page(monkeypatch: pytest.MonkeyPatch) -> None:
    with start_simulator(port=0, handles=5, seed=1) as sim:
        meter = follow(monkeypatch)
        with CausalClient(config_for(sim), meter=meter) as client:
            assert len(client.list_file_handles(limit=2)) == 5  # pages come from the page-fetcher thread
        assert meter.round_trips == len(meter.sent()) >= 3 and meter.untracked == []


def test_requests_from_threads_it_does_not_follow_are_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    with start_simulator(port=0, handles=5, seed=1) as sim:
        meter = follow(monkeypatch)
        with CausalClient(config_for(sim), meter=meter) as client, ThreadPoolExecutor(1) as unpatched:
            unpatched.submit(client.who_am_i).result()
        assert meter.sent() == [] and len(meter.untracked) == 1
