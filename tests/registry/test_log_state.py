"""The `_schemas` record format and the pure state machine that folds it."""

from __future__ import annotations

import json

import pytest

from avrobridge.registry.records import RecordKey, SchemaValue, encode_json, schema_value_json
from avrobridge.registry.state import RegistryState


def schema_value(subject: str, version: int, schema_id: int, deleted: bool = False) -> bytes:
    value = SchemaValue(subject, version, schema_id, '"string"', deleted=deleted)
    return encode_json(schema_value_json(value))


def fold(*records: tuple[bytes, bytes | None]) -> RegistryState:
    state = RegistryState()
    for offset, (key, value) in enumerate(records):
        state.apply(offset, key, value)
    return state


@pytest.mark.parametrize(
    ("key", "encoded"),
    [
        (RecordKey.schema("s", 3), b'{"keytype":"SCHEMA","subject":"s","version":3,"magic":1}'),
        (RecordKey.config("s"), b'{"keytype":"CONFIG","subject":"s","magic":0}'),
        (RecordKey.config(None), b'{"keytype":"CONFIG","subject":null,"magic":0}'),
        (RecordKey.mode(None), b'{"keytype":"MODE","subject":null,"magic":0}'),
        (RecordKey.mode("s"), b'{"keytype":"MODE","subject":"s","magic":0}'),
        (RecordKey.delete_subject("s"), b'{"keytype":"DELETE_SUBJECT","subject":"s","magic":0}'),
        (RecordKey.clear_subject("s"), b'{"keytype":"CLEAR_SUBJECT","subject":"s","magic":0}'),
        (RecordKey.noop(), b'{"keytype":"NOOP","magic":0}'),
        (
            RecordKey.schema('q"ü', 1),
            '{"keytype":"SCHEMA","subject":"q\\"ü","version":1,"magic":1}'.encode(),
        ),
    ],
)
def test_keys_are_byte_identical_to_confluent(key: RecordKey, encoded: bytes) -> None:
    assert key.encode() == encoded


def test_schema_value_leaves_out_avro_type_and_empty_references() -> None:
    assert json.loads(schema_value("s", 1, 7)) == {
        "subject": "s",
        "version": 1,
        "id": 7,
        "schema": '"string"',
        "deleted": False,
    }


def test_a_confluent_written_log_folds_into_the_expected_state() -> None:
    state = fold(
        (b'{"keytype":"NOOP","magic":0}', None),
        (b'{"keytype":"SCHEMA","subject":"a","version":1,"magic":1}', schema_value("a", 1, 1)),
        (b'{"keytype":"SCHEMA","subject":"a","version":2,"magic":1}', schema_value("a", 2, 5)),
        (b'{"keytype":"SCHEMA","subject":"b","version":1,"magic":1}', schema_value("b", 1, 1)),
        (b'{"keytype":"CONFIG","subject":null,"magic":0}', b'{"compatibilityLevel":"FULL"}'),
        (b'{"keytype":"CONFIG","subject":"a","magic":0}', b'{"compatibilityLevel":"NONE"}'),
        (b'{"keytype":"MODE","subject":"b","magic":0}', b'{"mode":"READONLY"}'),
        (b'{"keytype":"DELETE_SUBJECT","subject":"b","magic":0}', b'{"subject":"b","version":1}'),
        (b'{"keytype":"SCHEMA","subject":"a","version":2,"magic":1}', None),  # hard delete
    )
    assert state.subject_names() == ["a"]
    assert state.subject_names(deleted=True) == ["a", "b"]
    assert [v.version for v in state.versions("a", deleted=True)] == [1]
    assert state.by_id(5) is None
    assert state.max_id == 5  # ids are never reused
    assert state.level_in_scope("a") == "NONE" and state.level_in_scope("b") == "FULL"
    assert state.mode_in_scope("b") == "READONLY" and state.mode_in_scope("a") == "READWRITE"
    assert state.offset == 8


def test_karapace_key_order_is_read_too() -> None:
    state = fold(
        (b'{"subject":"a","version":1,"magic":1,"keytype":"SCHEMA"}', schema_value("a", 1, 1)),
        (b'{"subject":null,"magic":0,"keytype":"CONFIG"}', b'{"compatibilityLevel":"NONE"}'),
    )
    assert state.versions("a")[0].schema_id == 1
    assert state.level_in_scope(None) == "NONE"


def test_tombstones_for_settings_and_clear_subject() -> None:
    state = fold(
        (RecordKey.config("a").encode(), b'{"compatibilityLevel":"FORWARD"}'),
        (RecordKey.config("a").encode(), None),
        (RecordKey.mode(None).encode(), b'{"mode":"IMPORT"}'),
        (RecordKey.mode(None).encode(), None),
        (RecordKey.schema("a", 1).encode(), schema_value("a", 1, 1, deleted=True)),
        (RecordKey.schema("a", 2).encode(), schema_value("a", 2, 2)),
        (RecordKey.clear_subject(None).encode(), b'{"subject":null}'),
    )
    assert state.level("a") is None and state.mode(None) is None
    assert [v.version for v in state.versions("a", deleted=True)] == [2]
    assert state.by_id(1) is None and state.max_id == 2


@pytest.mark.parametrize(
    ("key", "value"),
    [
        (b"not json", b"{}"),
        (b"[]", None),
        (b'{"keytype":"WHAT"}', b"{}"),
        (b'{"keytype":"SCHEMA","subject":"a","magic":1}', b"{}"),
        (b'{"keytype":"SCHEMA","subject":"a","version":1,"magic":1}', b'{"id":"x"}'),
        (b'{"keytype":"SCHEMA","subject":"a","version":1,"magic":1}', b"garbage"),
        (b'{"keytype":"CONFIG","subject":5,"magic":0}', b"{}"),
        (b'{"keytype":"CONFIG","subject":"a","magic":0}', b'{"compatibilityLevel":"SIDEWAYS"}'),
        (b'{"keytype":"DELETE_SUBJECT","subject":"a","magic":0}', None),
    ],
)
def test_malformed_records_are_skipped(key: bytes, value: bytes | None) -> None:
    state = fold((key, value), (RecordKey.schema("ok", 1).encode(), schema_value("ok", 1, 1)))
    assert state.subject_names() == ["ok"]
    assert state.level("a") is None


def test_replay_is_deterministic() -> None:
    records = [
        (RecordKey.schema("a", 1).encode(), schema_value("a", 1, 1)),
        (RecordKey.schema("a", 2).encode(), schema_value("a", 2, 2)),
        (RecordKey.delete_subject("a").encode(), b'{"subject":"a","version":2}'),
        (RecordKey.schema("a", 3).encode(), schema_value("a", 3, 1)),
    ]
    one, two = fold(*records), fold(*records)
    assert one.subjects == two.subjects and one.identities == two.identities
    assert [(v.version, v.deleted) for v in one.versions("a", deleted=True)] == [
        (1, True),
        (2, True),
        (3, False),
    ]
