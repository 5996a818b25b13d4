"""TTLCache: injected clock, single-flight, invalidation (threads synchronised with events, no sleeps)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from bot.locks.cache import TTLCache


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_ttl_with_injected_clock() -> None:
    clock = Clock()
    cache: TTLCache[str, int] = TTLCache(10.0, clock=clock)
    calls: list[int] = []

    def load() -> int:
        calls.append(1)
        return len(calls)

    assert cache.get("k", load) == 1
    clock.now += 9.99
    assert cache.get("k", load) == 1
    assert cache.peek("k") == (True, 1)
    clock.now += 0.01
    assert cache.peek("k") == (False, None)
    assert cache.get("k", load) == 2
    assert (cache.stats.hits, cache.stats.misses) == (1, 2)


def test_zero_ttl_never_stores() -> None:
    cache: TTLCache[str, int] = TTLCache(0, clock=Clock())
    n = iter(range(10))
    assert cache.get("k", lambda: next(n)) == 0
    assert cache.get("k", lambda: next(n)) == 1
    assert len(cache) == 0


def test_errors_reach_the_caller_and_are_not_cached() -> None:
    cache: TTLCache[str, int] = TTLCache(10, clock=Clock())

    def boom() -> int:
        raise RuntimeError("cluster down")

    with pytest.raises(RuntimeError, match="cluster down"):
        cache.get("k", boom)
    assert cache.get("k", lambda: 7) == 7


def test_single_flight_concurrent_callers_share_one_load() -> None:
    cache: TTLCache[str, str] = TTLCache(10, clock=Clock())
    started = threading.Event()
    release = threading.Event()
    loads: list[int] = []

    def slow() -> str:
        loads.append(1)
        started.set()
        assert release.wait(5)
        return "snapshot"

    with ThreadPoolExecutor(8) as pool:
        first = pool.submit(cache.get, "k", slow)
        assert started.wait(5)
        others = [pool.submit(cache.get, "k", slow) for _ in range(7)]
        # wait until all 7 are parked on the flight, then let the load finish
        for _ in range(500):
            if cache.stats.shared == 7:
                break
            threading.Event().wait(0.01)
        assert cache.stats.shared == 7
        release.set()
        assert {f.result(5) for f in [first, *others]} == {"snapshot"}
    assert len(loads) == 1


def test_waiters_get_the_loaders_exception() -> None:
    cache: TTLCache[str, str] = TTLCache(10, clock=Clock())
    started, release = threading.Event(), threading.Event()

    def failing() -> str:
        started.set()
        assert release.wait(5)
        raise ValueError("403")

    with ThreadPoolExecutor(2) as pool:
        first = pool.submit(cache.get, "k", failing)
        assert started.wait(5)
        second = pool.submit(cache.get, "k", failing)
        for _ in range(500):
            if cache.stats.shared == 1:
                break
            threading.Event().wait(0.01)
        release.set()
        for f in (first, second):
            with pytest.raises(ValueError, match="403"):
                f.result(5)
    assert cache.stats.misses == 1


def test_invalidate_during_a_load_does_not_store_stale_data() -> None:
    cache: TTLCache[str, str] = TTLCache(10, clock=Clock())
    started, release = threading.Event(), threading.Event()

    def stale() -> str:
        started.set()
        assert release.wait(5)
        return "before-close"

    with ThreadPoolExecutor(1) as pool:
        f = pool.submit(cache.get, "k", stale)
        assert started.wait(5)
        cache.invalidate()  # a close happened while the listing was running
        release.set()
        assert f.result(5) == "before-close"  # the caller that asked before still gets its answer
    assert cache.peek("k") == (False, None)
    assert cache.get("k", lambda: "after-close") == "after-close"


def test_invalidate_one_key() -> None:
    cache: TTLCache[str, int] = TTLCache(10, clock=Clock())
    cache.put("a", 1)
    cache.put("b", 2)
    cache.invalidate("a")
    assert cache.peek("a") == (False, None) and cache.peek("b") == (True, 2)


def test_bounded_entries() -> None:
    clock = Clock()
    cache: TTLCache[int, int] = TTLCache(10, clock=clock, max_entries=50)
    for i in range(500):
        cache.put(i, i)
    assert len(cache) <= 50
    assert cache.peek(499) == (True, 499)
