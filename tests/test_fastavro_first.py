"""The fastavro backend reads with fastavro first (``_fallback/fastread.py``) and walks the
bytes only when something fails: every corrupt input that fastavro alone would accept must
still fail as on the native backend (class, offset, path), inside records, arrays, maps and
unions, and valid input must not be walked at all."""

from __future__ import annotations

import datetime
import importlib
import json
from types import ModuleType
from typing import Any

import pytest
from hypothesis import given, note, settings
from hypothesis import strategies as st

from avrobridge.errors import DecodeError, EncodeError
from strategies import schema_and_data

native: ModuleType = importlib.import_module("avrobridge._native")
fallback: ModuleType = importlib.import_module("avrobridge._fallback")
fastread: ModuleType = importlib.import_module("avrobridge._fallback.fastread")
wirecheck: ModuleType = importlib.import_module("avrobridge._fallback.wirecheck")
schema_model: ModuleType = importlib.import_module("avrobridge.schema")
wire: ModuleType = importlib.import_module("avrobridge.wire")

RECORD = json.dumps(
    {
        "type": "record",
        "name": "R",
        "fields": [
            {"name": "flag", "type": "boolean"},
            {"name": "n", "type": "int"},
            {"name": "big", "type": "long"},
            {"name": "kind", "type": {"type": "enum", "name": "K", "symbols": ["A", "B", "C"]}},
            {"name": "maybe", "type": ["null", "int", "string"]},
            {"name": "at", "type": {"type": "int", "logicalType": "time-millis"}},
            {"name": "us", "type": {"type": "long", "logicalType": "time-micros"}},
            {"name": "flags", "type": {"type": "array", "items": "boolean"}},
            {"name": "counts", "type": {"type": "map", "values": "int"}},
        ],
    }
)


def _zz(v: int) -> bytes:
    """The zig-zag varint of ``v``."""
    out = bytearray()
    wire.write_long(out, v)
    return bytes(out)


def _record(
    flag: bytes = b"\x01",
    n: bytes = _zz(7),
    big: bytes = _zz(-3),
    kind: bytes = _zz(2),
    maybe: bytes = _zz(2) + _zz(1) + b"x",
    at: bytes = _zz(1000),
    us: bytes = _zz(5),
    flags: bytes = _zz(2) + b"\x00\x01" + _zz(0),
    counts: bytes = _zz(1) + _zz(1) + b"k" + _zz(4) + _zz(0),
) -> bytes:
    return flag + n + big + kind + maybe + at + us + flags + counts


GOOD = _record()

# (corrupt input, what fastavro alone makes of it)
CORRUPT = {
    "boolean byte 2": _record(flag=b"\x02"),
    "int beyond 32 bits": _record(n=_zz(2**31)),
    "negative enum index": _record(kind=_zz(-1)),
    "enum index too large": _record(kind=_zz(3)),
    "negative union index": _record(maybe=_zz(-1) + _zz(1)),
    "union index -2": _record(maybe=_zz(-2) + _zz(1)),
    "union index -3": _record(maybe=_zz(-3)),
    "union index -70 (two bytes)": _record(maybe=_zz(-70) + _zz(1)),
    "time-millis before midnight": _record(at=_zz(-24)),
    "time-millis past the day": _record(at=_zz(86_400_000)),
    "time-micros negative": _record(us=_zz(-1)),
    "varint over 10 bytes": _record(big=b"\xff" * 10 + b"\x01"),
    "10th varint byte over 1": _record(big=b"\xff" * 9 + b"\x02"),
    "boolean 2 in an array": _record(flags=_zz(1) + b"\x02" + _zz(0)),
    "int beyond 32 bits in a map": _record(counts=_zz(1) + _zz(1) + b"k" + _zz(2**33) + _zz(0)),
    "trailing byte": GOOD + b"\x00",
    "truncated": GOOD[:-1],
    "invalid utf-8 in a union": _record(maybe=_zz(2) + _zz(1) + b"\xff"),
    "negative string length": _record(maybe=_zz(2) + _zz(-1)),
}


def _outcome(module: ModuleType, data: bytes) -> tuple[Any, ...]:
    try:
        return ("ok", module.decode(module.Schema(RECORD), data))
    except DecodeError as e:
        return (type(e).__name__, e.offset, e.path)


def test_named_types_used_again_are_guarded_too() -> None:
    """The second use of a named type is a reference fastavro resolves by name: its unions
    and enums must refuse negative indices as the first use does."""
    text = json.dumps(
        {
            "type": "record",
            "name": "R",
            "fields": [
                {"name": "e", "type": {"type": "enum", "name": "E", "symbols": ["x", "y"]}},
                {"name": "f", "type": "E"},
                {
                    "name": "c",
                    "type": {
                        "type": "record",
                        "name": "U",
                        "fields": [{"name": "u", "type": ["null", "int", "string"]}],
                    },
                },
                {"name": "d", "type": "U"},
            ],
        }
    )
    for data in (
        _zz(0) + _zz(-1) + _zz(0) + _zz(0),
        _zz(0) + _zz(1) + _zz(0) + _zz(-2) + _zz(1),
        _zz(0) + _zz(1) + _zz(-2) + _zz(1) + _zz(0),
    ):
        outcomes = []
        for m in (native, fallback):
            with pytest.raises(DecodeError) as info:
                m.decode(m.Schema(text), data)
            outcomes.append((info.value.offset, info.value.path))
        assert outcomes[0] == outcomes[1]


