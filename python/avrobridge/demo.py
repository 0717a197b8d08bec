"""``avrobridge demo``: the Schema Registry tutorial's scenario, bridged for real, with nothing
to install or start: an embedded Kafka (librdkafka's mock cluster, inside confluent-kafka) and
an in-process registry (memory store). Employee v2 records (Bob Jones, age 42, and a spread of
generated employees, some without phone numbers, plus two poison records) are produced to
`new-employees`; the real bridge (the classes `avrobridge run` uses) converts them to the v1
schema on `employees-v1`; the result is read back and checked."""

from __future__ import annotations

import logging
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from confluent_kafka import OFFSET_BEGINNING, Consumer, Producer, TopicPartition

from . import framing
from ._backend import Schema, decode, encode
from .data import schema_text
from .kafkalog import kafka_logger

SOURCE, SINK, DLQ = "new-employees", "employees-v1", "employees-dlq"
STATUSES = ["RETIRED", "SALARY", "HOURLY", "PART_TIME"]


def employees(n: int) -> list[dict[str, Any]]:
    """Bob Jones of the tutorial (age 42), then generated employees; every fifth has no phone."""
    bob = {
        "firstName": "Bob",
        "nickName": None,
        "lastName": "Jones",
        "age": 42,
        "emails": ["bob.jones@example.com"],
        "phoneNumber": {"areaCode": "301", "countryCode": "1", "prefix": "555", "number": "1234"},
        "status": "SALARY",
    }
    out = [bob]
    for i in range(1, n):
        phone = None
        if i % 5:
            phone = {"areaCode": "301", "countryCode": "1", "prefix": "555", "number": f"{i:04d}"}
        out.append(
            {
                "firstName": f"Employee{i}",
                "nickName": None if i % 3 else f"nick{i}",
                "lastName": f"Surname{i % 97}",
                "age": 20 + i % 45,
                "emails": [f"employee{i}@example.com"] if i % 2 else [],
                "phoneNumber": phone,
                "status": STATUSES[i % 4],
            }
        )
    return out


def _mock_cluster() -> tuple[Producer, str]:
    """A client owning librdkafka's mock cluster, and the cluster's bootstrap address."""
    holder = Producer(
        {
            "bootstrap.servers": "mock:1",
            "test.mock.num.brokers": 1,
            "logger": kafka_logger("avrobridge.demo.kafka"),
        }
    )
    brokers = holder.list_topics(timeout=10).brokers.values()
    return holder, ",".join(f"{b.host}:{b.port}" for b in brokers)


def _read(bootstrap: str, topic: str, expected: int, timeout: float = 30) -> list[Any]:
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"demo-reader-{uuid.uuid4()}",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
            "logger": kafka_logger("avrobridge.demo.kafka"),
        }
    )
    # Assign every partition directly: no consumer-group join to wait for.
    meta = consumer.list_topics(topic, timeout=10).topics[topic]
    consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in meta.partitions])
    out: list[Any] = []
    deadline = time.monotonic() + timeout
    try:
        while len(out) < expected and time.monotonic() < deadline:
            out.extend(m for m in consumer.consume(10_000, 0.5) if m.error() is None)
    finally:
        consumer.close()
    return out


def run_demo(records: int = 10_000) -> int:
    from confluent_kafka.schema_registry import Schema as RegistrySchema
    from confluent_kafka.schema_registry import SchemaRegistryClient

    from .bridge import Bridge, load_settings
    from .bridge.config import RegistrySettings
    from .bridge.schemas import client_config
    from .registry import BackgroundServer, ServerSettings

    logging.getLogger("avrobridge").setLevel(logging.WARNING)
    v1_text, v2_text = schema_text("employee_v1"), schema_text("employee_v2")
    v1, v2 = Schema(v1_text), Schema(v2_text)
    people = employees(max(records, 1))
    holder, bootstrap = _mock_cluster()
    print(f"embedded Kafka (librdkafka mock cluster) at {bootstrap}")
    with BackgroundServer(ServerSettings(port=0, log_level="warning")) as registry:
        print(f"embedded Schema Registry (memory store) at {registry.url}")
        client = SchemaRegistryClient(client_config(RegistrySettings(url=registry.url)))
        v2_id = client.register_schema(f"{SOURCE}-value", RegistrySchema(v2_text, "AVRO"))

        producer = Producer(
            {
                "bootstrap.servers": bootstrap,
                "enable.idempotence": True,
                "logger": kafka_logger("avrobridge.demo.kafka"),
            }
        )
        prefix = framing.prefix(v2_id)
        for i, person in enumerate(people):
            key = (i + 1).to_bytes(8, "big", signed=True)  # the tutorial's Long keys
            producer.produce(SOURCE, prefix + encode(v2, person), key, partition=i % 3)
            if i % 10_000 == 0:
                producer.poll(0)
        poison = [b"not avro at all", b"\x00\x00\x00\x27\x0f" + b"\x02"]  # unframed; unknown id
        for value in poison:
            producer.produce(SOURCE, value, b"poison", partition=0)
        producer.flush(30)
        print(f"produced {len(people):,} Employee v2 records and {len(poison)} poison records")
        print(f"  before: {decode(v2, encode(v2, people[0]))}")

        with tempfile.TemporaryDirectory() as tmp:
            target = Path(tmp) / "employee_v1.avsc"
            target.write_text(v1_text)
            settings = load_settings(
                None,
                kafka={"bootstrap_servers": bootstrap, "group_id": "avrobridge-demo"},
                registry={"url": registry.url},
                source={"topics": [SOURCE]},
                sink={"topic": SINK},
                value={"schema_file": target},
                errors={"tolerance": "all", "dead_letter_topic": DLQ},
                until_end=True,
            )
            started = time.perf_counter()
            summary = Bridge(settings).run()
            elapsed = time.perf_counter() - started

        out = _read(bootstrap, SINK, len(people))
        dead = _read(bootstrap, DLQ, len(poison))
        by_key = {int.from_bytes(m.key(), "big"): m.value() for m in out}
        bob = decode(v1, by_key[1][5:]) if 1 in by_key else None
        print(f"  after:  {bob}")
        missing = [
            i
            for i, person in enumerate(people)
            if i + 1 not in by_key
            or decode(v1, by_key[i + 1][5:]) != {k: v for k, v in person.items() if k != "age"}
        ]
        print(
            f"bridged {summary.records_out:,} records to {SINK} (schema v1: age gone), "
            f"{summary.dead_lettered} to the dead-letter topic {DLQ} ({len(dead)} read back), "
            f"in {elapsed:.2f} s: {summary.records_in / elapsed:,.0f} records/s end to end"
        )
        if missing or len(dead) != len(poison):
            print(f"FAILED: {len(missing)} records missing or wrong")
            return 1
        print("every record arrived and decodes with the v1 schema")
    del holder
    return 0
