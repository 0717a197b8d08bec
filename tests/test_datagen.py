"""avrobridge.datagen: random data for any schema encodes on both backends (to the same bytes)
and decodes back as itself; it is deterministic from the seed and of realistic size."""

from __future__ import annotations

import importlib.util
import json
import struct
import sys
import uuid
from datetime import date, datetime, time, timezone
from decimal import Decimal
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import avrobridge._fallback as fallback
import avrobridge._native as native
from avrobridge import Schema
from avrobridge.data import schema_text
from avrobridge.datagen import DataGenerator, generate
from conftest import SEED_DIR
from strategies import assert_same, schemas

ROOT = Path(__file__).resolve().parents[1]


def _workloads() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "bench_workloads", ROOT / "benches" / "workloads.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


WORKLOADS = _workloads()

#: Every type and logical type, named types referenced by short and full name across
#: namespaces, a recursive record, an error type and invalid logical types (ignored).
EVERYTHING: dict[str, Any] = {
    "type": "record",
    "name": "Everything",
    "namespace": "com.example",
    "fields": [
        {"name": "n", "type": "null"},
        {"name": "b", "type": "boolean"},
        {"name": "i", "type": "int"},
        {"name": "l", "type": "long"},
        {"name": "f", "type": "float"},
        {"name": "d", "type": "double"},
        {"name": "by", "type": "bytes"},
        {"name": "s", "type": "string"},
        {"name": "e", "type": {"type": "enum", "name": "Color", "symbols": ["RED", "GREEN"]}},
        {"name": "e2", "type": "Color"},
        {"name": "fx", "type": {"type": "fixed", "name": "other.Hash", "size": 8}},
        {"name": "fx2", "type": "other.Hash"},
        {"name": "arr", "type": {"type": "array", "items": "long"}},
        {"name": "m", "type": {"type": "map", "values": ["null", "double"]}},
        {"name": "u", "type": ["null", "string", "long", "Color"]},
        {"name": "fd", "type": ["float", "double"]},
        {
            "name": "dec",
            "type": {"type": "bytes", "logicalType": "decimal", "precision": 9, "scale": 3},
        },
        {
            "name": "decf",
            "type": {
                "type": "fixed",
                "name": "Money",
                "size": 6,
                "logicalType": "decimal",
                "precision": 12,
                "scale": 2,
            },
        },
        {"name": "uid", "type": {"type": "string", "logicalType": "uuid"}},
        {
            "name": "uidf",
            "type": {"type": "fixed", "name": "Uid", "size": 16, "logicalType": "uuid"},
        },
        {"name": "day", "type": {"type": "int", "logicalType": "date"}},
        {"name": "tms", "type": {"type": "int", "logicalType": "time-millis"}},
        {"name": "tus", "type": {"type": "long", "logicalType": "time-micros"}},
        {"name": "tsms", "type": {"type": "long", "logicalType": "timestamp-millis"}},
        {"name": "tsus", "type": {"type": "long", "logicalType": "timestamp-micros"}},
        {"name": "tsns", "type": {"type": "long", "logicalType": "timestamp-nanos"}},
        {"name": "ltms", "type": {"type": "long", "logicalType": "local-timestamp-millis"}},
        {"name": "ltus", "type": {"type": "long", "logicalType": "local-timestamp-micros"}},
        {"name": "ltns", "type": {"type": "long", "logicalType": "local-timestamp-nanos"}},
        {
            "name": "dur",
            "type": {"type": "fixed", "name": "Dur", "size": 12, "logicalType": "duration"},
        },
        {"name": "bad1", "type": {"type": "long", "logicalType": "date"}},
        {"name": "bad2", "type": {"type": "string", "logicalType": "decimal"}},
        {
            "name": "bad3",
            "type": {"type": "bytes", "logicalType": "decimal", "precision": 2, "scale": 5},
        },
        {
            "name": "when",
            "type": [
                "null",
                {"type": "long", "logicalType": "timestamp-micros"},
                {"type": "int", "logicalType": "date"},
            ],
        },
        {
            "name": "node",
            "type": {
                "type": "record",
                "name": "Node",
                "namespace": "tree",
                "fields": [
                    {"name": "label", "type": "string"},
                    {"name": "children", "type": {"type": "array", "items": "Node"}},
                    {"name": "next", "type": ["null", "Node"]},
                    {"name": "color", "type": "com.example.Color"},
                ],
            },
        },
        {
            "name": "oops",
            "type": [
                "null",
                {"type": "error", "name": "Oops", "fields": [{"name": "msg", "type": "string"}]},
            ],
        },
    ],
}


