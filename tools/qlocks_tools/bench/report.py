"""Markdown tables and the target check for a benchmark run (pure: data in, text out)."""

from __future__ import annotations

import logging
import math
from typing import Any

logger = logging.getLogger(__name__)

Row = dict[str, Any]


def _n(value: Any, digits: int = 0) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if isinstance(value, float | int):
        return f"{value:,.{digits}f}"
    return str(value)


def _size(n: int) -> str:
    return f"{n // 1000}k" if n >= 1000 and n % 1000 == 0 else str(n)


def _x(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}×"


def _ms(s: dict[str, float], key: str = "p50", digits: int = 0) -> str:
    return _n(s.get(key), digits)


def _table(head: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def search_table(rows: list[Row]) -> str:
    head = ["handles", "RTT", "query", "matched", "cold p50 / p95 ms", "L ms", "×L", "floor ms", "×floor",
            "seed p50 ms", "speed-up", "same answer", "named client"]  # fmt: skip
    body = []
    for r in rows:
        seed = r.get("seed")
        body.append(
            [
                _size(r["handles"]),
                f"{r['rtt_ms']:g} ms",
                f"{r['query']} `{r['text']}`",
                f"{r['matched_handles']:,}",
                f"{_ms(r['cold'])} / {_ms(r['cold'], 'p95')}",
                _n(r["limit_ms"]),
                _x(r["x_limit"]),
                _n(r["floor_ms"]),
                _x(r["x_floor"]),
                _ms(seed["ms"]) if seed else "–",
                _x(r.get("speedup")),
                ("yes" if r.get("agree") else "NO") if seed else "–",
                f"{r['named_client_share']:.1%}" if r.get("named_client_share") is not None else "–",
            ]
        )
    return _table(head, body)


def cost_table(rows: list[Row]) -> str:
    head = ["handles", "RTT", "query", "warm p50 / p95 ms", "other query in TTL p50 ms", "requests (listing pages + rest)",
            "seed requests", "identity lookups: ours (owners) / seed", "MB in: ours / seed", "peak RSS MB: ours / seed"]  # fmt: skip
    body = []
    for r in rows:
        seed = r.get("seed") or {}
        pages = r["listing_pages"]
        listing = "+".join(str(pages[k]) for k in ("handles", "grants", "sessions"))
        lookups = f"{r['identity_lookups']} ({r['distinct_owners']})"
        if seed:
            lookups += f" / {seed['identity_lookups']}" + ("" if seed["named"] else " (gave up)")
        body.append(
            [
                _size(r["handles"]),
                f"{r['rtt_ms']:g} ms",
                r["query"],
                f"{_ms(r['warm'], 'p50', 2)} / {_ms(r['warm'], 'p95', 2)}",
                _ms(r["warm_other"]),
                f"{r['requests']} ({listing} + {r['overhead_requests']})",
                _n(seed.get("requests")),
                lookups,
                f"{r['mb_received']:.1f} / {_n(seed.get('mb_received'), 1)}",
                f"{r['rss_mb']:.0f} / {_n(seed.get('rss_mb'))}",
            ]
        )
    return _table(head, body)


def exact_table(rows: list[Row]) -> str:
    head = ["handles", "RTT", "query form", "cold p50 / p95 ms", "requests", "round trips", "rows"]
    body = [
        [
            _size(r["handles"]),
            f"{r['rtt_ms']:g} ms",
            r["form"],
            f"{_ms(r['ms'])} / {_ms(r['ms'], 'p95')}",
            "/".join(str(x) for x in r["requests"]),
            str(r["round_trips"]),
            _n(r["rows"]),
        ]
        for r in rows
    ]
    return _table(head, body)


def slack_table(rows: list[Row]) -> str:
    head = ["cluster RTT", "handles", "ack p50 / p99 ms (n)", "ack in a burst p50 / p99 ms (n)",
            "answer p50 ms", "click → row closed p50 ms", "click → audit line p50 / p99 ms", "audit records"]  # fmt: skip
    body = []
    for r in rows:
        serial, burst = r["ack_serial"], r["ack_burst"]
        body.append(
            [
                f"{r['rtt_ms']:g} ms",
                _size(r["handles"]),
                f"{_ms(serial)} / {_ms(serial, 'p99')} ({int(serial['n'])})",
                f"{_ms(burst)} / {_ms(burst, 'p99')} ({int(burst['n'])})" if burst["n"] else "–",
                _ms(r["answer"]),
                _ms(r["close_row"]),
                f"{_ms(r['close_line'])} / {_ms(r['close_line'], 'p99')}",
                f"{r['audited']}/{r['clicks']}",
            ]
        )
    return _table(head, body)


def targets(data: dict[str, Any]) -> list[tuple[str, str, bool | None]]:
    """(target, measured, met) for the issue's targets, at the largest size and RTT measured."""
    out: list[tuple[str, str, bool | None]] = []
    rows = data["search"]
    if rows:
        big = max(r["handles"] for r in rows)
        rtt = max(r["rtt_ms"] for r in rows)
        for r in (r for r in rows if r["handles"] == big and r["rtt_ms"] == rtt):
            tag = f"{_size(big)}/{rtt:g} ms {r['query']}"
            if r["x_limit"] is not None:
                out.append((f"{tag}: cold ≤ 1.25 × L", f"{r['x_limit']:.2f}× L ({r['x_floor']:.2f}× floor)",
                            r["x_limit"] <= 1.25))  # fmt: skip
            if r.get("speedup") is not None:
                est = r.get("speedup_with_handshakes_est")
                note = f" ({est:.1f}× with the seed's per-request handshakes, est.)" if est else ""
                out.append(
                    (f"{tag}: ≥ 2× faster than the seed", f"{r['speedup']:.1f}×{note}", r["speedup"] >= 2)
                )
            out.append((f"{tag}: warm p95 ≤ 50 ms", f"{r['warm']['p95']:.2f} ms", r["warm"]["p95"] <= 50))
            out.append((f"{tag}: requests = pages + O(1) (rest ≤ 16)", f"{r['requests']} = {sum(r['listing_pages'].values())}"
                        f" pages + {r['overhead_requests']}", r["overhead_requests"] <= 16))  # fmt: skip
            out.append((f"{tag}: identity lookups O(distinct owners)",
                        f"{r['identity_lookups']} for {r['distinct_owners']} owners",
                        r["identity_lookups"] <= r["distinct_owners"]))  # fmt: skip
        rss = max(r["rss_mb"] for r in rows)
        out.append(("peak RSS ≤ 250 MB (any search scenario)", f"{rss:.0f} MB", rss <= 250))
    if data["exact"]:
        worst = max(r["round_trips"] for r in data["exact"])
        reqs = sorted({n for r in data["exact"] for n in r["requests"]})
        out.append(("exact path ≤ 5 round trips at any size", f"{worst} (requests {reqs})", worst <= 5))
    for s in data["slack"][:1]:
        p99 = s["ack_all"]["p99"]
        out.append((f"ack p99 ≤ 300 ms at {s['rtt_ms']:g} ms cluster RTT", f"{p99:.0f} ms", p99 <= 300))
    return out


def render(data: dict[str, Any]) -> str:
    m = data["machine"]
    parts = [
        f"qlocks bench: Python {m['python']}, {m['cpus']} CPUs, {m['platform']}; load average "
        f"{m.get('loadavg_start')} -> {m.get('loadavg_end')}; {m.get('wall_s')} s",
    ]
    if data["search"]:
        parts += ["", "### Search: cold, against the physical limit and the seed tools", "",
                  search_table(data["search"]), "", "### Search: warm, requests, bytes, memory", "",
                  cost_table(data["search"])]  # fmt: skip
    if data["exact"]:
        parts += ["", "### Exact path (narrow lookup)", "", exact_table(data["exact"])]
    if data["slack"]:
        parts += ["", "### Slack: ack and close", "", slack_table(data["slack"])]
    checks = targets(data)
    if checks:
        parts += ["", "### Targets", "", _table(["target", "measured", "met"],
                  [[t, v, "–" if ok is None else ("yes" if ok else "**no**")] for t, v, ok in checks])]  # fmt: skip
    return "\n".join(parts) + "\n"


__all__ = ["cost_table", "exact_table", "render", "search_table", "slack_table", "targets"]
