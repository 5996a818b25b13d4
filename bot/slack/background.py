"""Where the slow part of a request runs, after its ``ack()``.

Bolt runs a listener on its own thread pool and waits (at most 3 s) for ``ack()``. If the listener also did the
search there, a burst of slow searches would occupy every listener thread and the next request could not even be
acknowledged in time. So listeners ack, then hand the work to ``Background``: its own pool, with a queue, so acks
never wait for searches (answers may; a response_url stays valid for 30 minutes). Errors in that work go to the same
``report_error`` as Bolt's error handler. ``Inline`` runs the work in the listener (``process_before_response``:
tests, FaaS), where Bolt's error handler sees the exception itself.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol

from slack_bolt import Respond

from bot.slack.errors import report_error

logger = logging.getLogger(__name__)

Work = Callable[[], None]


class Runner(Protocol):
    def __call__(self, work: Work, *, body: Any, respond: Respond | None) -> None: ...


class Inline:
    def __call__(self, work: Work, *, body: Any, respond: Respond | None) -> None:
        work()


class Background:
    def __init__(self, *, workers: int, cluster: str) -> None:
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="qlocks-work")
        self._cluster = cluster

    def __call__(self, work: Work, *, body: Any, respond: Respond | None) -> None:
        self._pool.submit(self._run, work, body, respond)

    def _run(self, work: Work, body: Any, respond: Respond | None) -> None:
        try:
            work()
        except Exception as exc:  # the pool would swallow it: report like Bolt's error handler does
            report_error(exc, body=body, respond=respond, cluster=self._cluster)

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True)
