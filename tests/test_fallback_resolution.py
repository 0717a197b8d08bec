"""Parity of schema resolution between the backends: ``avrobridge._fallback`` (pure Python)
must resolve exactly like the Rust extension ``avrobridge._native``.

Compared on both modules, call for call: ``decode``/``decode_many`` with a reader schema, the
``Transcoder`` (plan errors with every message, warnings, ``transcode``, ``transcode_many``,
``transcode_framed_many`` outputs and error lists) and ``reader_writer_incompatibilities``.
The inputs are hand-written schema evolutions with valid and corrupted data, then evolutions
that Hypothesis derives from random schemas (``strategies.schemas``/``data_for``).

Tests that take the ``backend`` fixture pin a documented behaviour on both backends.
"""

from __future__ import annotations

import copy
import datetime
import decimal
import importlib
import json
import math
import os
import pickle
import struct
import sys
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

from avrobridge.errors import DecodeError, FramingError, SchemaResolutionError
from strategies import data_for, schemas

native: ModuleType = importlib.import_module("avrobridge._native")
fallback: ModuleType = importlib.import_module("avrobridge._fallback")

D = decimal.Decimal

# --------------------------------------------------------------------------------------
# Comparing outcomes
# --------------------------------------------------------------------------------------


def _shape(value: Any) -> Any:
    """A comparable, exact picture of a value: types, float bits, dict order, exceptions."""
    if isinstance(value, float):
        return ("float", struct.pack("<d", value).hex())
    if isinstance(value, dict):
        items = []
        for k, v in value.items():  # a loop, not a comprehension: one frame per level
            items.append((k, _shape(v)))
        return ("dict", items)
    if isinstance(value, (list, tuple)):
        # Run-length encoded: arrays of 2^22 zero-byte items stay small.
        runs: list[list[Any]] = []
        for v in value:
            shaped = _shape(v)
            if runs and runs[-1][0] == shaped:
                runs[-1][1] += 1
            else:
                runs.append([shaped, 1])
        return (type(value).__name__, runs)
    if isinstance(value, BaseException):
        return _error(value)
    if isinstance(value, (native.Schema, fallback.Schema)):
        return ("Schema", value.text, value.canonical_form)
    if isinstance(value, datetime.datetime):
        return ("datetime", repr(value), repr(value.tzinfo))
    return (type(value).__name__, repr(value))


def _error(e: BaseException, batch: bool = True) -> tuple[Any, ...]:
    # Parity is the class and the attributes that say where (offset, path, index) and which
    # rules failed (messages, a list); the texts are each backend's own.
    out: tuple[Any, ...] = (
        "error",
        type(e).__name__,
        bool(str(e)),
        getattr(e, "offset", None),
        getattr(e, "path", None),
        getattr(e, "index", None),
        getattr(e, "messages", None),
    )
    results = getattr(e, "results", None)
    if batch and results is not None:
        errors = getattr(e, "errors", [])
        # The raised error is also the first of ``errors``: its batch attributes once.
        out += (_shape(results), [(i, _error(x, False), x is e) for i, x in errors])
    return out


def outcome(fn: Callable[[], Any]) -> tuple[Any, ...]:
    try:
        value = fn()
    except Exception as e:
        return _error(e)
    return ("ok", _shape(value))


def same(fn: Callable[..., Any], *args: Any) -> tuple[Any, ...]:
    """Runs ``fn(module, *args)`` on both backends and asserts identical outcomes."""
    expected = outcome(lambda: fn(native, *args))
    actual = outcome(lambda: fn(fallback, *args))
    assert actual == expected, f"fastavro backend differs from native:\n{actual}\n{expected}"
    return expected


def varint(n: int) -> bytes:
    z = (n << 1) ^ (n >> 63)
    out = bytearray()
    while z >= 0x80:
        out.append((z & 0x7F) | 0x80)
        z >>= 7
    out.append(z)
    return bytes(out)


def text(schema: Any) -> str:
    """Schema JSON text of a schema given as Python data (a bare "int" is the type name)."""
    return json.dumps(schema)


def corruptions(data: bytes) -> list[bytes]:
    """Prefixes, a few byte changes at each position, and trailing bytes (every position of
    short data; the first and last 40 and every 53rd of long data)."""
    n = len(data)
    positions = [i for i in range(n) if n <= 120 or i < 40 or i >= n - 40 or i % 53 == 0]
    out = [data[:i] for i in positions]
    for i in positions:
        for b in (0x00, 0x01, 0x7F, 0x80, 0xFF):
            if data[i] != b:
                out.append(data[:i] + bytes([b]) + data[i + 1 :])
    out += [data + b"\x00", data + b"\x02\x02"]
    return out


class Pair:
    """A writer and a reader schema, as Schema objects of both backends."""

    def __init__(self, writer: Any, reader: Any, validate_defaults: bool = True) -> None:
        self.writer_text = text(writer)
        self.reader_text = text(reader)
        self.w = {
            m: m.Schema(self.writer_text, validate_defaults=validate_defaults)
            for m in (native, fallback)
        }
        self.r = {
            m: m.Schema(self.reader_text, validate_defaults=validate_defaults)
            for m in (native, fallback)
        }

    def transcoder(self, m: ModuleType) -> Any:
        return m.Transcoder(self.w[m], self.r[m])


def check_pair(pair: Pair, inputs: Sequence[bytes]) -> tuple[Any, ...]:
    """Every resolution entry point of both backends on ``pair`` and ``inputs``."""
    plan = same(lambda m: pair.transcoder(m))
    if plan[0] == "ok":
        same(lambda m: pair.transcoder(m).warnings)
        same(lambda m: pair.transcoder(m).changes)
        same(lambda m: repr(pair.transcoder(m)))
    same(lambda m: m.reader_writer_incompatibilities(pair.r[m], pair.w[m]))
    same(lambda m: m.reader_writer_incompatibilities(pair.w[m], pair.r[m]))
    for data in inputs:
        same(lambda m, d: m.decode(pair.w[m], d, pair.r[m]), data)
        if plan[0] == "ok":
            same(lambda m, d: pair.transcoder(m).transcode(d), data)
    same(lambda m: m.decode_many(pair.w[m], list(inputs), reader=pair.r[m]))
    if plan[0] == "ok":
        same(lambda m: pair.transcoder(m).transcode_many(inputs))
        same(lambda m: pair.transcoder(m).transcode_many(inputs, prefix=b"\x00\x00\x00\x00\x07"))
        framed = [b"\x00\x00\x00\x01\x02" + d for d in inputs]
        same(lambda m: pair.transcoder(m).transcode_framed_many(framed, 7))
        same(lambda m: pair.transcoder(m).transcode_framed_many(framed, None))
        same(lambda m: pair.transcoder(m).transcode_framed_many(framed, 2**32 - 1, 258))
    return plan


# --------------------------------------------------------------------------------------
# Hand-written evolutions
# --------------------------------------------------------------------------------------


def rec(name: str, *fields: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"type": "record", "name": name, **extra, "fields": list(fields)}


def fld(name: str, type_: Any, **extra: Any) -> dict[str, Any]:
    return {"name": name, "type": type_, **extra}


def enum(name: str, symbols: list[str], **extra: Any) -> dict[str, Any]:
    return {"type": "enum", "name": name, "symbols": symbols, **extra}


def fixed(name: str, size: int, **extra: Any) -> dict[str, Any]:
    return {"type": "fixed", "name": name, "size": size, **extra}


def array(items: Any) -> dict[str, Any]:
    return {"type": "array", "items": items}


def map_(values: Any) -> dict[str, Any]:
    return {"type": "map", "values": values}


def dec(precision: int, scale: int, size: int | None = None) -> dict[str, Any]:
    if size is None:
        return {"type": "bytes", "logicalType": "decimal", "precision": precision, "scale": scale}
    return {
        "type": "fixed",
        "name": f"D{size}",
        "size": size,
        "logicalType": "decimal",
        "precision": precision,
        "scale": scale,
    }


