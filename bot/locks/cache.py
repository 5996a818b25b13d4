"""A small TTL cache with single-flight loading and an injected clock.

``cache.get(key, loader)`` returns a fresh cached value, or waits for the load already in flight for that key
(a burst of identical requests costs one fetch), or runs ``loader()`` itself. A loader's exception is handed to
every caller waiting on that flight and is not cached (cache failures explicitly by returning a value that says
so). ``invalidate()`` drops everything; a load that was in flight when it happened is not stored.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

logger = logging.getLogger(__name__)

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


@dataclass
class _Flight(Generic[V]):
    done: threading.Event = field(default_factory=threading.Event)
    value: V | None = None
    error: BaseException | None = None


@dataclass
class CacheStats:
    hits: int = 0
    misses: int = 0  # loads run
    shared: int = 0  # callers that waited on someone else's load


class TTLCache(Generic[K, V]):
    """Thread-safe; ``ttl_s <= 0`` disables caching but keeps single-flight."""

    def __init__(
        self, ttl_s: float, *, clock: Callable[[], float] = time.monotonic, max_entries: int = 100_000
    ) -> None:
        self.ttl_s = ttl_s
        self._clock = clock
        self._max = max_entries
        self._lock = threading.Lock()
        self._values: dict[K, tuple[float, V]] = {}  # key -> (expires_at, value)
        self._flights: dict[K, _Flight[V]] = {}
        self.stats = CacheStats()

    def peek(self, key: K) -> tuple[bool, V | None]:
        """(True, value) when a fresh value is cached, without loading."""
        with self._lock:
            hit = self._fresh(key)
            return (True, hit[1]) if hit is not None else (False, None)

    def _fresh(self, key: K) -> tuple[float, V] | None:
        entry = self._values.get(key)
        if entry is None:
            return None
        if self._clock() >= entry[0]:
            del self._values[key]
            return None
        return entry

    def put(self, key: K, value: V) -> None:
        with self._lock:
            self._store(key, value)

    def _store(self, key: K, value: V) -> None:
        if self.ttl_s <= 0:
            return
        if len(self._values) >= self._max and key not in self._values:
            now = self._clock()
            for k in [k for k, (exp, _) in self._values.items() if exp <= now]:
                del self._values[k]
            if len(self._values) >= self._max:  # still full: drop the oldest insertions
                for k in list(self._values)[: max(1, self._max // 10)]:
                    del self._values[k]
        self._values[key] = (self._clock() + self.ttl_s, value)

    def get(self, key: K, loader: Callable[[], V]) -> V:
        with self._lock:
            hit = self._fresh(key)
            if hit is not None:
                self.stats.hits += 1
                return hit[1]
            flight = self._flights.get(key)
            owner = flight is None
            if flight is None:
                flight = _Flight()
                self._flights[key] = flight
                self.stats.misses += 1
            else:
                self.stats.shared += 1
        if not owner:
            flight.done.wait()
            if flight.error is not None:
                raise flight.error
            return flight.value  # type: ignore[return-value]
        try:
            value = loader()
        except BaseException as exc:
            flight.error = exc
            with self._lock:
                if self._flights.get(key) is flight:
                    del self._flights[key]
            flight.done.set()
            raise
        flight.value = value
        with self._lock:
            if self._flights.get(key) is flight:  # not invalidated meanwhile
                del self._flights[key]
                self._store(key, value)
        flight.done.set()
        return value

    def invalidate(self, key: K | None = None) -> None:
        """Drop one key, or everything (and do not store loads now in flight)."""
        with self._lock:
            if key is None:
                self._values.clear()
                self._flights.clear()  # later callers start a fresh load; current waiters still get theirs
            else:
                self._values.pop(key, None)
                self._flights.pop(key, None)

    def __len__(self) -> int:
        with self._lock:
            return len(self._values)


__all__ = ["CacheStats", "TTLCache"]
