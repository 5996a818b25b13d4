"""Small measurement helpers: percentiles, peak RSS, and a client that times every request it makes."""

from __future__ import annotations

import math
import resource
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bot.qumulo.client import QumuloClient

Interval = tuple[float, float]


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0..100), linear interpolation between closest ranks (numpy's default)."""
    if not values:
        return math.nan
    if not 0 <= q <= 100:
        raise ValueError("q must be within 0..100")
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100.0
    lo = math.floor(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def summary(values: Sequence[float]) -> dict[str, float]:
    """``{"n", "p50", "p95", "p99", "min", "max"}`` of ``values`` (NaN when empty)."""
    return {
        "n": float(len(values)),
        "p50": percentile(values, 50),
        "p95": percentile(values, 95),
        "p99": percentile(values, 99),
        "min": min(values) if values else math.nan,
        "max": max(values) if values else math.nan,
    }


def round_trips(intervals: Sequence[Interval]) -> int:
    """Sequential round trips on the critical path: the longest chain of requests each starting after the
    previous one ended. In an interval order that equals the largest set of pairwise disjoint intervals, which
    the earliest-end-first greedy finds. Concurrent requests count once."""
    count = 0
    last_end = -math.inf
    for start, end in sorted(intervals, key=lambda iv: iv[1]):
        if start >= last_end:
            count += 1
            last_end = end
    return count


def peak_rss_mb() -> float:
    """This process's peak resident set size in MiB (``ru_maxrss`` is KiB on Linux, bytes on macOS)."""
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / (1024 * 1024) if sys.platform == "darwin" else rss / 1024


@dataclass(frozen=True, slots=True)
class Timed:
    method: str
    path: str
    start: float
    end: float


class TimingClient(QumuloClient):
    """A ``QumuloClient`` that also records when each API call started and ended (for round-trip counts)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._timed: list[Timed] = []
        self._timed_lock = threading.Lock()

    def request(self, method: str, path: str, *, json_body: Any = None) -> Any:
        start = time.perf_counter()
        try:
            return super().request(method, path, json_body=json_body)
        finally:
            end = time.perf_counter()
            with self._timed_lock:
                self._timed.append(Timed(method, path, start, end))

    def timeline(self) -> list[Timed]:
        with self._timed_lock:
            return list(self._timed)

    def reset_timeline(self) -> None:
        with self._timed_lock:
            self._timed.clear()


__all__ = ["Timed", "TimingClient", "peak_rss_mb", "percentile", "round_trips", "summary"]