def _roundtrip(schema: Any, values: list[Any]) -> None:
    """Same bytes on both backends and fastavro's; decodes back exactly, on both."""
    ns, fs = native.Schema(schema), fallback.Schema(schema)
    for value in values:
        data = native.encode(ns, value)
        assert fallback.encode(fs, value) == data
        assert_same(native.decode(ns, data), value)
        assert_same(fallback.decode(fs, data), value)
    assert native.encode_many(ns, values) == fallback.encode_many(fs, values)


def _seed_schemas() -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = [
        (p.stem, json.loads(p.read_text())) for p in sorted(SEED_DIR.glob("*.avsc"))
    ]
    out += [(w.name, w.schema) for w in WORKLOADS.WORKLOADS]
    out.append(("mixed30", WORKLOADS.MIXED_30))
    out.append(("everything", EVERYTHING))
    return out


@pytest.mark.parametrize(("name", "schema"), _seed_schemas(), ids=lambda x: str(x)[:20])
def test_known_schemas_round_trip(name: str, schema: Any) -> None:
    values = generate(schema, 300, seed=7)
    assert len(values) == 300
    _roundtrip(schema, values)


@pytest.mark.parametrize(
    "schema",
    ['"null"', '"int"', '"string"', '["null", "long"]', '{"type": "map", "values": "bytes"}'],
)
def test_non_record_top_level(schema: str) -> None:
    _roundtrip(schema, generate(schema, 50, seed=1))


def test_every_type_has_its_representation() -> None:
    values = generate(EVERYTHING, 400, seed=3)
    first = values[0]
    assert first["n"] is None
    assert isinstance(first["b"], bool)
    assert isinstance(first["dec"], Decimal) and first["dec"].as_tuple().exponent == -3
    assert isinstance(first["decf"], Decimal) and first["decf"].as_tuple().exponent == -2
    assert isinstance(first["uid"], uuid.UUID)
    assert isinstance(first["uidf"], bytes) and len(first["uidf"]) == 16
    assert type(first["day"]) is date
    assert isinstance(first["tms"], time) and first["tms"].microsecond % 1000 == 0
    assert isinstance(first["tus"], time)
    assert first["tsms"].tzinfo is timezone.utc and first["tsms"].microsecond % 1000 == 0
    assert first["tsus"].tzinfo is timezone.utc
    assert first["ltms"].tzinfo is None and first["ltus"].tzinfo is None
    assert isinstance(first["tsns"], int) and isinstance(first["ltns"], int)
    assert isinstance(first["dur"], bytes) and len(first["dur"]) == 12
    assert isinstance(first["bad1"], int) and isinstance(first["bad2"], str)
    assert isinstance(first["bad3"], bytes)
    for v in values:
        # float32-representable floats; decimals within precision
        assert struct.unpack("<f", struct.pack("<f", v["f"]))[0] == v["f"]
        assert len(v["dec"].as_tuple().digits) <= 9
        assert 2000 <= v["tsus"].year <= 2030
        months, days, millis = struct.unpack("<III", v["dur"])
        assert months <= 24 and days <= 30 and millis < 86_400_000
        assert v["u"] is None or isinstance(v["u"], (str, int))
    # Every branch of the unions shows up.
    assert {type(v["u"]) for v in values} == {type(None), str, int}
    assert {type(v["fd"]) for v in values} == {float}
    assert {type(v["when"]) for v in values} == {type(None), date, datetime}
    # A datetime is a date: before a timestamp, a date branch would take it (so fastavro
    # and the codec write it as a date); the generator only makes values that come back.
    when = [
        "null",
        {"type": "int", "logicalType": "date"},
        {"type": "long", "logicalType": "timestamp-micros"},
    ]
    shadowed = {"type": "record", "name": "S", "fields": [{"name": "w", "type": when}]}
    shadowed_values = generate(shadowed, 200)
    _roundtrip(shadowed, shadowed_values)
    assert {type(v["w"]) for v in shadowed_values} == {type(None), date}
    assert any(v["oops"] is not None for v in values)


