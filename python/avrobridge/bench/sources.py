"""Where the benchmark's records come from: generated for a schema (the default), read from
an Avro container file (``--data``), or sampled from a Kafka topic of Confluent-framed
records (``--data-topic``, schemas from the registry)."""

from __future__ import annotations

import time
import uuid
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .._backend import ContainerReader, Schema, decode_many
from ..data import schema_text
from ..datagen import DataGenerator
from ..errors import AvroBridgeError

#: Seconds a topic sample waits for records before it settles for what it has.
SAMPLE_IDLE_S = 5.0


class SourceError(AvroBridgeError):
    """The records cannot be had (unreadable file, empty topic, ...)."""


@dataclass
class Records:
    """The records a benchmark runs on and their writer schema."""

    label: str  # where the schema came from, for the report
    writer_text: str
    values: list[Any]
    origin: str  # "generated", "read from FILE", "sampled from topic T"
    note: str | None = None


def read_schema_file(path: Path | None) -> tuple[str, str]:
    """(label, text) of a schema file, or of the built-in Employee schema."""
    if path is None:
        return "built-in Employee schema", schema_text("employee")
    try:
        return str(path), path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SourceError(f"cannot read schema file {path}: {exc}") from None


def generated(schema: Path | None, records: int, seed: int) -> Records:
    label, text = read_schema_file(schema)
    try:
        writer = Schema(text)
    except AvroBridgeError as exc:
        raise SourceError(f"{label}: {exc}") from None
    try:
        values = DataGenerator(writer, seed).generate_many(records)
    except ValueError as exc:  # a schema without finite values
        raise SourceError(f"{label}: {exc}") from None
    return Records(label, text, values, "generated")


def from_file(path: Path, records: int) -> Records:
    """The first ``records`` records of a container file (all of them if it has fewer)."""
    values: list[Any] = []
    try:
        with ContainerReader(path) as reader:
            text = reader.schema.text
            while len(values) < records and (block := reader.read_block()) is not None:
                values.extend(block)
    except (AvroBridgeError, OSError) as exc:
        raise SourceError(str(exc)) from None
    if not values:
        raise SourceError(f"{path} holds no records")
    return Records(f"{path} (header)", text, values[:records], f"read from {path}")


def from_topic(bootstrap: str, topic: str, sample: int, registry_url: str) -> Records:
    """Up to ``sample`` records from the start of ``topic``; those framed with the most
    common schema id are kept (the writer schema is fetched from the registry)."""
    from confluent_kafka import Consumer, KafkaException
    from confluent_kafka.schema_registry import SchemaRegistryClient

    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"avrobridge-bench-sample-{uuid.uuid4().hex[:8]}",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
            "enable.partition.eof": True,
            "log_level": 3,
        }
    )
    payloads: list[bytes] = []
    try:
        metadata = consumer.list_topics(topic, timeout=10)
        found = metadata.topics.get(topic)
        if found is None or found.error is not None or not found.partitions:
            raise SourceError(f"topic {topic!r} does not exist on {bootstrap}")
        consumer.subscribe([topic])
        open_partitions = set(found.partitions)
        idle_since = time.monotonic()
        while len(payloads) < sample and open_partitions:
            msg = consumer.poll(0.5)
            if msg is None:
                if time.monotonic() - idle_since > SAMPLE_IDLE_S:
                    break
                continue
            idle_since = time.monotonic()
            error = msg.error()
            if error is not None:
                if error.code() == -191:  # _PARTITION_EOF: that partition is read
                    open_partitions.discard(msg.partition())
                    continue
                raise SourceError(f"reading {topic}: {error}")
            value = msg.value()
            if value is not None:
                payloads.append(value)
    except KafkaException as exc:
        raise SourceError(f"cannot read {topic} at {bootstrap}: {exc}") from None
    finally:
        consumer.close()
    framed = [p for p in payloads if len(p) >= 5 and p[0] == 0]
    if not framed:
        raise SourceError(f"no Confluent-framed records in the first {len(payloads):,} of {topic}")
    ids = Counter(int.from_bytes(p[1:5], "big") for p in framed)
    schema_id, count = ids.most_common(1)[0]
    registered = SchemaRegistryClient({"url": registry_url}).get_schema(schema_id)
    if registered.references:
        raise SourceError(f"schema id {schema_id} uses references, which --data-topic cannot use")
    text = str(registered.schema_str)
    bodies = [p[5:] for p in framed if int.from_bytes(p[1:5], "big") == schema_id]
    try:
        values = decode_many(Schema(text, validate_defaults=False), bodies)
    except AvroBridgeError as exc:
        raise SourceError(f"records of {topic} with schema id {schema_id}: {exc}") from None
    dropped = len(payloads) - count
    note = (
        f"{dropped:,} of {len(payloads):,} sampled records left out (other schema ids, "
        "unframed or tombstones)"
        if dropped
        else None
    )
    return Records(
        f"registry {registry_url}, schema id {schema_id}",
        text,
        values,
        f"sampled from topic {topic}",
        note,
    )
