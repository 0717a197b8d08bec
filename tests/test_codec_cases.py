"""Hand-written codec cases: primitives and logical types against fastavro, named types and
namespaces, invalid schemas, encode errors, the tutorial's Employee, batches, and the
canonical-form / fingerprint vectors of Apache Avro's share/test/data/schema-tests.txt.

Every codec test runs on both backends (the ``backend`` fixture).
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import re
import struct
import uuid
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from types import ModuleType
from typing import Any

import fastavro
import fastavro.schema
import pytest

from avrobridge.errors import DecodeError, EncodeError, SchemaError
from strategies import JSON, assert_same

UTC = timezone.utc


def fastavro_encode(schema: JSON, value: Any) -> bytes:
    buf = io.BytesIO()
    fastavro.schemaless_writer(buf, schema, value)
    return buf.getvalue()


def fastavro_decode(schema: JSON, data: bytes) -> Any:
    return fastavro.schemaless_reader(io.BytesIO(data), schema)


def make(backend: ModuleType, schema: JSON, **kwargs: Any) -> Any:
    return backend.Schema(json.dumps(schema), **kwargs)


def check_round_trip(backend: ModuleType, schema: JSON, value: Any) -> bytes:
    """``value`` is canonical: written as fastavro writes it, read back identically."""
    s = make(backend, schema)
    data = backend.encode(s, value)
    assert data == fastavro_encode(schema, value)
    decoded = backend.decode(s, data)
    assert_same(decoded, fastavro_decode(schema, data))
    assert_same(decoded, value)
    return data


# --------------------------------------------------------------------------------------
# Primitives
# --------------------------------------------------------------------------------------

PRIMITIVE_VALUES: list[tuple[str, Any, bytes]] = [
    ("null", None, b""),
    ("boolean", False, b"\x00"),
    ("boolean", True, b"\x01"),
    ("int", 0, b"\x00"),
    ("int", -1, b"\x01"),
    ("int", 1, b"\x02"),
    ("int", -64, b"\x7f"),
    ("int", 64, b"\x80\x01"),
    ("int", 2**31 - 1, b"\xfe\xff\xff\xff\x0f"),
    ("int", -(2**31), b"\xff\xff\xff\xff\x0f"),
    ("long", 0, b"\x00"),
    ("long", 2**63 - 1, b"\xfe" + b"\xff" * 8 + b"\x01"),
    ("long", -(2**63), b"\xff" * 9 + b"\x01"),
    ("long", 2**31, b"\x80\x80\x80\x80\x10"),
    ("float", 0.0, b"\x00\x00\x00\x00"),
    ("float", -0.0, b"\x00\x00\x00\x80"),
    ("float", 1.5, struct.pack("<f", 1.5)),
    ("float", float("inf"), struct.pack("<f", float("inf"))),
    ("float", float("-inf"), struct.pack("<f", float("-inf"))),
    ("float", 3.4028234663852886e38, struct.pack("<f", 3.4028234663852886e38)),
    ("float", 1.401298464324817e-45, struct.pack("<f", 1.401298464324817e-45)),
    ("double", 0.1, struct.pack("<d", 0.1)),
    ("double", -0.0, struct.pack("<d", -0.0)),
    ("double", 1.7976931348623157e308, struct.pack("<d", 1.7976931348623157e308)),
    ("double", 5e-324, struct.pack("<d", 5e-324)),
    ("double", float("-inf"), struct.pack("<d", float("-inf"))),
    ("bytes", b"", b"\x00"),
    ("bytes", b"\x00\xff", b"\x04\x00\xff"),
    ("bytes", bytes(range(256)), b"\x80\x04" + bytes(range(256))),
    ("string", "", b"\x00"),
    ("string", "foo", b"\x06foo"),
    ("string", "héllo wörld", b"\x1a" + "héllo wörld".encode()),
    ("string", "😀\x00\u2028", b"\x10" + "😀\x00\u2028".encode()),
]


@pytest.mark.parametrize(
    ("schema", "value", "expected"),
    [pytest.param(s, v, e, id=f"{s}-{v!r}"[:40]) for s, v, e in PRIMITIVE_VALUES],
)
def test_primitives_round_trip_with_fastavro_bytes(
    backend: ModuleType, schema: str, value: Any, expected: bytes
) -> None:
    assert check_round_trip(backend, schema, value) == expected
    assert check_round_trip(backend, {"type": schema}, value) == expected


@pytest.mark.parametrize("schema", ["float", "double"])
def test_nan_round_trips(backend: ModuleType, schema: str) -> None:
    s = make(backend, schema)
    data = backend.encode(s, math.nan)
    assert data == fastavro_encode(schema, math.nan)
    assert math.isnan(backend.decode(s, data))


def test_floats_are_rounded_to_32_bits_like_fastavro(backend: ModuleType) -> None:
    s = make(backend, "float")
    data = backend.encode(s, 0.1)
    assert data == fastavro_encode("float", 0.1)
    assert backend.decode(s, data) == struct.unpack("<f", struct.pack("<f", 0.1))[0]


def test_ints_are_accepted_for_floats_and_doubles(backend: ModuleType) -> None:
    for schema in ("float", "double"):
        s = make(backend, schema)
        assert backend.encode(s, 3) == fastavro_encode(schema, 3)
        assert_same(backend.decode(s, backend.encode(s, 3)), 3.0)


# --------------------------------------------------------------------------------------
# Logical types
# --------------------------------------------------------------------------------------


def lt(base: str, logical: str, **extra: Any) -> dict[str, Any]:
    return {"type": base, "logicalType": logical, **extra}


def fixed(name: str, size: int, **extra: Any) -> dict[str, Any]:
    return {"type": "fixed", "name": name, "size": size, **extra}


LOGICAL_VALUES: list[tuple[str, JSON, Any]] = [
    ("date epoch", lt("int", "date"), date(1970, 1, 1)),
    ("date min", lt("int", "date"), date(1, 1, 1)),
    ("date max", lt("int", "date"), date(9999, 12, 31)),
    ("date leap", lt("int", "date"), date(2024, 2, 29)),
    ("date before epoch", lt("int", "date"), date(1969, 12, 31)),
    ("time-millis midnight", lt("int", "time-millis"), time(0, 0)),
    ("time-millis last", lt("int", "time-millis"), time(23, 59, 59, 999000)),
    ("time-millis noon", lt("int", "time-millis"), time(12, 30, 15, 123000)),
    ("time-micros last", lt("long", "time-micros"), time(23, 59, 59, 999999)),
    ("time-micros tiny", lt("long", "time-micros"), time(0, 0, 0, 1)),
    ("timestamp-millis epoch", lt("long", "timestamp-millis"), datetime(1970, 1, 1, tzinfo=UTC)),
    ("timestamp-millis min", lt("long", "timestamp-millis"), datetime(1, 1, 1, tzinfo=UTC)),
    (
        "timestamp-millis max",
        lt("long", "timestamp-millis"),
        datetime(9999, 12, 31, 23, 59, 59, 999000, tzinfo=UTC),
    ),
    (
        "timestamp-millis before epoch",
        lt("long", "timestamp-millis"),
        datetime(1969, 12, 31, 23, 59, 59, 999000, tzinfo=UTC),
    ),
    (
        "timestamp-micros",
        lt("long", "timestamp-micros"),
        datetime(2024, 5, 1, 12, 0, 0, 123456, tzinfo=UTC),
    ),
    (
        "timestamp-micros before epoch",
        lt("long", "timestamp-micros"),
        datetime(1900, 3, 1, 0, 0, 0, 1, tzinfo=UTC),
    ),
    (
        "timestamp-micros max",
        lt("long", "timestamp-micros"),
        datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
    ),
    (
        "local-timestamp-millis",
        lt("long", "local-timestamp-millis"),
        datetime(2024, 5, 1, 12, 0, 0, 123000),
    ),
    (
        "local-timestamp-micros",
        lt("long", "local-timestamp-micros"),
        datetime(1, 1, 1, 0, 0, 0, 1),
    ),
    ("timestamp-nanos", lt("long", "timestamp-nanos"), 1_700_000_000_123_456_789),
    ("timestamp-nanos min", lt("long", "timestamp-nanos"), -(2**63)),
    ("local-timestamp-nanos", lt("long", "local-timestamp-nanos"), 2**63 - 1),
    ("decimal", lt("bytes", "decimal", precision=9, scale=2), Decimal("1234567.89")),
    ("decimal small negative", lt("bytes", "decimal", precision=9, scale=2), Decimal("-0.01")),
    ("decimal zero", lt("bytes", "decimal", precision=9, scale=2), Decimal("0.00")),
    ("decimal -1.28", lt("bytes", "decimal", precision=9, scale=2), Decimal("-1.28")),
    ("decimal 1.28", lt("bytes", "decimal", precision=9, scale=2), Decimal("1.28")),
    ("decimal no scale", lt("bytes", "decimal", precision=4), Decimal("-9999")),
    (
        "decimal 38 digits",
        lt("bytes", "decimal", precision=38, scale=10),
        Decimal("-9999999999999999999999999999.9999999999"),
    ),
    (
        "decimal 60 digits",
        lt("bytes", "decimal", precision=60, scale=30),
        Decimal("123456789012345678901234567890.123456789012345678901234567890"),
    ),
    (
        "fixed decimal",
        fixed("D", 8, logicalType="decimal", precision=18, scale=4),
        Decimal("-12345678901234.5678"),
    ),
    ("fixed decimal 1 byte max", fixed("D", 1, logicalType="decimal", precision=2), Decimal("99")),
    ("fixed decimal 1 byte min", fixed("D", 1, logicalType="decimal", precision=2), Decimal("-99")),
    (
        "fixed decimal zero",
        fixed("D", 3, logicalType="decimal", precision=4, scale=4),
        Decimal("0.0000"),
    ),
    (
        "fixed decimal 16 bytes",
        fixed("D", 16, logicalType="decimal", precision=38, scale=0),
        Decimal("-" + "9" * 38),
    ),
    (
        "uuid",
        lt("string", "uuid"),
        uuid.UUID("12345678-1234-5678-1234-567812345678"),
    ),
    ("uuid on fixed 16 is bytes", fixed("U", 16, logicalType="uuid"), bytes(range(16))),
    ("duration is bytes", fixed("Dur", 12, logicalType="duration"), bytes(range(12))),
]


@pytest.mark.parametrize(
    ("schema", "value"), [pytest.param(s, v, id=i) for i, s, v in LOGICAL_VALUES]
)
def test_logical_types_round_trip_like_fastavro(
    backend: ModuleType, schema: JSON, value: Any
) -> None:
    check_round_trip(backend, schema, value)
    # Also inside a union, where the value has to pick its branch.
    check_round_trip(backend, ["null", schema], value)


#: Inputs that are not what decode returns but that fastavro accepts: same bytes as
#: fastavro, and decoded to the canonical value.
LOGICAL_INPUTS: list[tuple[str, JSON, Any, Any]] = [
    ("date from int", lt("int", "date"), 19_000, date(2022, 1, 8)),
    ("date from ISO string", lt("int", "date"), "2024-02-29", date(2024, 2, 29)),
    ("date from datetime", lt("int", "date"), datetime(2024, 2, 29, 13, 0), date(2024, 2, 29)),
    ("time-millis from int", lt("int", "time-millis"), 3_600_000, time(1, 0)),
    (
        "time-millis truncates",
        lt("int", "time-millis"),
        time(1, 2, 3, 456789),
        time(1, 2, 3, 456000),
    ),
    ("time-micros from int", lt("long", "time-micros"), 1, time(0, 0, 0, 1)),
    (
        "timestamp-millis from int",
        lt("long", "timestamp-millis"),
        -1,
        datetime(1969, 12, 31, 23, 59, 59, 999000, tzinfo=UTC),
    ),
    (
        "timestamp-millis truncates",
        lt("long", "timestamp-millis"),
        datetime(2024, 1, 1, 0, 0, 0, 999999, tzinfo=UTC),
        datetime(2024, 1, 1, 0, 0, 0, 999000, tzinfo=UTC),
    ),
    (
        "timestamp-micros in another zone",
        lt("long", "timestamp-micros"),
        datetime(2024, 1, 1, 5, 30, tzinfo=timezone(timedelta(hours=5, minutes=30))),
        datetime(2024, 1, 1, 0, 0, tzinfo=UTC),
    ),
    (
        "local-timestamp-micros ignores the zone",
        lt("long", "local-timestamp-micros"),
        datetime(2024, 1, 1, 5, 30, tzinfo=timezone(timedelta(hours=5))),
        datetime(2024, 1, 1, 5, 30),
    ),
    (
        "uuid from str",
        lt("string", "uuid"),
        "12345678-1234-5678-1234-567812345678",
        uuid.UUID("12345678-1234-5678-1234-567812345678"),
    ),
    (
        "decimal with fewer places",
        lt("bytes", "decimal", precision=5, scale=2),
        Decimal("1.5"),
        Decimal("1.50"),
    ),
    (
        "decimal given as bytes",
        lt("bytes", "decimal", precision=5, scale=2),
        b"\x00\x96",
        Decimal("1.50"),
    ),
    (
        "fixed decimal with fewer places",
        fixed("D", 4, logicalType="decimal", precision=6, scale=3),
        Decimal("-2"),
        Decimal("-2.000"),
    ),
]


@pytest.mark.parametrize(
    ("schema", "given", "expected"),
    [pytest.param(s, g, e, id=i) for i, s, g, e in LOGICAL_INPUTS],
)
def test_logical_types_accept_what_fastavro_accepts(
    backend: ModuleType, schema: JSON, given: Any, expected: Any
) -> None:
    s = make(backend, schema)
    data = backend.encode(s, given)
    assert data == fastavro_encode(schema, given)
    assert_same(backend.decode(s, data), expected)


def test_naive_timestamps_are_local_time_like_fastavro(backend: ModuleType) -> None:
    for logical in ("timestamp-millis", "timestamp-micros"):
        schema = lt("long", logical)
        value = datetime(2021, 6, 30, 12, 34, 56, 789000)
        assert backend.encode(make(backend, schema), value) == fastavro_encode(schema, value)


@pytest.mark.parametrize(
    ("schema", "value"),
    [
        pytest.param(lt("int", "date"), date(1970, 1, 1), id="date"),
        pytest.param(
            lt("long", "timestamp-micros"), datetime(1970, 1, 1, tzinfo=UTC), id="timestamp"
        ),
        pytest.param(lt("int", "time-millis"), time(0, 0), id="time"),
        pytest.param(lt("bytes", "decimal", precision=3, scale=1), Decimal("1.0"), id="decimal"),
        pytest.param(lt("string", "uuid"), uuid.UUID(int=0), id="uuid"),
    ],
)
def test_logical_types_are_their_base_type_on_the_wire(
    backend: ModuleType, schema: JSON, value: Any
) -> None:
    base = make(backend, schema["type"])
    logical = make(backend, schema)
    data = backend.encode(logical, value)
    assert backend.decode(base, data) == fastavro_decode(schema["type"], data)
    assert logical.canonical_form == base.canonical_form


#: Annotations that are unknown or invalid for their type: the plain type is used.
IGNORED_LOGICAL: list[tuple[str, JSON, Any]] = [
    ("decimal scale above precision", lt("bytes", "decimal", precision=2, scale=3), b"ab"),
    ("decimal without precision", lt("bytes", "decimal", scale=1), b"ab"),
    ("decimal precision 0", lt("bytes", "decimal", precision=0), b"ab"),
    (
        "fixed decimal too precise for its size",
        fixed("D", 2, logicalType="decimal", precision=5),
        b"ab",
    ),
    ("date on long", lt("long", "date"), 5),
    ("timestamp-millis on int", lt("int", "timestamp-millis"), 5),
    ("uuid on bytes", lt("bytes", "uuid"), b"ab"),
    ("uuid on fixed of 8", fixed("U", 8, logicalType="uuid"), b"abcdefgh"),
    ("duration on fixed of 10", fixed("Dur", 10, logicalType="duration"), b"abcdefghij"),
    ("unknown logical type", lt("string", "x-custom"), "abc"),
]


@pytest.mark.parametrize(
    ("schema", "value"), [pytest.param(s, v, id=i) for i, s, v in IGNORED_LOGICAL]
)
def test_invalid_logical_types_are_ignored(backend: ModuleType, schema: JSON, value: Any) -> None:
    s = make(backend, schema)
    data = backend.encode(s, value)
    assert_same(backend.decode(s, data), value)
    plain = {k: v for k, v in schema.items() if k not in ("logicalType", "precision", "scale")}
    assert backend.encode(make(backend, plain), value) == data
    assert s.canonical_form == make(backend, plain).canonical_form


# --------------------------------------------------------------------------------------
# Named types, namespaces, aliases, references, recursion
# --------------------------------------------------------------------------------------

NAMESPACES = {
    "type": "record",
    "name": "Outer",
    "namespace": "a.b",
    "fields": [
        {
            "name": "inner",
            "type": {
                "type": "record",
                "name": "Inner",
                "fields": [
                    {
                        "name": "e",
                        "type": {"type": "enum", "name": "E", "namespace": "c", "symbols": ["X"]},
                    }
                ],
            },
        },
        {"name": "again", "type": "Inner"},
        {"name": "same", "type": "a.b.Inner"},
        {"name": "e2", "type": "c.E"},
        {"name": "f", "type": {"type": "fixed", "name": "x.F", "namespace": "ignored", "size": 2}},
        {"name": "g", "type": "x.F"},
        {
            "name": "nested",
            "type": {
                "type": "record",
                "name": "p.q.Dotted",
                "fields": [
                    {
                        "name": "child",
                        "type": {"type": "record", "name": "Child", "fields": []},
                    },
                    {"name": "child2", "type": "Child"},
                    {
                        "name": "top",
                        "type": {"type": "record", "name": "Top", "namespace": "", "fields": []},
                    },
                ],
            },
        },
    ],
}
NAMESPACES_CANONICAL = (
    '{"name":"a.b.Outer","type":"record","fields":['
    '{"name":"inner","type":{"name":"a.b.Inner","type":"record","fields":['
    '{"name":"e","type":{"name":"c.E","type":"enum","symbols":["X"]}}]}},'
    '{"name":"again","type":"a.b.Inner"},'
    '{"name":"same","type":"a.b.Inner"},'
    '{"name":"e2","type":"c.E"},'
    '{"name":"f","type":{"name":"x.F","type":"fixed","size":2}},'
    '{"name":"g","type":"x.F"},'
    '{"name":"nested","type":{"name":"p.q.Dotted","type":"record","fields":['
    '{"name":"child","type":{"name":"p.q.Child","type":"record","fields":[]}},'
    '{"name":"child2","type":"p.q.Child"},'
    '{"name":"top","type":{"name":"Top","type":"record","fields":[]}}]}}]}'
)


def test_namespaces_are_inherited_and_names_resolved(backend: ModuleType) -> None:
    s = make(backend, NAMESPACES)
    assert s.name == "a.b.Outer"
    assert s.type == "record"
    assert s.canonical_form == NAMESPACES_CANONICAL
    assert s.canonical_form == fastavro.schema.to_parsing_canonical_form(NAMESPACES)
    inner = {"e": "X"}
    nested = {"child": {}, "child2": {}, "top": {}}
    value = {
        "inner": inner,
        "again": inner,
        "same": inner,
        "e2": "X",
        "f": b"ab",
        "g": b"cd",
        "nested": nested,
    }
    check_round_trip(backend, NAMESPACES, value)


def test_a_short_name_is_looked_up_in_the_enclosing_namespace(backend: ModuleType) -> None:
    schema = {
        "type": "record",
        "name": "R",
        "namespace": "n",
        "fields": [
            {"name": "a", "type": {"type": "fixed", "name": "F", "size": 1}},
            {"name": "b", "type": {"type": "fixed", "name": "F", "namespace": "m", "size": 2}},
            {"name": "c", "type": "F"},
            {"name": "d", "type": "m.F"},
        ],
    }
    s = make(backend, schema)
    assert '{"name":"c","type":"n.F"}' in s.canonical_form
    assert '{"name":"d","type":"m.F"}' in s.canonical_form
    check_round_trip(backend, schema, {"a": b"1", "b": b"22", "c": b"3", "d": b"44"})
    with pytest.raises(EncodeError):
        backend.encode(s, {"a": b"1", "b": b"22", "c": b"33", "d": b"44"})


ALIASED = {
    "type": "record",
    "name": "R",
    "aliases": ["Old", "x.Older"],
    "doc": "documented",
    "fields": [
        {"name": "a", "aliases": ["a0"], "doc": "x", "order": "descending", "type": "int"},
        {
            "name": "e",
            "type": {"type": "enum", "name": "E", "aliases": ["E0"], "symbols": ["A", "B"]},
        },
        {"name": "f", "type": {"type": "fixed", "name": "F", "aliases": ["F0"], "size": 1}},
    ],
}


def test_aliases_docs_and_order_change_neither_canonical_form_nor_bytes(
    backend: ModuleType,
) -> None:
    plain = {
        "type": "record",
        "name": "R",
        "fields": [
            {"name": "a", "type": "int"},
            {"name": "e", "type": {"type": "enum", "name": "E", "symbols": ["A", "B"]}},
            {"name": "f", "type": {"type": "fixed", "name": "F", "size": 1}},
        ],
    }
    a, b = make(backend, ALIASED), make(backend, plain)
    assert a.canonical_form == b.canonical_form
    assert a.fingerprint() == b.fingerprint()
    value = {"a": -3, "e": "B", "f": b"z"}
    assert check_round_trip(backend, ALIASED, value) == backend.encode(b, value)


def test_named_types_are_reused_by_reference(backend: ModuleType) -> None:
    schema = {
        "type": "record",
        "name": "R",
        "fields": [
            {
                "name": "point",
                "type": {
                    "type": "record",
                    "name": "Point",
                    "fields": [{"name": "x", "type": "int"}, {"name": "y", "type": "int"}],
                },
            },
            {"name": "path", "type": {"type": "array", "items": "Point"}},
            {"name": "named", "type": {"type": "map", "values": "Point"}},
            {"name": "maybe", "type": ["null", "Point"]},
        ],
    }
    s = make(backend, schema)
    assert s.canonical_form.count('"name":"Point"') == 1
    assert s.canonical_form.count('"Point"') == 4  # defined once, then used by name
    p = {"x": 1, "y": -2}
    check_round_trip(backend, schema, {"point": p, "path": [p, p], "named": {"k": p}, "maybe": p})
    check_round_trip(backend, schema, {"point": p, "path": [], "named": {}, "maybe": None})


LINKED_LIST = {
    "type": "record",
    "name": "LongList",
    "aliases": ["LinkedLongs"],
    "fields": [
        {"name": "value", "type": "long"},
        {"name": "next", "type": ["null", "LongList"]},
    ],
}
TREE = {
    "type": "record",
    "name": "Tree",
    "namespace": "t",
    "fields": [
        {"name": "label", "type": "string"},
        {"name": "children", "type": {"type": "array", "items": "Tree"}},
        {"name": "byName", "type": {"type": "map", "values": "t.Tree"}},
    ],
}
MUTUAL = {
    "type": "record",
    "name": "A",
    "fields": [
        {
            "name": "b",
            "type": [
                "null",
                {"type": "record", "name": "B", "fields": [{"name": "a", "type": ["null", "A"]}]},
            ],
        }
    ],
}


def test_recursive_linked_list(backend: ModuleType) -> None:
    value = {"value": 1, "next": {"value": 2, "next": {"value": -3, "next": None}}}
    data = check_round_trip(backend, LINKED_LIST, value)
    assert data == b"\x02\x02\x04\x02\x05\x00"
    assert make(backend, LINKED_LIST).canonical_form == (
        '{"name":"LongList","type":"record","fields":[{"name":"value","type":"long"},'
        '{"name":"next","type":["null","LongList"]}]}'
    )


def test_recursive_tree(backend: ModuleType) -> None:
    leaf = {"label": "leaf", "children": [], "byName": {}}
    value = {
        "label": "root",
        "children": [leaf, {"label": "mid", "children": [leaf], "byName": {"x": leaf}}],
        "byName": {"only": leaf},
    }
    check_round_trip(backend, TREE, value)
    assert make(backend, TREE).canonical_form == (
        '{"name":"t.Tree","type":"record","fields":[{"name":"label","type":"string"},'
        '{"name":"children","type":{"type":"array","items":"t.Tree"}},'
        '{"name":"byName","type":{"type":"map","values":"t.Tree"}}]}'
    )


def test_mutually_recursive_records(backend: ModuleType) -> None:
    check_round_trip(backend, MUTUAL, {"b": {"a": {"b": {"a": None}}}})
    check_round_trip(backend, MUTUAL, {"b": None})


def test_error_records_have_the_canonical_form_of_records(backend: ModuleType) -> None:
    """Java's SchemaNormalization and fastavro both write an error's type as "record"."""
    error = {"type": "error", "name": "Oops", "fields": [{"name": "why", "type": "string"}]}
    record = {**error, "type": "record"}
    s = make(backend, error)
    assert s.canonical_form == make(backend, record).canonical_form
    assert s.canonical_form == fastavro.schema.to_parsing_canonical_form(error)
    assert s.fingerprint() == make(backend, record).fingerprint()
    check_round_trip(backend, error, {"why": "because"})


def test_union_of_a_record_and_an_error_picks_like_fastavro(backend: ModuleType) -> None:
    """fastavro counts matching fields only for "record" branches; an "error" branch that
    validates is taken at once."""
    fields = [{"name": "x", "type": "int"}]
    schema = [
        {"type": "record", "name": "Rec", "fields": fields},
        {"type": "error", "name": "Err", "fields": fields},
    ]
    s = make(backend, schema)
    assert backend.encode(s, {"x": 1}) == fastavro_encode(schema, {"x": 1})


# --------------------------------------------------------------------------------------
# Unions
# --------------------------------------------------------------------------------------

UNION_CASES: list[tuple[str, JSON, Any]] = [
    ("first matching branch", ["null", "int", "long"], 5),
    ("long when int is too small", ["int", "long"], 2**40),
    ("double over float", ["float", "double"], 0.1),
    ("float when no double", ["null", "float"], 0.5),
    ("int is a float", ["null", "float", "string"], 7),
    ("bytes vs string", ["bytes", "string"], "text"),
    ("string vs bytes", ["bytes", "string"], b"raw"),
    ("enum symbol", [{"type": "enum", "name": "E", "symbols": ["A"]}, "string"], "A"),
    ("string before enum", ["string", {"type": "enum", "name": "E", "symbols": ["A"]}], "A"),
    ("array", ["null", {"type": "array", "items": "int"}], [1, 2]),
    ("map", ["null", {"type": "map", "values": "int"}], {"a": 1}),
    (
        "record with most fields",
        [
            {"type": "record", "name": "A", "fields": [{"name": "x", "type": ["null", "int"]}]},
            {
                "type": "record",
                "name": "B",
                "fields": [
                    {"name": "x", "type": ["null", "int"]},
                    {"name": "y", "type": ["null", "int"]},
                ],
            },
        ],
        {"x": 1, "y": 2},
    ),
    (
        "fixed of the right size",
        [{"type": "fixed", "name": "F2", "size": 2}, {"type": "fixed", "name": "F3", "size": 3}],
        b"abc",
    ),
]


@pytest.mark.parametrize(("schema", "value"), [pytest.param(s, v, id=i) for i, s, v in UNION_CASES])
def test_union_branches_are_chosen_like_fastavro(
    backend: ModuleType, schema: JSON, value: Any
) -> None:
    s = make(backend, schema)
    data = backend.encode(s, value)
    assert data == fastavro_encode(schema, value)
    assert_same(backend.decode(s, data), fastavro_decode(schema, data))


def test_union_tuple_notation_and_type_key(backend: ModuleType) -> None:
    a = {"type": "record", "name": "A", "fields": [{"name": "x", "type": "int"}]}
    b = {"type": "record", "name": "B", "fields": [{"name": "x", "type": "int"}]}
    schema = [a, b]
    s = make(backend, schema)
    for value in (("B", {"x": 1}), {"-type": "B", "x": 1}, ("A", {"x": 1})):
        assert backend.encode(s, value) == fastavro_encode(schema, value)
    assert backend.encode(s, ("B", {"x": 1}))[:1] == b"\x02"


# --------------------------------------------------------------------------------------
# Defaults
# --------------------------------------------------------------------------------------


def test_missing_fields_take_their_defaults(backend: ModuleType) -> None:
    schema = {
        "type": "record",
        "name": "D",
        "fields": [
            {"name": "i", "type": "int", "default": 7},
            {"name": "l", "type": "long", "default": -(2**40)},
            {"name": "f", "type": "float", "default": 0.5},
            {"name": "d", "type": "double", "default": 1e300},
            {"name": "b", "type": "bytes", "default": "\u00ff\u0000a"},
            {"name": "s", "type": "string", "default": "héllo"},
            {"name": "n", "type": ["null", "string"], "default": None},
            {"name": "u", "type": ["string", "null"], "default": "x"},
            {"name": "a", "type": {"type": "array", "items": "int"}, "default": [1, 2]},
            {"name": "m", "type": {"type": "map", "values": "int"}, "default": {"k": 3}},
            {
                "name": "e",
                "type": {"type": "enum", "name": "E", "symbols": ["A", "B"]},
                "default": "B",
            },
            {
                "name": "fx",
                "type": {"type": "fixed", "name": "F", "size": 2},
                "default": "\u00010",
            },
            {
                "name": "r",
                "type": {
                    "type": "record",
                    "name": "Sub",
                    "fields": [
                        {"name": "x", "type": "int"},
                        {"name": "y", "type": "string", "default": "why"},
                    ],
                },
                "default": {"x": 1},
            },
            {"name": "dt", "type": lt("int", "date"), "default": 1},
        ],
    }
    expected = {
        "i": 7,
        "l": -(2**40),
        "f": 0.5,
        "d": 1e300,
        "b": b"\xff\x00a",
        "s": "héllo",
        "n": None,
        "u": "x",
        "a": [1, 2],
        "m": {"k": 3},
        "e": "B",
        "fx": b"\x010",
        "r": {"x": 1, "y": "why"},
        "dt": date(1970, 1, 2),
    }
    s = make(backend, schema)
    data = backend.encode(s, {})
    assert data == backend.encode(s, expected)
    assert_same(backend.decode(s, data), expected)


def test_a_union_default_is_written_with_the_first_branch_it_fits(backend: ModuleType) -> None:
    """Avro 1.12: a union default may match any branch; it takes the first one it fits.
    0.5 fits "float" first (an explicit 0.5 would take "double", as fastavro picks)."""
    schema = {
        "type": "record",
        "name": "U",
        "fields": [{"name": "x", "type": ["float", "double"], "default": 0.5}],
    }
    s = make(backend, schema)
    assert backend.encode(s, {}) == b"\x00" + struct.pack("<f", 0.5)
    assert backend.encode(s, {"x": 0.5}) == b"\x02" + struct.pack("<d", 0.5)


def test_invalid_defaults_are_accepted_only_when_asked(backend: ModuleType) -> None:
    schema = {
        "type": "record",
        "name": "R",
        "fields": [{"name": "f", "type": "boolean", "default": "true"}],
    }
    with pytest.raises(SchemaError) as info:
        make(backend, schema)
    assert re.search(r"(?i)default", str(info.value))
    assert info.value.path == "/fields/0/default"
    s = make(backend, schema, validate_defaults=False)
    assert (
        s.canonical_form == '{"name":"R","type":"record","fields":[{"name":"f","type":"boolean"}]}'
    )
    assert backend.decode(s, backend.encode(s, {"f": True})) == {"f": True}


# --------------------------------------------------------------------------------------
# Invalid schemas
# --------------------------------------------------------------------------------------


def record(*fields: dict[str, Any]) -> dict[str, Any]:
    return {"type": "record", "name": "R", "fields": list(fields)}


#: (id, schema, path, patterns the message must match).
INVALID_SCHEMAS: list[tuple[str, JSON, str | None, list[str]]] = [
    (
        "unknown type",
        record({"name": "a", "type": "Foo"}),
        "/fields/0/type",
        [r"(?i)unknown", r"\bFoo\b"],
    ),
    (
        "duplicate field",
        record({"name": "a", "type": "int"}, {"name": "a", "type": "long"}),
        "/fields/1/name",
        [r"\ba\b", r"(?i)two fields|duplicate|twice|more than once"],
    ),
    (
        "duplicate enum symbol",
        {"type": "enum", "name": "E", "symbols": ["A", "B", "A"]},
        "/symbols/2",
        [r"\bA\b", r"(?i)twice|duplicate|more than once"],
    ),
    (
        "bad name",
        {"type": "record", "name": "1bad", "fields": []},
        "/name",
        [r"1bad", r"(?i)invalid|illegal|not a valid"],
    ),
    (
        "bad field name",
        record({"name": "a-b", "type": "int"}),
        "/fields/0/name",
        [r"a-b", r"(?i)invalid|illegal|not a valid"],
    ),
    (
        "bad namespace",
        {"type": "fixed", "name": "F", "namespace": "a..b", "size": 1},
        "/namespace",
        [r"a\.\.b", r"(?i)invalid|illegal|not a valid"],
    ),
    (
        "bad enum symbol",
        {"type": "enum", "name": "E", "symbols": ["ok", "not ok"]},
        "/symbols/1",
        [r"not ok", r"(?i)invalid|illegal|not a valid"],
    ),
    (
        "bad default",
        record({"name": "a", "type": "int", "default": "x"}),
        "/fields/0/default",
        [r"(?i)default", r"\ba\b"],
    ),
    (
        "default of the wrong union branch type",
        record({"name": "a", "type": ["null", "int"], "default": "x"}),
        "/fields/0/default",
        [r"(?i)default", r"\ba\b"],
    ),
    (
        "union of two arrays",
        record(
            {
                "name": "a",
                "type": [{"type": "array", "items": "int"}, {"type": "array", "items": "long"}],
            }
        ),
        "/fields/0/type/1",
        [r"(?i)array", r"(?i)more than one|twice|duplicate|two"],
    ),
    (
        "union of two nulls",
        ["null", "int", "null"],
        "/2",
        [r"(?i)null", r"(?i)more than one|twice|duplicate|two"],
    ),
    (
        "union with a named type twice",
        record(
            {"name": "a", "type": {"type": "fixed", "name": "F", "size": 1}},
            {"name": "b", "type": ["F", "F"]},
        ),
        "/fields/1/type/1",
        [r"\bF\b", r"(?i)more than one|twice|duplicate|two"],
    ),
    (
        "nested union",
        record({"name": "a", "type": ["null", ["int", "string"]]}),
        "/fields/0/type/1",
        [r"(?i)union.*union|nested"],
    ),
    ("fixed without size", {"type": "fixed", "name": "F"}, None, [r"(?i)size", r"\bF\b"]),
    (
        "fixed with a negative size",
        {"type": "fixed", "name": "F", "size": -1},
        "/size",
        [r"(?i)size"],
    ),
    (
        "name redefined",
        record({"name": "a", "type": {"type": "fixed", "name": "R", "size": 1}}),
        "/fields/0/type/name",
        [r"\bR\b", r"(?i)already defined|redefin|twice|duplicate"],
    ),
    (
        "enum default not a symbol",
        {"type": "enum", "name": "E", "symbols": ["A", "B"], "default": "Z"},
        "/default",
        [r"(?i)default", r"\bZ\b"],
    ),
    (
        "primitive name redefined",
        {"type": "fixed", "name": "int", "size": 1},
        "/name",
        [r"\bint\b", r"(?i)primitive|reserved|redefin"],
    ),
    ("record without fields", {"type": "record", "name": "R"}, None, [r"(?i)fields"]),
    ("enum without symbols", {"type": "enum", "name": "E"}, None, [r"(?i)symbols"]),
    ("array without items", {"type": "array"}, None, [r"(?i)items"]),
    ("map without values", {"type": "map"}, None, [r"(?i)values"]),
    ("object without type", {"name": "x"}, None, [r"(?i)type"]),
    ("field without type", record({"name": "a"}), "/fields/0", [r"(?i)type", r"\ba\b"]),
    ("a number", 42, None, [r"(?i)schema"]),
]


@pytest.mark.parametrize(
    ("schema", "path", "patterns"), [pytest.param(*c[1:], id=c[0]) for c in INVALID_SCHEMAS]
)
def test_invalid_schemas_are_rejected_with_the_reason(
    backend: ModuleType, schema: JSON, path: str | None, patterns: list[str]
) -> None:
    with pytest.raises(SchemaError) as info:
        make(backend, schema)
    message = str(info.value)
    for pattern in patterns:
        assert re.search(pattern, message), f"{pattern!r} not in {message!r}"
    assert info.value.path == path


@pytest.mark.parametrize("text", ["{", "", "[1,", '"int', "int", "nul"])
def test_text_that_is_not_json_is_a_schema_error(backend: ModuleType, text: str) -> None:
    with pytest.raises(SchemaError, match=r"(?i)json"):
        backend.Schema(text)


def test_schema_construction_forms(backend: ModuleType) -> None:
    schema = {"type": "map", "values": ["null", "long"]}
    text = json.dumps(schema)
    forms = [
        backend.Schema(text),
        backend.Schema(text.encode()),
        backend.Schema(schema),
        backend.Schema(backend.Schema(text)),
    ]
    for s in forms:
        assert s.canonical_form == '{"type":"map","values":["null","long"]}'
        assert s.type == "map"
        assert s.name is None
    assert backend.Schema(["null", "int"]).type == "union"
    assert backend.Schema('"int"').type == "int"
    with pytest.raises(ValueError):
        forms[0].fingerprint("CRC-32")


# --------------------------------------------------------------------------------------
# Encode errors
# --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def employee_schema(seed_dir: Path) -> JSON:
    return json.loads((seed_dir / "employee.avsc").read_text())


BOB = {
    "firstName": "Bob",
    "nickName": None,
    "lastName": "Jones",
    "age": 35,
    "emails": ["bob@example.com", "bob.jones@example.org"],
    "phoneNumber": {"areaCode": "301", "countryCode": "1", "prefix": "555", "number": "1234"},
    "status": "SALARY",
}


def with_(base: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A deep copy of ``base`` with ``value`` at ``/a/b`` (a missing value deletes)."""
    out = json.loads(json.dumps(base))
    *parents, last = path.strip("/").split("/")
    target: Any = out
    for p in parents:
        target = target[int(p)] if isinstance(target, list) else target[p]
    if value is MISSING:
        del target[last]
    elif isinstance(target, list):
        target[int(last)] = value
    else:
        target[last] = value
    return out


