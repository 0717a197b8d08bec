"""Hostile input: decoding arbitrary or damaged bytes raises DecodeError and nothing else,
quickly and without allocating for counts the input cannot hold; encoding hostile Python
data raises EncodeError.

Every test runs on both backends (the ``backend`` fixture).
"""

from __future__ import annotations

import io
import json
import resource
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable
from types import ModuleType
from typing import Any

import fastavro
import pytest
from hypothesis import given, note, settings
from hypothesis import strategies as st

from avrobridge import DEFAULT_MAX_ZERO_BYTE_ITEMS
from avrobridge.errors import DecodeError, EncodeError
from avrobridge.wire import long_bytes
from strategies import JSON, Draw, assert_same, parse_model, schema_and_data, schemas, walk_nodes

#: Generous bound on one decode of a small input (the native codec needs microseconds).
DECODE_SECONDS = 1.0


def schema_of(backend: ModuleType, schema: JSON) -> Any:
    note(f"schema: {json.dumps(schema)}")
    return backend.Schema(json.dumps(schema))


def decode_or_error(backend: ModuleType, s: Any, data: bytes) -> tuple[Any, DecodeError | None]:
    """Decodes ``data``; any exception but DecodeError fails the test (it propagates)."""
    note(f"data: {data.hex()}")
    start = time.perf_counter()
    try:
        value = backend.decode(s, data)
        error = None
    except DecodeError as e:
        value, error = None, e
    elapsed = time.perf_counter() - start
    assert elapsed < DECODE_SECONDS, f"decoding {len(data)} bytes took {elapsed:.2f}s"
    if error is not None:
        assert isinstance(error.offset, int), error
        assert 0 <= error.offset <= len(data), (error.offset, len(data), str(error))
    return value, error


def has_decimal(schema: JSON) -> bool:
    return any(n.logical == "decimal" for n in walk_nodes(parse_model(schema).root))


def fastavro_decode(schema: JSON, data: bytes) -> Any:
    return fastavro.schemaless_reader(io.BytesIO(data), schema)


# --------------------------------------------------------------------------------------
# Random input
# --------------------------------------------------------------------------------------

#: Counts and lengths no small input can hold (2^31 and 2^32 also overflow 32-bit reads).
HUGE = [2**62, -(2**62), 2**63 - 1, -(2**63), 2**31, -(2**31) - 1, 2**32, 2**40]

#: Bytes built from varints, so that decoding gets past the first few reads: small values
#: (plausible lengths, counts and indexes), huge ones, and raw bytes.
varint_soup: st.SearchStrategy[bytes] = st.lists(
    st.one_of(
        st.integers(-3, 8).map(long_bytes),
        st.sampled_from(HUGE).map(long_bytes),
        st.binary(min_size=1, max_size=4),
        st.just(b"\xff" * 10 + b"\x01"),
    ),
    max_size=24,
).map(b"".join)


@settings(max_examples=300)
@given(schema=schemas(), data=st.one_of(st.binary(max_size=64), varint_soup))
def test_random_bytes_raise_only_decode_errors(
    backend: ModuleType, schema: JSON, data: bytes
) -> None:
    s = schema_of(backend, schema)
    value, error = decode_or_error(backend, s, data)
    if error is None and not has_decimal(schema):
        # What the codec accepts is valid Avro: fastavro reads the same value. (fastavro
        # rounds decimals to the declared precision where the bytes hold more digits.)
        assert_same(value, fastavro_decode(s.to_json(), data))


def _mutate(draw: Draw, data: bytes) -> tuple[str, bytes]:
    kinds = ["insert", "huge", "set"]
    if data:
        kinds += ["flip", "flip", "truncate", "delete"]
    kind = draw(st.sampled_from(kinds))
    at = draw(st.integers(0, max(len(data) - 1, 0)))
    if kind == "flip":
        bit = draw(st.integers(0, 7))
        return kind, data[:at] + bytes([data[at] ^ (1 << bit)]) + data[at + 1 :]
    if kind == "truncate":
        return kind, data[: draw(st.integers(0, len(data) - 1))]
    if kind == "delete":
        return kind, data[:at] + data[at + draw(st.integers(1, 4)) :]
    if kind == "insert":
        return kind, data[:at] + draw(st.binary(min_size=1, max_size=8)) + data[at:]
    if kind == "huge":
        varint = long_bytes(draw(st.sampled_from(HUGE)))
        replace = draw(st.integers(0, 2))
        return kind, data[:at] + varint + data[at + replace :]
    byte = draw(st.sampled_from([0x00, 0x01, 0x02, 0x7F, 0x80, 0xFE, 0xFF]))
    return kind, data[:at] + bytes([byte]) + data[at + 1 :]