def test_the_fast_reader_serves_the_record_and_reads_it_right() -> None:
    parsed = schema_model.parse_schema_text(RECORD, True, [])
    reader = fastread.strict_reader(parsed)
    assert reader is not None
    assert reader.read(GOOD) == native.decode(native.Schema(RECORD), GOOD)


@pytest.mark.parametrize("case", sorted(CORRUPT))
def test_corrupt_input_fails_as_on_the_native_backend(case: str) -> None:
    data = CORRUPT[case]
    expected = _outcome(native, data)
    assert expected[0] == "DecodeError", expected
    assert _outcome(fallback, data) == expected


@pytest.mark.parametrize("case", sorted(CORRUPT))
def test_the_fast_reader_refuses_each_corrupt_input(case: str) -> None:
    reader = fastread.strict_reader(schema_model.parse_schema_text(RECORD, True, []))
    with pytest.raises(Exception):  # noqa: B017 - any failure sends the input to the walk
        reader.read(CORRUPT[case])


def test_valid_input_is_not_walked(monkeypatch: pytest.MonkeyPatch) -> None:
    walked: list[bytes] = []
    real = wirecheck.check

    def counting(root: Any, data: bytes, budget: Any = None) -> None:
        walked.append(data)
        real(root, data, budget)

    monkeypatch.setattr(wirecheck, "check", counting)
    schema = fallback.Schema(RECORD)
    assert (
        fallback.decode_many(schema, [GOOD] * 3) == [native.decode(native.Schema(RECORD), GOOD)] * 3
    )
    assert walked == []
    with pytest.raises(DecodeError):
        fallback.decode(schema, CORRUPT["boolean byte 2"])
    assert walked == [CORRUPT["boolean byte 2"]]


@pytest.mark.parametrize(
    "schema",
    [
        # data may nest without bound
        {
            "type": "record",
            "name": "Node",
            "fields": [{"name": "next", "type": ["null", "Node"]}],
        },
        # items of zero bytes: only the walk's budget bounds their count
        {
            "type": "record",
            "name": "Z",
            "fields": [{"name": "a", "type": {"type": "array", "items": "null"}}],
        },
        # fastavro parses non-record roots again on every read
        ["null", "int"],
        "boolean",
    ],
)
def test_schemas_the_fast_reader_cannot_guard_are_walked_first(schema: Any) -> None:
    assert (
        fastread.strict_reader(schema_model.parse_schema_text(json.dumps(schema), True, [])) is None
    )


def test_a_block_byte_size_is_read_but_not_used(backend: ModuleType) -> None:
    """Apache Avro Java's reader reads the size after a negative block count and ignores it;
    so do both backends (items are always walked)."""
    schema = backend.Schema(
        '{"type":"record","name":"R","fields":[{"name":"a","type":{"type":"array","items":"int"}}]}'
    )
    for size in (-5, 1, 63):
        assert backend.decode(schema, _zz(-1) + _zz(size) + _zz(1) + _zz(0)) == {"a": [1]}
    with pytest.raises(DecodeError):  # the size must still be a varint
        backend.decode(schema, _zz(-1) + b"\x80")


# --- encoding -------------------------------------------------------------------------

codec: ModuleType = importlib.import_module("avrobridge._fallback.codec")
fastwrite: ModuleType = importlib.import_module("avrobridge._fallback.fastwrite")

VALUE = {
    "flag": True,
    "n": 7,
    "big": -3,
    "kind": "C",
    "maybe": "x",
    "at": datetime.time(0, 0, 1),
    "us": datetime.time(0, 0, 0, 5),
    "flags": [False, True],
    "counts": {"k": 2},
}

# What fastavro's writer alone would write without a word, and the Rust encoder refuses.
BAD_VALUES = {
    "bool as int": {"n": True},
    "float as int": {"n": 1.5},
    "int beyond 32 bits": {"n": 2**31},
    "long beyond 64 bits": {"big": 2**63},
    "truthy value as boolean": {"flag": "yes"},
    "int as boolean": {"flag": 1},
    "str as array": {"flags": "ab"},
    "set as array": {"flags": {True}},
    "list as map": {"counts": [("k", 1)]},
    "non-str enum": {"kind": 2},
    "unknown symbol": {"kind": "Z"},
    "bool in a map of ints": {"counts": {"k": False}},
    "float in a union without one": {"maybe": 2.5},
    "naive time as int": {"at": 1000},
}


