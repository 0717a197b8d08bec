"""confluent-kafka's own SchemaRegistryClient against the registry, for every operation it
offers that a Confluent registry for Avro answers."""

from __future__ import annotations

from typing import Any, cast

import pytest
from confluent_kafka.schema_registry import (
    Schema,
    SchemaReference,
    SchemaRegistryClient,
    SchemaRegistryError,
)
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
from confluent_kafka.serialization import MessageField, SerializationContext

from avrobridge.registry import BackgroundServer

from .helpers import field, record

USER_V1 = record("User", field("name"), namespace="com.acme")
USER_V2 = record("User", field("name"), field("age", "int", default=0), namespace="com.acme")
USER_BAD = record("User", field("name"), field("email"), namespace="com.acme")


def avro(text: str, references: list[SchemaReference] | None = None) -> Schema:
    return Schema(text, "AVRO", references or [])


def level_of(config: Any) -> str:
    return str(config.compatibility_level.value)


def error_of(call: object) -> SchemaRegistryError:
    with pytest.raises(SchemaRegistryError) as info:
        call()  # type: ignore[operator]
    return info.value


def test_register_get_and_list(sr: SchemaRegistryClient) -> None:
    assert sr.register_schema("users-value", avro(USER_V1)) == 1
    full = sr.register_schema_full_response("users-value", avro(USER_V2))
    assert full.schema_id == 2
    assert sr.get_schema(1).schema_str == (
        '{"type":"record","name":"User","namespace":"com.acme",'
        '"fields":[{"name":"name","type":"string"}]}'
    )
    assert sr.get_schema_types() == ["AVRO"]
    assert sr.get_subjects() == ["users-value"]
    assert sr.get_versions("users-value") == [1, 2]
    latest = sr.get_latest_version("users-value")
    assert (latest.schema_id, latest.version, latest.subject) == (2, 2, "users-value")
    first = sr.get_version("users-value", 1)
    assert (first.schema_id, first.version) == (1, 1)
    assert sr.get_subjects_by_schema_id(2) == ["users-value"]
    pairs = sr.get_schema_versions(2)
    assert [(p.subject, p.version) for p in pairs] == [("users-value", 2)]
    found = sr.lookup_schema("users-value", avro(USER_V1))
    assert (found.schema_id, found.version) == (1, 1)


def test_same_schema_same_id_across_subjects(sr: SchemaRegistryClient) -> None:
    a = sr.register_schema("a-value", avro(USER_V1))
    b = sr.register_schema("b-value", avro(USER_V1))
    assert a == b == 1
    assert sorted(sr.get_subjects_by_schema_id(1)) == ["a-value", "b-value"]


def test_compatibility_calls(sr: SchemaRegistryClient) -> None:
    sr.register_schema("users-value", avro(USER_V1))
    assert sr.test_compatibility("users-value", avro(USER_V2)) is True
    assert sr.test_compatibility("users-value", avro(USER_BAD), version=1) is False
    assert sr.test_compatibility_all_versions("users-value", avro(USER_V2)) is True
    assert sr.test_compatibility_all_versions("users-value", avro(USER_BAD)) is False
    err = error_of(lambda: sr.register_schema("users-value", avro(USER_BAD)))
    assert (err.http_status_code, err.error_code) == (409, 409)


def test_compatibility_levels_global_and_subject(sr: SchemaRegistryClient) -> None:
    assert sr.get_compatibility() == "BACKWARD"
    # The client is typed to return str, but it returns Confluent's echo of the request.
    assert cast(Any, sr.set_compatibility(level="full")) == {"compatibility": "FULL"}
    assert sr.get_compatibility() == "FULL"
    sr.register_schema("users-value", avro(USER_V1))
    assert cast(Any, sr.set_compatibility("users-value", "NONE")) == {"compatibility": "NONE"}
    assert sr.get_compatibility("users-value") == "NONE"
    assert level_of(sr.get_config("users-value")) == "NONE"
    assert level_of(sr.get_config()) == "FULL"
    assert level_of(sr.delete_config("users-value")) == "NONE"
    err = error_of(lambda: sr.get_compatibility("users-value"))
    assert (err.http_status_code, err.error_code) == (404, 40408)
    assert level_of(sr.delete_config()) == "FULL"
    assert sr.get_compatibility() == "BACKWARD"
    err = error_of(lambda: sr.set_compatibility(level="SIDEWAYS"))
    assert (err.http_status_code, err.error_code) == (422, 42203)