@settings(max_examples=300)
@given(case=schema_and_data(n=1), data=st.data())
def test_damaged_encodings_raise_only_decode_errors(
    backend: ModuleType, case: tuple[JSON, list[Any]], data: st.DataObject
) -> None:
    schema, (value,) = case
    s = schema_of(backend, schema)
    original = backend.encode(s, value)
    kind, damaged = _mutate(data.draw, original)
    note(f"{kind}: {original.hex()} -> {damaged.hex()}")
    _, error = decode_or_error(backend, s, damaged)
    if kind == "truncate":
        # A valid encoding is never the prefix of another one: reading runs out of input.
        assert error is not None, "a truncated encoding decoded"
        assert error.offset is not None and error.offset <= len(damaged)


@settings(max_examples=150)
@given(case=schema_and_data(n=1), extra=st.binary(min_size=1, max_size=8))
def test_bytes_after_a_datum_are_refused_where_they_start(
    backend: ModuleType, case: tuple[JSON, list[Any]], extra: bytes
) -> None:
    schema, (value,) = case
    s = schema_of(backend, schema)
    original = backend.encode(s, value)
    _, error = decode_or_error(backend, s, original + extra)
    assert error is not None, "trailing bytes were accepted"
    assert error.offset == len(original)


# --------------------------------------------------------------------------------------
# Explicit hostile input
# --------------------------------------------------------------------------------------

RECORD_AB = {
    "type": "record",
    "name": "R",
    "fields": [
        {"name": "a", "type": "int"},
        {"name": "b", "type": {"type": "array", "items": "string"}},
    ],
}

#: (id, schema, data, offset of the failing read, data path or None).
BAD_INPUT: list[tuple[str, JSON, bytes, int, str | None]] = [
    ("empty input", "long", b"", 0, None),
    ("truncated varint", "long", b"\x80", 0, None),
    ("truncated float", "float", b"ab", 0, None),
    ("truncated double", "double", b"abcdefg", 0, None),
    ("truncated fixed", {"type": "fixed", "name": "F", "size": 4}, b"ab", 0, None),
    ("truncated record", RECORD_AB, b"\x02", 1, "/b"),
    ("varint of 11 bytes", "long", b"\xff" * 10 + b"\x01", 0, None),
    ("varint overflowing 64 bits", "long", b"\xff" * 9 + b"\x02", 0, None),
    ("int beyond 32 bits", "int", long_bytes(2**31), 0, None),
    ("int below 32 bits", "int", long_bytes(-(2**31) - 1), 0, None),
    ("boolean byte 2", "boolean", b"\x02", 0, None),
    ("negative length", "string", long_bytes(-1), 0, None),
    ("negative bytes length", "bytes", long_bytes(-5) + b"abcde", 0, None),
    ("length beyond the input", "string", long_bytes(5) + b"ab", 0, None),
    ("length 2^62", "bytes", long_bytes(2**62), 0, None),
    ("invalid UTF-8", "string", long_bytes(2) + b"\xff\xfe", 0, None),
    (
        "invalid UTF-8 in a map key",
        {"type": "map", "values": "int"},
        b"\x02\x02\xff\x00\x00",
        1,
        None,
    ),
    ("invalid UTF-8 deep inside", RECORD_AB, b"\x02\x04\x02a\x04\xff\xfe\x00", 4, "/b/1"),
    ("union index out of range", ["null", "int"], long_bytes(2), 0, None),
    ("negative union index", ["null", "int"], long_bytes(-1), 0, None),
    (
        "enum index out of range",
        {"type": "enum", "name": "E", "symbols": ["A"]},
        long_bytes(1),
        0,
        None,
    ),
    (
        "negative enum index",
        {"type": "enum", "name": "E", "symbols": ["A"]},
        long_bytes(-1),
        0,
        None,
    ),
    ("trailing bytes", "int", b"\x02\x00", 1, None),
    ("trailing bytes after a record", RECORD_AB, b"\x02\x00\x00", 2, None),
    ("array of null, count 2^62", {"type": "array", "items": "null"}, long_bytes(2**62), 0, None),
    ("array of int, count 2^62", {"type": "array", "items": "int"}, long_bytes(2**62), 0, None),
    ("map of int, count 2^62", {"type": "map", "values": "int"}, long_bytes(2**62), 0, None),
    ("map of null, count 2^62", {"type": "map", "values": "null"}, long_bytes(2**62), 0, None),
    (
        "array of int, count -2^62 with a byte size",
        {"type": "array", "items": "int"},
        long_bytes(-(2**62)) + long_bytes(0),
        0,
        None,
    ),
    (
        "array of int, second block 2^62",
        {"type": "array", "items": "int"},
        long_bytes(1) + long_bytes(7) + long_bytes(2**62),
        2,
        None,
    ),
    ("invalid uuid", {"type": "string", "logicalType": "uuid"}, long_bytes(3) + b"abc", 0, None),
    (
        "date beyond year 9999",
        {"type": "int", "logicalType": "date"},
        long_bytes(2**31 - 1),
        0,
        None,
    ),
    (
        "negative time of day",
        {"type": "int", "logicalType": "time-millis"},
        long_bytes(-1),
        0,
        None,
    ),
    (
        "time of day past 24:00",
        {"type": "long", "logicalType": "time-micros"},
        long_bytes(86_400_000_000),
        0,
        None,
    ),
    (
        "timestamp beyond year 9999",
        {"type": "long", "logicalType": "timestamp-millis"},
        long_bytes(2**62),
        0,
        None,
    ),
]


