"""What a benchmark run measures: sizes, RTTs, queries, repetitions (the full default run and ``--quick``)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class QuerySpec:
    name: str  # label in the tables
    text: str  # what the user types after /qlocks search
    other: str  # a different query run right after, within the TTL ("warm, other query")


#: Anchors exist at every size (simulator catalog): one file for the selective query, one path for exact lookups.
SELECTIVE = QuerySpec("selective", "deck v2.dwg", other="final cut.prproj")
BROAD = QuerySpec("broad", "budget", other="forecast")
EXACT_QUERIES = {
    "fs path": "/finance/2026/Q3/Q3 forecast.xlsx",
    "UNC": "\\\\qumulo\\Finance\\2026\\Q3\\Q3 forecast.xlsx",
}
SLACK_QUERIES = (
    "forecast",
    "deck",
    "final cut",
    "notes",
    "trailer",
    "minutes",
    "invoice",
    "floor plan",
    "roadmap",
    "b-roll",
    "payroll",
    "apollo",
)


@dataclass(frozen=True, slots=True)
class Plan:
    sizes: tuple[int, ...] = (1_000, 10_000, 100_000)
    rtts_ms: tuple[float, ...] = (0.0, 10.0)
    runs: int = 5  # cold searches per scenario (each on a fresh service)
    seed_runs: int = 3  # the seed re-downloads everything each time: fewer runs keep the full run short
    warm: int = 20  # warm repeats after each cold search
    floor_runs: int = 3
    queries: tuple[QuerySpec, ...] = (SELECTIVE, BROAD)
    seed: bool = True
    # Qumulo Core's lock listings may never return a null paging.next (qumulo-rest.md §4); the simulator's own
    # default is a null next on the last page. The benchmark models the cluster.
    locks_never_end: bool = True
    # Whether handle locations extend session locations is undocumented (simulator knob; qlocks detects it).
    handle_locations: str = "opaque"
    exact_sizes: tuple[int, ...] = (1_000, 100_000, 300_000)
    exact_rtt_ms: float = 10.0
    exact_runs: int = 5
    slack: bool = True
    slack_handles: int = 10_000
    slack_rtts_ms: tuple[float, ...] = (200.0, 10.0)  # the first one is the ack target's RTT
    slack_queries: tuple[str, ...] = SLACK_QUERIES[:8]  # serial commands, each answered before the next
    slack_queries_other_rtts: int = 3
    slack_burst: int = 20
    slack_clicks: int = 10
    close_query: str = "Q3 forecast"
    exact_queries: dict[str, str] = field(default_factory=lambda: dict(EXACT_QUERIES))


DEFAULT = Plan()
QUICK = Plan(
    sizes=(400,),
    rtts_ms=(5.0,),
    runs=2,
    seed_runs=1,
    warm=3,
    floor_runs=1,
    exact_sizes=(400, 2_000),
    exact_rtt_ms=5.0,
    exact_runs=2,
    slack_handles=400,
    slack_rtts_ms=(20.0,),
    slack_queries=SLACK_QUERIES[:3],
    slack_burst=4,
    slack_clicks=2,
)


def parse_size(text: str) -> int:
    """``100k`` / ``1.5m`` / ``300000`` -> int."""
    t = text.strip().lower().replace("_", "")
    mult = 1
    if t.endswith("k"):
        t, mult = t[:-1], 1_000
    elif t.endswith("m"):
        t, mult = t[:-1], 1_000_000
    value = float(t) * mult
    if value < 1 or value != int(value):
        raise ValueError(f"not a handle count: {text!r}")
    return int(value)


def with_overrides(
    plan: Plan,
    *,
    sizes: tuple[int, ...] | None = None,
    rtts_ms: tuple[float, ...] | None = None,
    runs: int | None = None,
    locks_never_end: bool | None = None,
    exact_sizes: tuple[int, ...] | None = None,
    seed: bool | None = None,
    slack: bool | None = None,
    handle_locations: str | None = None,
) -> Plan:
    out = plan
    if handle_locations is not None:
        out = replace(out, handle_locations=handle_locations)
    if sizes is not None:
        out = replace(out, sizes=sizes)
    if rtts_ms is not None:
        out = replace(out, rtts_ms=rtts_ms, exact_rtt_ms=max(rtts_ms))
    if runs is not None:
        out = replace(out, runs=runs, exact_runs=runs, seed_runs=min(runs, out.seed_runs))
    if locks_never_end is not None:
        out = replace(out, locks_never_end=locks_never_end)
    if exact_sizes is not None:
        out = replace(out, exact_sizes=exact_sizes)
    if seed is not None:
        out = replace(out, seed=seed)
    if slack is not None:
        out = replace(out, slack=slack)
    return out


__all__ = ["BROAD", "DEFAULT", "QUICK", "SELECTIVE", "Plan", "QuerySpec", "parse_size", "with_overrides"]
