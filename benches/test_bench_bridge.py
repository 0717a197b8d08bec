"""End-to-end bridge throughput on the real broker, in one run, for the Employee v2 -> v1
bridge: (a) raw passthrough (the same loop, bytes unchanged), (b) avrobridge, (c) the same loop
with fastavro decode + encode: the modes of `avrobridge bench --kafka` (avrobridge.bench.kafka).
Also the process's peak memory."""

from __future__ import annotations

import json
import resource
import time
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient

import avrobridge as ab
from avrobridge.bench.kafka import bridge_mode
from avrobridge.bridge import Bridge, load_settings
from avrobridge.kafkalog import kafka_logger
from avrobridge.registry import BackgroundServer, ServerSettings
from kafka_harness.broker import create_topic

SEED = Path(__file__).resolve().parents[1] / "tests" / "data" / "seed"


def _employee(i: int) -> dict[str, Any]:
    return {
        "firstName": f"First{i}",
        "nickName": None,
        "lastName": f"Last{i}",
        "age": 30 + i % 40,
        "emails": [f"e{i}@example.com"],
        "phoneNumber": {"areaCode": "301", "countryCode": "1", "prefix": "555", "number": "1234"},
        "status": "SALARY",
    }


@pytest.fixture(scope="module")
def registry() -> Any:
    with BackgroundServer(ServerSettings(port=0, log_level="warning")) as srv:
        yield srv


def _fill(bootstrap: str, registry_url: str, source: str, n: int) -> None:
    from confluent_kafka.schema_registry import Schema as RS
    from confluent_kafka.schema_registry import SchemaRegistryClient

    v2 = json.loads((SEED / "employee_v2.avsc").read_text())
    with SchemaRegistryClient({"url": registry_url}) as sr:
        v2_id = sr.register_schema(f"{source}-value", RS(json.dumps(v2), "AVRO"))
    schema = ab.Schema(v2)
    p = Producer(
        {"bootstrap.servers": bootstrap, "logger": kafka_logger("benches.kafka"), "linger.ms": 20}
    )
    prefix = b"\x00" + v2_id.to_bytes(4, "big")
    for i in range(n):
        while True:
            try:
                p.produce(
                    source,
                    prefix + ab.encode(schema, _employee(i)),
                    str(i).encode(),
                    partition=i % 6,
                )
                break
            except BufferError:
                p.poll(0.1)
    assert p.flush(60) == 0


def _bridge(
    mode: str, bootstrap: str, registry_url: str, source: str, sink: str, tmp_path: Path
) -> Any:
    """Runs the bridge in `mode` over `source` until its end; returns (summary, seconds)."""
    v1 = json.loads((SEED / "employee_v1.avsc").read_text())
    v2 = json.loads((SEED / "employee_v2.avsc").read_text())
    target = tmp_path / "v1.avsc"
    target.write_text(json.dumps(v1))
    settings = load_settings(
        None,
        kafka={"bootstrap_servers": bootstrap, "group_id": f"bench-{source}"},
        registry={"url": registry_url},
        source={"topics": [source]},
        sink={"topic": sink},
        value={"schema_file": target},
        delivery={"batch_size": 10_000},
        until_end=True,
    )
    with bridge_mode(mode, v2, v1):
        started = time.perf_counter()
        summary = Bridge(settings).run()
        return summary, time.perf_counter() - started


@pytest.fixture(scope="module")
def warm_broker(kafka_bootstrap: str, registry: Any, tmp_path_factory: Any, request: Any) -> None:
    """One unmeasured passthrough run first: the broker's JVM compiles its hot paths during
    the first 100,000 records or so, which would otherwise count against whichever mode
    happens to run first."""
    n = 2_000 if request.config.getoption("benchmark_disable") else 150_000
    admin = AdminClient(
        {"bootstrap.servers": kafka_bootstrap, "logger": kafka_logger("benches.kafka")}
    )
    source = create_topic(admin, "bench-warmup-src", 6, None)
    sink = create_topic(admin, "bench-warmup-sink", 6, None)
    _fill(kafka_bootstrap, registry.url, source, n)
    summary, _ = _bridge(
        "passthrough", kafka_bootstrap, registry.url, source, sink, tmp_path_factory.mktemp("w")
    )
    assert summary.records_out == n


@pytest.mark.parametrize("mode", ["passthrough", "avrobridge", "fastavro"])
def test_bridge_throughput(
    benchmark: Any,
    mode: str,
    kafka_bootstrap: str,
    new_topic: Any,
    registry: Any,
    tmp_path: Path,
    warm_broker: None,
) -> None:
    n = 5_000 if benchmark.disabled else 200_000
    benchmark.group = "bridge-end-to-end"
    source = new_topic(f"bench-src-{mode}", partitions=6)
    sink = new_topic(f"bench-sink-{mode}", partitions=6)
    _fill(kafka_bootstrap, registry.url, source, n)
    result: dict[str, Any] = {}

    def run() -> None:
        result["summary"], result["elapsed"] = _bridge(
            mode, kafka_bootstrap, registry.url, source, sink, tmp_path
        )

    benchmark.pedantic(run, rounds=1, iterations=1)
    assert result["summary"].records_out == n
    rate = n / result["elapsed"]
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    benchmark.extra_info.update(
        {"records": n, "records_per_s": round(rate), "peak_rss_mb": round(peak_mb)}
    )
    print(
        f"\n{mode}: {n:,} records in {result['elapsed']:.2f}s = {rate:,.0f} records/s, "
        f"peak RSS {peak_mb:.0f} MB"
    )
