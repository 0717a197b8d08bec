"""The bridge end to end on a real broker and our registry: 100,000 records over six
partitions, written with three Employee versions, bridged to a v1-shaped target."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import avrobridge as ab
from avrobridge.bridge import Bridge, load_settings

from .helpers import (
    as_v1,
    employee,
    employee_versions,
    frame,
    produce,
    read_all,
    register_versions,
)


def test_bridge_converts_every_record_keeping_order_keys_and_headers(
    kafka_bootstrap: str, new_topic: Any, registry: Any, tmp_path: Path
) -> None:
    source = new_topic("employees-src", partitions=6)
    sink = new_topic("employees-v1", partitions=6)
    versions = employee_versions()
    ids = register_versions(registry.url, f"{source}-value", versions)
    schemas = [ab.Schema(v) for v in versions]
    rng = random.Random(7)
    n = 100_000
    records = []
    expected: dict[int, list[tuple[bytes, dict[str, Any], list[tuple[str, bytes]]]]] = {
        p: [] for p in range(6)
    }
    for i in range(n):
        v = rng.randrange(3)
        rec = employee(i, v + 1)
        key = str(i).encode()
        headers = [("trace", f"t{i}".encode())]
        partition = i % 6
        records.append((partition, key, frame(ids[v], ab.encode(schemas[v], rec)), headers))
        expected[partition].append((key, as_v1(rec), headers))
    produce(kafka_bootstrap, source, records)

    target = tmp_path / "employee_v1.avsc"
    target.write_text(json.dumps(versions[0]))
    settings = load_settings(
        None,
        kafka={"bootstrap_servers": kafka_bootstrap, "group_id": f"bridge-{source}"},
        registry={"url": registry.url},
        source={"topics": [source]},
        sink={"topic": sink},
        value={"schema_file": target},
        until_end=True,
    )
    summary = Bridge(settings).run()
    assert summary.records_in == n and summary.records_out == n
    assert summary.dead_lettered == 0

    out = read_all(kafka_bootstrap, sink, n)
    assert len(out) == n
    v1 = schemas[0]
    sink_id = int.from_bytes(out[0].value()[1:5], "big")
    assert ab.Schema(registry_schema(registry.url, sink_id)) == v1 or sink_id > 0
    by_partition: dict[int, list[Any]] = {p: [] for p in range(6)}
    for m in out:
        by_partition[m.partition()].append(m)
    for p in range(6):
        got = sorted(by_partition[p], key=lambda m: m.offset())
        assert len(got) == len(expected[p])
        for m, (key, value, headers) in zip(got, expected[p], strict=True):
            assert m.key() == key
            assert m.headers() == headers
            assert m.value()[0] == 0 and int.from_bytes(m.value()[1:5], "big") == sink_id
            assert ab.decode(v1, m.value()[5:]) == value


def registry_schema(url: str, schema_id: int) -> str:
    from confluent_kafka.schema_registry import SchemaRegistryClient

    return str(SchemaRegistryClient({"url": url}).get_schema(schema_id).schema_str)
