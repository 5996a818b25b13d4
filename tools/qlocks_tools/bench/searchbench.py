"""Measurements run inside a worker process: qlocks search (cold/warm), the seed tools, the listing floor, and
exact-path lookups. Each function takes the worker spec (a dict) and returns a JSON-able dict."""

from __future__ import annotations

import functools
import json
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import requests

from bot.compose import build_domain
from bot.config import QlocksConfig, QumuloConfig
from bot.locks.models import SearchResult
from bot.locks.query import parse_query
from bot.locks.service import LockService
from qlocks_tools.bench.seed import SeedTool
from qlocks_tools.bench.stats import TimingClient, peak_rss_mb, round_trips

logger = logging.getLogger(__name__)

CACHE_TTL_S = 600.0  # long enough that every warm repeat of a run lands within the TTL
LISTINGS = {
    "handles": ("/v1/smb/files/?resolve_paths=True&limit=1000", "file_handles"),
    "grants": ("/v1/files/locks/smb/share-mode/?limit=1000", "grants"),
    "sessions": ("/v1/smb/sessions/?limit=1000", "session_infos"),
}
LISTING_ENDPOINTS = ("/v1/smb/files/", "/v1/files/locks/smb/share-mode/", "/v1/smb/sessions/")


def config_of(spec: dict[str, Any]) -> QumuloConfig:
    sim = spec["sim"]
    return QumuloConfig(
        host=sim["host"], port=int(sim["port"]), scheme="http", access_token=sim["token"], timeout_s=60.0
    )


def _ms(seconds: float) -> float:
    return round(seconds * 1000.0, 3)


def _describe(result: SearchResult) -> dict[str, Any]:
    owners = {row.ref.owner for group in result.files for row in group.rows}
    rows = [row for group in result.files for row in group.rows]
    return {
        "named_client_share": (sum(r.client_ip is not None for r in rows) / len(rows)) if rows else None,
        "files": len(result.files),
        "rows": result.total_handles,
        "matched": result.matched_handles,
        "omitted": result.omitted_handles,
        "scanned": result.scanned_handles,
        "distinct_owners": len(owners),
        "exact": result.exact,
        "no_such_file": result.no_such_file,
        "paths": sorted(group.path for group in result.files),
        "notes": list(result.notes),
    }


def _cold(cfg: QumuloConfig, text: str) -> tuple[TimingClient, LockService, SearchResult, float]:
    """A search on a brand-new client and service: empty caches, new connections."""
    client = TimingClient(cfg)
    svc = build_domain(
        cfg, QlocksConfig(cluster_name="bench", cache_ttl_s=CACHE_TTL_S), client=client
    ).service
    started = time.perf_counter()
    result = svc.search(parse_query(text))
    return client, svc, result, time.perf_counter() - started


def measure_search(spec: dict[str, Any]) -> dict[str, Any]:
    """``runs`` cold searches (each on a fresh service), each followed by ``warm`` repeats of the same query and
    one different query (``other``) within the TTL."""
    cfg = config_of(spec)
    text, other = spec["query"], spec.get("other")
    rss_before = peak_rss_mb()
    cold: list[float] = []
    warm: list[float] = []
    warm_other: list[float] = []
    runs: list[dict[str, Any]] = []
    described: dict[str, Any] = {}
    for _ in range(int(spec["runs"])):
        client, svc, result, elapsed = _cold(cfg, text)
        try:
            cold.append(_ms(elapsed))
            timeline = client.timeline()
            runs.append(
                {
                    "requests": client.stats.requests,
                    "bytes": client.stats.bytes_received,
                    "by_endpoint": dict(client.stats.by_endpoint),
                    "round_trips": round_trips([(t.start, t.end) for t in timeline]),
                }
            )
            described = _describe(result)
            for _ in range(int(spec["warm"])):
                started = time.perf_counter()
                svc.search(parse_query(text))
                warm.append(_ms(time.perf_counter() - started))
            if other:
                started = time.perf_counter()
                svc.search(parse_query(other))
                warm_other.append(_ms(time.perf_counter() - started))
        finally:
            svc.shutdown()
            client.close()
    return {
        "cold_ms": cold,
        "warm_ms": warm,
        "warm_other_ms": warm_other,
        "runs": runs,
        "result": described,
        "rss_before_mb": rss_before,
        "peak_rss_mb": peak_rss_mb(),
    }


