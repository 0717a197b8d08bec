"""avrobridge.serde vs confluent-kafka's Avro serializer and deserializer, per record, against
the same registry (avrobridge's registry server, in-process). Groups are per operation and
workload, so the two implementations sit side by side; ratios come from the medians.

Every benchmark checks, before it is timed, that both implementations give the same result:
the same bytes when serializing, the same value when deserializing (with and without a reader
schema)."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer as ConfluentDeserializer
from confluent_kafka.schema_registry.avro import AvroSerializer as ConfluentSerializer
from confluent_kafka.serialization import MessageField, SerializationContext

from avrobridge.registry import BackgroundServer, ServerSettings
from avrobridge.serde import AvroDeserializer, AvroSerializer
from workloads import MIXED_30, employee, employee_schema, mixed

IMPLS = ["avrobridge", "confluent"]


def _evolve(schema: dict[str, Any], drop: str, promote: str) -> dict[str, Any]:
    """A reader schema: one field dropped, one int promoted to long, one field added."""
    reader = copy.deepcopy(schema)
    fields = [f for f in reader["fields"] if f["name"] != drop]
    for f in fields:
        if f["name"] == promote:
            f["type"] = "long"
    fields.append({"name": "added", "type": "string", "default": "n/a"})
    reader["fields"] = fields
    return reader


WORKLOADS: dict[str, tuple[dict[str, Any], Callable[[int], dict[str, Any]], dict[str, Any]]] = {
    "employee": (employee_schema(), employee, _evolve(employee_schema(), "nickName", "age")),
    "mixed30": (MIXED_30, mixed, _evolve(MIXED_30, "s2", "count")),
}


@pytest.fixture(scope="module")
def registry() -> Iterator[SchemaRegistryClient]:
    with (
        BackgroundServer(ServerSettings(port=0, log_level="warning")) as server,
        SchemaRegistryClient({"url": server.url}) as client,
    ):
        yield client


def _serializer(impl: str, client: SchemaRegistryClient, schema: dict[str, Any]) -> Any:
    cls = AvroSerializer if impl == "avrobridge" else ConfluentSerializer
    return cls(client, json.dumps(schema))


def _deserializer(impl: str, client: SchemaRegistryClient, reader: dict[str, Any] | None) -> Any:
    cls = AvroDeserializer if impl == "avrobridge" else ConfluentDeserializer
    return cls(client, json.dumps(reader) if reader is not None else None)


def _framed(client: SchemaRegistryClient, workload: str, ctx: SerializationContext) -> bytes:
    schema, make, _ = WORKLOADS[workload]
    return bytes(ConfluentSerializer(client, json.dumps(schema))(make(1), ctx) or b"")


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("workload", list(WORKLOADS))
def test_serialize(
    benchmark: Any, registry: SchemaRegistryClient, workload: str, impl: str
) -> None:
    benchmark.group = f"serialize:{workload}"
    schema, make, _ = WORKLOADS[workload]
    ctx = SerializationContext(f"bench-{workload}", MessageField.VALUE)
    serializer = _serializer(impl, registry, schema)
    reference = _serializer("confluent", registry, schema)
    for i in range(100):
        assert serializer(make(i), ctx) == reference(make(i), ctx)
    benchmark(serializer, make(1), ctx)


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("workload", list(WORKLOADS))
def test_deserialize(
    benchmark: Any, registry: SchemaRegistryClient, workload: str, impl: str
) -> None:
    benchmark.group = f"deserialize:{workload}"
    ctx = SerializationContext(f"bench-{workload}", MessageField.VALUE)
    data = _framed(registry, workload, ctx)
    deserializer = _deserializer(impl, registry, None)
    assert deserializer(data, ctx) == _deserializer("confluent", registry, None)(data, ctx)
    benchmark(deserializer, data, ctx)


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("workload", list(WORKLOADS))
def test_deserialize_with_reader(
    benchmark: Any, registry: SchemaRegistryClient, workload: str, impl: str
) -> None:
    benchmark.group = f"deserialize-reader:{workload}"
    _, _, reader = WORKLOADS[workload]
    ctx = SerializationContext(f"bench-{workload}", MessageField.VALUE)
    data = _framed(registry, workload, ctx)
    deserializer = _deserializer(impl, registry, reader)
    expected = _deserializer("confluent", registry, reader)(data, ctx)
    assert deserializer(data, ctx) == expected
    assert "added" in expected
    benchmark(deserializer, data, ctx)
