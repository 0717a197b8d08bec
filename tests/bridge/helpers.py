"""Helpers for bridge tests: the tutorial's Employee versions, producing framed records,
reading a topic back."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path
from typing import Any

from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.schema_registry import Schema as RegistrySchema
from confluent_kafka.schema_registry import SchemaRegistryClient

import avrobridge as ab
from avrobridge import framing
from avrobridge.data import schema_text
from avrobridge.kafkalog import kafka_logger


def employee_versions() -> list[dict[str, Any]]:
    """Three versions of the tutorial's Employee: v1 (no age), v2 (age, default -1), and a
    v3 that adds a department with a default."""
    v1 = json.loads(schema_text("employee_v1"))
    v2 = json.loads(schema_text("employee_v2"))
    v3 = json.loads(schema_text("employee_v2"))
    v3["fields"].append({"name": "department", "type": "string", "default": "none"})
    return [v1, v2, v3]


def employee(i: int, version: int) -> dict[str, Any]:
    rec: dict[str, Any] = {
        "firstName": f"First{i}",
        "nickName": None if i % 3 else f"n{i}",
        "lastName": f"Last{i % 101}",
        "emails": [f"e{i}@example.com"] if i % 2 else [],
        "phoneNumber": None
        if i % 5 == 0
        else {"areaCode": "301", "countryCode": "1", "prefix": "555", "number": f"{i % 10000:04d}"},
        "status": ["RETIRED", "SALARY", "HOURLY", "PART_TIME"][i % 4],
    }
    if version >= 2:
        rec["age"] = 20 + i % 50
    if version >= 3:
        rec["department"] = f"d{i % 7}"
    return rec


def as_v1(rec: dict[str, Any]) -> dict[str, Any]:
    """What reading `rec` with the v1 schema gives."""
    return {k: v for k, v in rec.items() if k not in ("age", "department")}


def register_versions(url: str, subject: str, schemas: list[dict[str, Any]]) -> list[int]:
    client = SchemaRegistryClient({"url": url})
    client.set_compatibility(subject, "NONE")
    return [client.register_schema(subject, RegistrySchema(json.dumps(s), "AVRO")) for s in schemas]


def frame(schema_id: int, body: bytes) -> bytes:
    return framing.prefix(schema_id) + body


def produce(
    bootstrap: str,
    topic: str,
    records: list[tuple[int, bytes | None, bytes | None, list[tuple[str, bytes]] | None]],
) -> None:
    """(partition, key, value, headers) tuples, in order."""
    p = Producer(
        {
            "bootstrap.servers": bootstrap,
            "logger": kafka_logger("tests.kafka"),
            "linger.ms": 20,
            "enable.idempotence": True,
        }
    )
    failures: list[str] = []

    def report(err: Any, msg: Any) -> None:
        if err is not None:
            failures.append(str(err))

    for partition, key, value, headers in records:
        while True:
            try:
                p.produce(
                    topic, value, key, partition=partition, headers=headers, on_delivery=report
                )
                break
            except BufferError:
                p.poll(0.1)
        p.poll(0)
    assert p.flush(60) == 0
    assert not failures, failures[:3]


def read_all(bootstrap: str, topic: str, expected: int, timeout: float = 120) -> list[Any]:
    """Every record of `topic` (read_committed), waiting until `expected` have arrived."""
    c = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "logger": kafka_logger("tests.kafka"),
            "group.id": f"reader-{uuid.uuid4()}",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
            "isolation.level": "read_committed",
        }
    )
    c.subscribe([topic])
    out: list[Any] = []
    deadline = time.monotonic() + timeout
    try:
        while len(out) < expected and time.monotonic() < deadline:
            for m in c.consume(10_000, 0.5):
                if m.error() is None:
                    out.append(m)
        # Anything beyond `expected` (duplicates) must show up too.
        extra_deadline = time.monotonic() + 2
        while time.monotonic() < extra_deadline:
            for m in c.consume(10_000, 0.2):
                if m.error() is None:
                    out.append(m)
    finally:
        c.close()
    return out


def end_offsets(bootstrap: str, topic: str, partitions: int) -> list[int]:
    c = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "logger": kafka_logger("tests.kafka"),
            "group.id": f"w-{uuid.uuid4()}",
        }
    )
    try:
        return [
            c.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1]
            for p in range(partitions)
        ]
    finally:
        c.close()


def decode_framed(schema: ab.Schema, value: bytes) -> Any:
    assert value[0] == 0
    return ab.decode(schema, value[5:])


def write_config(path: Path, settings: dict[str, Any]) -> Path:
    """A bridge TOML file from nested dicts (tables) and scalars."""
    lines: list[str] = []

    def value(v: Any) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, (int, float)):
            return str(v)
        if isinstance(v, list):
            return "[" + ", ".join(value(x) for x in v) + "]"
        return json.dumps(str(v))

    scalars = {k: v for k, v in settings.items() if not isinstance(v, dict)}
    for k, v in scalars.items():
        lines.append(f"{k} = {value(v)}")

    def table(prefix: str, d: dict[str, Any]) -> None:
        plain = {k: v for k, v in d.items() if not isinstance(v, dict)}
        lines.append(f"\n[{prefix}]")
        for k, v in plain.items():
            lines.append(f"{json.dumps(k)} = {value(v)}")
        for k, v in d.items():
            if isinstance(v, dict):
                table(f"{prefix}.{k}", v)

    for k, v in settings.items():
        if isinstance(v, dict):
            table(k, v)
    path.write_text("\n".join(lines) + "\n")
    return path
