"""The bridge's batch step (`convert_batch`) on both backends, with real
`confluent_kafka.Message` objects and no broker: framing in and out, keys, tombstones,
filters, metadata, failures, offsets and counts. The broker tests (tests/bridge) run the
same step inside the bridge."""

from __future__ import annotations

import io
import json
import uuid
from types import ModuleType
from typing import Any

import fastavro
import pytest
from confluent_kafka import KafkaError, Message

from avrobridge import framing
from avrobridge.errors import DecodeError, FramingError, RegistryError

WRITER = {
    "type": "record",
    "name": "User",
    "fields": [
        {"name": "name", "type": "string"},
        {"name": "age", "type": "int"},
        {"name": "email", "type": ["null", "string"], "default": None},
    ],
}
READER = {
    "type": "record",
    "name": "User",
    "fields": [
        {"name": "name", "type": "string"},
        {"name": "age", "type": "long"},
        {"name": "country", "type": "string", "default": "NL"},
    ],
}
KEY = {"type": "record", "name": "Key", "fields": [{"name": "id", "type": "long"}]}
GUID = "00010203-0405-0607-0809-0a0b0c0d0e0f"
SINK_PREFIX = b"\x00\x00\x00\x00\x63"  # sink schema id 99


def _encode(schema: Any, record: Any) -> bytes:
    out = io.BytesIO()
    fastavro.schemaless_writer(out, fastavro.parse_schema(schema), record)
    return out.getvalue()


def decode(schema: Any, data: bytes) -> Any:
    return fastavro.schemaless_reader(io.BytesIO(data), fastavro.parse_schema(schema))


def framed(schema_id: int, record: Any, schema: Any = WRITER) -> bytes:
    return framing.prefix(schema_id) + _encode(schema, record)


def msg(
    value: bytes | None,
    *,
    offset: int = 0,
    partition: int = 0,
    topic: str = "src",
    key: bytes | None = b"k",
    headers: list[tuple[str, bytes]] | None = None,
    timestamp: tuple[int, int] = (1, 1_700_000_000_000),
) -> Any:
    return Message(
        topic=topic,
        partition=partition,
        offset=offset,
        key=key,
        value=value,
        headers=headers,
        timestamp=timestamp,
    )


def user(i: int) -> dict[str, Any]:
    return {"name": f"u{i}", "age": i, "email": None if i % 2 else f"u{i}@x"}


def as_reader(i: int) -> dict[str, Any]:
    return {"name": f"u{i}", "age": i, "country": "NL"}


@pytest.fixture
def plans(backend: ModuleType) -> dict[Any, Any]:
    w = backend.Schema(json.dumps(WRITER))
    r = backend.Schema(json.dumps(READER))
    return {7: backend.Transcoder(w, r), GUID: backend.Transcoder(w, r)}


def topics(
    frame: bytes = SINK_PREFIX, key_frame: bytes | None = None, dropped: bool = False
) -> Any:
    return {"src": ("sink", frame, key_frame, dropped)}


def test_prefix_in_prefix_out_keeps_order_key_partition_timestamp_headers(
    backend: ModuleType, plans: dict[Any, Any]
) -> None:
    messages = [
        msg(
            framed(7, user(i)),
            offset=10 + i,
            partition=i % 2,
            headers=[("h", b"%d" % i)] if i == 1 else None,
        )
        for i in range(5)
    ]
    batch = backend.convert_batch(messages, backend.BatchSpec(), plans, None, topics())
    assert not batch.missing and batch.complete
    assert len(batch.produce) == 5 and batch.failures == [] and batch.events == []
    for i, args in enumerate(batch.produce):
        topic, value, key, partition, cb, on_delivery, ts, headers = args
        assert (topic, key, partition, cb, on_delivery, ts) == (
            "sink",
            b"k",
            i % 2,
            None,
            None,
            1_700_000_000_000,
        )
        assert value[:5] == SINK_PREFIX and decode(READER, value[5:]) == as_reader(i)
        assert headers == ([("h", b"1")] if i == 1 else None)
    assert sorted(batch.offsets) == [("src", 0, 15), ("src", 1, 14)]
    assert batch.records == 5 and batch.records_by_topic == {"src": 5}
    assert batch.out_by_topic == {"sink": 5} and batch.by_writer == {7: 5}