@dataclass(frozen=True)
class Evolution:
    id: str
    writer: Any
    reader: Any
    values: tuple[Any, ...] = ()
    # Extra raw writer bytes (hand-made encodings the encoder does not produce).
    raw: tuple[bytes, ...] = ()


INT_EDGES = (0, 1, -1, 63, -64, 64, 2**31 - 1, -(2**31))
LONG_EDGES = (
    *INT_EDGES,
    2**53 + 1,
    2**63 - 1,
    -(2**63),
    16_777_217,
    -16_777_217,
    # rounded once to f32 it goes up; through f64 it would tie and go down
    2**60 + 2**36 + 1,
    -(2**60 + 2**36 + 1),
    2**55 + 2**31 + 2**30,
)
FLOAT_BITS = (
    b"\x00\x00\x80\x3f",  # 1.0
    b"\x00\x00\x80\x7f",  # inf
    b"\x00\x00\xc0\x7f",  # quiet NaN
    b"\x01\x00\x80\x7f",  # signalling NaN
    b"\x01\x00\xc0\xff",  # NaN with payload and sign
    b"\x01\x00\x00\x00",  # smallest subnormal
    b"\x00\x00\x00\x80",  # -0.0
)

LIST_W = rec("Node", fld("value", "int"), fld("next", ["null", "Node"]))
LIST_R = rec(
    "Node",
    fld("label", "string", default="-"),
    fld("next", ["null", "Node"]),
    fld("value", "long"),
)
LIST_V = {"value": 1, "next": {"value": 2, "next": {"value": 3, "next": None}}}
TREE_W = rec("Tree", fld("v", "int"), fld("kids", array("Tree")))
TREE_R = rec(
    "Tree",
    fld("kids", array("Tree")),
    fld("v", "double"),
    fld("meta", map_("string"), default={"k": "v"}),
)
TREE_V = {"v": 1, "kids": [{"v": 2, "kids": []}, {"v": 3, "kids": [{"v": 4, "kids": []}]}]}

POINT_W = rec("Point", fld("x", "int"), fld("y", "int"))
POINT_R = rec("Point", fld("y", "long"), fld("x", "float"), fld("z", "double", default=0))
SUIT = ["SPADES", "HEARTS", "DIAMONDS", "CLUBS"]