MISSING = object()

#: (id, path in BOB, bad value, patterns the message must match).
ENCODE_ERRORS: list[tuple[str, str, Any, list[str]]] = [
    ("wrong type", "/firstName", 5, [r"(?i)str"]),
    ("missing field without default", "/lastName", MISSING, [r"(?i)missing|no default"]),
    ("int out of range", "/age", 2**31, [r"(?i)range"]),
    ("negative int out of range", "/age", -(2**31) - 1, [r"(?i)range"]),
    ("bool for an int", "/age", True, [r"(?i)bool|int"]),
    ("float for an int", "/age", 35.0, [r"(?i)float|int"]),
    ("unknown enum symbol", "/status", "FIRED", [r"FIRED"]),
    ("nested field", "/phoneNumber/areaCode", 301, [r"(?i)str"]),
    ("missing nested field", "/phoneNumber/prefix", MISSING, [r"(?i)missing|no default"]),
    ("array item", "/emails/1", b"bytes", [r"(?i)str"]),
    ("not an array", "/emails", "bob@example.com", [r"(?i)list|array|sequence"]),
    ("nullable field", "/nickName", 5, [r"(?i)str|union|branch|match"]),
    ("not a record", "/phoneNumber", "301-555-1234", [r"(?i)dict|record|mapping|union"]),
]


