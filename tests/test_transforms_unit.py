"""The bridge's transforms without a broker: the schema-level ones through the codec's own
Transcoder (both backends), the per-record ones (metadata bytes, filters, routes) alone."""

from __future__ import annotations

from types import ModuleType
from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError

from avrobridge.bridge.transforms import (
    RecordTransforms,
    TransformSpec,
    apply_schema_transforms,
    regex_route,
    transform_types,
)

WRITER: dict[str, Any] = {
    "type": "record",
    "name": "Employee",
    "namespace": "hr",
    "fields": [
        {"name": "firstName", "type": "string"},
        {"name": "age", "type": "int"},
        {"name": "email", "type": ["null", "string"], "default": None},
        {"name": "salary", "type": "double"},
    ],
}
RECORD = {"firstName": "Ada", "age": 36, "email": "ada@example.com", "salary": 1.5}

_specs = TypeAdapter(list[TransformSpec])


def specs(*items: dict[str, Any]) -> list[Any]:
    return _specs.validate_python(list(items))


def through_plan(backend: ModuleType, transforms: list[Any], record: dict[str, Any]) -> Any:
    """The record as the sink reads it after the schema-level transforms."""
    pair = apply_schema_transforms(WRITER, WRITER, transforms)
    writer = backend.Schema(pair.writer)
    reader = backend.Schema(pair.plan_reader)
    data = backend.encode(backend.Schema(WRITER), record)
    return backend.decode(reader, backend.Transcoder(writer, reader).transcode(data))


def test_every_transform_type_is_listed() -> None:
    assert transform_types() == [
        "rename_fields",
        "drop_fields",
        "keep_fields",
        "insert_static",
        "mask_fields",
        "set_name",
        "insert_metadata",
        "filter",
        "route",
    ]


def test_rename_fields_keeps_the_old_name_as_alias(backend: ModuleType) -> None:
    out = through_plan(
        backend, specs({"type": "rename_fields", "renames": {"firstName": "first_name"}}), RECORD
    )
    assert out == {**{k: v for k, v in RECORD.items() if k != "firstName"}, "first_name": "Ada"}
    pair = apply_schema_transforms(
        WRITER, WRITER, specs({"type": "rename_fields", "renames": {"firstName": "first_name"}})
    )
    assert pair.sink["fields"][0] == {
        "name": "first_name",
        "type": "string",
        "aliases": ["firstName"],
    }
    assert pair.writer == WRITER  # the writer is never rewritten by a rename


def test_drop_and_keep_fields(backend: ModuleType) -> None:
    dropped = through_plan(
        backend, specs({"type": "drop_fields", "fields": ["email", "salary"]}), RECORD
    )
    assert dropped == {"firstName": "Ada", "age": 36}
    kept = through_plan(backend, specs({"type": "keep_fields", "fields": ["age"]}), RECORD)
    assert kept == {"age": 36}


def test_insert_static_replaces_a_writer_field_of_the_same_name(backend: ModuleType) -> None:
    out = through_plan(
        backend,
        specs(
            {"type": "insert_static", "field": "source", "value": "hr-db"},
            {"type": "insert_static", "field": "age", "value": 0},
        ),
        RECORD,
    )
    assert out["source"] == "hr-db"
    assert out["age"] == 0  # the writer's age is renamed out of the way, its bytes skipped
    pair = apply_schema_transforms(
        WRITER, WRITER, specs({"type": "insert_static", "field": "ok", "value": True})
    )
    assert pair.sink["fields"][-1] == {"name": "ok", "type": "boolean", "default": True}


def test_mask_fields_by_type(backend: ModuleType) -> None:
    out = through_plan(
        backend,
        specs({"type": "mask_fields", "fields": ["firstName", "salary", "email"]}),
        RECORD,
    )
    assert out == {"firstName": "****", "age": 36, "email": None, "salary": 0.0}


def test_set_name_keeps_the_old_full_name_as_alias(backend: ModuleType) -> None:
    transforms = specs({"type": "set_name", "name": "Person", "namespace": "people"})
    pair = apply_schema_transforms(WRITER, WRITER, transforms)
    assert (pair.sink["name"], pair.sink["namespace"]) == ("Person", "people")
    assert pair.sink["aliases"] == ["hr.Employee"]
    assert through_plan(backend, transforms, RECORD) == RECORD


def test_a_schema_transform_needs_a_record_target() -> None:
    with pytest.raises(Exception, match="rename_fields"):
        apply_schema_transforms(
            WRITER, "string", specs({"type": "rename_fields", "renames": {"a": "b"}})
        )


