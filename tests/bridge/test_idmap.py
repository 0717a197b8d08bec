"""``bridge.idmap.IdTranslator`` between two of our registries (``registry_pair``: source ids
from 1001, sink ids from 1), through confluent-kafka's ``SchemaRegistryClient``."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient

from avrobridge.bridge.idmap import IdTranslator
from avrobridge.errors import RegistryError
from conftest import SOURCE_FIRST_ID, RegistryPair

ADDRESS = json.dumps(
    {
        "type": "record",
        "name": "Address",
        "namespace": "acme",
        "fields": [{"name": "street", "type": "string"}],
    }
)
CUSTOMER = json.dumps(
    {
        "type": "record",
        "name": "Customer",
        "namespace": "acme",
        "fields": [{"name": "home", "type": "acme.Address"}],
    }
)
ORDER = json.dumps({"type": "record", "name": "Order", "fields": [{"name": "id", "type": "long"}]})
ORDER_BAD = json.dumps(
    {"type": "record", "name": "Order", "fields": [{"name": "sku", "type": "string"}]}
)


class CountingClient(SchemaRegistryClient):
    """confluent-kafka's client, counting the calls the translator makes."""

    def __init__(self, conf: dict[str, Any]) -> None:
        super().__init__(conf)
        self.calls: Counter[str] = Counter()

    def get_schema(self, *args: Any, **kwargs: Any) -> Any:
        self.calls["get_schema"] += 1
        return super().get_schema(*args, **kwargs)

    def register_schema(self, *args: Any, **kwargs: Any) -> Any:
        self.calls["register_schema"] += 1
        return super().register_schema(*args, **kwargs)


@pytest.fixture
def clients(registry_pair: RegistryPair) -> Iterator[tuple[CountingClient, CountingClient]]:
    source = CountingClient({"url": registry_pair.source.url})
    sink = CountingClient({"url": registry_pair.target.url})
    yield source, sink
    source.close()
    sink.close()


def call(method: str, url: str, path: str, body: Any = None) -> Any:
    response = httpx.request(method, url + path, json=body, timeout=30)
    assert response.status_code < 400, response.text
    return response.json()


def test_translates_and_caches_both_ways(
    registry_pair: RegistryPair, clients: tuple[CountingClient, CountingClient]
) -> None:
    source, sink = clients
    source_id = source.register_schema("orders-value", Schema(ORDER, "AVRO"))
    assert source_id == SOURCE_FIRST_ID
    translator = IdTranslator(source, sink)
    sink_id = translator.translate(source_id, "orders-copy-value")
    assert sink_id == 1
    assert json.loads(sink.get_schema(sink_id).schema_str or "") == json.loads(ORDER)
    assert sink.get_latest_version("orders-copy-value").schema_id == sink_id
    assert translator.source_id(sink_id) == source_id
    assert translator.source_id(999) is None
    # Cached: asking again costs no call to either registry.
    before = (source.calls.copy(), sink.calls.copy())
    assert translator.translate(source_id, "orders-copy-value") == sink_id
    assert (source.calls, sink.calls) == before
    # Another sink subject: the same schema, the same sink id, a version there too.
    assert translator.translate(source_id, "other-value") == sink_id
    assert sink.get_versions("other-value") == [1]


def test_references_are_registered_under_their_subjects(
    registry_pair: RegistryPair, clients: tuple[CountingClient, CountingClient]
) -> None:
    source, sink = clients
    src = registry_pair.source.url
    # The source's address is version 2 (version 1 was deleted permanently): on the sink it
    # becomes version 1, and the customer's reference must say so.
    call("PUT", src, "/config/address", {"compatibility": "NONE"})
    call("POST", src, "/subjects/address/versions", {"schema": ORDER})
    call("POST", src, "/subjects/address/versions", {"schema": ADDRESS})
    call("DELETE", src, "/subjects/address/versions/1")
    call("DELETE", src, "/subjects/address/versions/1?permanent=true")
    ref = {"name": "acme.Address", "subject": "address", "version": 2}
    customer_id = call(
        "POST", src, "/subjects/customer/versions", {"schema": CUSTOMER, "references": [ref]}
    )["id"]
    sink_id = IdTranslator(source, sink).translate(customer_id, "customer-value")
    assert sink_id != customer_id
    registered = sink.get_version("customer-value", 1)
    assert registered.schema_id == sink_id
    assert registered.schema.schema_str == sink.get_schema(sink_id).schema_str
    assert [(r.name, r.subject, r.version) for r in registered.schema.references] == [
        ("acme.Address", "address", 1)
    ]
    assert json.loads(sink.get_version("address", 1).schema.schema_str or "") == json.loads(ADDRESS)


def test_refusals_carry_the_registry_error_code(
    registry_pair: RegistryPair, clients: tuple[CountingClient, CountingClient]
) -> None:
    source, sink = clients
    translator = IdTranslator(source, sink)
    # An id the source does not know.
    with pytest.raises(RegistryError) as unknown:
        translator.translate(4242, "orders-value")
    assert (unknown.value.status, unknown.value.error_code) == (404, 40403)
    assert "source registry" in str(unknown.value)
    # The sink's subject holds an incompatible schema.
    source_id = source.register_schema("orders-value", Schema(ORDER, "AVRO"))
    sink.register_schema("orders-value", Schema(ORDER_BAD, "AVRO"))
    with pytest.raises(RegistryError) as incompatible:
        translator.translate(source_id, "orders-value")
    assert incompatible.value.status == 409
    # The sink's subject is read-only.
    sink.update_mode("frozen-value", "READONLY")
    with pytest.raises(RegistryError) as readonly:
        translator.translate(source_id, "frozen-value")
    assert (readonly.value.status, readonly.value.error_code) == (422, 42205)
    assert "sink registry" in str(readonly.value)
    # Nothing refused was cached: once the sink allows it, the translation goes through.
    sink.delete_mode("frozen-value")
    assert translator.translate(source_id, "frozen-value") == 2


def test_an_unreachable_registry_is_a_registry_error(
    clients: tuple[CountingClient, CountingClient],
) -> None:
    source, _ = clients
    dead = SchemaRegistryClient({"url": "http://127.0.0.1:9", "max.retries": 0, "timeout": 2})
    with pytest.raises(RegistryError) as caught:
        IdTranslator(dead, source).translate(1, "s")
    assert caught.value.status is None
    assert "source registry unreachable" in str(caught.value)