@pytest.mark.parametrize(
    ("path", "value", "patterns"), [pytest.param(*c[1:], id=c[0]) for c in ENCODE_ERRORS]
)
def test_encode_errors_name_the_field(
    backend: ModuleType, employee_schema: JSON, path: str, value: Any, patterns: list[str]
) -> None:
    s = make(backend, employee_schema)
    with pytest.raises(EncodeError) as info:
        backend.encode(s, with_(BOB, path, value))
    message = str(info.value)
    for pattern in patterns:
        assert re.search(pattern, message), f"{pattern!r} not in {message!r}"
    assert info.value.path == path
    assert path in message


def test_no_matching_union_branch(backend: ModuleType) -> None:
    schema = record(
        {"name": "u", "type": ["null", "int", "string"]},
        {"name": "m", "type": {"type": "map", "values": ["null", "boolean"]}},
    )
    s = make(backend, schema)
    with pytest.raises(EncodeError) as info:
        backend.encode(s, {"u": 1.5, "m": {}})
    assert info.value.path == "/u"
    assert re.search(r"(?i)union|branch|match", str(info.value))
    with pytest.raises(EncodeError) as info:
        backend.encode(s, {"u": None, "m": {"ok": True, "bad": "yes"}})
    assert info.value.path == "/m/bad"


