"""Prometheus metrics: one private ``CollectorRegistry`` per bot (never the global default registry, so a process
may build several bots, as the tests do). ``bot.compose`` creates a ``Metrics`` and wires it to the seams:

- ``qlocks_searches_total{kind,outcome}`` and ``qlocks_search_duration_seconds{kind}`` (the search service),
- ``qlocks_search_cache_hits_total`` / ``qlocks_search_cache_misses_total`` (answered from the result cache or not),
- ``qlocks_cluster_requests_total{endpoint,status}`` (every Qumulo REST call; ``status`` is the HTTP status or
  ``timeout`` / ``connection`` / ``tls``; ``endpoint`` is the normalized path, e.g. ``/v1/files/{ref}/…``),
- ``qlocks_closes_total{result}`` (every close click, by its audit result: closed, gone, denied, failed, …),
- ``qlocks_slack_api_errors_total{method,error}`` (Web API calls and response_url posts that failed).

``render()`` is the Prometheus text format for ``GET /metrics``. No label ever carries a path, user or token.
``readiness(checks)`` runs named checks (the cluster's who-am-i, the state store's ping) at once, bounded by a timeout,
for ``GET /readyz``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

CONTENT_TYPE = CONTENT_TYPE_LATEST
SEARCH_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)


class Metrics:
    """The bot's counters; thread-safe (prometheus_client's are)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.searches = Counter(
            "qlocks_searches", "Searches run, by query kind and outcome", ["kind", "outcome"], registry=r
        )
        self.search_seconds = Histogram(
            "qlocks_search_duration_seconds",
            "Search latency (cached answers included), by query kind",
            ["kind"],
            buckets=SEARCH_BUCKETS,
            registry=r,
        )
        self.cache_hits = Counter(
            "qlocks_search_cache_hits", "Searches answered from the result cache", registry=r
        )
        self.cache_misses = Counter(
            "qlocks_search_cache_misses", "Searches that asked the cluster", registry=r
        )
        self.cluster_requests = Counter(
            "qlocks_cluster_requests",
            "Qumulo REST requests, by endpoint and HTTP status (or timeout/connection/tls)",
            ["endpoint", "status"],
            registry=r,
        )
        self.closes = Counter("qlocks_closes", "Close clicks, by audited result", ["result"], registry=r)
        self.slack_errors = Counter(
            "qlocks_slack_api_errors",
            "Slack Web API calls and response_url posts that failed, by method and error",
            ["method", "error"],
            registry=r,
        )

    # -- the seams call these ----------------------------------------------------------------------
    def searched(self, kind: str, outcome: str, seconds: float, *, cached: bool) -> None:
        self.searches.labels(kind=kind, outcome=outcome).inc()
        self.search_seconds.labels(kind=kind).observe(seconds)
        (self.cache_hits if cached else self.cache_misses).inc()

    def cluster_request(self, endpoint: str, status: str) -> None:
        self.cluster_requests.labels(endpoint=endpoint, status=status).inc()

    def closed(self, result: str) -> None:
        self.closes.labels(result=result).inc()

    def slack_error(self, method: str, error: str) -> None:
        self.slack_errors.labels(method=method, error=error[:64]).inc()

    def render(self) -> bytes:
        """The Prometheus text exposition format of this bot's registry."""
        return bytes(generate_latest(self.registry))


READY_TIMEOUT_S = 3.0


def readiness(
    checks: Mapping[str, Callable[[], object]], *, timeout_s: float = READY_TIMEOUT_S
) -> str | None:
    """None when every check returned within ``timeout_s``; else one line naming the first one that did not (and
    only the exception's type: its text may name hosts or URLs, never shown to whoever probes)."""
    problems: dict[str, str] = {}
    threads: dict[str, threading.Thread] = {}
    for name, check in checks.items():

        def run(name: str = name, check: Callable[[], object] = check) -> None:
            try:
                check()
            except Exception as exc:
                problems[name] = type(exc).__name__

        thread = threading.Thread(target=run, name=f"qlocks-ready-{name}", daemon=True)
        threads[name] = thread
        thread.start()
    for thread in threads.values():
        thread.join(timeout_s)  # at most ``timeout_s`` in all: the checks run at the same time
    for name, thread in threads.items():
        if thread.is_alive():
            return f"{name}: no answer within {timeout_s:g} s"
        if name in problems:
            return f"{name}: {problems[name]}"
    return None


__all__ = ["CONTENT_TYPE", "READY_TIMEOUT_S", "Metrics", "readiness"]