@pytest.mark.parametrize(
    ("schema", "data", "offset", "path"),
    [pytest.param(*case[1:], id=case[0]) for case in BAD_INPUT],
)
def test_bad_input_fails_at_the_offending_read(
    backend: ModuleType, schema: JSON, data: bytes, offset: int, path: str | None
) -> None:
    s = backend.Schema(json.dumps(schema))
    with pytest.raises(DecodeError) as info:
        backend.decode(s, data)
    assert info.value.offset == offset, str(info.value)
    assert info.value.path == path, str(info.value)
    assert f"byte {offset}" in str(info.value)


# --------------------------------------------------------------------------------------
# Huge counts: refused before anything is allocated
# --------------------------------------------------------------------------------------

EMPTY_RECORD = {"type": "record", "name": "Empty", "fields": []}

HUGE_COUNTS: list[tuple[str, JSON, bytes]] = [
    ("array of null", {"type": "array", "items": "null"}, long_bytes(2**62)),
    ("array of int", {"type": "array", "items": "int"}, long_bytes(2**62)),
    ("array of empty records", {"type": "array", "items": EMPTY_RECORD}, long_bytes(2**62)),
    (
        "array of fixed(0)",
        {"type": "array", "items": {"type": "fixed", "name": "Z", "size": 0}},
        long_bytes(2**62),
    ),
    ("map of int", {"type": "map", "values": "int"}, long_bytes(2**62)),
    ("map of null", {"type": "map", "values": "null"}, long_bytes(2**62)),
    ("negative count of null", {"type": "array", "items": "null"}, long_bytes(-(2**62)) + b"\x00"),
    ("count 2^63-1", {"type": "array", "items": "null"}, long_bytes(2**63 - 1)),
    ("count -2^63", {"type": "array", "items": "null"}, long_bytes(-(2**63)) + b"\x00"),
    (
        "nested arrays of null",
        {"type": "array", "items": {"type": "array", "items": "null"}},
        long_bytes(1) + long_bytes(2**62),
    ),
    (
        "many blocks of null",
        {"type": "array", "items": "null"},
        long_bytes(2**21) * 3 + long_bytes(2**62),
    ),
    ("bytes of length 2^62", "bytes", long_bytes(2**62)),
    ("string of length 2^62", "string", long_bytes(2**62)),
]


def _max_rss_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux gives KiB


@pytest.mark.parametrize(
    ("schema", "data"), [pytest.param(*case[1:], id=case[0]) for case in HUGE_COUNTS]
)
def test_huge_counts_fail_fast_in_bounded_memory(
    backend: ModuleType, schema: JSON, data: bytes
) -> None:
    s = backend.Schema(json.dumps(schema))
    rss_before = _max_rss_bytes()
    tracemalloc.start()
    try:
        start = time.perf_counter()
        with pytest.raises(DecodeError) as info:
            backend.decode(s, data)
        elapsed = time.perf_counter() - start
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    growth = _max_rss_bytes() - rss_before
    assert elapsed < DECODE_SECONDS, f"{elapsed:.2f}s"
    assert peak < 64 * 2**20, f"Python allocations peaked at {peak / 2**20:.0f} MiB"
    assert growth < 128 * 2**20, f"max RSS grew by {growth / 2**20:.0f} MiB"
    assert info.value.offset is not None and 0 <= info.value.offset < len(data)