#: Values fastavro would take but the codec refuses (stricter on purpose).
STRICT_ENCODE: list[tuple[str, JSON, Any]] = [
    ("bool for int", "int", True),
    ("bool for long", "long", False),
    ("bool for float", "float", True),
    ("bool for double", "double", True),
    ("long beyond 64 bits", "long", 2**63),
    ("int beyond 32 bits", "int", -(2**31) - 1),
    ("short fixed", {"type": "fixed", "name": "F", "size": 4}, b"abc"),
    ("long fixed", {"type": "fixed", "name": "F", "size": 4}, b"abcde"),
    ("str for bytes", "bytes", "abc"),
    ("bytes for string", "string", b"abc"),
    ("int for string", "string", 5),
    ("None for int", "int", None),
    ("str for boolean", "boolean", "true"),
    ("non-str map key", {"type": "map", "values": "int"}, {1: 1}),
    ("decimal beyond precision", lt("bytes", "decimal", precision=3, scale=1), Decimal("123.4")),
    ("decimal beyond scale", lt("bytes", "decimal", precision=5, scale=1), Decimal("1.25")),
    ("decimal NaN", lt("bytes", "decimal", precision=5, scale=1), Decimal("NaN")),
    (
        "fixed decimal beyond precision",
        fixed("D", 2, logicalType="decimal", precision=4),
        Decimal("12345"),
    ),
]