EVOLUTIONS: list[Evolution] = [
    # fields
    Evolution(
        "add_field_with_default",
        rec("R", fld("a", "int")),
        rec("R", fld("a", "int"), fld("b", "string", default="x")),
        ({"a": 5}, {"a": -(2**31)}),
    ),
    Evolution(
        "add_field_without_default",
        rec("R", fld("a", "int")),
        rec("R", fld("a", "int"), fld("b", "string"), fld("c", "int")),
        ({"a": 5},),
    ),
    Evolution(
        "drop_fields",
        rec(
            "R",
            fld("a", "int"),
            fld("b", "string"),
            fld("c", array("long")),
            fld("d", map_(["null", "string"])),
            fld("e", "boolean"),
        ),
        rec("R", fld("a", "int"), fld("e", "boolean")),
        (
            {"a": 1, "b": "héllo", "c": [1, 2, 3], "d": {"k": None, "l": "v"}, "e": True},
            {"a": 1, "b": "", "c": [], "d": {}, "e": False},
        ),
        # invalid UTF-8 in a skipped string is not checked; in a kept one it is
        raw=(b"\x02\x02\xff\x00\x00\x01", b"\x02\x02\xff\x00\x00\x02"),
    ),
    Evolution(
        "reorder_fields",
        rec("R", fld("a", "int"), fld("b", "string"), fld("c", "double"), fld("d", "bytes")),
        rec("R", fld("d", "bytes"), fld("c", "double"), fld("a", "int"), fld("b", "string")),
        ({"a": 1, "b": "x", "c": 1.5, "d": b"\x00\xff"},),
    ),
    Evolution(
        "reorder_promote_default_skip",
        rec(
            "R",
            fld("a", "int"),
            fld("gone", array("string")),
            fld("b", "long"),
            fld("c", "float"),
            fld("s", "string"),
        ),
        rec(
            "R",
            fld("c", "double"),
            fld("new", ["null", "int"], default=None),
            fld("b", "double"),
            fld("a", "long"),
            fld("s", "bytes"),
            fld("new2", "int", default=-0),
        ),
        (
            {"a": 7, "gone": ["x", "y"], "b": 2**60 + 2**36 + 1, "c": 0.1, "s": "é"},
            {"a": -1, "gone": [], "b": -(2**63), "c": -0.0, "s": ""},
        ),
    ),
    Evolution(
        "rename_field_with_alias",
        rec("R", fld("old", "int"), fld("keep", "string")),
        rec("R", fld("keep", "string"), fld("new", "long", aliases=["older", "old"])),
        ({"old": 3, "keep": "k"},),
    ),
    Evolution(
        "field_alias_and_name_both_present",
        rec("R", fld("a", "int"), fld("b", "int")),
        rec("R", fld("b", "int", aliases=["a"]), fld("c", "int", aliases=["a"], default=9)),
        ({"a": 1, "b": 2},),
    ),
    Evolution(
        "same_writer_field_for_two_reader_fields",
        rec("R", fld("a", "int")),
        rec("R", fld("x", "int", aliases=["a"]), fld("y", "int", aliases=["a"])),
        ({"a": 1},),
    ),
    # promotions
    *[
        Evolution(f"promote_{w}_{r}", w, r, values)
        for w, r, values in [
            ("int", "long", INT_EDGES),
            ("int", "float", (*INT_EDGES, 16_777_217, 2**31 - 65)),
            ("int", "double", INT_EDGES),
            ("long", "float", LONG_EDGES),
            ("long", "double", LONG_EDGES),
            ("float", "double", (0.0, 1.5, -3.25e38, 1e-45, math.inf, -math.inf)),
            ("string", "bytes", ("", "é€", "x" * 70)),
            ("bytes", "string", (b"", b"ascii", "é".encode(), b"\xff\xfe", b"\xc3")),
            ("long", "int", (1,)),
            ("double", "float", (1.0,)),
            ("int", "string", (1,)),
            ("boolean", "int", (True,)),
            ("null", "int", (None,)),
        ]
    ],
    Evolution(
        "float_to_double_nan_payloads",
        "float",
        "double",
        raw=FLOAT_BITS,
    ),
    Evolution(
        "promote_in_collections",
        rec("R", fld("a", array("int")), fld("m", map_("long")), fld("f", array("float"))),
        rec("R", fld("a", array("double")), fld("m", map_("float")), fld("f", array("double"))),
        ({"a": [1, 2**31 - 1], "m": {"x": 2**60 + 2**36 + 1, "é": -1}, "f": [0.5]},),
        raw=(
            # negative block counts with byte sizes, several blocks
            varint(-2) + varint(2) + b"\x02\x04" + varint(1) + b"\x06\x00"
            b"\x00" + varint(-1) + varint(5) + b"\x00" + b"\x00\x00\x00\x00\x00",
            # block byte size beyond the input
            varint(-1) + varint(99) + b"\x02\x00\x00\x00",
        ),
    ),
    # unions
    Evolution(
        "nullable_int_to_nullable_long",
        ["null", "int"],
        ["null", "long"],
        (None, 1, -(2**31)),
        raw=(b"\x04\x02", b"\x01", b"\x02\x80\x80\x80\x80\x10"),
    ),
    Evolution(
        "union_branch_reorder", ["null", "int", "string"], ["string", "int", "null"], (None, 5, "x")
    ),
    Evolution(
        "union_branch_removed",
        ["null", "int", "string"],
        ["null", "string"],
        (None, 5, "x"),
    ),
    Evolution(
        "widen_to_union_first_match_with_promotion",
        "int",
        ["null", "string", "double", "long"],
        (0, 2**31 - 1),
    ),
    Evolution("widen_to_union_exact", "long", ["null", "long"], (3,)),
    Evolution("widen_to_union_no_match", "boolean", ["null", "string"], (True,)),
    Evolution(
        "union_to_non_union_partly",
        ["int", "string", "null"],
        "long",
        (1, "x", None),
    ),
    Evolution("union_to_non_union_none", ["string", "null"], "long", ("x", None)),
    Evolution(
        "union_branch_promoted_first_match",
        ["int", "float"],
        ["double", "float", "long"],
        (1, 2.5),
    ),
    Evolution(
        "union_of_records_partly_resolvable",
        ["null", rec("A", fld("a", "int")), rec("B", fld("b", "string"))],
        [
            "null",
            rec("A", fld("a", "long"), fld("extra", "int")),
            rec("B", fld("b", "bytes"), fld("n", "int", default=1)),
        ],
        (None, {"a": 1}, {"b": "x"}),
    ),
    Evolution(
        "union_record_matched_by_alias",
        ["null", rec("ns.Old", fld("a", "int"))],
        ["null", rec("New", fld("a", "int"), aliases=["ns.Old"])],
        (None, {"a": 4}),
    ),
    Evolution(
        "union_decimals_need_equal_parameters",
        ["null", dec(5, 2, 4), "string"],
        [
            {**dec(6, 2, 4), "name": "A", "aliases": ["D4"]},
            dec(5, 2, 4),
            "null",
            "string",
        ],
        (None, D("1.25"), "s"),
    ),
    Evolution(
        "union_decimal_to_plain_bytes_branch",
        ["null", dec(5, 2)],
        [dec(6, 2), "null"],
        (None, D("1.25")),
    ),
    Evolution(
        "union_fixed_sizes",
        [fixed("F", 2), "null"],
        [fixed("F", 3), "null"],
        (b"ab", None),
    ),
    Evolution(
        "empty_writer_union",
        rec("R", fld("a", "int"), fld("u", [])),
        rec("R", fld("a", "int")),
        raw=(b"\x02\x00", b"\x02"),
    ),
    Evolution("union_to_empty_union", ["null", "int"], [], (None, 1)),
    Evolution("int_to_empty_union", "int", [], (1,)),
    Evolution(
        "nested_unions_in_collections",
        array(["null", "int", map_(["string", "null"])]),
        array(["null", "long", map_(["null", "bytes"])]),
        ([None, 1, {"a": "x", "b": None}, {}],),
    ),
    # enums
    Evolution(
        "enum_add_symbol",
        enum("Suit", SUIT),
        enum("Suit", [*SUIT, "JOKER"]),
        tuple(SUIT),
        raw=(b"\x08", b"\x01"),
    ),
    Evolution(
        "enum_remove_symbol_without_default",
        rec("R", fld("s", enum("Suit", SUIT)), fld("t", array(enum("T", ["A", "B", "C"])))),
        rec("R", fld("s", enum("Suit", SUIT[:2])), fld("t", array(enum("T", ["C", "A"])))),
        (
            {"s": "SPADES", "t": ["A", "C"]},
            {"s": "CLUBS", "t": []},
            {"s": "HEARTS", "t": ["C", "B"]},
        ),
    ),
    Evolution(
        "enum_remove_symbol_with_default",
        enum("Suit", SUIT),
        enum("Suit", ["CLUBS", "SPADES"], default="SPADES"),
        tuple(SUIT),
    ),
    Evolution(
        "enum_rename_with_alias",
        enum("a.Suit", SUIT),
        enum("b.Colour", list(reversed(SUIT)), aliases=["a.Suit"]),
        tuple(SUIT),
    ),
    Evolution("enum_name_mismatch", enum("Suit", SUIT), enum("Colour", SUIT), ("SPADES",)),
    Evolution(
        "enum_same_short_name_other_namespace",
        enum("a.Suit", SUIT),
        enum("b.Suit", SUIT),
        ("CLUBS",),
    ),
    Evolution(
        "enum_reader_field_with_enum_default_missing_in_writer",
        rec("R", fld("a", "int")),
        rec("R", fld("a", "int"), fld("e", enum("E", ["X", "Y"], default="Y"))),
        ({"a": 1},),
    ),
    # names
    Evolution(
        "record_rename_with_alias",
        rec("Old", fld("a", "int"), namespace="x"),
        rec("New", fld("a", "int"), namespace="y", aliases=["x.Old"]),
        ({"a": 1},),
    ),
    Evolution(
        "record_alias_short_name_in_other_namespace",
        rec("Old", fld("a", "int"), namespace="x"),
        rec("New", fld("a", "int"), namespace="y", aliases=["Old"]),
        ({"a": 1},),
    ),
    Evolution(
        "record_name_mismatch_everywhere",
        rec("A", fld("a", "int"), fld("f", fixed("F", 2)), fld("e", enum("E", ["X"]))),
        rec("B", fld("a", "int"), fld("f", fixed("G", 3)), fld("e", enum("H", ["X"]))),
        ({"a": 1, "f": b"ab", "e": "X"},),
    ),
    Evolution(
        "nested_name_and_size_mismatch",
        rec("A", fld("f", fixed("F", 2)), fld("e", enum("E", ["X"])), fld("g", "F")),
        rec("A", fld("f", fixed("G", 3)), fld("e", enum("H", ["X"])), fld("g", "G")),
        ({"f": b"ab", "e": "X", "g": b"cd"},),
    ),
    Evolution(
        "fixed_rename_with_alias",
        fixed("a.F", 3),
        fixed("G", 3, aliases=["a.F"]),
        (b"abc",),
    ),
    # nested, shared and collection records
    Evolution(
        "nested_records",
        rec("Outer", fld("p", POINT_W), fld("q", "Point"), fld("tag", "string")),
        rec("Outer", fld("tag", "string"), fld("q", POINT_R), fld("p", "Point")),
        ({"p": {"x": 1, "y": 2}, "q": {"x": -3, "y": 4}, "tag": "t"},),
    ),
    Evolution(
        "array_and_map_of_evolving_records",
        rec("Outer", fld("pts", array(POINT_W)), fld("named", map_("Point"))),
        rec("Outer", fld("named", map_(POINT_R)), fld("pts", array("Point"))),
        (
            {"pts": [{"x": 1, "y": 2}, {"x": 3, "y": 4}], "named": {"a": {"x": 5, "y": 6}}},
            {"pts": [], "named": {}},
            {"pts": [], "named": {"k" * 70: {"x": 5, "y": 6}, "k" * 9000: {"x": 5, "y": 6}}},
        ),
    ),
    Evolution(
        "map_key_path_in_errors",
        map_(enum("E", ["A", "B"])),
        map_(enum("E", ["A"])),
        ({"short": "B"}, {"k" * 63: "B"}, {"k" * 64: "B"}, {"k" * 8200: "B"}, {"é" * 40: "B"}),
    ),
    Evolution(
        "deep_path_in_errors",
        rec("R", fld("a", array(rec("S", fld("m", map_(["null", enum("E", ["A", "B"])])))))),
        rec("R", fld("a", array(rec("S", fld("m", map_(["null", enum("E", ["A"])])))))),
        ({"a": [{"m": {"x": "A"}}, {"m": {"y": None, "z": "B"}}]},),
    ),
    # recursive types
    Evolution("linked_list", LIST_W, LIST_R, (LIST_V, {"value": 0, "next": None})),
    Evolution("tree", TREE_W, TREE_R, (TREE_V,)),
    Evolution(
        "recursive_list_missing_field",
        LIST_W,
        rec("Node", fld("value", "int"), fld("next", ["null", "Node"]), fld("x", "int")),
        (LIST_V,),
    ),
    Evolution(
        "recursion_through_union_with_failing_branch",
        rec("T", fld("v", ["int", "string", array("T")])),
        rec("T", fld("v", ["long", array("T")])),
        ({"v": 1}, {"v": [{"v": 2}, {"v": "x"}]}, {"v": [{"v": [{"v": 3}]}]}),
    ),
    # fixed, decimals, logical types
    Evolution("fixed_size_mismatch", fixed("F", 4), fixed("F", 5), (b"abcd",)),
    Evolution("decimal_same", dec(5, 2), dec(5, 2), (D("1.25"), D("-999.99"))),
    Evolution("decimal_other_scale", dec(5, 2), dec(5, 3), (D("1.25"),)),
    Evolution("decimal_other_precision", dec(5, 2, 4), dec(6, 2, 4), (D("1.25"),)),
    Evolution("decimal_to_bytes", dec(5, 2), "bytes", (D("1.25"),)),
    Evolution("bytes_to_decimal", "bytes", dec(5, 2), (b"\x01\x00", b"")),
    Evolution("decimal_to_string", dec(5, 2), "string", (D("0.65"), D("-1.27"))),
    Evolution("decimal_bytes_to_fixed", dec(5, 2), dec(5, 2, 4), (D("1.25"),)),
    Evolution(
        "logical_types_ignored",
        rec(
            "R",
            fld("d", {"type": "int", "logicalType": "date"}),
            fld("t", {"type": "long", "logicalType": "timestamp-millis"}),
            fld("u", {"type": "string", "logicalType": "uuid"}),
            fld("i", "int"),
            fld("s", "string"),
        ),
        rec(
            "R",
            fld("d", "int"),
            fld("t", {"type": "long", "logicalType": "timestamp-micros"}),
            fld("u", "string"),
            fld("i", {"type": "int", "logicalType": "date"}),
            fld("s", {"type": "string", "logicalType": "uuid"}),
        ),
        (
            {
                "d": datetime.date(2020, 1, 2),
                "t": datetime.datetime(2020, 1, 2, 3, 4, 5, 6000, tzinfo=datetime.timezone.utc),
                "u": uuid.UUID(int=7),
                "i": 18000,
                "s": str(uuid.UUID(int=8)),
            },
            # reader-side validation after transcoding: date out of range, invalid UUID
            {
                "d": datetime.date(1, 1, 1),
                "t": datetime.datetime(9999, 1, 1, tzinfo=datetime.timezone.utc),
                "u": uuid.UUID(int=7),
                "i": 2**31 - 1,
                "s": "not a uuid",
            },
        ),
    ),
    Evolution(
        "int_to_time_and_long_to_timestamp",
        rec("R", fld("a", "int"), fld("b", "long"), fld("c", "int")),
        rec(
            "R",
            fld("a", {"type": "int", "logicalType": "time-millis"}),
            fld("b", {"type": "long", "logicalType": "timestamp-millis"}),
            fld("c", {"type": "long", "logicalType": "local-timestamp-micros"}),
        ),
        ({"a": 1000, "b": 0, "c": 5}, {"a": -1, "b": 2**62, "c": -(2**31)}),
    ),
    # identical, zero-width, primitive identity
    Evolution(
        "identical_records",
        rec("R", fld("a", array(["null", "string"])), fld("b", map_(fixed("F", 0)))),
        rec("R", fld("a", array(["null", "string"])), fld("b", map_(fixed("F", 0)))),
        ({"a": [None, "x"], "b": {"k": b""}},),
        raw=(b"\x02\x02\x02\xff\x00\x00",),
    ),
    Evolution(
        "zero_width_items",
        array(rec("E", fld("n", "null"))),
        array(rec("E", fld("n", "null"), fld("x", ["int", "null"], default=3))),
        ([], [{"n": None}] * 3),
        raw=(varint(1000) + b"\x00", varint(-5) + varint(0) + b"\x00"),
    ),
    Evolution(
        "null_to_union",
        array("null"),
        array(["int", "null"]),
        ([None, None],),
        raw=(varint(300) + varint(1) + b"\x00",),
    ),
    Evolution(
        "type_mismatches_listed_together",
        rec("R", fld("a", "int"), fld("b", "string"), fld("c", array("int")), fld("d", "boolean")),
        rec(
            "R",
            fld("a", "boolean"),
            fld("b", map_("string")),
            fld("c", array("string")),
            fld("e", "int"),
            fld("d", "boolean"),
        ),
        ({"a": 1, "b": "x", "c": [1], "d": True},),
    ),
]