# --------------------------------------------------------------------------------------
# Zero-byte items: one budget per call
# --------------------------------------------------------------------------------------

EMPTY_RECORDS = {"type": "array", "items": EMPTY_RECORD}

#: Runs in a fresh interpreter: decode_many of the items given as hex, with the backend
#: given; prints peak Python allocations and growth of the peak RSS, in bytes, as JSON.
_MEASURE = """
import json, resource, sys, tracemalloc, importlib
from avrobridge.errors import DecodeError
backend = importlib.import_module(sys.argv[1])
schema, items = json.loads(sys.argv[2]), [bytes.fromhex(h) for h in json.loads(sys.argv[3])]
backend.decode_many(json.dumps(schema), [b"\\x00"])  # warm up: plans, imports
rss = lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
before = rss()
tracemalloc.start()
try:
    values = backend.decode_many(json.dumps(schema), items)
    outcome = ["ok"] * len(values)
except DecodeError as e:
    outcome = [str(err) for _, err in e.errors]
    values = None
peak = tracemalloc.get_traced_memory()[1]
tracemalloc.stop()
print(json.dumps({"peak": peak, "rss_growth": rss() - before, "outcome": outcome}))
"""


def _measure_decode_many(backend: ModuleType, schema: JSON, items: list[bytes]) -> Any:
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            _MEASURE,
            backend.__name__,
            json.dumps(schema),
            json.dumps([i.hex() for i in items]),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(proc.stdout)


def test_forty_hostile_bytes_through_decode_many_stay_under_100_mb(backend: ModuleType) -> None:
    # Eight items of five bytes, each declaring 2^22 - 1 empty records: the old per-datum cap
    # let them build 2.3 GiB of dicts. Now the whole call reads at most the budget.
    hostile = [long_bytes(2**22 - 1) + b"\x00"] * 8
    assert len(b"".join(hostile)) == 40
    refused = _measure_decode_many(backend, EMPTY_RECORDS, hostile)
    assert len(refused["outcome"]) == 8
    assert all("max_zero_byte_items" in o for o in refused["outcome"]), refused["outcome"]
    # The most 40 bytes can build within the default budget: 8 x 32,768 empty records.
    within = [long_bytes(2**15) + b"\x00"] * 8
    assert len(b"".join(within)) <= 40
    assert DEFAULT_MAX_ZERO_BYTE_ITEMS == 8 * 2**15
    built = _measure_decode_many(backend, EMPTY_RECORDS, within)
    assert built["outcome"] == ["ok"] * 8
    for run in (refused, built):
        assert run["peak"] < 100 * 2**20, (
            f"Python allocations peaked at {run['peak'] / 2**20:.0f} MiB"
        )
        assert run["rss_growth"] < 100 * 2**20, f"RSS grew by {run['rss_growth'] / 2**20:.0f} MiB"


def test_the_zero_byte_item_budget_spans_a_batch_and_can_be_raised(backend: ModuleType) -> None:
    schema = json.dumps(EMPTY_RECORDS)
    items = [long_bytes(40_000) + b"\x00"] * 8  # 320,000 in all: the 7th and 8th go over
    assert backend.DEFAULT_MAX_ZERO_BYTE_ITEMS == 262_144
    with pytest.raises(DecodeError, match="max_zero_byte_items") as info:
        backend.decode_many(schema, items)
    assert [i for i, _ in info.value.errors] == [6, 7]
    assert info.value.index == 6 and info.value.offset == 0
    values = backend.decode_many(schema, items, max_zero_byte_items=320_000)
    assert [len(v) for v in values] == [40_000] * 8
    with pytest.raises(DecodeError, match="262144 items that take no bytes"):
        backend.decode(schema, long_bytes(300_000) + b"\x00")
    assert len(
        backend.decode(schema, long_bytes(300_000) + b"\x00", max_zero_byte_items=300_000)
    ) == (300_000)
    with pytest.raises(DecodeError, match="max_zero_byte_items"):
        backend.decode(schema, long_bytes(11) + b"\x00", max_zero_byte_items=10)
    with pytest.raises(OverflowError):
        backend.decode(schema, b"\x00", max_zero_byte_items=-1)
    # Decoding with a reader schema: resolving and building each get the budget.
    reader = json.dumps(
        {
            "type": "array",
            "items": {
                **EMPTY_RECORD,
                "fields": [{"name": "added", "type": "string", "default": "x"}],
            },
        }
    )
    with pytest.raises(DecodeError, match="max_zero_byte_items"):
        backend.decode_many(schema, items, reader=reader)
    assert backend.decode(schema, long_bytes(2) + b"\x00", reader=reader) == [{"added": "x"}] * 2