@pytest.mark.parametrize(
    ("schema", "value"), [pytest.param(s, v, id=i) for i, s, v in STRICT_ENCODE]
)
def test_values_that_do_not_fit_are_refused(backend: ModuleType, schema: JSON, value: Any) -> None:
    with pytest.raises(EncodeError):
        backend.encode(make(backend, schema), value)


# --------------------------------------------------------------------------------------
# The tutorial's Employee
# --------------------------------------------------------------------------------------


def test_employee_round_trips(backend: ModuleType, employee_schema: JSON) -> None:
    s = make(backend, employee_schema)
    assert s.name == "com.cloudurable.phonebook.Employee"
    data = check_round_trip(backend, employee_schema, BOB)
    assert backend.decode(s, data) == BOB


def test_employee_without_phone_and_with_defaults(
    backend: ModuleType, employee_schema: JSON
) -> None:
    s = make(backend, employee_schema)
    sparse = {"firstName": "Alice", "lastName": "Smith", "phoneNumber": None}
    data = backend.encode(s, sparse)
    assert data == fastavro_encode(employee_schema, sparse)
    expected = {
        "firstName": "Alice",
        "nickName": None,
        "lastName": "Smith",
        "age": -1,
        "emails": [],
        "phoneNumber": None,
        "status": "SALARY",
    }
    assert_same(backend.decode(s, data), expected)
    assert data == backend.encode(s, expected)
    phone = {"areaCode": "301", "prefix": "555", "number": "1234"}
    data = backend.encode(s, {**sparse, "phoneNumber": phone})
    assert data == fastavro_encode(employee_schema, {**sparse, "phoneNumber": phone})
    assert backend.decode(s, data)["phoneNumber"] == {**phone, "countryCode": ""}


