"""Bad records go to the dead-letter topic with their original bytes and Kafka Connect's
context headers; good records all arrive. Tombstones, null keys, empty topics."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

import avrobridge as ab
from avrobridge.bridge import Bridge, BridgeError, load_settings

from .helpers import end_offsets, frame, produce, read_all, register_versions

WRITER = {
    "type": "record",
    "name": "Item",
    "namespace": "t",
    "fields": [
        {"name": "name", "type": "string"},
        {"name": "kind", "type": {"type": "enum", "name": "Kind", "symbols": ["A", "B", "C"]}},
        {"name": "choice", "type": ["null", "string", "int"], "default": None},
    ],
}
TARGET = {
    "type": "record",
    "name": "Item",
    "namespace": "t",
    "fields": [
        {"name": "name", "type": "string"},
        {"name": "kind", "type": {"type": "enum", "name": "Kind", "symbols": ["A", "B"]}},
        {"name": "choice", "type": ["null", "string"], "default": None},
    ],
}
UNRESOLVABLE = {  # same name, but `name` is an int: no record of it can be read as TARGET
    "type": "record",
    "name": "Item",
    "namespace": "t",
    "fields": [{"name": "name", "type": "int"}],
}


def _settings(
    bootstrap: str, registry: str, source: str, sink: str, dlq: str, target: Path, **extra: Any
) -> Any:
    return load_settings(
        None,
        kafka={"bootstrap_servers": bootstrap, "group_id": f"g-{source}"},
        registry={"url": registry},
        source={"topics": [source]},
        sink={"topic": sink},
        value={"schema_file": target, "allow_incompatible_versions": [1, 2]},
        errors={"tolerance": "all", "dead_letter_topic": dlq},
        until_end=True,
        **extra,
    )


def test_every_kind_of_poison_record_is_dead_lettered_and_good_ones_arrive(
    kafka_bootstrap: str, new_topic: Any, registry: Any, tmp_path: Path
) -> None:
    source = new_topic("poison-src", partitions=3)
    sink = new_topic("poison-sink", partitions=3)
    dlq = new_topic("poison-dlq", partitions=1)
    writer_id, bad_id = register_versions(registry.url, f"{source}-value", [WRITER, UNRESOLVABLE])
    w = ab.Schema(WRITER)
    good_body = ab.encode(w, {"name": "ok", "kind": "A", "choice": "x"})
    poison = {
        "not framed": b"hello world",
        "unknown magic byte": b"\x07" + b"\x00" * 8,
        "unknown schema id": frame(987654, good_body),
        "undecodable body": frame(writer_id, good_body[:3]),
        "unresolvable writer": frame(bad_id, ab.encode(ab.Schema(UNRESOLVABLE), {"name": 5})),
        "enum symbol": frame(writer_id, ab.encode(w, {"name": "e", "kind": "C", "choice": None})),
        "union branch": frame(writer_id, ab.encode(w, {"name": "u", "kind": "B", "choice": 7})),
    }
    records: list[Any] = []
    good = 0
    for i in range(300):
        if i % 40 == 7:
            kind = list(poison)[(i // 40) % len(poison)]
            records.append((i % 3, f"p{i}".encode(), poison[kind], [("kind", kind.encode())]))
        else:
            body = ab.encode(w, {"name": f"n{i}", "kind": "AB"[i % 2], "choice": None})
            records.append((i % 3, f"k{i}".encode(), frame(writer_id, body), None))
            good += 1
    # make sure every kind appears at least once
    for j, (kind, value) in enumerate(poison.items()):
        records.append((j % 3, f"extra{j}".encode(), value, [("kind", kind.encode())]))
    produce(kafka_bootstrap, source, records)
    n_poison = len(records) - good

    target = tmp_path / "target.avsc"
    target.write_text(json.dumps(TARGET))
    summary = Bridge(_settings(kafka_bootstrap, registry.url, source, sink, dlq, target)).run()
    assert summary.records_in == len(records)
    assert summary.dead_lettered == n_poison
    assert summary.records_out == good

    out = read_all(kafka_bootstrap, sink, good)
    assert len(out) == good
    t = ab.Schema(TARGET)
    for m in out:
        assert ab.decode(t, m.value()[5:])["kind"] in ("A", "B")

    dead = read_all(kafka_bootstrap, dlq, n_poison)
    assert len(dead) == n_poison
    originals = {key: value for _, key, value, _ in records}
    kinds_seen = set()
    for m in dead:
        assert m.value() == originals[m.key()]  # untouched
        headers = dict(m.headers())
        kinds_seen.add(headers["kind"].decode())
        assert headers["__connect.errors.topic"].decode() == source
        assert int(headers["__connect.errors.partition"]) in (0, 1, 2)
        assert int(headers["__connect.errors.offset"]) >= 0
        assert headers["__connect.errors.stage"] == b"VALUE_CONVERTER"
        assert headers["__connect.errors.exception.class.name"].startswith(b"avrobridge.")
        assert headers["__connect.errors.exception.message"]
    assert kinds_seen == set(poison)


def test_tolerance_none_stops_at_the_bad_record_and_commits_nothing_past_it(
    kafka_bootstrap: str, new_topic: Any, registry: Any, tmp_path: Path
) -> None:
    source = new_topic("strict-src", partitions=1)
    sink = new_topic("strict-sink", partitions=1)
    (writer_id,) = register_versions(registry.url, f"{source}-value", [WRITER])
    w = ab.Schema(WRITER)
    records: list[Any] = []
    for i in range(50):
        body = ab.encode(w, {"name": f"n{i}", "kind": "A", "choice": None})
        records.append((0, None, frame(writer_id, body) if i != 20 else b"garbage", None))
    produce(kafka_bootstrap, source, records)
    target = tmp_path / "target.avsc"
    target.write_text(json.dumps(TARGET))
    settings = load_settings(
        None,
        kafka={"bootstrap_servers": kafka_bootstrap, "group_id": f"g-{source}"},
        registry={"url": registry.url},
        source={"topics": [source]},
        sink={"topic": sink},
        value={"schema_file": target, "allow_incompatible_versions": [1]},
        until_end=True,
    )
    with pytest.raises(BridgeError, match="@ 20"):
        Bridge(settings).run()
    assert len(read_all(kafka_bootstrap, sink, 20, timeout=10)) == 20
    # A rerun starts again at the bad record, not after it.
    with pytest.raises(BridgeError, match="@ 20"):
        Bridge(settings).run()
    assert len(read_all(kafka_bootstrap, sink, 20, timeout=10)) == 20


def test_a_delivery_failure_stops_the_bridge_without_committing_past_an_unacked_record(
    kafka_bootstrap: str, new_topic: Any, registry: Any, tmp_path: Path
) -> None:
    """The sink refuses records above 4 KB; the source holds small records, then one of
    10 KB, then small ones again: the bridge stops with an error naming the sink, and the
    group's committed offset never passes a record the sink did not take."""
    from confluent_kafka import Consumer, TopicPartition

    source = new_topic("refused-src", partitions=2)
    sink = new_topic("refused-sink", partitions=2, config={"max.message.bytes": "4096"})
    (writer_id,) = register_versions(registry.url, f"{source}-value", [WRITER])
    w = ab.Schema(WRITER)
    records: list[Any] = []
    for i in range(400):
        # offset 100 of partition 1; random, so that compression cannot shrink it below 4 KB
        name = os.urandom(5_000).hex() if i == 201 else f"n{i}"
        body = ab.encode(w, {"name": name, "kind": "A", "choice": None})
        records.append((i % 2, str(i).encode(), frame(writer_id, body), None))
    produce(kafka_bootstrap, source, records)
    target = tmp_path / "target.avsc"
    target.write_text(json.dumps(TARGET))
    settings = load_settings(
        None,
        kafka={"bootstrap_servers": kafka_bootstrap, "group_id": f"g-{source}"},
        registry={"url": registry.url},
        source={"topics": [source]},
        sink={"topic": sink},
        value={"schema_file": target, "allow_incompatible_versions": [1]},
        delivery={"batch_size": 20, "commit_interval_ms": 50},
        until_end=True,
    )
    with pytest.raises(BridgeError, match=r"acknowledge|Message size too large|MSG_SIZE"):
        Bridge(settings).run()
    delivered = read_all(kafka_bootstrap, sink, sum(end_offsets(kafka_bootstrap, sink, 2)))
    in_sink = {p: sorted(int(m.key()) for m in delivered if m.partition() == p) for p in (0, 1)}
    consumer = Consumer({"bootstrap.servers": kafka_bootstrap, "group.id": f"g-{source}"})
    try:
        committed = consumer.committed([TopicPartition(source, p) for p in (0, 1)], timeout=10)
    finally:
        consumer.close()
    for tp in committed:
        # Source offset o of partition p holds record 2*o + p; the sink holds a prefix of them.
        acked = 0
        while 2 * acked + tp.partition in in_sink[tp.partition]:
            acked += 1
        assert tp.offset <= acked, (tp.partition, tp.offset, acked)
    assert committed[1].offset <= 100