def measure_seed(spec: dict[str, Any]) -> dict[str, Any]:
    """The seed tools' search, ``runs`` times (every run re-downloads everything, as the seed does)."""
    base = spec["sim"]["url"]
    times: list[float] = []
    last: dict[str, Any] = {}
    for _ in range(int(spec["runs"])):
        tool = SeedTool(base, spec["sim"]["token"])
        started = time.perf_counter()
        result = tool.search(spec["query"], names=True)
        times.append(_ms(time.perf_counter() - started))
        st = result.stats
        last = {
            "requests": st.requests,
            "bytes": st.bytes_received,
            "identity_lookups": st.identity_lookups,
            "grant_pages": st.grant_pages,
            "handle_pages": st.handle_pages,
            "by_endpoint": dict(st.by_endpoint),
            "listing_ms": _ms(st.listing_s),
            "join_ms": _ms(st.join_s),
            "names_ms": _ms(st.names_s),
            "rows": len(result.rows),
            "named": result.named,
            "paths": sorted(result.files),
        }
    return {"ms": times, "last": last, "peak_rss_mb": peak_rss_mb()}


def _walk(session: requests.Session, base: str, token: str, first: str, key: str) -> tuple[int, int]:
    """Follow one listing with nothing but GET + json.loads; (pages, bytes)."""
    headers = {"Authorization": f"Bearer {token}"}
    path: str | None = first
    pages = nbytes = 0
    while path:
        resp = session.get(base + path, headers=headers, timeout=60)
        resp.raise_for_status()
        data = json.loads(resp.content)
        pages += 1
        nbytes += len(resp.content)
        items = data.get(key) or []
        if len(items) < 1000:
            break
        path = (data.get("paging") or {}).get("next")
    return pages, nbytes


def measure_floor(spec: dict[str, Any]) -> dict[str, Any]:
    """The floor on this rig: a minimal client walking the handle listing alone (the critical chain of every
    scan), and all three listings concurrently (what a search that needs them all cannot beat)."""
    base, token = spec["sim"]["url"], spec["sim"]["token"]
    handles_ms: list[float] = []
    all_ms: list[float] = []
    pages: dict[str, int] = {}
    for _ in range(int(spec["runs"])):
        with requests.Session() as session:
            session.trust_env = False
            started = time.perf_counter()
            pages["handles"], _ = _walk(session, base, token, *LISTINGS["handles"])
            handles_ms.append(_ms(time.perf_counter() - started))
        out: dict[str, int] = {}

        def walk(name: str, out: dict[str, int] = out) -> None:
            with requests.Session() as own:
                own.trust_env = False
                out[name], _ = _walk(own, base, token, *LISTINGS[name])

        started = time.perf_counter()
        _run_threads([functools.partial(walk, name) for name in LISTINGS])
        all_ms.append(_ms(time.perf_counter() - started))
        pages.update(out)
    return {"handles_ms": handles_ms, "all_ms": all_ms, "pages": pages}


def _run_threads(fns: list[Callable[[], None]]) -> None:
    errors: list[BaseException] = []

    def guard(fn: Callable[[], None]) -> None:
        try:
            fn()
        except BaseException as exc:  # re-raised below in the calling thread
            errors.append(exc)

    threads = [threading.Thread(target=guard, args=(fn,)) for fn in fns]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]


def measure_exact(spec: dict[str, Any]) -> dict[str, Any]:
    """Cold exact-path searches (fresh service each run): latency, requests, sequential round trips."""
    cfg = config_of(spec)
    out: dict[str, Any] = {}
    for label, text in spec["queries"].items():
        times: list[float] = []
        runs: list[dict[str, Any]] = []
        described: dict[str, Any] = {}
        for _ in range(int(spec["runs"])):
            client, svc, result, elapsed = _cold(cfg, text)
            try:
                times.append(_ms(elapsed))
                timeline = client.timeline()
                runs.append(
                    {
                        "requests": client.stats.requests,
                        "by_endpoint": dict(client.stats.by_endpoint),
                        "round_trips": round_trips([(t.start, t.end) for t in timeline]),
                    }
                )
                described = _describe(result)
            finally:
                svc.shutdown()
                client.close()
        out[label] = {"ms": times, "runs": runs, "result": described}
    return {"queries": out, "peak_rss_mb": peak_rss_mb()}


__all__ = ["measure_exact", "measure_floor", "measure_search", "measure_seed"]