def test_employee_canonical_form(backend: ModuleType, employee_schema: JSON) -> None:
    s = make(backend, employee_schema)
    assert s.canonical_form == fastavro.schema.to_parsing_canonical_form(employee_schema)
    assert s.canonical_form.startswith(
        '{"name":"com.cloudurable.phonebook.Employee","type":"record","fields":['
    )
    assert '"name":"com.cloudurable.phonebook.PhoneNumber"' in s.canonical_form


@pytest.mark.parametrize(
    "name", ["employee.avsc", "employee_v1.avsc", "employee_v2.avsc", "employee_simple.avsc"]
)
def test_every_seed_schema_parses(backend: ModuleType, seed_dir: Path, name: str) -> None:
    schema = json.loads((seed_dir / name).read_text())
    s = backend.Schema((seed_dir / name).read_text())
    assert s.canonical_form == fastavro.schema.to_parsing_canonical_form(schema)


# --------------------------------------------------------------------------------------
# Batches
# --------------------------------------------------------------------------------------


def test_encode_many_and_decode_many(backend: ModuleType, employee_schema: JSON) -> None:
    s = make(backend, employee_schema)
    people = [BOB, {**BOB, "firstName": "Ann", "age": 41}, {**BOB, "phoneNumber": None}]
    encoded = backend.encode_many(s, people)
    assert encoded == [backend.encode(s, p) for p in people]
    assert backend.decode_many(s, encoded) == people
    assert backend.encode_many(s, []) == []
    assert backend.decode_many(s, []) == []
    assert backend.encode_many(s, iter(people)) == encoded


