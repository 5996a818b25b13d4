"""``qlocks bench``: run the benchmark plan and print the tables (``--json``: the raw data).

qlocks bench                    # full run: 1k/10k/100k handles × RTT 0/10 ms, exact paths to 300k, Slack
qlocks bench --quick            # seconds: tiny sizes (the smoke test and CI use this)
qlocks bench --sizes 100k --rtt 10 --runs 3 --no-slack
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import TextIO

from qlocks_tools.bench.harness import run_plan
from qlocks_tools.bench.plan import DEFAULT, QUICK, parse_size, with_overrides
from qlocks_tools.bench.procs import BenchError
from qlocks_tools.bench.report import render

logger = logging.getLogger(__name__)


def _sizes(text: str) -> tuple[int, ...]:
    try:
        return tuple(parse_size(t) for t in text.split(",") if t.strip())
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def _rtts(text: str) -> tuple[float, ...]:
    try:
        values = tuple(float(t) for t in text.split(",") if t.strip())
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a list of milliseconds: {text!r}") from exc
    if not values or any(v < 0 for v in values):
        raise argparse.ArgumentTypeError("RTTs must be >= 0 ms")
    return values


def _runs(text: str) -> int:
    try:
        value = int(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from exc
    if not 1 <= value <= 1000:
        raise argparse.ArgumentTypeError("--runs must be 1..1000")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--quick", action="store_true", help="tiny sizes, few runs: seconds (smoke test, CI)")
    parser.add_argument(
        "--sizes", type=_sizes, default=None, help="handle counts, e.g. 1k,10k,100k (default: those)"
    )
    parser.add_argument(
        "--rtt", type=_rtts, default=None, help="cluster round-trip times in ms, e.g. 0,10 (default: those)"
    )
    parser.add_argument("--runs", type=_runs, default=None, help="cold runs per scenario (default 5)")
    parser.add_argument(
        "--exact-sizes",
        type=_sizes,
        default=None,
        help="sizes for the exact-path lookups (default 1k,100k,300k)",
    )
    parser.add_argument(
        "--null-lock-next",
        action="store_true",
        help="lock listings end with a null paging.next (default: never null, as on Qumulo Core)",
    )
    parser.add_argument("--no-seed", action="store_true", help="skip the seed-tool baselines")
    parser.add_argument(
        "--handle-locations",
        choices=("opaque", "extends", "shuffled"),
        default=None,
        help="simulated cluster: do handle locations extend session locations (default opaque)",
    )
    parser.add_argument("--no-slack", action="store_true", help="skip the Slack ack/close measurements")
    parser.add_argument("--json", action="store_true", help="print the raw results as JSON instead of tables")
    parser.add_argument(
        "--save", type=Path, default=None, help="also write the raw JSON results to this file"
    )


def run(args: argparse.Namespace, *, out: TextIO | None = None, err: TextIO | None = None) -> int:
    out = out or sys.stdout
    err = err or sys.stderr
    plan = with_overrides(
        QUICK if args.quick else DEFAULT,
        sizes=args.sizes,
        rtts_ms=args.rtt,
        runs=args.runs,
        exact_sizes=args.exact_sizes,
        locks_never_end=False if args.null_lock_next else None,
        seed=False if args.no_seed else None,
        slack=False if args.no_slack else None,
        handle_locations=args.handle_locations,
    )

    def log(line: str) -> None:
        err.write(line + "\n")
        err.flush()

    try:
        data = run_plan(plan, log=log)
    except BenchError as exc:
        err.write(f"qlocks bench: {exc}\n")
        return 1
    if args.save is not None:
        args.save.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    if args.json:
        json.dump(data, out, indent=2)
        out.write("\n")
    else:
        out.write(render(data))
    return 0


__all__ = ["add_arguments", "run"]
