"""Measurement helpers: percentiles, the round-trip count on a request timeline, the timing client."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st
from qlocks_tools.bench.stats import TimingClient, percentile, round_trips, summary

from tests.conftest import config_for


def test_percentile_interpolates_between_ranks() -> None:
    values = [10.0, 20.0, 30.0, 40.0, 50.0]
    assert percentile(values, 0) == 10.0
    assert percentile(values, 50) == 30.0
    assert percentile(values, 100) == 50.0
    assert percentile(values, 95) == pytest.approx(48.0)
    assert percentile([7.0], 99) == 7.0
    assert math.isnan(percentile([], 50))
    with pytest.raises(ValueError):
        percentile(values, 101)


@given(st.lists(st.floats(-1e6, 1e6), min_size=1, max_size=50), st.floats(0, 100), st.floats(0, 100))
def test_percentile_is_monotone_and_within_range(values: list[float], a: float, b: float) -> None:
    lo, hi = sorted((a, b))
    assert min(values) <= percentile(values, lo) <= percentile(values, hi) + 1e-6
    assert percentile(values, hi) <= max(values) + 1e-6


def test_summary_keys() -> None:
    s = summary([1.0, 2.0, 3.0])
    assert (s["n"], s["p50"], s["min"], s["max"]) == (3.0, 2.0, 1.0, 3.0)


def test_round_trips_counts_sequential_waves_not_requests() -> None:
    assert round_trips([]) == 0
    # three requests one after another
    assert round_trips([(0, 1), (1, 2), (2, 3)]) == 3
    # two concurrent, then one: two round trips
    assert round_trips([(0, 1), (0.1, 1.1), (1.2, 2)]) == 2
    # ten concurrent requests are one round trip
    assert round_trips([(0.01 * i, 1 + 0.01 * i) for i in range(10)]) == 1


@given(st.lists(st.tuples(st.floats(0, 100), st.floats(0, 10)), max_size=30))
def test_round_trips_bounded_by_request_count(pairs: list[tuple[float, float]]) -> None:
    intervals = [(s, s + d) for s, d in pairs]
    n = round_trips(intervals)
    assert (n == 0) == (not intervals)
    assert n <= len(intervals)


def test_timing_client_records_each_request(sim: object) -> None:
    with TimingClient(config_for(sim)) as client:
        client.who_am_i()
        client.list_smb_shares()
        timeline = client.timeline()
        assert [t.path.split("?")[0] for t in timeline] == ["/v1/session/who-am-i", "/v3/smb/shares/"]
        assert all(t.end >= t.start for t in timeline)
        assert round_trips([(t.start, t.end) for t in timeline]) == 2
        assert client.stats.requests == 2
        client.reset_timeline()
        assert client.timeline() == []