def test_encode_many_reports_every_failure(backend: ModuleType, employee_schema: JSON) -> None:
    s = make(backend, employee_schema)
    items = [BOB, {**BOB, "age": "old"}, BOB, {**BOB, "status": "FIRED"}]
    with pytest.raises(EncodeError) as info:
        backend.encode_many(s, items)
    e = info.value
    assert e.index == 1
    assert e.path == "/age"
    assert str(e).startswith("item 1:")
    good = backend.encode(s, BOB)
    assert e.results == [good, None, good, None]
    assert [i for i, _ in e.errors] == [1, 3]
    assert all(isinstance(err, EncodeError) for _, err in e.errors)
    assert [err.index for _, err in e.errors] == [1, 3]
    assert e.errors[1][1].path == "/status"


def test_decode_many_reports_every_failure(backend: ModuleType, employee_schema: JSON) -> None:
    s = make(backend, employee_schema)
    good = backend.encode(s, BOB)
    items = [good, good[:-1], good, good + b"\x00", b""]
    with pytest.raises(DecodeError) as info:
        backend.decode_many(s, items)
    e = info.value
    assert e.index == 1
    assert str(e).startswith("item 1:")
    assert e.results == [BOB, None, BOB, None, None]
    assert [i for i, _ in e.errors] == [1, 3, 4]
    assert all(isinstance(err, DecodeError) for _, err in e.errors)
    assert e.errors[1][1].offset == len(good)


# --------------------------------------------------------------------------------------
# Canonical form and fingerprints: Apache Avro's share/test/data/schema-tests.txt
# --------------------------------------------------------------------------------------