def _depth(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((_depth(v) for v in value), default=0)
    return 0


def test_recursion_is_bounded() -> None:
    linked = {
        "type": "record",
        "name": "Cell",
        "fields": [
            {"name": "value", "type": "int"},
            {"name": "next", "type": ["Cell", "null"]},  # the recursive branch first
            {"name": "kids", "type": {"type": "map", "values": "Cell"}},
        ],
    }
    values = generate(linked, 200, seed=5, max_depth=4)
    _roundtrip(linked, values)
    assert max(_depth(v) for v in values) <= 12
    assert any(v["next"] is not None for v in values)


def test_no_finite_value_is_an_error() -> None:
    loop = {"type": "record", "name": "Loop", "fields": [{"name": "me", "type": "Loop"}]}
    with pytest.raises(ValueError, match="no finite value"):
        DataGenerator(loop)


def test_deterministic_from_the_seed() -> None:
    a = generate(EVERYTHING, 50, seed=42)
    assert generate(EVERYTHING, 50, seed=42) == a
    assert generate(EVERYTHING, 50, seed=43) != a
    gen = DataGenerator(Schema(json.dumps(EVERYTHING)), seed=42)
    assert [gen.generate() for _ in range(50)] == a


def test_realistic_sizes() -> None:
    values = generate(WORKLOADS.MIXED_30, 1000, seed=11)
    for v in values:
        assert 0 <= len(v["tags"]) <= 5 and 0 <= len(v["attrs"]) <= 5
        assert all(1 <= len(t) <= 12 for t in v["tags"])
        assert len(v["payload"]) <= 24
    nulls = sum(v["maybe_int"] is None for v in values)
    assert 100 < nulls < 350  # about a fifth
    sizes = [len(native.encode(native.Schema(WORKLOADS.MIXED_30), v)) for v in values]
    assert 100 < sum(sizes) / len(sizes) < 600
    employees = generate(schema_text("employee"), 200, seed=1)
    assert all("@" in e for v in employees for e in v["emails"])
    assert all(18 <= v["age"] <= 80 for v in employees)


def test_schema_with_references() -> None:
    ref = json.dumps(
        {
            "type": "record",
            "name": "Address",
            "namespace": "lib",
            "fields": [{"name": "city", "type": "string"}],
        }
    )
    main = json.dumps(
        {"type": "record", "name": "Customer", "fields": [{"name": "home", "type": "lib.Address"}]}
    )
    schema = native.Schema(main, references=[ref])
    values = DataGenerator(schema, seed=2).generate_many(20)
    assert all(isinstance(v["home"]["city"], str) for v in values)
    for v in values:
        assert native.decode(schema, native.encode(schema, v)) == v


@settings(max_examples=200)
@given(schema=schemas(), seed=st.integers(0, 2**32))
def test_generated_schemas_round_trip(schema: Any, seed: int) -> None:
    text = json.dumps(schema)  # a bare str would be taken for JSON text
    gen = DataGenerator(text, seed, max_depth=3)
    _roundtrip(text, gen.generate_many(10))


@settings(max_examples=100)
@given(schema=schemas(top="record"), seed=st.integers(0, 2**32))
def test_generated_record_schemas_round_trip(schema: Any, seed: int) -> None:
    _roundtrip(schema, generate(schema, 10, seed=seed))