def _default_fields() -> Evolution:
    """One reader field per kind of default (encoded at plan time, default.rs)."""
    defaults: list[tuple[Any, Any]] = [
        ("null", None),
        ("boolean", True),
        ("int", -(2**31)),
        ("long", 2**63 - 1),
        ("float", 1e300),  # beyond f32: infinity
        ("float", -1e-50),  # below f32: -0.0
        ("float", 16_777_217),
        ("double", 18446744073709551615),
        ("double", -0.0),
        ("bytes", "\u00ff\u0000é"),
        ("string", "é€\u0000"),
        (fixed("FX", 2), "\u00ffa"),
        (enum("EX", ["A", "B"]), "B"),
        (array("int"), []),
        (array(["null", "int"]), [None, 5]),
        (map_("string"), {"b": "1", "a": "2", "é": "3"}),
        (map_("long"), {}),
        (["null", "string"], None),
        (["null", "string"], "s"),  # Avro 1.12: any branch, the first that matches
        (["string", "bytes"], "x"),
        (["int", "long", "float"], 2**40),
        (["int", "double"], 1.5),
        (["int", "double"], -0),
        ({"type": "int", "logicalType": "date"}, 5),
        (dec(4, 2), "\u0001\u0000"),
        (
            rec(
                "RX",
                fld("p", "int", default=1),
                fld("q", ["null", "RX"], default=None),
                fld("r", "string"),
            ),
            {"r": "rr", "q": {"r": "inner", "p": 2}},
        ),
    ]
    reader = rec(
        "R",
        fld("keep", "int"),
        *[fld(f"f{i}", t, default=d) for i, (t, d) in enumerate(defaults)],
    )
    return Evolution("defaults_of_every_kind", rec("R", fld("keep", "int")), reader, ({"keep": 1},))


EVOLUTIONS.append(_default_fields())


def _evolution_inputs(evo: Evolution) -> list[bytes]:
    writer = native.Schema(text(evo.writer))
    return [native.encode(writer, v) for v in evo.values] + list(evo.raw)


@pytest.mark.parametrize("evo", EVOLUTIONS, ids=[e.id for e in EVOLUTIONS])
def test_evolution(evo: Evolution) -> None:
    inputs = _evolution_inputs(evo)
    check_pair(Pair(evo.writer, evo.reader), inputs)


@pytest.mark.parametrize("evo", EVOLUTIONS, ids=[e.id for e in EVOLUTIONS])
def test_evolution_corrupted_input(evo: Evolution) -> None:
    pair = Pair(evo.writer, evo.reader)
    plan = same(lambda m: pair.transcoder(m))
    writer = native.Schema(text(evo.writer))
    inputs = [native.encode(writer, v) for v in evo.values] + [r for r in evo.raw if len(r) < 50]
    for data in inputs[:4]:
        bad = corruptions(data)
        same(lambda m, b: m.decode_many(pair.w[m], b, reader=pair.r[m]), bad)
        if plan[0] == "ok":
            same(lambda m, b: pair.transcoder(m).transcode_many(b), bad)


@pytest.mark.parametrize("evo", EVOLUTIONS, ids=[e.id for e in EVOLUTIONS])
def test_evolution_reversed(evo: Evolution) -> None:
    """The reader as writer: often incompatible, which is compared too."""
    pair = Pair(evo.reader, evo.writer)
    plan = same(lambda m: pair.transcoder(m))
    same(lambda m: m.reader_writer_incompatibilities(pair.r[m], pair.w[m]))
    if plan[0] == "ok":
        same(lambda m: pair.transcoder(m).warnings)
        same(lambda m: pair.transcoder(m).changes)