def test_metadata_fields_are_appended_bytes_the_sink_schema_reads(backend: ModuleType) -> None:
    transforms = specs(
        {
            "type": "insert_metadata",
            "topic_field": "topic",
            "partition_field": "partition",
            "offset_field": "offset",
            "timestamp_field": "ts",
        }
    )
    pair = apply_schema_transforms(WRITER, WRITER, transforms)
    assert [f["name"] for f in pair.sink["fields"]][-4:] == ["topic", "partition", "offset", "ts"]
    assert pair.plan_reader["fields"] == WRITER["fields"]
    record_transforms = RecordTransforms.from_specs(transforms)
    assert record_transforms.appends
    writer = backend.Schema(pair.writer)
    reader = backend.Schema(pair.plan_reader)
    body = backend.Transcoder(writer, reader).transcode(backend.encode(writer, RECORD))
    for topic, partition, offset, timestamp in [
        ("employees", 0, 0, 0),
        ("é-topic", 7, 2**40, -1),
        ("t", 2**31 - 1, 2**63 - 1, 1_700_000_000_000),
    ]:
        tail = record_transforms.metadata_bytes(topic, partition, offset, timestamp)
        out = backend.decode(backend.Schema(pair.sink), body + tail)
        ts = out.pop("ts")
        assert out == {**RECORD, "topic": topic, "partition": partition, "offset": offset}
        expected_ts = backend.decode(
            backend.Schema({"type": "long", "logicalType": "timestamp-millis"}),
            backend.encode(backend.Schema('"long"'), timestamp),
        )
        assert ts == expected_ts


def test_no_metadata_appends_nothing() -> None:
    transforms = RecordTransforms.from_specs(specs({"type": "drop_fields", "fields": []}))
    assert not transforms.appends
    assert transforms.metadata_bytes("t", 1, 2, 3) == b""


@pytest.mark.parametrize(
    ("spec", "topic", "value", "headers", "kept"),
    [
        ({"predicate": "is_tombstone"}, "t", None, [], False),
        ({"predicate": "is_tombstone"}, "t", b"x", [], True),
        ({"predicate": "is_tombstone", "negate": True}, "t", b"x", [], False),
        ({"predicate": "has_header", "header": "skip"}, "t", b"x", [("skip", b"")], False),
        ({"predicate": "has_header", "header": "skip"}, "t", b"x", [("other", b"")], True),
        ({"predicate": "topic_matches", "pattern": "test-.*"}, "test-1", b"x", [], False),
        ({"predicate": "topic_matches", "pattern": "test-.*"}, "prod-test-1", b"x", [], True),
    ],
)
def test_filters_drop_what_matches(
    spec: dict[str, Any], topic: str, value: bytes | None, headers: list[Any], kept: bool
) -> None:
    transforms = RecordTransforms.from_specs(specs({"type": "filter", **spec}))
    assert transforms.keep(topic, value, headers) is kept


def test_every_filter_must_keep_a_record() -> None:
    transforms = RecordTransforms.from_specs(
        specs(
            {"type": "filter", "predicate": "is_tombstone"},
            {"type": "filter", "predicate": "has_header", "header": "h"},
        )
    )
    assert transforms.keep("t", b"x", [])
    assert not transforms.keep("t", b"x", [("h", b"1")])
    assert not transforms.keep("t", None, [])


def test_routes_apply_in_order_as_connects_regex_router() -> None:
    transforms = RecordTransforms.from_specs(
        specs(
            {"type": "route", "regex": "(.*)-v1", "replacement": "$1-v2"},
            {"type": "route", "regex": "orders-(.*)", "replacement": "archive-\\1"},
        )
    )
    assert transforms.route("orders-v1") == "archive-v2"
    assert transforms.route("payments") == "payments"
    # the whole name must match; an empty tail is not matched twice
    assert regex_route("(.*)", "$1-copy", "t") == "t-copy"
    assert regex_route("a", "b", "ab") == "ab"


def test_bad_specs_are_refused() -> None:
    # A bad regex is a settings error naming the pattern, not a bare re.error.
    with pytest.raises(ValidationError, match="is not a regular expression"):
        specs({"type": "route", "regex": "(", "replacement": "x"})
    with pytest.raises(ValidationError, match="is not a regular expression"):
        specs({"type": "filter", "predicate": "topic_matches", "pattern": "["})
    with pytest.raises(ValidationError):
        specs({"type": "drop_fields", "fields": ["a"], "extra": 1})
    with pytest.raises(ValidationError):
        specs({"type": "no_such_transform"})