def test_set_config_object(sr: SchemaRegistryClient) -> None:
    from confluent_kafka.schema_registry.common.schema_registry_client import (
        ConfigCompatibilityLevel,
        ServerConfig,
    )

    sr.set_config(config=ServerConfig(compatibility=ConfigCompatibilityLevel.FORWARD))
    assert sr.get_config().compatibility_level is ConfigCompatibilityLevel.FORWARD


def test_modes(sr: SchemaRegistryClient) -> None:
    assert sr.get_global_mode() == "READWRITE"
    assert sr.update_mode("users-value", "READONLY") == "READONLY"
    assert sr.get_mode("users-value") == "READONLY"
    err = error_of(lambda: sr.register_schema("users-value", avro(USER_V1)))
    assert (err.http_status_code, err.error_code) == (422, 42205)
    assert sr.delete_mode("users-value") == "READONLY"
    assert sr.register_schema("users-value", avro(USER_V1)) == 1
    # IMPORT needs an empty registry (or force).
    err = error_of(lambda: sr.update_global_mode("IMPORT"))
    assert (err.http_status_code, err.error_code) == (422, 42205)
    assert sr.update_global_mode("IMPORT", force=True) == "IMPORT"
    assert sr.get_global_mode() == "IMPORT"
    assert sr.update_global_mode("READWRITE") == "READWRITE"


def test_soft_and_permanent_deletes(sr: SchemaRegistryClient) -> None:
    sr.register_schema("users-value", avro(USER_V1))
    sr.register_schema("users-value", avro(USER_V2))
    assert sr.delete_version("users-value", 2) == 2
    assert sr.get_versions("users-value") == [1]
    assert sr.get_versions("users-value", deleted=True) == [1, 2]
    assert sr.get_versions("users-value", deleted_only=True) == [2]
    assert sr.get_version("users-value", 2, deleted=True).schema_id == 2
    assert sr.get_schema(2).schema_str  # ids keep serving soft-deleted schemas
    assert sr.delete_version("users-value", 2, permanent=True) == 2
    assert sr.get_versions("users-value", deleted=True) == [1]
    assert sr.delete_subject("users-value") == [1]
    assert sr.get_subjects() == []
    assert sr.get_subjects(deleted=True) == ["users-value"]
    assert sr.get_subjects(deleted_only=True) == ["users-value"]
    assert sr.get_subjects(subject_prefix="users") == []
    assert sr.delete_subject("users-value", permanent=True) == [1]
    assert sr.get_subjects(deleted=True) == []
    err = error_of(lambda: sr.get_versions("users-value"))
    assert (err.http_status_code, err.error_code) == (404, 40401)
    # Ids are never reused after a hard delete.
    fresh = SchemaRegistryClient({"url": cast(Any, sr).config()["url"]})
    assert fresh.register_schema("users-value", avro(USER_V2)) == 3


def test_references(sr: SchemaRegistryClient) -> None:
    address = record("Address", field("street"), namespace="com.acme")
    person = record(
        "Person", field("name"), field("home", "com.acme.Address"), namespace="com.acme"
    )
    assert sr.register_schema("address-value", avro(address)) == 1
    ref = SchemaReference("com.acme.Address", "address-value", 1)
    person_id = sr.register_schema("person-value", avro(person, [ref]))
    assert person_id == 2
    latest = sr.get_latest_version("person-value")
    assert [(r.name, r.subject, r.version) for r in latest.schema.references or []] == [
        ("com.acme.Address", "address-value", 1)
    ]
    assert sr.get_referenced_by("address-value", 1) == [2]
    err = error_of(lambda: sr.delete_version("address-value", 1))
    assert (err.http_status_code, err.error_code) == (422, 42206)


def test_unsupported_features_answer_cleanly(sr: SchemaRegistryClient) -> None:
    for call in (
        lambda: sr.get_schema_by_guid("00000000-0000-0000-0000-000000000000"),
        lambda: sr.get_latest_with_metadata("users-value", {"owner": "x"}),
        sr.get_contexts,
    ):
        err = error_of(call)
        assert err.http_status_code == 404


def test_serializer_and_deserializer_round_trip(server: BackgroundServer) -> None:
    client = SchemaRegistryClient({"url": server.url})
    serializer = AvroSerializer(client, USER_V2)
    ctx = SerializationContext("users", MessageField.VALUE)
    payload = serializer({"name": "Bob", "age": 35}, ctx)
    assert payload is not None and payload[0] == 0
    assert int.from_bytes(payload[1:5], "big") == 1
    deserializer = AvroDeserializer(SchemaRegistryClient({"url": server.url}))
    assert deserializer(payload, ctx) == {"name": "Bob", "age": 35}