EXPECTED_PLANS: list[tuple[str, Any]] = [
    ("add_field_with_default", []),
    (
        "add_field_without_default",
        [
            "READER_FIELD_MISSING_DEFAULT_VALUE at /fields/1: field 'b' has no default value "
            "and the writer has no such field",
            "READER_FIELD_MISSING_DEFAULT_VALUE at /fields/2: field 'c' has no default value "
            "and the writer has no such field",
        ],
    ),
    ("promote_long_int", ["TYPE_MISMATCH at /: writer type long cannot be read as int"]),
    (
        "union_branch_removed",
        ["MISSING_UNION_BRANCH at /1: the reader union has no branch for the writer's int"],
    ),
    (
        "union_to_non_union_partly",
        [
            "MISSING_UNION_BRANCH at /1: the writer union's string branch cannot be read as long",
            "MISSING_UNION_BRANCH at /2: the writer union's null branch cannot be read as long",
        ],
    ),
    (
        "union_to_non_union_none",
        [
            "MISSING_UNION_BRANCH at /: the reader can take none of the writer union's branches",
        ],
    ),
    (
        "enum_remove_symbol_without_default",
        [
            "MISSING_ENUM_SYMBOLS at /fields/0/type/symbols: [DIAMONDS, CLUBS]: records "
            "holding them cannot be read (the reader enum has no default)",
            "MISSING_ENUM_SYMBOLS at /fields/1/type/items/symbols: [B]: records holding them "
            "cannot be read (the reader enum has no default)",
        ],
    ),
    ("enum_remove_symbol_with_default", []),
    ("enum_name_mismatch", ["NAME_MISMATCH at /name: expected: Suit"]),
    ("fixed_size_mismatch", ["FIXED_SIZE_MISMATCH at /size: expected: 4, found: 5"]),
    (
        "decimal_other_scale",
        [
            "DECIMAL_MISMATCH at /: decimal(5, 2) data cannot be read as decimal(5, 3): the "
            "specification matches decimals only with equal precision and scale"
        ],
    ),
    (
        "union_of_records_partly_resolvable",
        [
            "READER_FIELD_MISSING_DEFAULT_VALUE at /1/fields/1: field 'extra' has no default "
            "value and the writer has no such field",
        ],
    ),
]


@pytest.mark.parametrize(("evo_id", "expected"), EXPECTED_PLANS, ids=[e[0] for e in EXPECTED_PLANS])
def test_plan_messages(backend: ModuleType, evo_id: str, expected: list[str]) -> None:
    """Plan errors (SchemaResolutionError.messages) and warnings, pinned."""
    evo = next(e for e in EVOLUTIONS if e.id == evo_id)
    w, r = backend.Schema(text(evo.writer)), backend.Schema(text(evo.reader))
    try:
        t = backend.Transcoder(w, r)
    except SchemaResolutionError as e:
        assert e.messages == expected
        assert str(e) == (
            "cannot read data written with the writer schema using the reader schema: "
            + "; ".join(expected)
        )
        with pytest.raises(SchemaResolutionError):
            backend.decode(w, _evolution_inputs(evo)[0], r)
    else:
        assert t.warnings == expected


@pytest.mark.parametrize(
    ("writer", "reader", "value", "expected"),
    [
        ("int", ["null", "string", "double", "long"], 3, 3.0),
        ("int", ["null", "long", "double"], 3, 3),
        (["null", "int"], ["long", "null"], 3, 3),
        ("long", "float", 2**60 + 2**36 + 1, float(2**60 + 2**37)),
        ("string", "bytes", "é", "é".encode()),
        (
            rec("R", fld("a", "int")),
            rec("R", fld("b", ["null", "string"], default="x"), fld("a", "long")),
            {"a": 1},
            {"b": "x", "a": 1},
        ),
        (enum("E", ["A", "B"]), enum("E", ["B"], default="B"), "A", "B"),
        (
            LIST_W,
            LIST_R,
            LIST_V,
            {
                "label": "-",
                "next": {
                    "label": "-",
                    "next": {"label": "-", "next": None, "value": 3},
                    "value": 2,
                },
                "value": 1,
            },
        ),
    ],
)
def test_resolved_values(
    backend: ModuleType, writer: Any, reader: Any, value: Any, expected: Any
) -> None:
    """The specification's rules: first matching reader branch (promotions included), long
    to float rounded once, defaults encoded with the first branch they match."""
    data = backend.encode(text(writer), value)
    got = backend.decode(text(writer), data, reader=text(reader))
    assert got == expected
    assert _shape(got) == _shape(expected)
    t = backend.Transcoder(text(writer), text(reader))
    assert backend.decode(text(reader), t.transcode(data)) == got


def test_warnings_and_read_time_errors(backend: ModuleType) -> None:
    t = backend.Transcoder(text(["null", "int", "string"]), text(["null", "string"]))
    assert t.warnings == [
        "MISSING_UNION_BRANCH at /1: the reader union has no branch for the writer's int"
    ]
    assert t.transcode(b"\x00") == b"\x00"
    assert t.transcode(b"\x04\x02x") == b"\x02\x02x"
    with pytest.raises(DecodeError) as info:
        t.transcode(b"\x02\x02")
    assert str(info.value) == (
        "cannot decode at byte 0: union branch 1: the reader union has no branch for the "
        "writer's int"
    )
    assert info.value.offset == 0


def test_changes_list_what_happens_to_the_records(backend: ModuleType) -> None:
    writer = rec(
        "R",
        fld("a", "int"),
        fld("gone", "string"),
        fld("e", {"type": "enum", "name": "E", "symbols": ["A", "B", "C"]}),
    )
    reader = {
        "type": "record",
        "name": "R2",
        "aliases": ["R"],
        "fields": [
            {"name": "b", "aliases": ["a"], "type": "double"},
            {
                "name": "e",
                "type": {"type": "enum", "name": "E", "symbols": ["A", "X"], "default": "X"},
            },
            {"name": "new", "type": "string", "default": ""},
        ],
    }
    t = backend.Transcoder(text(writer), text(reader))
    assert t.changes == [
        ("NAME_ALIASED", "/", "the writer's R is read as R2 through an alias"),
        ("FIELD_RENAMED", "/fields/0", "writer field 'a' is read as 'b' through an alias"),
        ("TYPE_PROMOTED", "/fields/0/type", "int is promoted to double"),
        (
            "ENUM_SYMBOL_DEFAULTED",
            "/fields/1/type/symbols",
            "[B, C] are read as the reader's default 'X'",
        ),
        ("FIELD_DEFAULTED", "/fields/2", "field 'new' is not in the writer: its default is used"),
        ("FIELD_DROPPED", "/", "writer field 'gone' is not in the reader: dropped"),
    ]
    assert backend.Transcoder(text(writer), text(writer)).changes == []
    with pytest.raises(AttributeError):
        t.changes = []


def test_plan_error_attributes(backend: ModuleType) -> None:
    with pytest.raises(SchemaResolutionError) as info:
        backend.Transcoder(
            text(rec("R", fld("x", "int"))), text(rec("R", fld("x", "string"), fld("y", "int")))
        )
    assert info.value.messages == [
        "TYPE_MISMATCH at /fields/0/type: writer type int cannot be read as string",
        "READER_FIELD_MISSING_DEFAULT_VALUE at /fields/1: field 'y' has no default value and "
        "the writer has no such field",
    ]
    assert isinstance(info.value, ValueError)


def test_invalid_default_is_a_plan_error_when_not_validated() -> None:
    writer = rec("R", fld("a", "int"))
    reader = rec(
        "R",
        fld("a", "int"),
        fld("b", "int", default="x"),
        fld("c", ["null", "int"], default=1.5),
        fld("d", "long", default=-0.5),
        fld("e", "string", default="é" * 30),
        fld("f", rec("S", fld("x", "int")), default={}),
    )
    pair = Pair(writer, reader, validate_defaults=False)
    plan = check_pair(pair, [b"\x02"])
    assert plan[1] == "SchemaResolutionError"
    # the invalid defaults are fine when the writer has the fields
    pair = Pair(reader, reader, validate_defaults=False)
    assert check_pair(pair, [b"\x02\x02\x02\x02\x02\x02"])[0] == "ok"


