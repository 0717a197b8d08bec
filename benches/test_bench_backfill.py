"""Backfill from container files beside the topic-to-topic bridge, on the real broker: the
same 1,000,000 Employee v2 records (5,000 in a smoke run) bridged to v1 by `avrobridge run`
from a topic and from files (null, deflate); every sink read back and checked. Records/s and
CPU per record of each process, as ratios within the run (benches/bridge_backfill.py)."""

from __future__ import annotations

from typing import Any

import pytest

from bridge_backfill import RUNS, backfill_table, compare
from bridge_e2e import LoopResult


@pytest.fixture(scope="module")
def runs(kafka_bootstrap: str, registry: Any, request: Any) -> dict[str, LoopResult]:
    smoke = request.config.getoption("benchmark_disable")
    n = 5_000 if smoke else 1_000_000
    results = compare(kafka_bootstrap, registry.url, n, RUNS, warm=0 if smoke else 150_000)
    print("\n" + backfill_table(results))
    return {r.loop: r for r in results}


@pytest.mark.parametrize("run", RUNS)
def test_backfill_beside_the_topic_bridge(
    benchmark: Any, run: str, runs: dict[str, LoopResult]
) -> None:
    result = runs[run]
    benchmark.group = "bridge-backfill"
    # The runs happened in the fixture, one after the other; this records each one's figures.
    benchmark.pedantic(lambda: None, rounds=1, iterations=1)
    assert result.note == "", result.note
    benchmark.extra_info.update(
        {
            "records": result.records,
            "records_per_s": round(result.records_per_s),
            "cpu_us_per_record": round(result.cpu_us_per_record, 3),
            "loop_cpu_us_per_record": (
                round(result.loop_cpu_us_per_record, 3) if result.loop_cpu_us_per_record else None
            ),
            "process_seconds": round(result.process_seconds, 2),
            "peak_rss_mb": round(result.peak_rss_mb or 0),
        }
    )
