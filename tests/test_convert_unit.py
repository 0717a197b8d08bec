"""The bridge's Converter (bridge/convert.py) without a broker, on both backends: real
`confluent_kafka.Message` objects and our registry over HTTP, in this process. The Converter
looks up writer schemas, builds and caches the plans, registers the sink schema, frames the
records and hands failures to the dead-letter path; `convert_batch` itself is pinned by
test_convert_batch.py, the whole bridge against a broker by tests/bridge."""

from __future__ import annotations

import io
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import fastavro
import pytest
from confluent_kafka import Message
from confluent_kafka.schema_registry import Schema as RegistrySchema
from confluent_kafka.schema_registry import SchemaRegistryClient

from avrobridge import framing
from avrobridge.bridge import convert, schemas
from avrobridge.bridge.config import load_settings
from avrobridge.bridge.convert import Converter
from avrobridge.bridge.deadletter import VALUE_CONVERTER, Failure
from avrobridge.bridge.schemas import SchemaNotFound, SchemaSource
from avrobridge.errors import (
    AvroBridgeError,
    DecodeError,
    FramingError,
    RegistryError,
    SchemaResolutionError,
)
from avrobridge.registry import BackgroundServer, ServerSettings
from bridge.helpers import as_v1, employee, employee_versions
from conftest import RegistryPair

V1, V2, V3 = employee_versions()


@pytest.fixture(scope="module")
def registry() -> Iterator[BackgroundServer]:
    with BackgroundServer(ServerSettings(port=0, log_level="warning")) as server:
        yield server