# --------------------------------------------------------------------------------------
# Framing, batches and arguments
# --------------------------------------------------------------------------------------

POINT_PAIR_ARGS = (text(POINT_W), text(POINT_R))


def test_framed_batch(backend: ModuleType) -> None:
    t = backend.Transcoder(*POINT_PAIR_ARGS)
    good = b"\x00\x00\x00\x00\x01\x02\x04"
    items = [
        good,
        b"",
        b"\x01\x00\x00\x00\x01\x02\x04",
        b"\x00\x00\x00",
        b"\x00\x00\x00\x00\x02\x02\x04",
        good + b"\x00",
        b"\x00\x00\x00\x00\x01\x02",
        bytearray(good),
    ]
    outputs, errors = t.transcode_framed_many(items, 300, expected_writer_id=1)
    expected_body = backend.Transcoder(*POINT_PAIR_ARGS).transcode(b"\x02\x04")
    assert outputs[0] == b"\x00\x00\x00\x01\x2c" + expected_body
    assert outputs[7] == outputs[0]
    assert outputs[1:7] == [None] * 6
    assert [i for i, _ in errors] == [1, 2, 3, 4, 5, 6]
    for i, e in errors:
        assert e.index == i
    kinds = [type(e) for _, e in errors]
    assert kinds == [FramingError] * 4 + [DecodeError] * 2
    assert [str(e) for _, e in errors] == [
        "item 1: empty record: not in the Confluent wire format",
        "item 2: unknown magic byte 1: not in the Confluent wire format (magic byte 0 + "
        "4-byte schema id)",
        "item 3: record of 3 bytes is shorter than the 5-byte Confluent header",
        "item 4: record has schema id 2, this transcoder reads schema id 1",
        "item 5: cannot decode at byte 7: 1 trailing bytes after the datum",
        "item 6: cannot decode at byte 6: truncated input: varint ends early",
    ]
    assert [e.offset for _, e in errors] == [0, 0, 0, 0, 7, 6]
    # without an expected writer id any id passes
    outputs, errors = t.transcode_framed_many(items[4:5], 0)
    assert errors == [] and outputs[0] is not None


FRAMED_ITEMS = [
    b"\x00\x00\x00\x00\x01\x02\x04",
    b"",
    b"\x00",
    b"\x00\x00\x00\x00",
    b"\x07\x00\x00\x00\x01\x02\x04",
    b"\xff",
    b"\x00\x00\x00\x00\x01",
    b"\x00\x00\x00\x00\x01\x02\x04\x06",
    b"\x00\xff\xff\xff\xff\x02\x04",
]


@pytest.mark.parametrize(
    ("schema_id", "expected"),
    [
        (0, None),
        (1, 1),
        (2**32 - 1, 2**32 - 1),
        (True, False),
        (-1, None),
        (2**32, None),
        (2**64, None),
        (2**70, None),
        (1.0, None),
        ("1", None),
        (None, None),
        (5, -1),
        (5, 2**32),
        (5, 1.5),
        (5, "x"),
        (decimal.Decimal(3), None),
        (_ := type("Idx", (), {"__index__": lambda self: 9})(), None),
    ],
)
def test_framed_arguments(schema_id: Any, expected: Any) -> None:
    same(
        lambda m: m.Transcoder(*POINT_PAIR_ARGS).transcode_framed_many(
            FRAMED_ITEMS, schema_id, expected
        )
    )
    same(
        lambda m: m.Transcoder(*POINT_PAIR_ARGS).transcode_framed_many(
            items=FRAMED_ITEMS, schema_id=schema_id, expected_writer_id=expected
        )
    )


@pytest.mark.parametrize(
    "items",
    [
        [],
        [b"\x02\x04", bytearray(b"\x02\x04"), b"\x02"],
        [b"\x02\x04", "x"],
        [b"\x02\x04", memoryview(b"\x02\x04")],
        [b"\x02\x04", None],
        (b for b in [b"\x02\x04", b"\x02\x04\x00"]),
        5,
        None,
        b"\x02\x04",
    ],
)
def test_batch_items(items: Any) -> None:
    snapshot = list(items) if not isinstance(items, (int, type(None), bytes)) else items

    def batch(m: ModuleType, method: str) -> Any:
        data = iter(snapshot) if isinstance(snapshot, list) else snapshot
        t = m.Transcoder(*POINT_PAIR_ARGS)
        if method == "framed":
            framed: Any = data
            if isinstance(snapshot, list):
                framed = [
                    b"\x00\x00\x00\x00\x01" + x if isinstance(x, (bytes, bytearray)) else x
                    for x in snapshot
                ]
            return t.transcode_framed_many(framed, 1)
        return t.transcode_many(data)

    same(lambda m: batch(m, "plain"))
    same(lambda m: batch(m, "framed"))
    if isinstance(snapshot, list):
        same(lambda m: m.decode_many(POINT_PAIR_ARGS[0], iter(snapshot), reader=POINT_PAIR_ARGS[1]))


@pytest.mark.parametrize(
    "data", [bytearray(b"\x02\x04"), memoryview(b"\x02\x04"), "x", None, 5, b"\x02\x04"]
)
def test_transcode_argument(data: Any) -> None:
    same(lambda m: m.Transcoder(*POINT_PAIR_ARGS).transcode(data))
    same(lambda m: m.decode(POINT_PAIR_ARGS[0], data, POINT_PAIR_ARGS[1]))
    same(lambda m: m.decode(POINT_PAIR_ARGS[0], data, reader=None))


@pytest.mark.parametrize(
    ("writer", "reader"),
    [
        ('"int"', '"string"'),
        ('"int"', "not json"),
        ("not json", '"int"'),
        ('"int"', {"type": "nope"}),
        ('"int"', 5),
        (b'"int"', b'"long"'),
        ({"type": "int"}, ["null", "long"]),
        ('"int"', None),
    ],
)
def test_schema_arguments(writer: Any, reader: Any) -> None:
    same(lambda m: m.Transcoder(writer, reader))
    same(lambda m: m.decode(writer, b"\x02", reader))
    same(lambda m: m.decode_many(writer, [b"\x02", b"\x04\x00"], reader=reader))
    same(lambda m: m.decode_many(writer, [], reader=reader))
    same(lambda m: m.reader_writer_incompatibilities(reader, writer))


def test_transcoder_object(backend: ModuleType) -> None:
    w = backend.Schema(text(POINT_W))
    t = backend.Transcoder(w, text(POINT_R))
    assert t.writer is w
    assert t.reader.canonical_form == backend.Schema(text(POINT_R)).canonical_form
    assert repr(t) == "Transcoder(Point -> Point)"
    assert repr(backend.Transcoder('"int"', '["null","long"]')) == "Transcoder(int -> union)"
    assert t.warnings == [] and t.warnings is not t.warnings
    with pytest.raises(AttributeError):
        t.warnings = []
    with pytest.raises(AttributeError):
        t.writer = w
    with pytest.raises(AttributeError):
        t.other = 1
    with pytest.raises(TypeError):
        type("Sub", (backend.Transcoder,), {})
    with pytest.raises(TypeError, match="cannot pickle"):
        pickle.dumps(t)
    with pytest.raises(TypeError):
        backend.Transcoder(w)
    assert t == t and t != backend.Transcoder(w, text(POINT_R))
    hash(t)


def test_transcoder_surface_matches() -> None:
    t_n = native.Transcoder(*POINT_PAIR_ARGS)
    t_f = fallback.Transcoder(*POINT_PAIR_ARGS)
    public = sorted(n for n in dir(t_n) if not n.startswith("_"))
    assert public == sorted(n for n in dir(t_f) if not n.startswith("_"))
    assert type(t_f).__module__ == "avrobridge._fallback"
    same(lambda m: m.Transcoder(*POINT_PAIR_ARGS).nope)
    same(lambda m: setattr(m.Transcoder(*POINT_PAIR_ARGS), "warnings", []))
    same(lambda m: setattr(m.Transcoder(*POINT_PAIR_ARGS), "other", 1))
    same(lambda m: m.Transcoder(POINT_PAIR_ARGS[0]))


