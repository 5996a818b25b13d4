from __future__ import annotations

import threading

from bot.slack.guard import CloseGuard


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def test_second_click_is_refused_while_in_flight_and_after_settling() -> None:
    clock = Clock()
    guard = CloseGuard(ttl_s=60, clock=clock, wall_clock=lambda: 1000.0)
    assert guard.begin("loc", "U0ADMIN01") is None
    blocked = guard.begin("loc", "U0ADMIN02")
    assert blocked is not None and blocked.user_id == "U0ADMIN01" and not blocked.settled
    guard.finish("loc", settled=True)
    settled = guard.begin("loc", "U0ADMIN02")
    assert settled is not None and settled.settled and settled.user_id == "U0ADMIN01"
    assert guard.begin("other", "U0ADMIN02") is None
    clock.t = 61
    assert guard.begin("loc", "U0ADMIN02") is None  # expired


def test_unsettled_finish_allows_a_deliberate_retry() -> None:
    guard = CloseGuard()
    assert guard.begin("loc", "U0ADMIN01") is None
    guard.finish("loc", settled=False)
    assert guard.begin("loc", "U0ADMIN01") is None


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
