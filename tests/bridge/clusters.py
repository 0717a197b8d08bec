"""Helpers for the cross-cluster tests: Employee records with Avro keys, headers and
timestamps on cluster A (source registry ids from 1001), read back from cluster B and decoded
with the sink registry's schema for each record's id."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from confluent_kafka import Producer
from confluent_kafka.schema_registry import Schema as RegistrySchema
from confluent_kafka.schema_registry import SchemaRegistryClient

import avrobridge as ab
from avrobridge.kafkalog import kafka_logger

from .helpers import as_v1, employee, employee_versions, frame, register_versions

KEY_SCHEMA = {"type": "record", "name": "EmployeeKey", "fields": [{"name": "id", "type": "long"}]}


@dataclass
class Sent:
    """What was produced to the source, by key bytes."""

    value: dict[bytes, bytes] = field(default_factory=dict)
    record: dict[bytes, dict[str, Any]] = field(default_factory=dict)
    partition: dict[bytes, int] = field(default_factory=dict)
    timestamp: dict[bytes, int] = field(default_factory=dict)
    headers: dict[bytes, list[tuple[str, bytes]]] = field(default_factory=dict)
    ids: list[int] = field(default_factory=list)
    key_id: int = 0


def produce_employees(
    bootstrap: str, registry_url: str, topic: str, n: int, partitions: int
) -> Sent:
    """`n` records of the three Employee versions in turn, with Avro keys (`<topic>-key`),
    a header on every 10th record, and a timestamp of their own."""
    versions = employee_versions()
    sent = Sent(ids=register_versions(registry_url, f"{topic}-value", versions))
    (sent.key_id,) = register_versions(registry_url, f"{topic}-key", [KEY_SCHEMA])
    schemas = [ab.Schema(v) for v in versions]
    key_schema = ab.Schema(KEY_SCHEMA)
    bodies = [
        ab.encode_many(schemas[v], [employee(i, v + 1) for i in range(v, n, 3)]) for v in range(3)
    ]
    p = Producer(
        {"bootstrap.servers": bootstrap, "logger": kafka_logger("tests.kafka"), "linger.ms": 20}
    )
    failures: list[str] = []

    def report(err: Any, msg: Any) -> None:
        if err is not None:
            failures.append(str(err))

    # Recent timestamps: older ones than the retention would have the broker delete them.
    first_ts = int(time.time() * 1000) - n
    for i in range(n):
        v = i % 3
        key = frame(sent.key_id, ab.encode(key_schema, {"id": i}))
        value = frame(sent.ids[v], bodies[v][i // 3])
        headers = [("trace", f"t{i}".encode())] if i % 10 == 0 else []
        partition, ts = i % partitions, first_ts + i
        sent.value[key], sent.record[key] = value, employee(i, v + 1)
        sent.partition[key], sent.timestamp[key], sent.headers[key] = partition, ts, headers
        while True:
            try:
                p.produce(
                    topic,
                    value,
                    key,
                    partition=partition,
                    timestamp=ts,
                    headers=headers or None,
                    on_delivery=report,
                )
                break
            except BufferError:
                p.poll(0.1)
    assert p.flush(60) == 0
    assert not failures, failures[:3]
    return sent


def v1_of(sent: Sent, key: bytes) -> dict[str, Any]:
    return as_v1(sent.record[key])


@cache
def _schema(url: str, schema_id: int) -> ab.Schema:
    return ab.Schema(SchemaRegistryClient({"url": url}).get_schema(schema_id).schema_str)


def decode_with_registry(url: str, framed: bytes) -> tuple[int, Any]:
    """(schema id, record) of a Confluent-framed payload, its schema from the registry."""
    assert framed[0] == 0
    schema_id = int.from_bytes(framed[1:5], "big")
    return schema_id, ab.decode(_schema(url, schema_id), framed[5:])


def register(url: str, subject: str, schema: dict[str, Any], level: str | None = None) -> int:
    client = SchemaRegistryClient({"url": url})
    if level is not None:
        client.set_compatibility(subject, level)
    return int(client.register_schema(subject, RegistrySchema(json.dumps(schema), "AVRO")))