def test_decode_many_with_unresolvable_reader(backend: ModuleType) -> None:
    with pytest.raises(SchemaResolutionError) as info:
        backend.decode_many('"int"', [b"\x02", b"\x04"], reader='"string"')
    e = info.value
    assert e.results == [None, None]  # type: ignore[attr-defined]
    assert [i for i, _ in e.errors] == [0, 1]  # type: ignore[attr-defined]
    assert all(isinstance(x, SchemaResolutionError) for _, x in e.errors)  # type: ignore[attr-defined]
    assert backend.decode_many('"int"', [], reader='"string"') == []


def test_decode_many_with_reader_partial_failure(backend: ModuleType) -> None:
    w, r = text(["null", "int", "string"]), text(["null", "string"])
    with pytest.raises(DecodeError) as info:
        backend.decode_many(w, [b"\x00", b"\x02\x02", b"\x04\x02x", b"\x06"], reader=r)
    e = info.value
    assert e.index == 1
    assert e.results == [None, None, "x", None]
    assert [(i, x.offset) for i, x in e.errors] == [(1, 0), (3, 0)]


# --------------------------------------------------------------------------------------
# Depth and size limits
# --------------------------------------------------------------------------------------


def _nested_list(depth: int) -> bytes:
    """A linked list of ``depth`` nodes, encoded with LIST_W."""
    return (b"\x02\x02" * (depth - 1)) + b"\x02\x00"


@pytest.fixture
def deep_compare() -> Iterator[None]:
    """Comparing the pictures of 512-level data recurses deeper than the default limit."""
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 20_000))
    try:
        yield
    finally:
        sys.setrecursionlimit(limit)


@pytest.mark.usefixtures("deep_compare")
@pytest.mark.parametrize("depth", [1, 100, 511, 512, 513, 600])
def test_deep_recursive_data(depth: int) -> None:
    data = _nested_list(depth)
    pair = Pair(LIST_W, LIST_R)
    same(lambda m: pair.transcoder(m).transcode(data))
    same(lambda m: m.decode(pair.w[m], data, pair.r[m]))
    # identical schemas: one copy op walks the whole datum
    same(lambda m: m.Transcoder(pair.w[m], pair.w[m]).transcode(data))


@pytest.mark.usefixtures("deep_compare")
def test_deep_tree_data() -> None:
    data = b"\x02" + b"\x02\x02" * 300 + b"\x00" * 301
    pair = Pair(TREE_W, TREE_R)
    same(lambda m: pair.transcoder(m).transcode(data))
    same(lambda m: m.decode(pair.w[m], data, pair.r[m]))


FOREST = rec("Tree", fld("kids", array("Tree")), fld("pts", array(rec("P", fld("x", "double")))))


@pytest.mark.usefixtures("deep_compare")
@pytest.mark.parametrize("levels", [254, 255, 256])
@pytest.mark.parametrize(
    "reader",
    [
        FOREST,
        rec("Tree", fld("pts", array(rec("P", fld("x", "double")))), fld("kids", array("Tree"))),
    ],
)
def test_fixed_size_items_at_the_depth_limit(levels: int, reader: Any) -> None:
    """Arrays of fixed-size items (here records of one double) are walked a block at a time,
    without the items' own depth check: at the limit the transcoder accepts what the decoder
    refuses."""
    data = b"\x02" * levels + b"\x00\x02" + b"\x00" * 8 + b"\x00" + b"\x00\x00" * levels
    pair = Pair(FOREST, reader)
    same(lambda m: pair.transcoder(m).transcode(data))
    same(lambda m: m.decode(pair.w[m], data, pair.r[m]))
    same(lambda m: m.decode(pair.w[m], data))


@pytest.mark.parametrize(
    ("writer", "reader"),
    [
        (array(rec("E", fld("n", "null"))), array(rec("E", fld("x", ["int", "null"], default=3)))),
        (array("null"), array(["int", "null"])),
        (array(fixed("F", 0)), array(fixed("F", 0))),
    ],
)
def test_zero_width_item_limits(writer: Any, reader: Any) -> None:
    """At most 2^22 items of zero bytes per datum (the outputs are compared as bytes; decoding
    millions of items is left to the codec tests)."""
    pair = Pair(writer, reader)
    for counts in ([2**22], [2**22 + 1], [2**22 - 1, 1], [2**22, 1], [-(2**21), 2**21], [3]):
        data = b"".join(varint(c) + (varint(0) if c < 0 else b"") for c in counts) + b"\x00"
        result = same(lambda m, d: pair.transcoder(m).transcode(d), data)
        if result[0] == "error" or counts == [3]:
            same(lambda m, d: m.decode(pair.w[m], d, pair.r[m]), data)


def test_zero_width_item_limit_counts_replayed_items() -> None:
    """Reordered fields are walked when saved and again when replayed."""
    writer = rec("R", fld("a", array("null")), fld("b", "int"))
    reader = rec("R", fld("b", "int"), fld("a", array(["int", "null"])))
    pair = Pair(writer, reader)
    half = native.DEFAULT_MAX_ZERO_BYTE_ITEMS // 2
    for n in (half, half + 1, 2 * half):
        data = varint(n) + b"\x00\x02"
        result = same(lambda m, d: pair.transcoder(m).transcode(d), data)
        assert (result[0] == "ok") == (n <= half)
        if result[0] == "error":
            same(lambda m, d: m.decode(pair.w[m], d, pair.r[m]), data)


# --------------------------------------------------------------------------------------
# Hypothesis: evolutions derived from random schemas
# --------------------------------------------------------------------------------------

PRIMITIVE_NAMES = ("null", "boolean", "int", "long", "float", "double", "bytes", "string")
PROMOTE = {
    "int": ["long", "float", "double", "string", "int"],
    "long": ["float", "double", "int"],
    "float": ["double", "int"],
    "double": ["float"],
    "string": ["bytes"],
    "bytes": ["string", "fixed"],
    "boolean": ["int"],
    "null": ["boolean"],
}
NEW_FIELDS: list[tuple[Any, Any]] = [
    ("int", 7),
    ("long", -1),
    ("string", "é"),
    ("bytes", "\u00ff"),
    (["null", "string"], None),
    (["string", "null"], "x"),
    (["null", "long"], 3),
    (array("int"), [1, 2]),
    (map_("double"), {"a": 1.5}),
    ("float", 1e300),
    ("boolean", False),
    ("null", None),
    ("double", 2),
]


