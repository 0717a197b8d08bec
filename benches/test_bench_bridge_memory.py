"""Memory over a long bounded run: `avrobridge run --until-end` as its own process over
5,000,000 Employee v2 records (20,000 in a smoke run), its resident set sampled from /proc
while it works. Memory must stay flat: what the bridge holds is one batch and the compiled
plans, never anything that grows with the number of records."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.schema_registry import Schema as RegistrySchema
from confluent_kafka.schema_registry import SchemaRegistryClient

import avrobridge as ab
from avrobridge import framing
from avrobridge.data import schema_text
from avrobridge.kafkalog import kafka_logger
from avrobridge.registry import BackgroundServer, ServerSettings

PARTITIONS = 6


def _employee(i: int) -> dict[str, Any]:
    return {
        "firstName": f"First{i}",
        "nickName": None if i % 3 else f"nick{i}",
        "lastName": f"Last{i}",
        "age": 30 + i % 40,
        "emails": [f"e{i}@example.com"],
        "phoneNumber": None if i % 5 == 0 else {
            "areaCode": "301", "countryCode": "1", "prefix": "555", "number": f"{i % 10000:04d}"
        },
        "status": "SALARY",
    }  # fmt: skip


def _fill(bootstrap: str, topic: str, framed_prefix: bytes, schema: ab.Schema, n: int) -> None:
    producer = Producer(
        {"bootstrap.servers": bootstrap, "logger": kafka_logger("benches.kafka"), "linger.ms": 20}
    )
    chunk = 10_000
    for start in range(0, n, chunk):
        bodies = ab.encode_many(schema, [_employee(i) for i in range(start, min(n, start + chunk))])
        for j, body in enumerate(bodies):
            i = start + j
            while True:
                try:
                    producer.produce(topic, framed_prefix + body, str(i).encode(), i % PARTITIONS)
                    break
                except BufferError:
                    producer.poll(0.1)
    assert producer.flush(120) == 0


def _sink_count(bootstrap: str, topic: str) -> int:
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "logger": kafka_logger("benches.kafka"),
            "group.id": "bench-memory-count",
        }
    )
    try:
        total = 0
        for p in range(PARTITIONS):
            low, high = consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)
            total += high - low
        return total
    finally:
        consumer.close()


def _rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def test_bridge_memory_is_flat_over_a_long_run(
    benchmark: Any, kafka_bootstrap: str, new_topic: Any, tmp_path: Path
) -> None:
    n = 20_000 if benchmark.disabled else 5_000_000
    benchmark.group = "bridge-memory"
    source = new_topic("bench-mem-src", partitions=PARTITIONS)
    sink = new_topic("bench-mem-sink", partitions=PARTITIONS)
    v1 = json.loads(schema_text("employee_v1"))
    v2 = json.loads(schema_text("employee_v2"))
    target = tmp_path / "v1.avsc"
    target.write_text(json.dumps(v1))
    with (
        BackgroundServer(ServerSettings(port=0, log_level="warning")) as registry,
        SchemaRegistryClient({"url": registry.url}) as client,
    ):
        v2_id = client.register_schema(f"{source}-value", RegistrySchema(json.dumps(v2), "AVRO"))
        _fill(kafka_bootstrap, source, framing.prefix(v2_id), ab.Schema(v2), n)
        cmd = [
            sys.executable, "-m", "avrobridge.cli", "run", "--from", source, "--to", sink,
            "--reader-schema", str(target), "--bootstrap-servers", kafka_bootstrap,
            "--registry-url", registry.url, "--group-id", f"bench-{source}", "--until-end",
        ]  # fmt: skip
        log = tmp_path / "bridge.log"
        samples: list[tuple[float, float]] = []
        timing: dict[str, float] = {}

        def run() -> None:
            with log.open("wb") as out:
                proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
                started = time.perf_counter()
                while proc.poll() is None:
                    rss = _rss_mb(proc.pid)
                    if rss is not None:
                        samples.append((time.perf_counter() - started, rss))
                    time.sleep(0.1)
                timing["elapsed"] = time.perf_counter() - started
            assert proc.returncode == 0, log.read_text()[-3000:]

        benchmark.pedantic(run, rounds=1, iterations=1)
    assert _sink_count(kafka_bootstrap, sink) == n
    elapsed = timing["elapsed"]  # benchmark.stats is None in a smoke run
    assert samples, "the bridge exited before its memory could be sampled"
    # Quartiles of the run: the second half may not hold more than the first half's peak plus
    # a small allowance (allocator slack), whatever the number of records.
    rss = [r for _, r in samples]
    half = len(rss) // 2
    first_peak, second_peak = max(rss[: half or 1]), max(rss[half:] or rss)
    quartiles = [round(rss[min(len(rss) - 1, len(rss) * q // 4)]) for q in range(1, 5)]
    benchmark.extra_info.update(
        {
            "records": n,
            "records_per_s": round(n / elapsed),
            "rss_mb_quartiles": quartiles,
            "rss_mb_peak": round(max(rss)),
        }
    )
    print(
        f"\n{n:,} records in {elapsed:.1f}s ({n / elapsed:,.0f}/s); RSS MB at 25/50/75/100% "
        f"of the run: {quartiles}, peak {max(rss):.0f}"
    )
    assert second_peak <= first_peak + 64, (first_peak, second_peak, quartiles)
