"""Benchmark plan parsing and the pure metrics behind the tables."""

from __future__ import annotations

import argparse

import pytest
from hypothesis import given
from hypothesis import strategies as st
from qlocks_tools.bench import metrics
from qlocks_tools.bench.plan import DEFAULT, QUICK, parse_size, with_overrides
from qlocks_tools.cli import build_parser


@given(st.integers(1, 10_000_000))
def test_parse_size_round_trips_integers(n: int) -> None:
    assert parse_size(str(n)) == n
    if n % 1000 == 0:
        assert parse_size(f"{n // 1000}k") == n


def test_parse_size_rejects_nonsense() -> None:
    for bad in ("", "k", "-5", "0", "1.5", "ten"):
        with pytest.raises(ValueError):
            parse_size(bad)
    assert parse_size("1.5m") == 1_500_000


def test_cli_options_override_the_plan() -> None:
    args = build_parser("bench").parse_args(
        ["--sizes", "1k,100k", "--rtt", "0,25", "--runs", "3", "--null-lock-next", "--no-slack"]
    )
    assert args.sizes == (1000, 100_000) and args.rtt == (0.0, 25.0) and args.runs == 3
    plan = with_overrides(DEFAULT, sizes=args.sizes, rtts_ms=args.rtt, runs=args.runs, locks_never_end=False,
                          slack=False)  # fmt: skip
    assert plan.exact_rtt_ms == 25.0 and plan.seed_runs == 3 and not plan.locks_never_end and not plan.slack
    assert QUICK.sizes == (400,) and DEFAULT.sizes == (1000, 10_000, 100_000)


@pytest.mark.parametrize("bad", [["--rtt", "-1"], ["--runs", "0"], ["--sizes", "lots"]])
def test_cli_rejects_bad_values(bad: list[str]) -> None:
    with pytest.raises(SystemExit):
        build_parser("bench").parse_args([*bad])
    assert isinstance(build_parser("bench"), argparse.ArgumentParser)


def test_physical_limit_is_the_longest_listing() -> None:
    pages = metrics.listing_pages({"/v1/smb/files/": 100, "/v1/smb/sessions/": 12, "/v3/smb/shares/": 1})
    assert pages == {"handles": 100, "grants": 0, "sessions": 12}
    assert metrics.physical_limit_ms(pages, 10.0) == 1000.0
    assert metrics.physical_limit_ms(pages, 0.0) == 0.0


def _raw(matched: int, omitted: int, paths: list[str]) -> dict[str, object]:
    run = {"requests": 5, "bytes": 1000, "by_endpoint": {"/v1/smb/files/": 1}, "round_trips": 3}
    result = {
        "matched": matched,
        "files": len(paths),
        "omitted": omitted,
        "distinct_owners": 1,
        "paths": paths,
    }
    return {"cold_ms": [10.0], "warm_ms": [0.1], "warm_other_ms": [], "runs": [run], "result": result,
            "rss_before_mb": 30.0, "peak_rss_mb": 31.0}  # fmt: skip


def _seed(rows: int, paths: list[str]) -> dict[str, object]:
    last = {"requests": 3, "bytes": 1, "identity_lookups": rows, "named": True, "rows": rows,
            "listing_ms": 1.0, "names_ms": 1.0, "paths": paths}  # fmt: skip
    return {"ms": [20.0], "last": last, "peak_rss_mb": 30.0}


@pytest.mark.parametrize(
    ("ours", "seed", "agree"),
    [
        (_raw(2, 0, ["/a", "/b"]), _seed(2, ["/a", "/b"]), True),
        (_raw(2, 0, ["/a"]), _seed(2, ["/a", "/b"]), False),  # a file missing without a row cap
        (_raw(3, 1, ["/a"]), _seed(3, ["/a", "/b"]), True),  # capped rows: a subset is fine
        (_raw(3, 0, ["/a", "/b"]), _seed(2, ["/a", "/b"]), False),  # different handle counts
    ],
)
def test_search_row_agreement(ours: dict[str, object], seed: dict[str, object], agree: bool) -> None:
    floor = {"handles_ms": [5.0], "all_ms": [6.0]}
    row = metrics.search_row(size=10, rtt_ms=1.0, query={"name": "q", "text": "t"}, sim={}, ours=ours,
                             floor=floor, seed=seed)  # fmt: skip
    assert row["agree"] is agree
    assert row["speedup"] == 2.0 and row["x_floor"] == 2.0 and row["limit_ms"] == 1.0