class _Mutator:
    def __init__(self, draw: st.DrawFn) -> None:
        self.draw = draw
        self.fresh = 0

    def chance(self, one_in: int) -> bool:
        return self.draw(st.integers(0, one_in - 1)) == 0

    def new_name(self, prefix: str) -> str:
        self.fresh += 1
        return f"{prefix}Zz{self.fresh}"

    def mutate(self, schema: Any, depth: int = 0) -> Any:
        if depth > 12:
            return schema
        if isinstance(schema, str):
            if schema in PRIMITIVE_NAMES:
                return self.primitive(schema)
            if self.chance(8):
                return ["null", schema]
            return schema
        if isinstance(schema, list):
            return self.union(schema, depth)
        if not isinstance(schema, dict):
            return schema
        kind = schema.get("type")
        if isinstance(kind, (dict, list)):
            out = dict(schema)
            out["type"] = self.mutate(kind, depth + 1)
            return out
        if kind in ("record", "error"):
            return self.record(schema, depth)
        if kind == "enum":
            return self.enum(schema)
        if kind == "fixed":
            out = dict(schema)
            if self.chance(10):
                out["size"] = schema["size"] + 1
            if self.chance(10):
                out.pop("logicalType", None)
            return out
        if kind == "array":
            return {**schema, "items": self.mutate(schema["items"], depth + 1)}
        if kind == "map":
            return {**schema, "values": self.mutate(schema["values"], depth + 1)}
        if kind in PRIMITIVE_NAMES:
            choice = self.draw(st.integers(0, 5))
            if choice == 0:
                return kind  # drop the logical type
            if choice == 1:
                return self.primitive(kind)
            if choice == 2 and kind == "bytes" and schema.get("logicalType") == "decimal":
                return {**schema, "scale": schema.get("scale", 0) + 1, "precision": 50}
            return schema
        return schema

    def primitive(self, name: str) -> Any:
        choice = self.draw(st.integers(0, 9))
        if choice < 5:
            return name
        if choice < 8:
            target = self.draw(st.sampled_from(PROMOTE[name]))
            if target == "fixed":
                return fixed(self.new_name("F"), 2)
            return target
        others = [p for p in PRIMITIVE_NAMES if p != name]
        branches = [name, *self.draw(st.lists(st.sampled_from(others), max_size=2, unique=True))]
        return self.draw(st.permutations(branches))

    def union(self, branches: list[Any], depth: int) -> Any:
        out = [self.mutate(b, depth + 1) for b in branches]
        # a mutated branch may have become a union or duplicate another: keep it valid
        flat: list[Any] = []
        seen: set[str] = set()
        for b in out:
            for x in b if isinstance(b, list) else [b]:
                key = json.dumps(x) if not isinstance(x, dict) else str(id(x))
                if isinstance(x, str) and x in PRIMITIVE_NAMES:
                    key = x
                elif isinstance(x, dict) and x.get("type") in ("array", "map"):
                    key = x["type"]
                if key not in seen:
                    seen.add(key)
                    flat.append(x)
        if flat and self.chance(4):
            del flat[self.draw(st.integers(0, len(flat) - 1))]
        if self.chance(4):
            flat = list(self.draw(st.permutations(flat)))
        if len(flat) == 1 and self.chance(2):
            return flat[0]
        return flat

    def record(self, schema: dict[str, Any], depth: int) -> Any:
        out = dict(schema)
        fields = [dict(f) for f in schema["fields"]]
        for f in fields:
            if self.chance(2):
                f["type"] = self.mutate(f["type"], depth + 1)
        if fields and self.chance(4):
            del fields[self.draw(st.integers(0, len(fields) - 1))]
        if fields and self.chance(5):
            f = fields[self.draw(st.integers(0, len(fields) - 1))]
            old = f["name"]
            f["name"] = self.new_name("f")
            f["aliases"] = [*f.get("aliases", []), old] if self.chance(4) != 0 else [old]
        if self.chance(3):
            t, d = self.draw(st.sampled_from(NEW_FIELDS))
            new = {"name": self.new_name("n"), "type": copy.deepcopy(t)}
            if not self.chance(4):
                new["default"] = d
            fields.insert(self.draw(st.integers(0, len(fields))), new)
        if self.chance(3):
            fields = list(self.draw(st.permutations(fields)))
        out["fields"] = fields
        if self.chance(12):
            out["aliases"] = [*schema.get("aliases", []), self.new_name("a")]
        return out

    def enum(self, schema: dict[str, Any]) -> Any:
        out = dict(schema)
        symbols = list(schema["symbols"])
        if self.chance(3):
            symbols.append(self.new_name("S"))
        if len(symbols) > 1 and self.chance(3):
            del symbols[self.draw(st.integers(0, len(symbols) - 1))]
        if self.chance(4):
            symbols = list(self.draw(st.permutations(symbols)))
        out["symbols"] = symbols
        if out.get("default") not in symbols:
            out.pop("default", None)
        if symbols and self.chance(3):
            out["default"] = self.draw(st.sampled_from(symbols))
        return out


@st.composite
def evolutions(draw: st.DrawFn) -> tuple[Any, Any, list[Any]]:
    writer = draw(schemas(max_depth=4, budget=16))
    reader = _Mutator(draw).mutate(writer)
    values = draw(st.lists(data_for(writer, max_depth=3), min_size=1, max_size=3))
    return writer, reader, values


def _mutation(data: bytes) -> st.SearchStrategy[bytes]:
    cut = st.integers(0, max(len(data) - 1, 0)).map(lambda i: data[:i])
    flip = st.tuples(st.integers(0, max(len(data) - 1, 0)), st.integers(0, 255)).map(
        lambda p: data[: p[0]] + bytes([p[1]]) + data[p[0] + 1 :] if data else bytes([p[1]])
    )
    extend = st.binary(min_size=1, max_size=3).map(lambda tail: data + tail)
    return st.one_of(cut, flip, extend, st.binary(max_size=12))


# RESOLUTION_EXAMPLES=20000 makes a long hunt for differences.
HYPOTHESIS_SETTINGS = settings(
    max_examples=int(os.environ.get("RESOLUTION_EXAMPLES", "250")),
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.filter_too_much,
    ],
)


def _encode_all(writer: Any, values: Iterable[Any]) -> list[bytes]:
    out = []
    for v in values:
        try:
            out.append(native.encode(writer, v))
        except Exception:
            continue
    return out


@HYPOTHESIS_SETTINGS
@given(evolutions(), st.booleans(), st.data())
def test_hypothesis_evolutions(
    evolution: tuple[Any, Any, list[Any]], validate: bool, data: st.DataObject
) -> None:
    writer, reader, values = evolution
    reader_ok = same(lambda m: m.Schema(json.dumps(reader), validate_defaults=validate))
    assume(reader_ok[0] == "ok")
    pair = Pair(writer, reader, validate_defaults=validate)
    inputs = _encode_all(pair.w[native], values)
    for raw in list(inputs):
        inputs.append(data.draw(_mutation(raw)))
    plan = check_pair(pair, inputs)
    event(f"plan: {plan[0] if plan[0] == 'ok' else plan[1]}")
    if plan[0] == "ok":
        event(f"warnings: {bool(native.Transcoder(pair.w[native], pair.r[native]).warnings)}")


@HYPOTHESIS_SETTINGS
@given(schemas(max_depth=3, budget=10), schemas(max_depth=3, budget=10), st.data())
def test_hypothesis_unrelated_schemas(writer: Any, reader: Any, data: st.DataObject) -> None:
    pair = Pair(writer, reader)
    values = data.draw(st.lists(data_for(writer, max_depth=2), max_size=2))
    inputs = _encode_all(pair.w[native], values)
    inputs.append(data.draw(st.binary(max_size=10)))
    plan = check_pair(pair, inputs)
    event(f"plan: {plan[0] if plan[0] == 'ok' else plan[1]}")


@HYPOTHESIS_SETTINGS
@given(schemas(max_depth=4, budget=16), st.data())
def test_hypothesis_identity(writer: Any, data: st.DataObject) -> None:
    """A schema read as itself: the plan copies; every input is validated like a decode."""
    pair = Pair(writer, writer)
    values = data.draw(st.lists(data_for(writer, max_depth=3), min_size=1, max_size=3))
    inputs = _encode_all(pair.w[native], values)
    for raw in list(inputs):
        inputs.append(data.draw(_mutation(raw)))
    assert check_pair(pair, inputs)[0] == "ok"
    for raw in inputs:
        same(lambda m, d: m.Transcoder(pair.w[m], pair.w[m]).transcode(d), raw)


def test_transcode_many_starts_each_output_with_the_prefix(backend: Any) -> None:
    """What a backfill needs: records of a container file (no frame) out with the sink's."""
    writer = backend.Schema(json.dumps(rec("R", fld("a", "int"), fld("b", "string"))))
    reader = backend.Schema(json.dumps(rec("R", fld("b", "string"))))
    good = backend.encode(writer, {"a": 1, "b": "x"})
    prefix = b"\x00\x00\x00\x00\x07"
    outputs, errors = backend.Transcoder(writer, reader).transcode_many(
        [good, b"\x02", good], prefix=prefix
    )
    assert outputs[0] == outputs[2] == prefix + backend.encode(reader, {"b": "x"})
    assert outputs[1] is None and [i for i, _ in errors] == [1]
