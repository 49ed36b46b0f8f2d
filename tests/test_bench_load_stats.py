"""Pure helpers of bench/load.py (the load benchmark itself is not a test): nearest-rank
percentiles, a step's summary with failures counted as the slowest, and capacity."""

import dataclasses
import math
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))

from loadbench import stats  # noqa: E402


def test_percentile_is_a_latency_some_request_had():
    values = [float(v) for v in range(1, 101)]  # 1..100, shuffled order must not matter
    values.reverse()
    assert stats.percentile(values, 0.50) == 50
    assert stats.percentile(values, 0.95) == 95
    assert stats.percentile(values, 0.99) == 99
    assert stats.percentile(values, 1.0) == 100
    assert stats.percentile([0.3, 0.1, 0.2], 0.95) == 0.3
    assert math.isnan(stats.percentile([], 0.5))
    with pytest.raises(ValueError):
        stats.percentile(values, 0)


def step(users, p95, errors=0, requests=100, cpu=None):
    """A step whose successful latencies are all ``p95`` seconds."""
    return stats.summarize("s", users, 10.0, [p95] * (requests - errors), errors, cpu or {})


def test_errors_count_as_slower_than_any_success():
    summary = stats.summarize("s", 10, 10.0, [0.2] * 94, 6, {"server": 1.88})
    assert summary.requests == 100 and summary.error_rate == 0.06
    assert summary.p50 == 0.2 and math.isinf(summary.p95)  # 6% failed: no p95 to show
    assert summary.rps == 9.4
    assert summary.cpu_ms_per_request("server") == pytest.approx(20.0)  # per successful request
    assert math.isnan(summary.cpu_ms_per_request("database"))


def test_capacity_is_the_last_step_of_an_unbroken_run_within_the_slo():
    latency = 0.2  # SLO: p95 <= 0.5 s, errors < 1%
    steps = [step(25, 0.3), step(50, 0.5), step(100, 0.45, errors=1), step(200, 0.4)]
    assert stats.capacity(steps, latency) == 50  # 100: 1% errors is not < 1%; 200 passing later does not count
    assert stats.capacity(list(reversed(steps)), latency) == 50  # order of the list does not matter
    assert stats.capacity([step(25, 0.51)], latency) == 0
    assert stats.capacity([step(25, 2.2), step(50, 2.3)], 2.0) == 50


def test_collapse_stops_a_server_far_past_its_limit():
    assert not stats.collapsed(step(100, 1.9), 0.2)  # slow, within 4x the SLO
    assert stats.collapsed(step(100, 2.1), 0.2)
    assert stats.collapsed(step(100, 0.3, errors=5), 0.2)
    assert not stats.collapsed(step(100, 0.3, errors=4), 0.2)


def _probe_round(server: str, cpu_seconds: float, requests: int = 1000) -> dict:
    made = stats.summarize(server, 16, 4.0, [0.01] * requests, 0, {"server": cpu_seconds})
    return dataclasses.asdict(made)


def test_the_probe_table_takes_each_servers_median_round_against_the_best_gthread():
    from loadbench import report

    run = {"backend": "postgres", "latency": 0.2, "best_gthread": "gthread 2x64", "probes": {
        "sync 4w": [],
        "gthread 2x64": [_probe_round("gthread 2x64", s) for s in (0.9, 0.6, 0.8)],  # 0.9, 0.6, 0.8 ms/req
        "converted 2w": [_probe_round("converted 2w", s) for s in (0.5, 0.3, 0.4)],
    }}
    lines = report.probe_tables({"runs": [run]})
    rows = [line for line in lines if line.startswith("| PostgreSQL")]
    assert rows == [
        "| PostgreSQL | gthread 2x64 | 3 | 250 | 10 | 0.80 | 0.90, 0.60, 0.80 | 1.00x |",
        "| PostgreSQL | converted 2w | 3 | 250 | 10 | 0.40 | 0.50, 0.30, 0.40 | 0.50x |",
    ]
    assert report.probe_tables({"runs": [{**run, "probes": {}}]}) == []


def _busy_step(server: str, users: int, cpu_seconds: float, requests: int = 1000) -> dict:
    made = stats.summarize(server, users, 4.0, [0.3] * requests, 0,
                           {"server": cpu_seconds, "database": 1.0, "upstream": 0.5, "loadgen": 0.5})
    return dataclasses.asdict(made)


def test_the_limit_table_splits_the_busiest_step_and_compares_the_rest_with_the_best_gthread():
    from loadbench import report

    work = {"sync": {"db": 3.0, "json": 0.1, "app": 0.4, "client": 1.0, "total": 4.5},
            "async": {"db": 3.2, "json": 0.1, "app": 0.2, "client": 0.5, "total": 4.0}}
    run = {"backend": "postgres", "latency": 0.2, "best_gthread": "gthread 2x32", "steps": {
        "gthread 2x32": [_busy_step("gthread 2x32", 50, 5.0), _busy_step("gthread 2x32", 100, 6.5, 1200)],
        "converted 2w": [_busy_step("converted 2w", 100, 5.5)],
        "FastAPI by hand 2w": [_busy_step("FastAPI by hand 2w", 100, 5.0)],
    }}
    results = {"runs": [run], "app_work": {"postgres": work}, "cores": 2,
               "converted": {"session": "async", "client": "aiohttp"}}
    rows = [line.split(" | ") for line in report.limit_tables(results) if line.startswith("| PostgreSQL, upstream")]
    # gthread's busiest step is its second (300 rps): 6.5 s / 1200 requests = 5.42 ms, less the sync
    # replay (3.5 own + 1.0 client) leaves 0.92; both async servers are split by the async replay
    # (3.5 own + 0.5 client), the hand-written one included
    assert [(row[1], row[3], row[4], row[5], row[6], row[7]) for row in rows] == [
        ("gthread 2x32 (100 users)", "5.42", "3.50", "1.00", "0.92", "1.00x"),
        ("converted 2w (100 users)", "5.50", "3.50", "0.50", "1.50", "1.64x"),
        ("FastAPI by hand 2w (100 users)", "5.00", "3.50", "0.50", "1.00", "1.09x"),
    ]
    assert report.limit_tables({**results, "app_work": {}}) == []
