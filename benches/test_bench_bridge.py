"""End to end on the real broker: avrobridge against the loops a user would otherwise write
(bare confluent-kafka, fastavro, a JVM loop with Apache Avro), each its own process over the
same 1,000,000 Employee v2 records (5,000 in a smoke run) bridged to v1, after a warm-up of
the broker; every sink is read back and checked. Records/s and CPU per record of each
process, as ratios within the run (benches/bridge_e2e.py does the work). Also the end-to-end
latency of a running bridge at a steady 20,000 records/s."""

from __future__ import annotations

from typing import Any

import pytest

from bridge_e2e import ALL_LOOPS, LoopResult, compare, latency, table


@pytest.fixture(scope="module")
def runs(kafka_bootstrap: str, registry: Any, request: Any) -> dict[str, LoopResult]:
    smoke = request.config.getoption("benchmark_disable")
    n = 5_000 if smoke else 1_000_000
    results = compare(kafka_bootstrap, registry.url, n, ALL_LOOPS, warm=0 if smoke else 150_000)
    print("\n" + table(results))
    return {r.loop: r for r in results}


@pytest.mark.parametrize("loop", ALL_LOOPS)
def test_bridge_end_to_end(benchmark: Any, loop: str, runs: dict[str, LoopResult]) -> None:
    result = runs[loop]
    benchmark.group = "bridge-end-to-end"
    # The runs happened in the fixture (all loops over the same topic, one after the other);
    # this records each one's figures.
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


def test_bridge_latency_at_a_steady_rate(
    benchmark: Any, kafka_bootstrap: str, registry: Any
) -> None:
    benchmark.group = "bridge-latency"
    smoke = benchmark.disabled
    result: dict[str, Any] = {}

    def run() -> None:
        result.update(
            latency(kafka_bootstrap, registry.url, 2_000 if smoke else 20_000, 3 if smoke else 30)
        )

    benchmark.pedantic(run, rounds=1, iterations=1)
    assert result["received"] >= result["sent"], result
    benchmark.extra_info.update(result)
    print(
        f"\nlatency at {result['rate']:,}/s: p50 {result['p50_ms']} ms, p99 {result['p99_ms']} ms"
    )