def test_the_bridge_refuses_to_start_when_the_target_cannot_read_a_live_version(
    kafka_bootstrap: str, new_topic: Any, registry: Any, tmp_path: Path
) -> None:
    source = new_topic("refuse-src", partitions=1)
    register_versions(registry.url, f"{source}-value", [WRITER])
    target = tmp_path / "target.avsc"
    target.write_text(json.dumps(TARGET))
    settings = load_settings(
        None,
        kafka={"bootstrap_servers": kafka_bootstrap, "group_id": f"g-{source}"},
        registry={"url": registry.url},
        source={"topics": [source]},
        sink={"topic": "never-written"},
        value={"schema_file": target},
        until_end=True,
    )
    with pytest.raises(BridgeError) as caught:
        Bridge(settings).run()
    message = str(caught.value)
    assert "version 1" in message and "MISSING_ENUM_SYMBOLS" in message
    assert "MISSING_UNION_BRANCH" in message


def test_tombstones_null_keys_and_empty_topics(
    kafka_bootstrap: str, new_topic: Any, registry: Any, tmp_path: Path
) -> None:
    source = new_topic("tomb-src", partitions=2)
    sink = new_topic("tomb-sink", partitions=2)
    dlq = new_topic("tomb-dlq", partitions=1)
    (writer_id,) = register_versions(registry.url, f"{source}-value", [WRITER])
    w = ab.Schema(WRITER)
    records = [
        (0, b"a", frame(writer_id, ab.encode(w, {"name": "a", "kind": "A"})), None),
        (0, b"a", None, None),  # tombstone for key a
        (1, None, frame(writer_id, ab.encode(w, {"name": "nokey", "kind": "B"})), None),
        (1, None, None, None),  # tombstone without key
    ]
    produce(kafka_bootstrap, source, records)
    target = tmp_path / "target.avsc"
    target.write_text(json.dumps(TARGET))
    summary = Bridge(_settings(kafka_bootstrap, registry.url, source, sink, dlq, target)).run()
    assert summary.records_out == 4 and summary.tombstones == 2 and summary.dead_lettered == 0
    out = sorted(read_all(kafka_bootstrap, sink, 4), key=lambda m: (m.partition(), m.offset()))
    assert [(m.partition(), m.key(), m.value() is None) for m in out] == [
        (0, b"a", False),
        (0, b"a", True),
        (1, None, False),
        (1, None, True),
    ]

    empty = new_topic("empty-src", partitions=2)
    register_versions(registry.url, f"{empty}-value", [WRITER])
    summary = Bridge(_settings(kafka_bootstrap, registry.url, empty, sink, dlq, target)).run()
    assert summary.records_in == 0


def test_a_topic_of_only_dead_letter_material(
    kafka_bootstrap: str, new_topic: Any, registry: Any, tmp_path: Path
) -> None:
    source = new_topic("junk-src", partitions=1)
    sink = new_topic("junk-sink", partitions=1)
    dlq = new_topic("junk-dlq", partitions=1)
    register_versions(registry.url, f"{source}-value", [WRITER])
    produce(kafka_bootstrap, source, [(0, None, f"junk{i}".encode(), None) for i in range(25)])
    target = tmp_path / "target.avsc"
    target.write_text(json.dumps(TARGET))
    summary = Bridge(_settings(kafka_bootstrap, registry.url, source, sink, dlq, target)).run()
    assert summary.dead_lettered == 25 and summary.records_out == 0
    assert len(read_all(kafka_bootstrap, dlq, 25)) == 25
    assert read_all(kafka_bootstrap, sink, 0, timeout=3) == []
