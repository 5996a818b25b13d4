"""Run a :class:`Plan`: start simulators (one process each), run each measurement in a fresh worker process,
and collect the rows the report prints."""

from __future__ import annotations

import logging
import os
import platform
import sys
import time
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from qlocks_tools.bench import metrics
from qlocks_tools.bench.plan import Plan
from qlocks_tools.bench.procs import SimProcess, run_worker

logger = logging.getLogger(__name__)

Log = Callable[[str], None]


def machine() -> dict[str, Any]:
    return {
        "python": platform.python_version(),
        "platform": platform.platform(terse=True),
        "cpus": os.cpu_count(),
        "loadavg_start": _loadavg(),
    }


def _loadavg() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def _search_scenario(plan: Plan, size: int, rtt: float, log: Log, out: dict[str, Any]) -> None:
    with _sim(plan, size, rtt) as sim:
        out["simulators"].append({"handles": size, "rtt_ms": rtt, **_sim_facts(sim.info)})
        floor = run_worker({"kind": "floor", "sim": sim.info, "runs": plan.floor_runs})
        for q in plan.queries:
            base = {"sim": sim.info, "query": q.text}
            ours = run_worker(
                {**base, "kind": "search", "runs": plan.runs, "warm": plan.warm, "other": q.other}
            )
            seed = run_worker({**base, "kind": "seed", "runs": plan.seed_runs}) if plan.seed else None
            row = metrics.search_row(
                size=size,
                rtt_ms=rtt,
                query={"name": q.name, "text": q.text},
                sim=sim.info,
                ours=ours,
                floor=floor,
                seed=seed,
            )
            out["search"].append(row)
            speed = f", seed {row['seed']['ms']['p50']:.0f} ms (x{row['speedup']})" if seed else ""
            log(
                f"  {size:>7} handles  RTT {rtt:g} ms  {q.name:<9}  cold p50 {row['cold']['p50']:.0f} ms"
                f" (L {row['limit_ms']:.0f} ms, floor {row['floor_ms']:.0f} ms){speed}"
            )


def _sim(plan: Plan, size: int, rtt: float) -> SimProcess:
    return SimProcess(
        handles=size,
        latency_ms=rtt,
        locks_never_end=plan.locks_never_end,
        handle_locations=plan.handle_locations,
    )


def _sim_facts(info: dict[str, Any]) -> dict[str, Any]:
    keys = ("files", "sessions", "identities", "generate_s", "rss_mb")
    return {k: info.get(k) for k in keys}


def run_plan(plan: Plan, *, log: Log = lambda _: None) -> dict[str, Any]:
    started = time.monotonic()
    out: dict[str, Any] = {
        "machine": machine(),
        "plan": asdict(plan),
        "simulators": [],
        "search": [],
        "exact": [],
        "slack": [],
    }
    log(f"qlocks bench: sizes {list(plan.sizes)}, RTT {list(plan.rtts_ms)} ms, {plan.runs} runs")
    for size in plan.sizes:
        for rtt in plan.rtts_ms:
            _search_scenario(plan, size, rtt, log, out)
    for size in plan.exact_sizes:
        with _sim(plan, size, plan.exact_rtt_ms) as sim:
            out["simulators"].append({"handles": size, "rtt_ms": plan.exact_rtt_ms, **_sim_facts(sim.info)})
            spec = {"kind": "exact", "sim": sim.info, "runs": plan.exact_runs, "queries": plan.exact_queries}
            rows = metrics.exact_rows(size, plan.exact_rtt_ms, run_worker(spec))
            out["exact"].extend(rows)
            for r in rows:
                log(
                    f"  exact {r['form']:<8} {size:>7} handles: p50 {r['ms']['p50']:.0f} ms, "
                    f"{r['requests']} requests, {r['round_trips']} round trips"
                )
    if plan.slack:
        for i, rtt in enumerate(plan.slack_rtts_ms):
            with _sim(plan, plan.slack_handles, rtt) as sim:
                queries = (
                    plan.slack_queries if i == 0 else plan.slack_queries[: plan.slack_queries_other_rtts]
                )
                spec = {
                    "kind": "slack",
                    "sim": sim.info,
                    "queries": list(queries),
                    "burst": plan.slack_burst if i == 0 else 0,
                    "clicks": plan.slack_clicks,
                    "close_query": plan.close_query,
                }
                row = metrics.slack_row(plan.slack_handles, rtt, run_worker(spec))
                out["slack"].append(row)
                log(
                    f"  slack RTT {rtt:g} ms: ack p50 {row['ack_all']['p50']:.0f} / p99 "
                    f"{row['ack_all']['p99']:.0f} ms; click -> audit line p50 {row['close_line']['p50']:.0f} ms"
                )
    out["machine"]["loadavg_end"] = _loadavg()
    out["machine"]["wall_s"] = round(time.monotonic() - started, 1)
    out["machine"]["argv"] = sys.argv[1:]
    return out


__all__ = ["machine", "run_plan"]