@pytest.fixture
def on_backend(backend: ModuleType, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """The Converter and the schema source build their schemas and plans with `backend`."""
    monkeypatch.setattr(convert, "impl", backend)
    monkeypatch.setattr(schemas, "Schema", backend.Schema)
    return backend


def unique(name: str) -> str:
    return f"{name}-{uuid.uuid4().hex[:8]}"


def register(url: str, subject: str, schema: Any) -> int:
    client = SchemaRegistryClient({"url": url})
    client.set_compatibility(subject, "NONE")
    return client.register_schema(subject, RegistrySchema(json.dumps(schema), "AVRO"))


def body(schema: Any, record: Any) -> bytes:
    out = io.BytesIO()
    fastavro.schemaless_writer(out, fastavro.parse_schema(schema), record)
    return out.getvalue()


def read(schema: Any, data: bytes) -> Any:
    return fastavro.schemaless_reader(io.BytesIO(data), fastavro.parse_schema(schema))


def msg(topic: str, value: bytes | None, offset: int, key: bytes | None = b"k") -> Any:
    return Message(topic=topic, partition=0, offset=offset, key=key, value=value)


def converter(
    url: str,
    tmp_path: Path,
    topics: list[str],
    target: Any = V1,
    **overrides: Any,
) -> Converter:
    """A Converter of `topics`, each to "<topic>-out", values transcoded to `target` (a
    schema file); `overrides` are merged into the settings' sections (or replace them)."""
    schema_file = tmp_path / "target.avsc"
    schema_file.write_text(json.dumps(target))
    settings: dict[str, Any] = {
        "registry": {"url": url},
        "source": {"topics": topics},
        "sink": {"mapping": {t: f"{t}-out" for t in topics}},
        "value": {"schema_file": schema_file},
        "errors": {"retry_timeout_s": 5},
    }
    for section, values in overrides.items():
        merge = isinstance(values, dict) and section in settings
        settings[section] = {**settings[section], **values} if merge else values
    loaded = load_settings(**settings)
    source = SchemaSource(loaded.registry, loaded.errors)
    sink = SchemaSource(loaded.sink_registry, loaded.errors) if loaded.two_registries else None
    return Converter(loaded, source, sink)


def sink_id(url: str, subject: str) -> int:
    return int(SchemaRegistryClient({"url": url}).get_latest_version(subject).schema_id)


def test_transcodes_registers_the_sink_schema_and_caches_the_plans(
    on_backend: ModuleType, registry: BackgroundServer, tmp_path: Path
) -> None:
    topic = unique("people")
    writer = register(registry.url, f"{topic}-value", V2)
    conv = converter(registry.url, tmp_path, [topic])
    messages = [msg(topic, framing.prefix(writer) + body(V2, employee(i, 2)), i) for i in range(4)]
    messages.append(msg(topic, None, 4))  # a tombstone passes as a tombstone
    batch = conv.convert(messages)
    assert batch.complete and batch.failures == [] and len(batch.produce) == 5
    frame = framing.prefix(sink_id(registry.url, f"{topic}-out-value"))
    for i, args in enumerate(batch.produce[:4]):
        assert args[0] == f"{topic}-out" and args[1][:5] == frame
        assert read(V1, args[1][5:]) == as_v1(employee(i, 2))
    assert batch.produce[4][1] is None and batch.tombstones == 1
    assert batch.records_by_topic == {topic: 5} and batch.out_by_topic == {f"{topic}-out": 5}
    assert batch.by_writer == {writer: 4}
    assert conv.plans_cached == 1 and conv.value_frame(f"{topic}-out") == frame
    (plan,) = conv.value.plans.values()
    assert type(plan).__module__.startswith(on_backend.__name__)
    again = conv.convert(messages[:1])
    assert again.produce[0][1] == batch.produce[0][1] and conv.plans_cached == 1


def test_counts_per_topic_and_per_writer(
    on_backend: ModuleType, registry: BackgroundServer, tmp_path: Path
) -> None:
    a, b = unique("a"), unique("b")
    ids = [register(registry.url, f"{a}-value", v) for v in (V1, V2, V3)]
    conv = converter(registry.url, tmp_path, [a, b])
    messages = [
        msg(a if i % 3 else b, framing.prefix(ids[i % 3]) + body(schema, employee(i, i % 3 + 1)), i)
        for i, schema in ((i, (V1, V2, V3)[i % 3]) for i in range(9))
    ]
    batch = conv.convert(messages)
    assert batch.complete and len(batch.produce) == 9
    assert batch.records_by_topic == {a: 6, b: 3}
    assert batch.out_by_topic == {f"{a}-out": 6, f"{b}-out": 3}
    assert batch.by_writer == dict.fromkeys(ids, 3)
    for i, args in enumerate(batch.produce):
        assert read(V1, args[1][5:]) == as_v1(employee(i, i % 3 + 1))
    assert conv.plans_cached == 3


def test_dead_letters_corrupt_frames_unknown_ids_truncated_bodies_and_unreadable_writers(
    on_backend: ModuleType, registry: BackgroundServer, tmp_path: Path
) -> None:
    topic = unique("mixed")
    writer = register(registry.url, f"{topic}-value", V2)
    unreadable = {"type": "record", "name": "Employee", "fields": [{"name": "x", "type": "int"}]}
    unreadable_id = register(registry.url, unique("other-value"), unreadable)
    good = framing.prefix(writer) + body(V2, employee(0, 2))
    messages = [
        msg(topic, good, 0),
        msg(topic, b"\x05junk", 1),  # not Confluent-framed
        msg(topic, framing.prefix(987_654) + body(V2, employee(2, 2)), 2),  # no such id
        msg(topic, good[:-4], 3),  # truncated body
        msg(topic, framing.prefix(unreadable_id) + body(unreadable, {"x": 1}), 4),
        msg(topic, good, 5),
    ]
    conv = converter(
        registry.url, tmp_path, [topic], errors={"tolerance": "all", "dead_letter_topic": "dlq"}
    )
    batch = conv.convert(messages)
    assert batch.complete and len(batch.produce) == 2 and batch.records == 6
    assert [(i, stage) for i, stage, _ in batch.failures] == [
        (i, VALUE_CONVERTER) for i in (1, 2, 3, 4)
    ]
    framing_error, unknown, truncated, unresolved = (exc for _, _, exc in batch.failures)
    assert isinstance(framing_error, FramingError) and "magic byte 5" in str(framing_error)
    assert isinstance(unknown, SchemaNotFound) and "987654" in str(unknown)
    assert Failure.from_exception(VALUE_CONVERTER, unknown).registry_error_code == 40403
    assert isinstance(truncated, DecodeError) and not isinstance(truncated, FramingError)
    assert isinstance(unresolved, SchemaResolutionError)
    # The failed plans are cached with their failures: no second registry lookup.
    assert conv.value.plans[987_654] is unknown and conv.plans_cached == 3
    assert conv.convert(messages[2:3]).failures[0][2] is unknown


def test_tolerance_none_stops_at_the_first_failure(
    on_backend: ModuleType, registry: BackgroundServer, tmp_path: Path
) -> None:
    topic = unique("strict")
    writer = register(registry.url, f"{topic}-value", V1)
    good = framing.prefix(writer) + body(V1, employee(0, 1))
    conv = converter(registry.url, tmp_path, [topic])
    batch = conv.convert([msg(topic, good, 0), msg(topic, b"\x00\x00", 1), msg(topic, good, 2)])
    assert not batch.complete and len(batch.produce) == 1
    assert batch.offsets == [(topic, 0, 1)]
    ((index, _, exc),) = batch.failures
    assert index == 1 and isinstance(exc, FramingError)


def test_schema_and_record_transforms(
    on_backend: ModuleType, registry: BackgroundServer, tmp_path: Path
) -> None:
    topic = unique("orders")
    writer = register(registry.url, f"{topic}-value", V2)
    transforms = [
        {"type": "rename_fields", "renames": {"firstName": "givenName"}},
        {"type": "drop_fields", "fields": ["emails"]},
        {"type": "insert_static", "field": "origin", "value": "unit"},
        {"type": "set_name", "name": "Person", "namespace": "com.example"},
        {"type": "insert_metadata", "topic_field": "src", "offset_field": "at"},
        {"type": "filter", "predicate": "has_header", "header": "skip"},
        {"type": "route", "regex": "(.*)-out", "replacement": "$1-routed"},
    ]
    conv = converter(registry.url, tmp_path, [topic], target=V2, transforms=transforms)
    skipped = Message(
        topic=topic,
        partition=0,
        offset=1,
        value=framing.prefix(writer) + body(V2, employee(1, 2)),
        headers=[("skip", b"")],
    )
    batch = conv.convert(
        [msg(topic, framing.prefix(writer) + body(V2, employee(0, 2)), 0), skipped]
    )
    assert batch.filtered == 1 and len(batch.produce) == 1
    ((sink_topic, value, *_),) = batch.produce
    assert sink_topic == f"{topic}-routed"
    registered = SchemaRegistryClient({"url": registry.url}).get_latest_version(
        f"{topic}-routed-value"
    )
    sink_schema = json.loads(str(registered.schema.schema_str))
    assert (sink_schema["name"], sink_schema["namespace"]) == ("Person", "com.example")
    assert value[:5] == framing.prefix(int(registered.schema_id))
    out = read(sink_schema, value[5:])
    expected = {k: v for k, v in employee(0, 2).items() if k not in ("firstName", "emails")}
    assert out == {
        **expected,
        "givenName": "First0",
        "origin": "unit",
        "src": topic,
        "at": 0,
    }


def test_subject_name_strategies(
    on_backend: ModuleType, registry: BackgroundServer, tmp_path: Path
) -> None:
    topic = unique("named")
    expected = {
        "topic": f"{topic}-out-value",
        "record": "com.cloudurable.phonebook.Employee",
        "topic_record": f"{topic}-out-com.cloudurable.phonebook.Employee",
    }
    for strategy, subject in expected.items():
        conv = converter(registry.url, tmp_path, [topic], value={"subject_name_strategy": strategy})
        assert conv.subject_for(conv.value, f"{topic}-out") == subject


def test_a_sink_registry_refusal_dead_letters_the_topic(
    on_backend: ModuleType, registry: BackgroundServer, tmp_path: Path
) -> None:
    """Under tolerance "all", the records of a topic whose sink schema the sink registry
    refuses (409: incompatible) go to the dead-letter path with the registry's error code;
    the other topics convert."""
    refused, fine = unique("refused"), unique("fine")
    writer = register(registry.url, f"{fine}-value", V1)
    client = SchemaRegistryClient({"url": registry.url})
    client.register_schema(f"{refused}-out-value", RegistrySchema('"string"', "AVRO"))
    client.set_compatibility(f"{refused}-out-value", "BACKWARD")
    conv = converter(
        registry.url,
        tmp_path,
        [refused, fine],
        errors={"tolerance": "all", "dead_letter_topic": "dlq"},
    )
    record = framing.prefix(writer) + body(V1, employee(0, 1))
    batch = conv.convert([msg(refused, record, 0), msg(fine, record, 0), msg(refused, record, 1)])
    assert [p[0] for p in batch.produce] == [f"{fine}-out"]
    assert [i for i, _, _ in batch.failures] == [0, 2] and conv.set_aside == 2
    exc = batch.failures[0][2]
    assert isinstance(exc, RegistryError) and exc.status == 409
    assert conv.refused.keys() == {refused}


def test_keys_transcoded_to_their_own_target(
    on_backend: ModuleType, registry: BackgroundServer, tmp_path: Path
) -> None:
    topic = unique("keyed")
    key_v1 = {"type": "record", "name": "Key", "fields": [{"name": "id", "type": "long"}]}
    key_v2 = {**key_v1, "fields": [*key_v1["fields"], {"name": "x", "type": "int", "default": 0}]}
    writer = register(registry.url, f"{topic}-value", V1)
    key_writer = register(registry.url, f"{topic}-key", key_v2)
    key_file = tmp_path / "key.avsc"
    key_file.write_text(json.dumps(key_v1))
    conv = converter(
        registry.url,
        tmp_path,
        [topic],
        key={"mode": "transcode", "target": {"schema_file": key_file}},
    )
    key = framing.prefix(key_writer) + body(key_v2, {"id": 7, "x": 1})
    batch = conv.convert([msg(topic, framing.prefix(writer) + body(V1, employee(0, 1)), 0, key)])
    ((_, _, out_key, *_),) = batch.produce
    assert out_key[:5] == framing.prefix(sink_id(registry.url, f"{topic}-out-key"))
    assert read(key_v1, out_key[5:]) == {"id": 7}


def test_a_copy_keeps_the_bodies_and_translates_the_ids(
    on_backend: ModuleType, registry_pair: RegistryPair, tmp_path: Path
) -> None:
    """value mode "copy" between two registries: each writer registered in the sink
    registry under the sink subject, the body byte for byte, the frame of the sink id."""
    source, sink = registry_pair.source.url, registry_pair.target.url
    topic = unique("copied")
    ids = [register(source, f"{topic}-value", v) for v in (V1, V2)]
    conv = converter(
        source,
        tmp_path,
        [topic],
        sink={"registry": {"url": sink}},
        value={"mode": "copy", "schema_file": None},
    )
    bodies = [body(V1, employee(0, 1)), body(V2, employee(1, 2))]
    batch = conv.convert(
        [
            msg(topic, framing.prefix(i) + b, n)
            for n, (i, b) in enumerate(zip(ids, bodies, strict=True))
        ]
    )
    sink_client = SchemaRegistryClient({"url": sink})
    versions = [sink_client.get_version(f"{topic}-out-value", n) for n in (1, 2)]
    sink_ids = [int(v.schema_id) for v in versions]
    assert sink_ids != ids  # the two registries number their schemas apart
    assert [p[1] for p in batch.produce] == [
        framing.prefix(s) + b for s, b in zip(sink_ids, bodies, strict=True)
    ]
    assert conv.translated == {("value", i): s for i, s in zip(ids, sink_ids, strict=True)}
    assert [conv.sink_id(conv.value, i) for i in ids] == sink_ids


def test_guid_frames_need_a_registry_that_assigns_guids(
    on_backend: ModuleType, registry: BackgroundServer, tmp_path: Path
) -> None:
    """Our registry gives no GUIDs: a record named by an unknown GUID is dead-lettered as
    not found, and sink framing "guid" is refused with the reason."""
    topic = unique("guids")
    writer = register(registry.url, f"{topic}-value", V1)
    guid = "00010203-0405-0607-0809-0a0b0c0d0e0f"
    conv = converter(
        registry.url, tmp_path, [topic], errors={"tolerance": "all", "dead_letter_topic": "d"}
    )
    record = framing.guid_prefix(guid) + body(V1, employee(0, 1))
    ((index, _, exc),) = conv.convert([msg(topic, record, 0)]).failures
    assert index == 0 and isinstance(exc, SchemaNotFound) and guid in str(exc)
    conv = converter(registry.url, tmp_path, [topic], sink={"framing": "guid"})
    with pytest.raises(AvroBridgeError, match="no GUID"):
        conv.convert([msg(topic, framing.prefix(writer) + body(V1, employee(0, 1)), 0)])
