"""Round trips counted by cause, not by clock.

A request's *depth* is one more than the depth its thread had reached when it sent it. A thread reaches depth d by
getting the answer to a request of depth d, or by taking the result of a pool task that ended at depth d; a pool
task starts at the depth its submitter had when it submitted it. The search's round trips are the largest depth.

Two requests sent without either waiting on the other get the same depth however the threads happen to be
scheduled. Start/end timestamps cannot promise that: on a busy machine a task that was submitted together with
another may only start after the other one ended, and then looks like one more round trip.

``follow(monkeypatch)`` puts the meter into the executors the service and the paged listings create; a request
from any other thread is recorded as untracked (a test should assert there are none rather than undercount).
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import pytest

from bot.qumulo.client import QumuloClient


@dataclass(frozen=True, slots=True)
class Sent:
    depth: int
    method: str
    path: str


class CausalMeter:
    def __init__(self) -> None:
        self._local = threading.local()
        self._lock = threading.Lock()
        self._sent: list[Sent] = []
        self.untracked: list[str] = []  # names of threads that sent a request the meter does not follow
        self.executor: type[ThreadPoolExecutor] = ThreadPoolExecutor  # the followed one, once ``follow`` ran

    def enter(self) -> None:
        """The calling thread (the test's) starts at depth 0."""
        self._local.depth = 0

    def _depth(self) -> int | None:
        return getattr(self._local, "depth", None)

    def _reach(self, depth: int) -> None:
        self._local.depth = max(self._local.depth, depth)

    def sent(self) -> list[Sent]:
        with self._lock:
            return list(self._sent)

    @property
    def round_trips(self) -> int:
        return max((s.depth for s in self.sent()), default=0)

    # -- the hooks ----------------------------------------------------------------------------------------------
    def request(self, send: Callable[[], Any], method: str, path: str) -> Any:
        before = self._depth()
        if before is None:
            with self._lock:
                self.untracked.append(threading.current_thread().name)
            return send()
        depth = before + 1
        try:
            return send()
        finally:
            with self._lock:
                self._sent.append(Sent(depth, method, path))
            self._reach(depth)

    def submit(
        self, submit: Callable[[Callable[[], Any]], Future[Any]], fn: Callable[[], Any]
    ) -> Future[Any]:
        start = self._depth()
        if start is None:  # submitted from an untracked thread: its requests are untracked too
            return submit(fn)
        end = [start]

        def run() -> Any:
            self._local.depth = start
            try:
                return fn()
            finally:
                end[0] = self._local.depth  # written before the future completes, read after

        future = submit(run)
        result = future.result

        def result_at_depth(timeout: float | None = None) -> Any:
            try:
                return result(timeout)
            finally:
                if future.done():
                    self._reach(end[0])

        future.result = result_at_depth  # type: ignore[method-assign]
        return future


class CausalClient(QumuloClient):
    """A ``QumuloClient`` whose every request goes through ``meter``."""

    def __init__(self, *args: Any, meter: CausalMeter, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.meter = meter

    def request(self, method: str, path: str, *, json_body: Any = None) -> Any:
        send = functools.partial(QumuloClient.request, self, method, path, json_body=json_body)
        return self.meter.request(send, method, path)


def follow(monkeypatch: pytest.MonkeyPatch) -> CausalMeter:
    """A meter, entered on this thread, that follows work into the service's pools and the paged listings'
    page fetchers (both create their ``ThreadPoolExecutor`` by that module-level name)."""
    import bot.locks.service
    import bot.qumulo.paging

    meter = CausalMeter()

    class Executor(ThreadPoolExecutor):
        def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
            return meter.submit(super().submit, lambda: fn(*args, **kwargs))

    for module in (bot.locks.service, bot.qumulo.paging):
        monkeypatch.setattr(module, "ThreadPoolExecutor", Executor)
    meter.executor = Executor
    meter.enter()
    return meter


__all__ = ["CausalClient", "CausalMeter", "Sent", "follow"]