def test_the_transcoder_reads_one_budget_per_call(backend: ModuleType) -> None:
    reader = {
        "type": "array",
        "items": {
            **EMPTY_RECORD,
            "fields": [{"name": "added", "type": "string", "default": "a default"}],
        },
    }
    t = backend.Transcoder(json.dumps(EMPTY_RECORDS), json.dumps(reader))
    assert t.max_zero_byte_items == backend.DEFAULT_MAX_ZERO_BYTE_ITEMS
    items = [long_bytes(40_000) + b"\x00"] * 8
    outputs, errors = t.transcode_many(items)
    assert [i for i, _ in errors] == [6, 7] and outputs[6] is None
    assert all("max_zero_byte_items" in str(e) for _, e in errors)
    framed = [b"\x00\x00\x00\x00\x01" + i for i in items]
    outputs, errors = t.transcode_framed_many(framed, 2)
    assert [i for i, _ in errors] == [6, 7] and errors[0][1].offset == 5
    with pytest.raises(DecodeError, match="max_zero_byte_items"):
        t.transcode(long_bytes(2**22 - 1) + b"\x00")
    raised = backend.Transcoder(
        json.dumps(EMPTY_RECORDS), json.dumps(reader), max_zero_byte_items=320_000
    )
    outputs, errors = raised.transcode_many(items)
    assert errors == [] and raised.max_zero_byte_items == 320_000


# --------------------------------------------------------------------------------------
# Deep nesting
# --------------------------------------------------------------------------------------

TREE = {
    "type": "record",
    "name": "Tree",
    "fields": [{"name": "children", "type": {"type": "array", "items": "Tree"}}],
}
LINKED_LIST = {
    "type": "record",
    "name": "Node",
    "fields": [{"name": "value", "type": "int"}, {"name": "next", "type": ["null", "Node"]}],
}


def tree_bytes(depth: int) -> bytes:
    """A chain of ``depth`` Tree records, each the only child of the one before."""
    return b"\x02" * (depth - 1) + b"\x00" + b"\x00" * (depth - 1)


def tree_value(depth: int) -> dict[str, Any]:
    value: dict[str, Any] = {"children": []}
    for _ in range(depth - 1):
        value = {"children": [value]}
    return value


def list_bytes(depth: int) -> bytes:
    return b"\x00\x02" * (depth - 1) + b"\x00\x00"


def list_value(depth: int) -> dict[str, Any]:
    value: dict[str, Any] = {"value": 0, "next": None}
    for _ in range(depth - 1):
        value = {"value": 0, "next": value}
    return value


NESTED: list[tuple[str, JSON, Callable[[int], bytes], Callable[[int], Any]]] = [
    ("tree", TREE, tree_bytes, tree_value),
    ("linked list", LINKED_LIST, list_bytes, list_value),
]


@pytest.mark.parametrize(
    ("schema", "make_bytes", "make_value"), [pytest.param(*c[1:], id=c[0]) for c in NESTED]
)
def test_moderately_deep_data_round_trips(
    backend: ModuleType,
    schema: JSON,
    make_bytes: Callable[[int], bytes],
    make_value: Callable[[int], Any],
) -> None:
    s = backend.Schema(json.dumps(schema))
    data = make_bytes(100)
    assert backend.encode(s, make_value(100)) == data
    assert_same(backend.decode(s, data), make_value(100))


@pytest.mark.parametrize(
    ("schema", "make_bytes", "make_value"), [pytest.param(*c[1:], id=c[0]) for c in NESTED]
)
def test_absurdly_deep_data_is_refused_not_a_crash(
    backend: ModuleType,
    schema: JSON,
    make_bytes: Callable[[int], bytes],
    make_value: Callable[[int], Any],
) -> None:
    s = backend.Schema(json.dumps(schema))
    data = make_bytes(100_000)
    start = time.perf_counter()
    with pytest.raises(DecodeError):
        backend.decode(s, data)
    assert time.perf_counter() - start < 5 * DECODE_SECONDS
    with pytest.raises(EncodeError):
        backend.encode(s, make_value(100_000))


def test_a_reference_cycle_in_the_data_is_refused(backend: ModuleType) -> None:
    s = backend.Schema(json.dumps(TREE))
    node: dict[str, Any] = {"children": []}
    node["children"].append(node)
    with pytest.raises(EncodeError):
        backend.encode(s, node)
