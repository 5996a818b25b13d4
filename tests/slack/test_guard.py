from __future__ import annotations

import threading
from pathlib import Path

from bot.slack.guard import CloseGuard
from bot.store import open_store, sqlite_in


class Clock:
    def __init__(self, t: float = 1000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def test_second_click_is_refused_while_in_flight_and_after_settling() -> None:
    clock = Clock()
    guard = CloseGuard(ttl_s=60, clock=clock)
    assert guard.begin("loc", "U0ADMIN01") is None
    blocked = guard.begin("loc", "U0ADMIN02")
    assert (
        blocked is not None and blocked.user_id == "U0ADMIN01" and not blocked.settled and blocked.at == 1000
    )
    clock.t = 1005
    guard.finish("loc", settled=True)
    settled = guard.begin("loc", "U0ADMIN02")
    assert settled is not None and settled.settled and settled.user_id == "U0ADMIN01" and settled.at == 1005
    assert guard.begin("other", "U0ADMIN02") is None
    clock.t = 1066
    assert guard.begin("loc", "U0ADMIN02") is None  # expired


def test_unsettled_finish_allows_a_deliberate_retry() -> None:
    guard = CloseGuard()
    assert guard.begin("loc", "U0ADMIN01") is None
    guard.finish("loc", settled=False)
    assert guard.begin("loc", "U0ADMIN01") is None


def test_an_in_flight_claim_of_a_dead_process_expires() -> None:
    clock = Clock()
    guard = CloseGuard(in_flight_ttl_s=30, clock=clock)
    assert guard.begin("loc", "U0ADMIN01") is None  # never finished: the process died mid-close
    clock.t += 29
    assert guard.begin("loc", "U0ADMIN02") is not None
    clock.t += 2
    assert guard.begin("loc", "U0ADMIN02") is None


def test_exactly_one_of_many_concurrent_clicks_wins() -> None:
    guard = CloseGuard()
    start = threading.Barrier(16)
    winners: list[int] = []

    def click(i: int) -> None:
        start.wait()
        if guard.begin("loc", f"U0ADMIN{i:02d}") is None:
            winners.append(i)

    threads = [threading.Thread(target=click, args=(i,)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(winners) == 1


def test_two_guards_on_one_store_share_claims_per_cluster_and_survive_a_restart(tmp_path: Path) -> None:
    where = sqlite_in(str(tmp_path / "state"))
    clock = Clock()
    with open_store(where) as one, open_store(where) as two:
        first = CloseGuard(one, scope="qumulo-a", clock=clock)
        second = CloseGuard(two, scope="qumulo-a", clock=clock)
        other_cluster = CloseGuard(two, scope="qumulo-b", clock=clock)
        assert first.begin("loc", "U0ADMIN01") is None
        held = second.begin("loc", "U0ADMIN02")
        assert held is not None and held.user_id == "U0ADMIN01"
        assert other_cluster.begin("loc", "U0ADMIN02") is None  # same location on another cluster: unrelated
        second.finish("loc", settled=True)  # not second's claim: nothing happens
        first.finish("loc", settled=True)
    with open_store(where) as restarted:
        held = CloseGuard(restarted, scope="qumulo-a", clock=clock).begin("loc", "U0ADMIN03")
        assert held is not None and held.settled and held.user_id == "U0ADMIN01"


def test_finish_never_raises_when_the_store_is_gone(tmp_path: Path) -> None:
    store = open_store(sqlite_in(str(tmp_path / "state")))
    guard = CloseGuard(store)
    assert guard.begin("loc", "U0ADMIN01") is None
    store.close()
    guard.finish("loc", settled=True)  # logged, not raised: the caller still writes its audit record