def test_unknown_writers_and_topics_come_back_missing(
    backend: ModuleType, plans: dict[Any, Any]
) -> None:
    messages = [msg(framed(8, user(1))), msg(framed(7, user(2)), topic="other")]
    batch = backend.convert_batch(messages, backend.BatchSpec(), plans, None, topics())
    assert batch.missing and not batch.complete
    assert batch.missing_value_refs == [8] and batch.missing_topics == ["other"]
    assert batch.produce == [] and batch.records == 0


def test_guid_frames_and_header_framing_out(backend: ModuleType, plans: dict[Any, Any]) -> None:
    guid = b"\x01" + uuid.UUID(GUID).bytes
    messages = [
        msg(guid + _encode(WRITER, user(1)), headers=[("keep", b"1")]),
        # the id in a header, the body bare
        msg(
            _encode(WRITER, user(2)),
            offset=1,
            headers=[("__value_schema_id", b"\x00\x00\x00\x00\x07")],
        ),
    ]
    spec = backend.BatchSpec(framing="header")
    batch = backend.convert_batch(messages, spec, plans, None, topics(frame=SINK_PREFIX))
    first, second = batch.produce
    assert decode(READER, first[1]) == as_reader(1)
    assert first[7] == [("keep", b"1"), ("__value_schema_id", SINK_PREFIX)]
    assert decode(READER, second[1]) == as_reader(2)
    assert second[7] == [("__value_schema_id", SINK_PREFIX)]
    assert batch.by_writer == {GUID: 1, 7: 1}


def test_keys_transcoded_with_their_own_plans(backend: ModuleType, plans: dict[Any, Any]) -> None:
    k = backend.Schema(json.dumps(KEY))
    key_plans = {3: backend.Transcoder(k, k)}
    key = b"\x00\x00\x00\x00\x03" + _encode(KEY, {"id": 5})
    messages = [msg(framed(7, user(1)), key=key), msg(None, key=None, offset=1)]
    spec = backend.BatchSpec(transcode_keys=True)
    batch = backend.convert_batch(
        messages, spec, plans, key_plans, topics(key_frame=b"\x00\x00\x00\x00\x04")
    )
    (first, second) = batch.produce
    assert first[2] == b"\x00\x00\x00\x00\x04" + _encode(KEY, {"id": 5})
    assert second[1] is None and second[2] is None  # a tombstone with no key passes
    assert batch.tombstones == 1


def test_failures_stop_the_batch_or_go_on(backend: ModuleType, plans: dict[Any, Any]) -> None:
    messages = [
        msg(framed(7, user(0)), offset=0),
        msg(b"\x05junk", offset=1),  # unknown magic byte
        msg(framed(7, user(2))[:-3], offset=2),  # truncated body
        msg(framed(7, user(3)), offset=3),
    ]
    stop = backend.convert_batch(messages, backend.BatchSpec(), plans, None, topics())
    assert not stop.complete and len(stop.produce) == 1 and stop.records == 1
    assert stop.offsets == [("src", 0, 1)]  # nothing past the failing record
    ((index, stage, exc),) = stop.failures
    assert (index, stage) == (1, "VALUE_CONVERTER") and isinstance(exc, FramingError)
    assert "unknown magic byte 5" in str(exc)
    go_on = backend.convert_batch(
        messages, backend.BatchSpec(stop_at_failure=False), plans, None, topics()
    )
    assert go_on.complete and len(go_on.produce) == 2 and go_on.records == 4
    assert [f[0] for f in go_on.failures] == [1, 2]
    truncated = go_on.failures[1][2]
    assert isinstance(truncated, DecodeError) and not isinstance(truncated, FramingError)
    assert truncated.offset is not None and truncated.offset >= 5  # counted in the payload
    assert go_on.offsets == [("src", 0, 4)]


def test_a_plan_that_failed_fails_its_records(backend: ModuleType, plans: dict[Any, Any]) -> None:
    plans = {**plans, 9: RegistryError("schema id 9: not found", 404, 40403)}
    batch = backend.convert_batch(
        [msg(framed(9, user(0)))], backend.BatchSpec(stop_at_failure=False), plans, None, topics()
    )
    ((index, stage, exc),) = batch.failures
    assert (index, stage) == (0, "VALUE_CONVERTER") and exc is plans[9]


