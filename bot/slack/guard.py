"""Double-click guard: each handle location is worked on by one click at a time and settled at most once.

Two admins (or one impatient double click) produce two payloads for the same handle. ``begin`` admits the first; the
others get the in-flight or settled entry back and are told who got there first. Settled entries expire after
``ttl_s`` (injected clock). Only a close this bot made is settled; a failed or refused close (or a handle found
already gone) is not, so a person may try again deliberately and is told the cluster's current answer.
Per process: with several replicas the cluster's own "unknown handle" answer is the final guard.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Claim:
    user_id: str | None
    at: float  # wall-clock seconds, for "closed by X at HH:MM"
    settled: bool


class CloseGuard:
    def __init__(
        self,
        *,
        ttl_s: float = 15 * 60,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self._ttl_s = ttl_s
        self._clock = clock
        self._wall_clock = wall_clock
        self._lock = threading.Lock()
        self._in_flight: dict[str, Claim] = {}
        self._settled: dict[str, tuple[float, Claim]] = {}

    def begin(self, location: str, user_id: str | None) -> Claim | None:
        """None if the caller may go ahead (and now owns ``location``); else the claim that blocks it."""
        now = self._clock()
        with self._lock:
            self._settled = {k: v for k, v in self._settled.items() if v[0] > now}
            if location in self._in_flight:
                return self._in_flight[location]
            if location in self._settled:
                return self._settled[location][1]
            self._in_flight[location] = Claim(user_id, self._wall_clock(), settled=False)
            return None

    def finish(self, location: str, *, settled: bool) -> None:
        """Release ``location``; ``settled`` (closed by this bot) keeps later clicks away for ``ttl_s``."""
        with self._lock:
            claim = self._in_flight.pop(location, None)
            if settled and claim is not None:
                self._settled[location] = (
                    self._clock() + self._ttl_s,
                    Claim(claim.user_id, self._wall_clock(), settled=True),
                )