def _encoded(module: ModuleType, value: dict[str, Any]) -> tuple[Any, ...]:
    try:
        return ("ok", module.encode(module.Schema(RECORD), value))
    except EncodeError as e:
        return (type(e).__name__, e.path)


def test_the_fast_writer_serves_the_record_and_writes_the_native_bytes() -> None:
    writer = fastwrite.strict_writer(schema_model.parse_schema_text(RECORD, True, []))
    assert writer is not None
    assert writer.write(VALUE) == native.encode(native.Schema(RECORD), VALUE)


@pytest.mark.parametrize("case", sorted(BAD_VALUES))
def test_bad_values_fail_as_on_the_native_backend(case: str) -> None:
    value = {**VALUE, **BAD_VALUES[case]}
    expected = _encoded(native, value)
    assert _encoded(fallback, value) == expected
    assert expected[0] in ("EncodeError", "ok"), expected
    if case != "naive time as int":
        assert expected[0] == "EncodeError"


def test_valid_values_are_not_walked(monkeypatch: pytest.MonkeyPatch) -> None:
    walked: list[Any] = []
    real = codec.prepare

    def counting(node: Any, obj: Any, depth: int) -> Any:
        if depth == 0:
            walked.append(obj)
        return real(node, obj, depth)

    monkeypatch.setattr(codec, "prepare", counting)
    schema = fallback.Schema(RECORD)
    expected = native.encode(native.Schema(RECORD), VALUE)
    assert fallback.encode_many(schema, [VALUE] * 3) == [expected] * 3
    assert walked == []
    # A missing field with a default is filled in by the walk, as the Rust encoder does.
    defaulted = fallback.Schema(
        '{"type":"record","name":"D","fields":[{"name":"a","type":["long","null"],"default":5}]}'
    )
    assert fallback.encode(defaulted, {}) == native.encode(native.Schema(defaulted.text), {})
    assert walked == [{}]


# --- both backends on damaged encodings -----------------------------------------------


def _outcome_of(module: ModuleType, schema: Any, data: bytes) -> tuple[Any, ...]:
    try:
        return ("ok", repr(module.decode(module.Schema(json.dumps(schema)), data)))
    except DecodeError as e:
        return ("DecodeError", e.offset, e.path)


@settings(max_examples=400, deadline=None)
@given(case=schema_and_data(n=1), data=st.data())
def test_damaged_encodings_decode_alike_on_both_backends(
    case: tuple[Any, list[Any]], data: st.DataObject
) -> None:
    """fastavro reads first on the fastavro backend: whatever a damaged encoding becomes
    (a value, or an error at an offset and path), it must be what the native backend says."""
    schema, (value,) = case
    original = native.encode(native.Schema(json.dumps(schema)), value)
    at = data.draw(st.integers(0, max(len(original) - 1, 0)))
    byte = data.draw(st.sampled_from([0x00, 0x01, 0x02, 0x03, 0x05, 0x7F, 0x80, 0x81, 0xFF]))
    damaged = data.draw(
        st.sampled_from(
            [
                original[:at] + bytes([byte]) + original[at + 1 :],
                original[:at] + bytes([byte]) + original[at:],
                original[:at] + b"\xff" * 9 + bytes([byte]) + original[at:],
            ]
        )
    )
    note(f"{original.hex()} -> {damaged.hex()}")
    assert _outcome_of(fallback, schema, damaged) == _outcome_of(native, schema, damaged)


_ODD_VALUES = [True, 0, 1.5, 2**31, 2**63, 2**70, "x", None, b"x", bytearray(b"x"), [], {}]


def _replace_somewhere(value: Any, draw: Any) -> Any:
    """``value`` with one leaf (or the whole) replaced by an odd value."""
    if isinstance(value, dict) and value and draw(st.booleans()):
        key = draw(st.sampled_from(sorted(value)))
        return {**value, key: _replace_somewhere(value[key], draw)}
    if isinstance(value, list) and value and draw(st.booleans()):
        i = draw(st.integers(0, len(value) - 1))
        return [*value[:i], _replace_somewhere(value[i], draw), *value[i + 1 :]]
    return draw(st.sampled_from(_ODD_VALUES))


def _encode_outcome(module: ModuleType, schema: Any, value: Any) -> tuple[Any, ...]:
    try:
        return ("ok", module.encode(module.Schema(json.dumps(schema)), value))
    except EncodeError as e:
        return ("EncodeError", e.path)


@settings(max_examples=400, deadline=None)
@given(case=schema_and_data(n=1), data=st.data())
def test_odd_values_encode_alike_on_both_backends(
    case: tuple[Any, list[Any]], data: st.DataObject
) -> None:
    """fastavro writes first on the fastavro backend: a value with one part of the wrong
    type must give the native backend's bytes or its error (class and path)."""
    schema, (value,) = case
    odd = _replace_somewhere(value, data.draw)
    note(f"value: {odd!r}")
    assert _encode_outcome(fallback, schema, odd) == _encode_outcome(native, schema, odd)
