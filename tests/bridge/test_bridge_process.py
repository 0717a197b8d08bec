"""The bridge as a process: kill -9 at random points (exactly-once and at-least-once), two
instances sharing the work, SIGTERM, a registry that is down, a broker that is unreachable."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import ConsumerGroupState, KafkaException
from confluent_kafka.admin import AdminClient

import avrobridge as ab
from avrobridge.kafkalog import kafka_logger
from avrobridge.registry import BackgroundServer, ServerSettings

from .helpers import (
    as_v1,
    employee,
    employee_versions,
    frame,
    produce,
    read_all,
    register_versions,
    write_config,
)


def _bridge_cmd(config: Path) -> list[str]:
    return [sys.executable, "-m", "avrobridge.cli", "run", "--config", str(config)]


def _start(config: Path, log: Path, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        _bridge_cmd(config),
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        env={**os.environ, **(env or {})},
    )


def _employees(
    bootstrap: str,
    registry_url: str,
    topic: str,
    n: int,
    partitions: int,
    before_producing: Callable[[], None] | None = None,
) -> dict[bytes, Any]:
    versions = employee_versions()
    ids = register_versions(registry_url, f"{topic}-value", versions)
    schemas = [ab.Schema(v) for v in versions]
    records, expected = [], {}
    for i in range(n):
        v = i % 3
        rec = employee(i, v + 1)
        key = f"{i:07d}".encode()
        records.append((i % partitions, key, frame(ids[v], ab.encode(schemas[v], rec)), None))
        expected[key] = as_v1(rec)
    if before_producing is not None:
        before_producing()
    produce(bootstrap, topic, records)
    return expected


def _wait_for_members(bootstrap: str, group: str, members: int, timeout_s: float) -> None:
    """Until the consumer group is stable with `members` members, each holding partitions."""
    admin = AdminClient({"bootstrap.servers": bootstrap, "logger": kafka_logger("tests.kafka")})
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            group_info = admin.describe_consumer_groups([group])[group].result(10)
        except KafkaException:
            group_info = None
        if (
            group_info is not None
            and group_info.state == ConsumerGroupState.STABLE
            and len(group_info.members) == members
            and all(m.assignment.topic_partitions for m in group_info.members)
        ):
            return
        time.sleep(0.3)
    raise AssertionError(f"group {group} did not settle with {members} members in {timeout_s} s")


def _config(
    tmp: Path, bootstrap: str, registry_url: str, source: str, sink: str, **extra: Any
) -> Path:
    target = tmp / "v1.avsc"
    target.write_text(json.dumps(employee_versions()[0]))
    settings: dict[str, Any] = {
        "kafka": {"bootstrap_servers": bootstrap, "group_id": f"bridge-{source}"},
        "registry": {"url": registry_url},
        "source": {"topics": [source]},
        "sink": {"topic": sink},
        "value": {"schema_file": str(target)},
    }
    for k, v in extra.items():
        if isinstance(v, dict):
            settings.setdefault(k, {}).update(v)
        else:
            settings[k] = v
    return write_config(tmp / f"bridge-{len(list(tmp.glob('bridge-*.toml')))}.toml", settings)


def _check_sink(bootstrap: str, sink: str, expected: dict[bytes, Any], exactly_once: bool) -> None:
    out = read_all(bootstrap, sink, len(expected), timeout=180)
    keys = Counter(m.key() for m in out)
    missing = set(expected) - set(keys)
    assert not missing, f"{len(missing)} records missing"
    if exactly_once:
        dupes = [k for k, c in keys.items() if c > 1]
        assert not dupes, f"{len(dupes)} duplicated records, e.g. {dupes[:3]}"
        assert len(out) == len(expected)
    v1 = ab.Schema(employee_versions()[0])
    # Order within each partition follows the source order (keys were written in order).
    last: dict[int, bytes] = {}
    for m in sorted(out, key=lambda m: (m.partition(), m.offset())):
        assert ab.decode(v1, m.value()[5:]) == expected[m.key()]
        if exactly_once:
            assert m.key() > last.get(m.partition(), b"")
            last[m.partition()] = m.key()


def _kill_repeatedly(config: Path, log: Path, kills: int, seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(kills):
        proc = _start(config, log)
        time.sleep(rng.uniform(1.5, 4.0))
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
    final = _start(config, log)
    assert final.wait(300) == 0, log.read_text()[-3000:]


def test_kill_9_at_random_points_exactly_once(
    kafka_bootstrap: str, new_topic: Any, registry: Any, tmp_path: Path
) -> None:
    source = new_topic("eos-src", partitions=3)
    sink = new_topic("eos-sink", partitions=3)
    expected = _employees(kafka_bootstrap, registry.url, source, 60_000, 3)
    config = _config(
        tmp_path,
        kafka_bootstrap,
        registry.url,
        source,
        sink,
        until_end=True,
        delivery={"guarantee": "exactly-once", "batch_size": 300},
    )
    _kill_repeatedly(config, tmp_path / "bridge.log", kills=5, seed=1)
    _check_sink(kafka_bootstrap, sink, expected, exactly_once=True)


def test_kill_9_at_random_points_at_least_once(
    kafka_bootstrap: str, new_topic: Any, registry: Any, tmp_path: Path
) -> None:
    source = new_topic("alos-src", partitions=3)
    sink = new_topic("alos-sink", partitions=3)
    expected = _employees(kafka_bootstrap, registry.url, source, 60_000, 3)
    config = _config(
        tmp_path,
        kafka_bootstrap,
        registry.url,
        source,
        sink,
        until_end=True,
        delivery={"batch_size": 300},
    )
    _kill_repeatedly(config, tmp_path / "bridge.log", kills=5, seed=2)
    _check_sink(kafka_bootstrap, sink, expected, exactly_once=False)


def _wait_for(bootstrap: str, sink: str, n: int, timeout: float, partitions: int = 6) -> None:
    """Until the sink's end offsets add up to `n` (transaction markers count too, so the
    caller still checks the records themselves)."""
    from .helpers import end_offsets

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if sum(end_offsets(bootstrap, sink, partitions)) >= n:
            return
        time.sleep(1)


@pytest.mark.parametrize("guarantee", ["exactly-once", "at-least-once"])
def test_two_instances_share_the_work_and_one_stops_mid_run(
    kafka_bootstrap: str, new_topic: Any, registry: Any, tmp_path: Path, guarantee: str
) -> None:
    """The rebalance when one instance leaves commits (flush + offsets, or the open
    transaction) before the partitions move: nothing is lost, and with exactly-once nothing
    is duplicated."""
    source = new_topic("pair-src", partitions=6)
    sink = new_topic("pair-sink", partitions=6)
    config = _config(
        tmp_path,
        kafka_bootstrap,
        registry.url,
        source,
        sink,
        delivery={"guarantee": guarantee, "batch_size": 300},
    )
    log_a, log_b = tmp_path / "a.log", tmp_path / "b.log"
    a = _start(config, log_a, {"AVROBRIDGE_DELIVERY__TRANSACTIONAL_ID": "pair-a"})
    b = _start(config, log_b, {"AVROBRIDGE_DELIVERY__TRANSACTIONAL_ID": "pair-b"})
    try:
        # The records arrive once both instances hold partitions: otherwise the first to
        # join could bridge them all before the other one starts.
        expected = _employees(
            kafka_bootstrap,
            registry.url,
            source,
            60_000,
            6,
            lambda: _wait_for_members(kafka_bootstrap, f"bridge-{source}", 2, 60),
        )
        # Once b is bridging (its first batch converted), it leaves mid-run (gracefully).
        deadline = time.monotonic() + 60
        while "carry schema id" not in log_b.read_text() and time.monotonic() < deadline:
            assert b.poll() is None, log_b.read_text()[-3000:]
            time.sleep(0.2)
        time.sleep(1)
        b.send_signal(signal.SIGTERM)
        assert b.wait(60) == 0, log_b.read_text()[-3000:]
        _wait_for(kafka_bootstrap, sink, len(expected), 240)
    finally:
        a.send_signal(signal.SIGTERM)
        code = a.wait(60)
    assert code == 0, log_a.read_text()[-3000:]
    _check_sink(kafka_bootstrap, sink, expected, exactly_once=guarantee == "exactly-once")


def test_registry_down_at_start_and_during_a_run(
    kafka_bootstrap: str, new_topic: Any, tmp_path: Path
) -> None:
    store = f"sqlite:///{tmp_path / 'registry.db'}"
    first = BackgroundServer(ServerSettings(port=0, store=store, log_level="warning"))
    first.start()
    port = first.port
    url = first.url
    source = new_topic("regdown-src", partitions=2)
    sink = new_topic("regdown-sink", partitions=2)
    expected = _employees(kafka_bootstrap, url, source, 2_000, 2)
    first.stop()  # the registry is down when the bridge starts
    config = _config(
        tmp_path,
        kafka_bootstrap,
        url,
        source,
        sink,
        errors={"retry_timeout_s": 120, "retry_backoff_max_ms": 1000},
    )
    log = tmp_path / "bridge.log"
    bridge = _start(config, log)
    try:
        time.sleep(4)
        assert bridge.poll() is None, log.read_text()[-3000:]  # waiting, not failing
        second = BackgroundServer(ServerSettings(port=port, store=store, log_level="warning"))
        second.start()
        _wait_for(kafka_bootstrap, sink, len(expected), 120, partitions=2)
        # Down again while new records with a schema the bridge has not seen arrive.
        versions = employee_versions()
        extra = dict(versions[2])
        extra["fields"] = [*extra["fields"], {"name": "grade", "type": "int", "default": 0}]
        (new_id,) = register_versions(url, f"{source}-value", [extra])
        second.stop()
        schema = ab.Schema(extra)
        more = []
        for i in range(2_000, 2_500):
            rec = {**employee(i, 3), "grade": i}
            key = f"{i:07d}".encode()
            more.append((i % 2, key, frame(new_id, ab.encode(schema, rec)), None))
            expected[key] = {k: v for k, v in as_v1(rec).items() if k != "grade"}
        produce(kafka_bootstrap, source, more)
        time.sleep(4)
        assert bridge.poll() is None, log.read_text()[-3000:]
        third = BackgroundServer(ServerSettings(port=port, store=store, log_level="warning"))
        third.start()
        try:
            _wait_for(kafka_bootstrap, sink, len(expected), 120, partitions=2)
        finally:
            bridge.send_signal(signal.SIGTERM)
            assert bridge.wait(60) == 0, log.read_text()[-3000:]
            third.stop()
    finally:
        if bridge.poll() is None:
            bridge.kill()
    _check_sink(kafka_bootstrap, sink, expected, exactly_once=False)
    assert "retrying" in log.read_text()


def test_an_unreachable_broker_gives_a_clear_error_after_the_start_up_timeout(
    registry: Any, tmp_path: Path
) -> None:
    config = _config(
        tmp_path,
        "127.0.0.1:1",
        registry.url,
        "src",
        "sink",
        until_end=True,
        errors={"startup_timeout_s": 5},
    )
    started = time.monotonic()
    proc = subprocess.run(_bridge_cmd(config), capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1
    assert time.monotonic() - started < 90
    message = proc.stderr.splitlines()[-1]
    assert message.startswith("avrobridge run: start-up gave up after 5.")
    assert "the Kafka broker at 127.0.0.1:1 did not answer" in message