FOO_CANONICAL = '{"name":"foo","type":"record","fields":[]}'
SPEC_VECTORS: list[tuple[str, str, int]] = [
    ('"null"', '"null"', 7195948357588979594),
    ('{"type":"null"}', '"null"', 7195948357588979594),
    ('"boolean"', '"boolean"', -6970731678124411036),
    ('{"type":"boolean"}', '"boolean"', -6970731678124411036),
    ('"int"', '"int"', 8247732601305521295),
    ('{"type":"int"}', '"int"', 8247732601305521295),
    ('"long"', '"long"', -3434872931120570953),
    ('{"type":"long"}', '"long"', -3434872931120570953),
    ('"float"', '"float"', 5583340709985441680),
    ('{"type":"float"}', '"float"', 5583340709985441680),
    ('"double"', '"double"', -8181574048448539266),
    ('{"type":"double"}', '"double"', -8181574048448539266),
    ('"bytes"', '"bytes"', 5746618253357095269),
    ('{"type":"bytes"}', '"bytes"', 5746618253357095269),
    ('"string"', '"string"', -8142146995180207161),
    ('{"type":"string"}', '"string"', -8142146995180207161),
    ("[  ]", "[]", -1241056759729112623),
    ('[ "int"  ]', '["int"]', -5232228896498058493),
    ('[ "int" , {"type":"boolean"} ]', '["int","boolean"]', 5392556393470105090),
    ('{"fields":[], "type":"record", "name":"foo"}', FOO_CANONICAL, -4824392279771201922),
    (
        '{"fields":[], "type":"record", "name":"foo", "namespace":"x.y"}',
        '{"name":"x.y.foo","type":"record","fields":[]}',
        5916914534497305771,
    ),
    (
        '{"fields":[], "type":"record", "name":"a.b.foo", "namespace":"x.y"}',
        '{"name":"a.b.foo","type":"record","fields":[]}',
        -4616218487480524110,
    ),
    (
        '{"fields":[], "type":"record", "name":"foo", "doc":"Useful info"}',
        FOO_CANONICAL,
        -4824392279771201922,
    ),
    (
        '{"fields":[], "type":"record", "name":"foo", "aliases":["foo","bar"]}',
        FOO_CANONICAL,
        -4824392279771201922,
    ),
    (
        '{"fields":[], "type":"record", "name":"foo", "doc":"foo", "aliases":["foo","bar"]}',
        FOO_CANONICAL,
        -4824392279771201922,
    ),
    (
        '{"fields":[{"type":{"type":"boolean"}, "name":"f1"}], "type":"record", "name":"foo"}',
        '{"name":"foo","type":"record","fields":[{"name":"f1","type":"boolean"}]}',
        7843277075252814651,
    ),
    (
        '{ "fields":[{"type":"boolean", "aliases":[], "name":"f1", "default":"true"},\n'
        '           {"order":"descending","name":"f2","doc":"Hello","type":"int"}],\n'
        '  "type":"record", "name":"foo"\n}',
        '{"name":"foo","type":"record","fields":[{"name":"f1","type":"boolean"},'
        '{"name":"f2","type":"int"}]}',
        -4860222112080293046,
    ),
    (
        '{"type":"enum", "name":"foo", "symbols":["A1"]}',
        '{"name":"foo","type":"enum","symbols":["A1"]}',
        -6342190197741309591,
    ),
    (
        '{"namespace":"x.y.z", "type":"enum", "name":"foo", "doc":"foo bar", '
        '"symbols":["A1", "A2"]}',
        '{"name":"x.y.z.foo","type":"enum","symbols":["A1","A2"]}',
        -4448647247586288245,
    ),
    (
        '{"name":"foo","type":"fixed","size":15}',
        '{"name":"foo","type":"fixed","size":15}',
        1756455273707447556,
    ),
    (
        '{"namespace":"x.y.z", "type":"fixed", "name":"foo", "doc":"foo bar", "size":32}',
        '{"name":"x.y.z.foo","type":"fixed","size":32}',
        -3064184465700546786,
    ),
    (
        '{ "items":{"type":"null"}, "type":"array"}',
        '{"type":"array","items":"null"}',
        -589620603366471059,
    ),
    (
        '{ "values":"string", "type":"map"}',
        '{"type":"map","values":"string"}',
        -8732877298790414990,
    ),
    (
        '  {"name":"PigValue","type":"record",\n'
        '   "fields":[{"name":"value", "type":["null", "int", "long", "PigValue"]}]}',
        '{"name":"PigValue","type":"record","fields":[{"name":"value",'
        '"type":["null","int","long","PigValue"]}]}',
        -1759257747318642341,
    ),
]


@pytest.mark.parametrize(
    ("text", "canonical", "fingerprint"),
    [pytest.param(t, c, f, id=c[:60]) for t, c, f in SPEC_VECTORS],
)
def test_spec_canonical_forms_and_fingerprints(
    backend: ModuleType, text: str, canonical: str, fingerprint: int
) -> None:
    # One vector has an invalid default ("true" for a boolean): the spec file predates
    # default validation.
    s = backend.Schema(text, validate_defaults=False)
    assert s.canonical_form == canonical
    crc = s.fingerprint("CRC-64-AVRO")
    assert len(crc) == 8
    assert int.from_bytes(crc, "little", signed=True) == fingerprint
    assert s.fingerprint() == crc
    assert s.fingerprint("MD5") == hashlib.md5(canonical.encode()).digest()
    assert s.fingerprint("SHA-256") == hashlib.sha256(canonical.encode()).digest()
    again = backend.Schema(canonical, validate_defaults=False)
    assert again.canonical_form == canonical


def test_the_spec_vector_with_a_bad_default_fails_default_validation(
    backend: ModuleType,
) -> None:
    text = next(t for t, _, f in SPEC_VECTORS if f == -4860222112080293046)
    with pytest.raises(SchemaError) as info:
        backend.Schema(text)
    assert info.value.path == "/fields/0/default"


def test_canonical_form_drops_docs_and_names_are_ascii(backend: ModuleType) -> None:
    schema = {"type": "enum", "name": "E", "symbols": ["A"], "doc": 'quote " and é'}
    s = make(backend, schema)
    assert s.canonical_form == '{"name":"E","type":"enum","symbols":["A"]}'
    schema = {"type": "record", "name": "R", "fields": [{"name": "é", "type": "int"}]}
    with pytest.raises(SchemaError):
        make(backend, schema)


def test_decode_errors_carry_offset_and_path(backend: ModuleType, employee_schema: JSON) -> None:
    s = make(backend, employee_schema)
    data = backend.encode(s, BOB)
    bad_status = data[:-1] + b"\x10"
    with pytest.raises(DecodeError) as info:
        backend.decode(s, bad_status)
    assert info.value.offset == len(data) - 1
    assert info.value.path == "/status"
    assert isinstance(info.value, ValueError)