def test_filters_metadata_and_events(backend: ModuleType, plans: dict[Any, Any]) -> None:
    eof = Message(topic="src", partition=0, offset=9, error=KafkaError(KafkaError._PARTITION_EOF))
    messages = [
        msg(framed(7, user(0)), offset=5, partition=2),
        msg(framed(7, user(1)), offset=6, headers=[("skip", b"")]),
        msg(None, offset=7),
        eof,
    ]
    spec = backend.BatchSpec(
        filters=[("has_header", "skip", False), ("is_tombstone", None, False)],
        metadata=(True, True, True, True),
    )
    batch = backend.convert_batch(messages, spec, plans, None, topics())
    assert batch.filtered == 2 and batch.records == 3 and len(batch.produce) == 1
    ((index, err),) = batch.events
    assert index == 3 and err.code() == KafkaError._PARTITION_EOF
    schema = {**READER, "fields": [
        *READER["fields"],
        {"name": "topic", "type": "string"}, {"name": "partition", "type": "int"},
        {"name": "offset", "type": "long"}, {"name": "ts", "type": "long"},
    ]}  # fmt: skip
    out = decode(schema, batch.produce[0][1][5:])
    assert (out["topic"], out["partition"], out["offset"], out["ts"]) == (
        "src",
        2,
        5,
        1_700_000_000_000,
    )
    dropped = backend.convert_batch(messages[:1], spec, plans, None, topics(dropped=True))
    assert dropped.filtered == 1 and dropped.produce == []


def test_both_backends_give_the_same_batch() -> None:
    import avrobridge._fallback as fb
    import avrobridge._native as nat

    def run(b: ModuleType) -> Any:
        w, r = b.Schema(json.dumps(WRITER)), b.Schema(json.dumps(READER))
        plans = {7: b.Transcoder(w, r)}
        messages = [msg(framed(7, user(i)), offset=i, partition=i % 3) for i in range(50)]
        messages += [msg(b"\x00\x00", offset=50), msg(None, offset=51)]
        batch = b.convert_batch(messages, b.BatchSpec(stop_at_failure=False), plans, None, topics())
        return (
            batch.produce,
            [(i, s, type(e).__name__, str(e)) for i, s, e in batch.failures],
            batch.offsets,
            batch.records,
            batch.tombstones,
            batch.by_writer,
        )

    assert run(nat) == run(fb)


def test_a_copy_plan_carries_its_own_sink_frame(backend: ModuleType) -> None:
    """A copy between registries: each writer id re-framed with its own sink id, the body
    byte for byte; keys too; header framing writes the plan's frame; a topic entry's fifth
    item says whether partition numbers are kept."""
    w = backend.Schema(json.dumps(WRITER))
    k = backend.Schema(json.dumps(KEY))
    value_plans = {7: (backend.Transcoder(w, w), b"\x00\x00\x00\x00\x02")}
    key_plans = {3: (backend.Transcoder(k, k), b"\x00\x00\x00\x00\x05")}
    key = b"\x00\x00\x00\x00\x03" + _encode(KEY, {"id": 5})
    messages = [msg(framed(7, user(i)), key=key, offset=i, partition=1) for i in range(3)]
    entry = {"src": ("sink", SINK_PREFIX, SINK_PREFIX, False, False)}
    spec = backend.BatchSpec(transcode_keys=True)
    batch = backend.convert_batch(messages, spec, value_plans, key_plans, entry)
    for i, args in enumerate(batch.produce):
        assert args[1] == b"\x00\x00\x00\x00\x02" + _encode(WRITER, user(i))
        assert args[2] == b"\x00\x00\x00\x00\x05" + _encode(KEY, {"id": 5})
        assert args[3] == -1  # partitioned by key in the sink
    header = backend.BatchSpec(framing="header")
    kept = {"src": ("sink", SINK_PREFIX, None, False, True)}
    (first, *_) = backend.convert_batch(messages, header, value_plans, None, kept).produce
    assert first[1] == _encode(WRITER, user(0)) and first[3] == 1
    assert first[7] == [("__value_schema_id", b"\x00\x00\x00\x00\x02")]
