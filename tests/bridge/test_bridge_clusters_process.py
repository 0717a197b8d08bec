"""The bridge between two clusters as a process killed with SIGKILL (exactly-once: progress
in the sink cluster's offsets topic; at-least-once: the source group's offsets), and a sink
registry that is down for 10 s during a copy."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

from confluent_kafka import Consumer, TopicPartition

import avrobridge as ab
from avrobridge.bridge import Bridge, load_settings
from avrobridge.kafkalog import kafka_logger
from avrobridge.registry import BackgroundServer, ServerSettings
from conftest import SOURCE_FIRST_ID, RegistryPair

from .clusters import decode_with_registry, produce_employees, register, v1_of
from .helpers import (
    employee,
    employee_versions,
    end_offsets,
    frame,
    produce,
    read_all,
    write_config,
)


def _run_killing(config: Path, log: Path, kills: int, seed: int) -> None:
    """Starts the bridge `kills` times, each killed with SIGKILL at a random point, then
    lets a last run finish (until_end)."""
    rng = random.Random(seed)
    for _ in range(kills):
        with log.open("ab") as out:
            proc = subprocess.Popen(
                [sys.executable, "-m", "avrobridge.cli", "run", "--config", str(config)],
                stdout=out,
                stderr=subprocess.STDOUT,
                env=dict(os.environ),
            )
        time.sleep(rng.uniform(2.0, 4.0))
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
    with log.open("ab") as out:
        final = subprocess.run(
            [sys.executable, "-m", "avrobridge.cli", "run", "--config", str(config)],
            stdout=out,
            stderr=subprocess.STDOUT,
            timeout=300,
        )
    assert final.returncode == 0, log.read_text()[-3000:]


def _config(
    tmp: Path, a: str, b: str, pair: RegistryPair, source: str, sink: str, **extra: Any
) -> Path:
    target = tmp / "v1.avsc"
    target.write_text(json.dumps(employee_versions()[0]))
    return write_config(
        tmp / f"{sink}.toml",
        {
            "until_end": True,
            "kafka": {"bootstrap_servers": a, "group_id": f"bridge-{source}"},
            "registry": {"url": pair.source.url},
            "source": {"topics": [source]},
            "sink": {
                "topic": sink,
                "kafka": {"bootstrap_servers": b},
                "registry": {"url": pair.target.url},
            },
            "value": {"schema_file": str(target)},
            **extra,
        },
    )


def _source_group_offsets(bootstrap: str, group: str, topic: str, partitions: int) -> list[int]:
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": group, "logger": kafka_logger("t")})
    try:
        found = c.committed([TopicPartition(topic, p) for p in range(partitions)], timeout=10)
        return [tp.offset for tp in found]
    finally:
        c.close()


def test_kill_9_five_times_exactly_once_across_clusters_and_at_least_once(
    kafka_bootstrap: str,
    kafka_bootstrap_b: str,
    new_topic: Any,
    new_topic_b: Any,
    registry_pair: RegistryPair,
    tmp_path: Path,
) -> None:
    n = 20_000
    source = new_topic("xk-src", partitions=3)
    sent = produce_employees(kafka_bootstrap, registry_pair.source.url, source, n, 3)
    sink_url = registry_pair.target.url

    # Exactly-once: records and progress in one transaction of cluster B.
    eos_sink = new_topic_b("xk-eos", partitions=3)
    offsets_topic = f"xk-offsets-{uuid.uuid4().hex[:8]}"
    config = _config(
        tmp_path,
        kafka_bootstrap,
        kafka_bootstrap_b,
        registry_pair,
        source,
        eos_sink,
        delivery={
            "guarantee": "exactly-once",
            "batch_size": 100,
            "commit_interval_ms": 200,
            "offsets_topic": offsets_topic,
        },
    )
    log = tmp_path / "eos.log"
    _run_killing(config, log, kills=5, seed=12)
    # Killed runs committed progress that later runs resumed from.
    assert f"progress read from the offsets topic {offsets_topic}: {source} [" in log.read_text()
    out = read_all(kafka_bootstrap_b, eos_sink, n)
    keys = Counter(m.key() for m in out)
    assert set(keys) == set(sent.record), f"{len(set(sent.record) - set(keys))} lost"
    assert max(keys.values()) == 1 and len(out) == n, "duplicated records"
    last: dict[int, bytes] = {}
    for m in sorted(out, key=lambda m: (m.partition(), m.offset())):
        sink_id, record = decode_with_registry(sink_url, m.value())
        assert sink_id < SOURCE_FIRST_ID and record == v1_of(sent, m.key())
        assert m.partition() == sent.partition[m.key()]
        assert sent.timestamp[m.key()] > sent.timestamp.get(last.get(m.partition(), b""), 0)
        last[m.partition()] = m.key()
    # The progress is in cluster B; the source group on cluster A committed nothing.
    assert sum(end_offsets(kafka_bootstrap_b, offsets_topic, 1)) > 0
    assert _source_group_offsets(kafka_bootstrap, f"bridge-{source}", source, 3) == [-1001] * 3

    # At-least-once: the source group's offsets, committed after cluster B acknowledged.
    alo_sink = new_topic_b("xk-alo", partitions=3)
    config = _config(
        tmp_path,
        kafka_bootstrap,
        kafka_bootstrap_b,
        registry_pair,
        source,
        alo_sink,
        kafka={"bootstrap_servers": kafka_bootstrap, "group_id": f"alo-{source}"},
        delivery={"batch_size": 300},
    )
    _run_killing(config, tmp_path / "alo.log", kills=2, seed=13)
    out = read_all(kafka_bootstrap_b, alo_sink, n)
    assert {m.key() for m in out} == set(sent.record)
    assert _source_group_offsets(kafka_bootstrap, f"alo-{source}", source, 3) == [
        sum(1 for i in range(n) if i % 3 == p) for p in range(3)
    ]


def test_sink_registry_down_for_10_s_during_a_copy_loses_nothing(
    kafka_bootstrap: str,
    kafka_bootstrap_b: str,
    new_topic: Any,
    new_topic_b: Any,
    registry: Any,
    tmp_path: Path,
) -> None:
    source = new_topic("xd-src", partitions=2)
    sink = new_topic_b("xd-sink", partitions=2)
    v1, v2, _ = employee_versions()
    id1 = register(registry.url, f"{source}-value", v1, "NONE")
    id2 = register(registry.url, f"{source}-value", v2)

    def batch(start: int, schema_id: int, schema: Any, version: int) -> list[Any]:
        s = ab.Schema(schema)
        return [
            (i % 2, b"%06d" % i, frame(schema_id, ab.encode(s, employee(i, version))), None)
            for i in range(start, start + 1000)
        ]

    produce(kafka_bootstrap, source, batch(0, id1, v1, 1))
    store = f"sqlite:///{tmp_path / 'sink-registry.db'}"
    first = BackgroundServer(ServerSettings(port=0, store=store, log_level="warning"))
    first.start()
    port, sink_url = first.port, first.url
    bridge = Bridge(
        load_settings(
            None,
            kafka={"bootstrap_servers": kafka_bootstrap, "group_id": f"bridge-{source}"},
            registry={"url": registry.url},
            source={"topics": [source]},
            sink={
                "topic": sink,
                "kafka": {"bootstrap_servers": kafka_bootstrap_b},
                "registry": {"url": sink_url},
            },
            value={"mode": "copy"},
            # Long-running (partitions assigned by the group): progress in cluster B.
            delivery={"guarantee": "exactly-once", "offsets_topic": f"{sink}-offsets"},
            errors={"retry_timeout_s": 50, "retry_backoff_max_ms": 1000},
        )
    )
    failure: list[BaseException] = []

    def run() -> None:
        try:
            bridge.run()
        except BaseException as exc:  # reported by the test
            failure.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    second = None
    try:
        assert len(read_all(kafka_bootstrap_b, sink, 1000, timeout=60)) == 1000
        first.stop()
        ends = end_offsets(kafka_bootstrap_b, sink, 2)
        produce(kafka_bootstrap, source, batch(1000, id2, v2, 2))  # a writer new to the sink
        time.sleep(10)
        assert thread.is_alive() and not failure, failure
        # Nothing was produced (not even uncommitted) with an id the sink registry did not give.
        assert end_offsets(kafka_bootstrap_b, sink, 2) == ends
        second = BackgroundServer(ServerSettings(port=port, store=store, log_level="warning"))
        second.start()
        read_all(kafka_bootstrap_b, sink, 2000, timeout=60)
    finally:
        bridge.stop()
        thread.join(60)
        if second is not None:
            out = read_all(kafka_bootstrap_b, sink, 2000)
            assert sorted(m.key() for m in out) == [b"%06d" % i for i in range(2000)]
            assert {decode_with_registry(sink_url, m.value())[0] for m in out} == {1, 2}
            second.stop()
    assert not failure, failure
    assert bridge.metrics.totals.retries > 0
