"""A conformance corpus for Avro schema compatibility and schema resolution.

Every :class:`Case` is one (reader, writer) pair with two independent expectations:

* ``compatible`` / ``incompatibilities``: what Apache Avro Java's
  ``org.apache.avro.SchemaCompatibility.checkReaderWriterCompatibility`` (1.11/1.12, and so
  Confluent Schema Registry) answers: the (type, location, message) triples, in Java's order.
* ``transcode``: what a resolver that follows the Avro *specification* does with the pair:
  ``"ok"`` (every datum resolves), ``"plan_error"`` (no datum can ever resolve, so building the
  resolution fails up front) or ``"read_time"`` (only the records that use the offending symbol
  or union branch fail). ``data`` are writer values that must resolve; their decoded reader
  values come from fastavro (the oracle) unless ``expected`` gives them, which is done only
  where fastavro departs from the specification (the note says how). ``unreadable`` are
  writer values whose records must fail to resolve.

The expectations were written by hand from the Java source's rules and the specification;
they were not produced by running avrobridge. ``docs/resolution.md`` lists the points where
Java, fastavro and the specification disagree, with the ids of the cases that pin them.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

__all__ = ["CASES", "HISTORIES", "Case", "Finding", "History", "Outcome"]

Outcome = Literal["ok", "plan_error", "read_time"]
Finding = tuple[str, str, str]
Schema = Any  # schema JSON as Python data: str (primitive or name), dict or list (union)


@dataclass(frozen=True)
class Case:
    id: str
    reader: Schema
    writer: Schema
    compatible: bool
    incompatibilities: tuple[Finding, ...] = ()
    transcode: Outcome = "ok"
    data: tuple[Any, ...] = ()
    expected: tuple[Any, ...] | None = None
    unreadable: tuple[Any, ...] = ()
    note: str = ""


# ---------------------------------------------------------------------------------------------
# helpers


def rec(name: str, *fields: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"type": "record", "name": name, **extra, "fields": list(fields)}


def fld(name: str, type_: Schema, **extra: Any) -> dict[str, Any]:
    return {"name": name, "type": type_, **extra}


def enum(name: str, symbols: list[str], **extra: Any) -> dict[str, Any]:
    return {"type": "enum", "name": name, **extra, "symbols": symbols}


def fixed(name: str, size: int, **extra: Any) -> dict[str, Any]:
    return {"type": "fixed", "name": name, **extra, "size": size}


def array(items: Schema) -> dict[str, Any]:
    return {"type": "array", "items": items}


def map_(values: Schema) -> dict[str, Any]:
    return {"type": "map", "values": values}


def dec(precision: int, scale: int, size: int | None = None) -> dict[str, Any]:
    if size is None:
        return {"type": "bytes", "logicalType": "decimal", "precision": precision, "scale": scale}
    return {
        "type": "fixed",
        "name": f"Dec{size}",
        "size": size,
        "logicalType": "decimal",
        "precision": precision,
        "scale": scale,
    }


def logical(base: str, name: str) -> dict[str, Any]:
    return {"type": base, "logicalType": name}


def tm(reader: str, writer: str, location: str = "/") -> Finding:
    return (
        "TYPE_MISMATCH",
        location,
        f"reader type: {reader} not compatible with writer type: {writer}",
    )


def name_mismatch(expected: str, location: str = "/name") -> Finding:
    return ("NAME_MISMATCH", location, f"expected: {expected}")


def size_mismatch(expected: int, found: int, location: str = "/size") -> Finding:
    return ("FIXED_SIZE_MISMATCH", location, f"expected: {expected}, found: {found}")


def missing_symbols(symbols: str, location: str = "/symbols") -> Finding:
    return ("MISSING_ENUM_SYMBOLS", location, symbols)


def missing_default(field: str, location: str) -> Finding:
    return ("READER_FIELD_MISSING_DEFAULT_VALUE", location, field)


def missing_branch(writer_type: str, location: str = "/") -> Finding:
    return ("MISSING_UNION_BRANCH", location, f"reader union lacking writer type: {writer_type}")


def ok(id_: str, reader: Schema, writer: Schema, *data: Any, note: str, **kw: Any) -> Case:
    return Case(id_, reader, writer, True, (), "ok", tuple(data), note=note, **kw)


def bad(
    id_: str,
    reader: Schema,
    writer: Schema,
    findings: list[Finding],
    outcome: Outcome,
    *,
    note: str,
    data: tuple[Any, ...] = (),
    unreadable: tuple[Any, ...] = (),
    expected: tuple[Any, ...] | None = None,
) -> Case:
    return Case(
        id_, reader, writer, False, tuple(findings), outcome, data, expected, unreadable, note
    )


# ---------------------------------------------------------------------------------------------
# 1. the 8x8 matrix of primitive types

PRIMITIVES = ["null", "boolean", "int", "long", "float", "double", "bytes", "string"]

#: reader type -> writer types it can read (identity and the spec's promotions)
READABLE: dict[str, set[str]] = {
    "null": {"null"},
    "boolean": {"boolean"},
    "int": {"int"},
    "long": {"int", "long"},
    "float": {"int", "long", "float"},
    "double": {"int", "long", "float", "double"},
    "bytes": {"bytes", "string"},
    "string": {"string", "bytes"},
}

#: one writer value per primitive, chosen so that every promotion is exact
SAMPLE: dict[str, Any] = {
    "null": None,
    "boolean": True,
    "int": -7,
    "long": 2**40,
    "float": 1.5,
    "double": 0.1,
    "bytes": b"h\xc3\xa9",
    "string": "h\u00e9llo",
}


def _matrix() -> list[Case]:
    cases = []
    for reader in PRIMITIVES:
        for writer in PRIMITIVES:
            id_ = f"prim_{writer}_to_{reader}"
            if writer in READABLE[reader]:
                kind = "identity" if reader == writer else "a promotion of the specification"
                cases.append(
                    ok(id_, reader, writer, SAMPLE[writer], note=f"{writer} -> {reader} is {kind}")
                )
            else:
                cases.append(
                    bad(
                        id_,
                        reader,
                        writer,
                        [tm(reader.upper(), writer.upper())],
                        "plan_error",
                        note=f"no promotion from {writer} to {reader}: TYPE_MISMATCH at the root",
                    )
                )
    return cases


# ---------------------------------------------------------------------------------------------
# 2. promotions: precision, and promotions inside arrays, maps, unions and records

PROMOTIONS = [
    ok(
        "promote_int_to_float_rounds",
        "float",
        "int",
        2**24 + 1,
        expected=(16777216.0,),
        note="int -> float yields a 32-bit float: 16777217 rounds to 16777216. fastavro returns "
        "the unrounded Python float 16777217.0, which no Avro float can hold; the spec wins",
    ),
    ok(
        "promote_long_to_float_rounds",
        "float",
        "long",
        2**40 + 1,
        expected=(1099511627776.0,),
        note="long -> float yields a 32-bit float (fastavro keeps double precision: spec wins)",
    ),
    ok(
        "promote_long_to_double_rounds",
        "double",
        "long",
        2**53 + 1,
        note="long -> double rounds to the nearest double, 2**53",
    ),
    ok(
        "promote_float_to_double_exact_widening",
        "double",
        "float",
        0.1,
        note="float -> double widens the 32-bit value: 0.1f becomes 0.10000000149011612",
    ),
    ok(
        "promote_int_extremes_to_long",
        "long",
        "int",
        -(2**31),
        2**31 - 1,
        note="int -> long keeps both ends of the int range",
    ),
    ok(
        "promote_string_to_bytes_utf8",
        "bytes",
        "string",
        "",
        "\u20ac\U0001f600",
        note="string -> bytes yields the UTF-8 encoding",
    ),
    ok(
        "promote_array_items_int_to_long",
        array("long"),
        array("int"),
        [1, -2, 2**31 - 1],
        [],
        note="array items are resolved recursively",
    ),
    ok(
        "promote_array_items_int_to_double",
        array("double"),
        array("int"),
        [1, 2],
        note="array items: int -> double",
    ),
    ok(
        "promote_map_values_int_to_double",
        map_("double"),
        map_("int"),
        {"a": 1, "b": -3},
        {},
        note="map values are resolved recursively",
    ),
    ok(
        "promote_map_values_bytes_to_string",
        map_("string"),
        map_("bytes"),
        {"k": b"v"},
        note="map values: bytes -> string",
    ),
    ok(
        "promote_array_of_arrays",
        array(array("long")),
        array(array("int")),
        [[1], [], [2, 3]],
        note="nested arrays resolve item by item",
    ),
    ok(
        "promote_map_of_arrays_float_to_double",
        map_(array("double")),
        map_(array("float")),
        {"x": [1.5, -0.25]},
        note="arrays inside map values",
    ),
    ok(
        "promote_union_null_int_to_null_long",
        ["null", "long"],
        ["null", "int"],
        None,
        5,
        -(2**31),
        note="each writer branch finds its reader branch: null -> null, int -> long",
    ),
    ok(
        "promote_union_in_array",
        array(["null", "long"]),
        array(["null", "int"]),
        [None, 1, None, 2],
        note="a promoting union inside array items",
    ),
    ok(
        "promote_union_in_map",
        map_(["null", "double"]),
        map_(["null", "float"]),
        {"a": None, "b": 0.5},
        note="a promoting union inside map values",
    ),
    ok(
        "promote_record_field_int_to_long",
        rec("R", fld("a", "long")),
        rec("R", fld("a", "int")),
        {"a": 7},
        note="record fields are resolved by name, recursively",
    ),
    ok(
        "promote_record_union_field",
        rec("R", fld("a", ["null", "long"], default=None)),
        rec("R", fld("a", ["null", "int"], default=None)),
        {"a": None},
        {"a": 9},
        note="['null','int'] -> ['null','long'] inside a record field",
    ),
    ok(
        "promote_nested_record_field",
        rec("Outer", fld("inner", rec("Inner", fld("x", "double"), fld("s", "bytes")))),
        rec("Outer", fld("inner", rec("Inner", fld("x", "long"), fld("s", "string")))),
        {"inner": {"x": 2**40, "s": "abc"}},
        note="promotions two records deep",
    ),
    ok(
        "promote_array_of_records",
        array(rec("Item", fld("qty", "long"))),
        array(rec("Item", fld("qty", "int"))),
        [{"qty": 1}, {"qty": 2}],
        note="records inside arrays",
    ),
]

# ---------------------------------------------------------------------------------------------
# 3. arrays and maps that do not match

CONTAINERS = [
    bad(
        "array_items_int_to_string",
        array("string"),
        array("int"),
        [tm("STRING", "INT", "/items")],
        "plan_error",
        note="an item mismatch is reported at /items",
    ),
    bad(
        "map_values_string_to_int",
        map_("int"),
        map_("string"),
        [tm("INT", "STRING", "/values")],
        "plan_error",
        note="a value mismatch is reported at /values",
    ),
    bad(
        "array_from_map",
        array("int"),
        map_("int"),
        [tm("ARRAY", "MAP")],
        "plan_error",
        note="arrays and maps never match each other",
    ),
    bad(
        "map_from_array",
        map_("int"),
        array("int"),
        [tm("MAP", "ARRAY")],
        "plan_error",
        note="arrays and maps never match each other",
    ),
    bad(
        "array_from_int",
        array("int"),
        "int",
        [tm("ARRAY", "INT")],
        "plan_error",
        note="no implicit wrapping of a value into an array",
    ),
    bad(
        "array_of_arrays_mismatch",
        array(array("boolean")),
        array(array("int")),
        [tm("BOOLEAN", "INT", "/items/items")],
        "plan_error",
        note="locations nest: /items/items",
    ),
    bad(
        "map_of_arrays_mismatch",
        map_(array("int")),
        map_(array("long")),
        [tm("INT", "LONG", "/values/items")],
        "plan_error",
        note="no narrowing long -> int, at /values/items",
    ),
    bad(
        "array_of_records_missing_default",
        array(rec("Item", fld("qty", "int"), fld("sku", "string"))),
        array(rec("Item", fld("qty", "int"))),
        [missing_default("sku", "/items/fields/1")],
        "plan_error",
        note="a reader field without default inside array items",
    ),
    bad(
        "array_of_records_name_mismatch",
        array(rec("Item", fld("qty", "int"))),
        array(rec("Line", fld("qty", "int"))),
        [name_mismatch("Line", "/items/name")],
        "plan_error",
        note="a record name mismatch inside array items",
    ),
    bad(
        "array_of_unions_narrowed",
        array(["null", "int"]),
        array(["null", "long"]),
        [missing_branch("LONG", "/items/1")],
        "read_time",
        data=([None, None], []),
        unreadable=([None, 5],),
        note="writer union branch 1 (long) has no reader branch: arrays holding a long fail, "
        "arrays of nulls still resolve",
    ),
    bad(
        "map_of_unions_narrowed",
        map_(["null", "string"]),
        map_(["null", "string", "int"]),
        [missing_branch("INT", "/values/2")],
        "read_time",
        data=({"a": None, "b": "x"},),
        unreadable=({"a": 1},),
        note="writer union branch 2 (int) has no reader branch, at /values/2",
    ),
]

# ---------------------------------------------------------------------------------------------
# 4. unions

A = rec("A", fld("a", "int"))
B = rec("B", fld("b", "string"))

UNIONS = [
    ok(
        "union_reordered",
        ["string", "null"],
        ["null", "string"],
        None,
        "x",
        note="union branches are matched by type, not by position",
    ),
    ok(
        "union_widened",
        ["null", "int", "string"],
        ["null", "int"],
        None,
        3,
        note="a reader union with more branches reads every writer branch",
    ),
    bad(
        "union_narrowed",
        ["null", "int"],
        ["null", "int", "string"],
        [missing_branch("STRING", "/2")],
        "read_time",
        data=(None, 4),
        unreadable=("s",),
        note="writer branch 2 is missing from the reader union: MISSING_UNION_BRANCH at /2; "
        "only records holding a string fail",
    ),
    bad(
        "union_null_long_to_null_int",
        ["null", "int"],
        ["null", "long"],
        [missing_branch("LONG", "/1")],
        "read_time",
        data=(None,),
        unreadable=(5,),
        note="no narrowing long -> int inside unions",
    ),
    ok(
        "union_writer_to_nonunion_all_readable",
        "long",
        ["int", "long"],
        1,
        2**40,
        note="writer union vs reader non-union: every writer branch can be read",
    ),
    bad(
        "union_writer_to_nonunion_partly",
        "string",
        ["int", "string"],
        [tm("STRING", "INT", "/0")],
        "read_time",
        data=("x",),
        unreadable=(1,),
        note="writer union vs reader non-union: each writer branch is checked at /<branch index> "
        "(Avro 1.12; 1.11 reported '/'); only records holding an int fail",
    ),
    bad(
        "union_writer_null_to_nonunion",
        "int",
        ["null", "int"],
        [tm("INT", "NULL", "/0")],
        "read_time",
        data=(5,),
        unreadable=(None,),
        note="making an optional value required: records holding null fail",
    ),
    bad(
        "union_writer_no_branch_readable",
        "int",
        ["string", "bytes"],
        [tm("INT", "STRING", "/0"), tm("INT", "BYTES", "/1")],
        "plan_error",
        note="one TYPE_MISMATCH per writer branch, in branch order. No writer branch can be "
        "read, so every record is unreadable: refused up front, like a writer non-union that "
        "no reader branch can take (union_reader_from_nonunion_missing)",
    ),
    ok(
        "union_reader_from_nonunion_promotes",
        ["null", "long"],
        "int",
        3,
        note="reader union vs writer non-union: some branch reads the writer type",
    ),
    bad(
        "union_reader_from_nonunion_missing",
        ["null", "string"],
        "int",
        [missing_branch("INT")],
        "plan_error",
        note="reader union vs writer non-union with no readable branch: MISSING_UNION_BRANCH at "
        "the union's own location (no index); every record fails",
    ),
    ok(
        "union_first_match_promotes_before_exact",
        ["double", "int"],
        "int",
        3,
        expected=(3,),
        note="Java's Resolver (and avrobridge) take the exact int branch before any promotion: 3; "
        "the spec's first match (and fastavro) would take double, giving 3.0",
    ),
    ok(
        "union_first_match_string_before_bytes",
        ["string", "bytes"],
        "bytes",
        b"xy",
        b"\xff\xfe",
        expected=(b"xy", b"\xff\xfe"),
        note="the exact bytes branch comes before the bytes -> string promotion (Java): b'xy', "
        "and bytes that are not UTF-8 read fine; the spec's first match (fastavro) gives 'xy'",
    ),
    ok(
        "union_exact_long_before_float",
        ["float", "long"],
        "long",
        42,
        expected=(42,),
        note="issue 13: Java reads the long 42 through the exact long branch, not 42.0 as float",
    ),
    ok(
        "union_writer_union_keeps_bytes_when_unions_differ",
        ["string", "bytes", "int"],
        ["string", "bytes"],
        "s",
        b"\xff",
        expected=("s", b"\xff"),
        note="each writer branch finds its exact reader branch also when the unions differ "
        "(identical unions are copied branch for branch): bytes stay bytes",
    ),
    ok(
        "union_exact_match_when_first",
        ["int", "double"],
        "int",
        3,
        note="when the exact branch comes first, spec and Java agree",
    ),
    ok(
        "union_first_match_float_before_double",
        ["float", "double"],
        "long",
        2**24 + 1,
        expected=(16777216.0,),
        note="long -> first promotion float (not double), so the value is rounded to 32 bits; "
        "fastavro picks float too but keeps the unrounded Python float (spec wins)",
    ),
    ok(
        "union_exact_full_name_before_short_name",
        [
            "null",
            rec("Point", fld("x", "int"), fld("y", "int"), fld("z", "int")),
            rec("Point", fld("x", "int"), fld("y", "int"), namespace="written"),
        ],
        rec("Point", fld("x", "int"), fld("y", "int"), namespace="written"),
        {"x": 1, "y": 2},
        expected=({"x": 1, "y": 2},),
        note="issue 13: the branch with the writer's full name (written.Point) comes first; the "
        "unqualified Point (z without default) would not resolve. fastavro takes Point and fails",
    ),
    ok(
        "union_record_same_short_name_that_resolves",
        [
            "null",
            rec("Point", fld("x", "int"), fld("z", "int"), namespace="a"),
            rec("Point", fld("x", "int"), fld("z", "int", default=0), namespace="b"),
        ],
        rec("Point", fld("x", "int"), namespace="written"),
        {"x": 1},
        expected=({"x": 1, "z": 0},),
        note="no exact full name: the record branch that resolves (b.Point), as Java's structural "
        "match; a.Point lacks a default for z",
    ),
    ok(
        "union_exact_name_unresolvable_then_same_short_name",
        [
            rec("Point", fld("x", "int"), fld("z", "int"), namespace="written"),
            rec("Point", fld("x", "int"), namespace="other"),
        ],
        rec("Point", fld("x", "int"), namespace="written"),
        {"x": 1},
        expected=({"x": 1},),
        note="Java takes the exact full name even though it cannot resolve (z has no default) "
        "and fails every record; avrobridge goes on to the next candidate, other.Point, which "
        "the checker also finds compatible",
    ),
    ok(
        "union_enum_same_short_name_other_namespace",
        ["null", enum("E", ["A", "B"], namespace="a")],
        enum("E", ["A", "B"], namespace="b"),
        "B",
        expected=("B",),
        note="names match by unqualified name (the checker says compatible); Java's resolver "
        "looks for an enum only by full name and fails, avrobridge reads it",
    ),
    ok(
        "union_single_branch_reader",
        ["int"],
        "int",
        1,
        note="a one-branch reader union",
    ),
    ok(
        "union_single_branch_writer",
        "int",
        ["int"],
        1,
        note="a one-branch writer union",
    ),
    ok(
        "union_named_branches_widened",
        ["null", A, B],
        ["null", A],
        None,
        {"a": 1},
        note="named branches are matched by name",
    ),
    bad(
        "union_named_branch_missing",
        ["null", A],
        ["null", A, B],
        [missing_branch("RECORD", "/2")],
        "read_time",
        data=(None, {"a": 1}),
        unreadable=({"b": "x"},),
        note="record B has no reader branch",
    ),
    bad(
        "union_record_branch_incompatible",
        ["null", rec("R", fld("a", "int"), fld("b", "int"))],
        ["null", rec("R", fld("a", "int"))],
        [missing_branch("RECORD", "/1")],
        "read_time",
        data=(None,),
        unreadable=({"a": 1},),
        note="the nested READER_FIELD_MISSING_DEFAULT_VALUE is not reported: Java only says the "
        "branch is missing; records holding the R branch fail",
    ),
    ok(
        "union_record_branch_compatible",
        ["null", rec("R", fld("a", "int"), fld("b", "int", default=0))],
        ["null", rec("R", fld("a", "int"))],
        None,
        {"a": 1},
        note="a record branch resolved with a default",
    ),
    ok(
        "union_record_branch_alias",
        ["null", rec("New", fld("a", "int"), aliases=["Old"])],
        ["null", rec("Old", fld("a", "int"))],
        {"a": 2},
        None,
        note="a renamed record branch is found through the reader's alias",
    ),
    bad(
        "union_reader_records_no_name_match",
        [rec("A", fld("x", "int")), rec("B", fld("x", "int"))],
        rec("C", fld("x", "int")),
        [missing_branch("RECORD")],
        "plan_error",
        note="the spec matches records by name: C matches neither A nor B although they have the "
        "same fields. Java's runtime resolver would pick a structurally matching branch",
    ),
    bad(
        "union_writer_records_to_record",
        A,
        [A, B],
        [name_mismatch("B", "/1/name"), missing_default("a", "/1/fields/0")],
        "read_time",
        data=({"a": 1},),
        unreadable=({"b": "x"},),
        note="writer union vs reader record: branch 1 (B) is checked against A under /1: "
        "NAME_MISMATCH, then A's field a, absent from B",
    ),
    bad(
        "union_enum_branch_missing_symbol",
        ["null", enum("E", ["A"])],
        ["null", enum("E", ["A", "B"])],
        [missing_branch("ENUM", "/1")],
        "read_time",
        data=(None, "A"),
        unreadable=("B",),
        note="Java reports the whole enum branch missing; the spec matches the enum by name and "
        "fails only for the unknown symbol",
    ),
    bad(
        "union_fixed_branch_size",
        ["null", fixed("F", 8)],
        ["null", fixed("F", 4)],
        [missing_branch("FIXED", "/1")],
        "read_time",
        data=(None,),
        unreadable=(b"abcd",),
        note="fixed branches match only with equal size",
    ),
    bad(
        "union_in_field_narrowed",
        rec("R", fld("v", ["null", "int"])),
        rec("R", fld("v", ["null", "int", "string"])),
        [missing_branch("STRING", "/fields/0/type/2")],
        "read_time",
        data=({"v": None}, {"v": 1}),
        unreadable=({"v": "s"},),
        note="branch index appended to the field's type location",
    ),
    bad(
        "union_field_made_required",
        rec("R", fld("v", "string")),
        rec("R", fld("v", ["null", "string"])),
        [tm("STRING", "NULL", "/fields/0/type/0")],
        "read_time",
        data=({"v": "x"},),
        unreadable=({"v": None},),
        note="optional -> required field: the null branch is /fields/0/type/0",
    ),
    ok(
        "union_field_made_optional",
        rec("R", fld("v", ["null", "string"])),
        rec("R", fld("v", "string")),
        {"v": "x"},
        note="required -> optional field",
    ),
    ok(
        "union_of_arrays_promotes",
        ["null", array("long")],
        [array("int"), "null"],
        [1, 2],
        None,
        note="array branches resolve their items",
    ),
    bad(
        "union_map_branch_mismatch",
        ["null", map_("int")],
        ["null", map_("string")],
        [missing_branch("MAP", "/1")],
        "read_time",
        data=(None,),
        unreadable=({"k": "v"},),
        note="a map branch whose values cannot be read",
    ),
    bad(
        "union_writer_to_array",
        array("long"),
        ["null", array("int")],
        [tm("ARRAY", "NULL", "/0")],
        "read_time",
        data=([1],),
        unreadable=(None,),
        note="writer union vs reader array",
    ),
    ok(
        "union_to_union_with_promotion_and_reorder",
        ["string", "double", "null"],
        ["null", "float", "bytes"],
        None,
        0.5,
        b"z",
        note="each writer branch: null -> null, float -> double, bytes -> string",
    ),
]

# ---------------------------------------------------------------------------------------------
# 5. records

RECORDS = [
    ok(
        "record_identical",
        rec("R", fld("a", "int"), fld("b", "string")),
        rec("R", fld("a", "int"), fld("b", "string")),
        {"a": 1, "b": "x"},
        note="identical records",
    ),
    ok(
        "record_empty",
        rec("R"),
        rec("R"),
        {},
        note="records without fields",
    ),
    ok(
        "record_reader_adds_field_with_default",
        rec("R", fld("a", "int"), fld("b", "string", default="dflt")),
        rec("R", fld("a", "int")),
        {"a": 1},
        note="a new reader field with a default takes the default",
    ),
    bad(
        "record_reader_adds_field_no_default",
        rec("R", fld("a", "int"), fld("b", "string")),
        rec("R", fld("a", "int")),
        [missing_default("b", "/fields/1")],
        "plan_error",
        note="READER_FIELD_MISSING_DEFAULT_VALUE at the field (no /type), message = field name",
    ),
    ok(
        "record_writer_adds_field",
        rec("R", fld("a", "int")),
        rec("R", fld("a", "int"), fld("b", "string")),
        {"a": 1, "b": "skipped"},
        note="a writer field unknown to the reader is skipped",
    ),
    ok(
        "record_writer_adds_complex_field",
        rec("R", fld("a", "int")),
        rec(
            "R",
            fld("x", map_(array(rec("Deep", fld("d", ["null", "bytes"]))))),
            fld("a", "int"),
            fld("f", fixed("F3", 3)),
        ),
        {"x": {"k": [{"d": None}, {"d": b"\x00"}]}, "a": 5, "f": b"abc"},
        note="skipping nested maps, arrays, records, unions and fixed before and after the "
        "field that is read",
    ),
    ok(
        "record_fields_reordered",
        rec("R", fld("c", "boolean"), fld("b", "string"), fld("a", "int")),
        rec("R", fld("a", "int"), fld("b", "string"), fld("c", "boolean")),
        {"a": 1, "b": "x", "c": False},
        note="fields are matched by name, not position",
    ),
    ok(
        "record_field_renamed_with_alias",
        rec("R", fld("id", "long", aliases=["key"])),
        rec("R", fld("key", "long")),
        {"key": 42},
        note="a reader field alias names the writer field",
    ),
    ok(
        "record_field_renamed_with_alias_and_promotion",
        rec("R", fld("total", "double", aliases=["amount"])),
        rec("R", fld("amount", "int")),
        {"amount": 3},
        note="alias lookup, then int -> double",
    ),
    bad(
        "record_field_renamed_without_alias",
        rec("R", fld("id", "long")),
        rec("R", fld("key", "long")),
        [missing_default("id", "/fields/0")],
        "plan_error",
        note="a renamed field without alias or default",
    ),
    ok(
        "record_field_renamed_with_default",
        rec("R", fld("id", "long", default=-1)),
        rec("R", fld("key", "long")),
        {"key": 42},
        note="the renamed field takes its default; the old writer field is skipped",
    ),
    bad(
        "record_writer_field_alias_ignored",
        rec("R", fld("id", "long")),
        rec("R", fld("key", "long", aliases=["id"])),
        [missing_default("id", "/fields/0")],
        "plan_error",
        note="only the reader's aliases are used, never the writer's",
    ),
    bad(
        "record_two_fields_missing",
        rec("R", fld("b", "int"), fld("a", "int"), fld("c", "int")),
        rec("R", fld("a", "int")),
        [missing_default("b", "/fields/0"), missing_default("c", "/fields/2")],
        "plan_error",
        note="one finding per field, in reader field order, located by reader position",
    ),
    bad(
        "record_field_type_changed",
        rec("R", fld("a", "int"), fld("b", "int")),
        rec("R", fld("a", "int"), fld("b", "string")),
        [tm("INT", "STRING", "/fields/1/type")],
        "plan_error",
        note="a field type mismatch is at /fields/<reader position>/type",
    ),
    bad(
        "record_field_type_location_uses_reader_position",
        rec("R", fld("b", "int"), fld("a", "int")),
        rec("R", fld("a", "int"), fld("b", "boolean")),
        [tm("INT", "BOOLEAN", "/fields/0/type")],
        "plan_error",
        note="b is writer field 1 but reader field 0: the location follows the reader",
    ),
    bad(
        "record_name_mismatch",
        rec("Bar", fld("a", "int")),
        rec("Foo", fld("a", "int"), namespace="com.acme"),
        [name_mismatch("com.acme.Foo")],
        "plan_error",
        note="NAME_MISMATCH at /name; the message carries the writer's full name",
    ),
    bad(
        "record_all_kinds_of_problems",
        rec("Bar", fld("a", "int"), fld("n", "string"), fld("c", "int")),
        rec("Foo", fld("c", "long"), fld("a", "int")),
        [
            name_mismatch("Foo"),
            missing_default("n", "/fields/1"),
            tm("INT", "LONG", "/fields/2/type"),
        ],
        "plan_error",
        note="the name is checked first, then the fields in reader order",
    ),
    ok(
        "record_renamed_with_alias_fullname",
        rec("Customer", fld("a", "int"), namespace="org.new", aliases=["com.acme.Client"]),
        rec("Client", fld("a", "int"), namespace="com.acme"),
        {"a": 1},
        note="a reader alias equal to the writer's full name",
    ),
    ok(
        "record_alias_inherits_reader_namespace",
        rec("Customer", fld("a", "int"), namespace="com.acme", aliases=["Client"]),
        rec("Client", fld("a", "int"), namespace="com.acme"),
        {"a": 1},
        note="an unqualified alias lives in the reader's namespace: com.acme.Client",
    ),
    bad(
        "record_alias_in_other_namespace",
        rec("Customer", fld("a", "int"), namespace="org.new", aliases=["Client"]),
        rec("Client", fld("a", "int"), namespace="com.acme"),
        [name_mismatch("com.acme.Client")],
        "plan_error",
        note="the alias means org.new.Client, not com.acme.Client. fastavro accepts it (it also "
        "compares the writer's unqualified name with the aliases); Java and the spec do not",
    ),
    bad(
        "record_alias_null_namespace_vs_namespaced_writer",
        rec("Customer", fld("a", "int"), aliases=["Client"]),
        rec("Client", fld("a", "int"), namespace="com.acme"),
        [name_mismatch("com.acme.Client")],
        "plan_error",
        note="an alias in the null namespace names 'Client', not 'com.acme.Client'",
    ),
    bad(
        "record_writer_alias_ignored",
        rec("New", fld("a", "int")),
        rec("Old", fld("a", "int"), aliases=["New"]),
        [name_mismatch("Old")],
        "plan_error",
        note="the writer's aliases play no part",
    ),
    bad(
        "record_from_int",
        rec("R", fld("a", "int")),
        "int",
        [tm("RECORD", "INT")],
        "plan_error",
        note="a record never reads a primitive",
    ),
    bad(
        "int_from_record",
        "int",
        rec("R", fld("a", "int")),
        [tm("INT", "RECORD")],
        "plan_error",
        note="a primitive never reads a record",
    ),
    bad(
        "record_from_map",
        rec("R", fld("a", "int")),
        map_("int"),
        [tm("RECORD", "MAP")],
        "plan_error",
        note="a map is not a record",
    ),
    ok(
        "record_nested_added_field_with_default",
        rec("Outer", fld("in", rec("Inner", fld("x", "int"), fld("y", "int", default=9)))),
        rec("Outer", fld("in", rec("Inner", fld("x", "int")))),
        {"in": {"x": 1}},
        note="defaults apply in nested records",
    ),
    bad(
        "record_nested_missing_default",
        rec("Outer", fld("in", rec("Inner", fld("x", "int"), fld("c", "int")))),
        rec("Outer", fld("in", rec("Inner", fld("x", "int")))),
        [missing_default("c", "/fields/0/type/fields/1")],
        "plan_error",
        note="nested locations: /fields/0/type/fields/1",
    ),
    bad(
        "record_nested_type_mismatch",
        rec("Outer", fld("z", "int"), fld("in", rec("Inner", fld("x", "float")))),
        rec("Outer", fld("in", rec("Inner", fld("x", "double"))), fld("z", "int")),
        [tm("FLOAT", "DOUBLE", "/fields/1/type/fields/0/type")],
        "plan_error",
        note="no narrowing double -> float, two records deep",
    ),
    ok(
        "record_default_ignored_when_writer_has_field",
        rec("R", fld("a", "int", default=99)),
        rec("R", fld("a", "int")),
        {"a": 1},
        note="the writer's value wins over the reader's default",
    ),
    ok(
        "record_doc_order_and_extra_properties_ignored",
        rec("R", fld("a", "int", doc="new doc", order="descending"), doc="d", custom="x"),
        rec("R", fld("a", "int", order="ignore")),
        {"a": 1},
        note="doc, order and custom properties play no part in resolution",
    ),
    ok(
        "record_optional_field_missing_null_default",
        rec("R", fld("a", "int"), fld("note", ["null", "string"], default=None)),
        rec("R", fld("a", "int")),
        {"a": 1},
        note="a null default counts as a default",
    ),
    bad(
        "record_enum_field_with_enum_default_but_no_field_default",
        rec("R", fld("a", "int"), fld("e", enum("E", ["U", "X"], default="U"))),
        rec("R", fld("a", "int")),
        [tm("ENUM", "RECORD", "/fields/1/type")],
        "plan_error",
        note="Java quirk: a missing enum field without field default but with an enum default "
        "is checked against the whole writer RECORD, giving TYPE_MISMATCH instead of "
        "READER_FIELD_MISSING_DEFAULT_VALUE. The spec needs a field default: no record resolves",
    ),
    ok(
        "record_enum_field_with_both_defaults",
        rec("R", fld("a", "int"), fld("e", enum("E", ["U", "X"], default="U"), default="X")),
        rec("R", fld("a", "int")),
        {"a": 1},
        note="with a field default the quirk does not apply: the field default X is used",
    ),
    bad(
        "record_enum_field_quirk_with_other_missing_field",
        rec(
            "R",
            fld("e", enum("E", ["U"], default="U")),
            fld("b", "string"),
        ),
        rec("R", fld("a", "int")),
        [tm("ENUM", "RECORD", "/fields/0/type"), missing_default("b", "/fields/1")],
        "plan_error",
        note="the quirk and a plain missing field side by side, in reader field order",
    ),
]

# ---------------------------------------------------------------------------------------------
# 6. defaults of every type (writer {a: int}, reader adds one field with a default)

W_A = rec("R", fld("a", "int"))


def _default_case(
    id_: str, type_: Schema, default: Any, value: Any, note: str, *, spec_value: bool = False
) -> Case:
    reader = rec("R", fld("a", "int"), fld("d", type_, default=default))
    expected = ({"a": 1, "d": value},) if spec_value else None
    return ok(id_, reader, W_A, {"a": 1}, expected=expected, note=note)


DEFAULTS = [
    _default_case("default_null", "null", None, None, "null default"),
    _default_case("default_boolean", "boolean", True, True, "boolean default"),
    _default_case("default_int", "int", -5, -5, "int default"),
    _default_case("default_long", "long", 2**40, 2**40, "long default"),
    _default_case("default_float", "float", 1.5, 1.5, "float default"),
    _default_case(
        "default_float_given_as_json_integer",
        "float",
        1,
        1.0,
        "a float default written as the JSON number 1 is the float 1.0 (fastavro returns the "
        "int 1 unconverted: spec wins)",
        spec_value=True,
    ),
    _default_case("default_double", "double", -2.5, -2.5, "double default"),
    _default_case(
        "default_bytes",
        "bytes",
        "\u00ff\u0000A",
        b"\xff\x00A",
        "a bytes default is a string whose code points 0-255 are the bytes (fastavro returns "
        "the JSON string unconverted: spec wins)",
        spec_value=True,
    ),
    _default_case("default_string", "string", "h\u00e9", "h\u00e9", "string default"),
    _default_case(
        "default_enum", enum("Color", ["RED", "GREEN"]), "GREEN", "GREEN", "enum default"
    ),
    _default_case(
        "default_fixed",
        fixed("Two", 2),
        "\u0001\u00fe",
        b"\x01\xfe",
        "a fixed default is a string of code points 0-255 (fastavro returns the JSON string: "
        "spec wins)",
        spec_value=True,
    ),
    _default_case("default_array", array("long"), [1, 2], [1, 2], "array default"),
    _default_case("default_map", map_("string"), {"k": "v"}, {"k": "v"}, "map default"),
    _default_case(
        "default_record",
        rec("P", fld("x", "int"), fld("tag", "string")),
        {"x": 1, "tag": "t"},
        {"x": 1, "tag": "t"},
        "record default",
    ),
    _default_case(
        "default_union_null_first", ["null", "string"], None, None, "union default: first branch"
    ),
    _default_case(
        "default_union_non_null_first",
        ["int", "null"],
        7,
        7,
        "a union default has the type of the first branch",
    ),
    _default_case(
        "default_timestamp_millis",
        logical("long", "timestamp-millis"),
        1500,
        dt.datetime(1970, 1, 1, 0, 0, 1, 500000, tzinfo=dt.timezone.utc),
        "a default is the underlying long; read through the logical type it is a datetime "
        "(fastavro returns the raw 1500: spec wins)",
        spec_value=True,
    ),
    _default_case(
        "default_date",
        logical("int", "date"),
        1,
        dt.date(1970, 1, 2),
        "date default 1 is 1970-01-02 (fastavro returns the raw 1: spec wins)",
        spec_value=True,
    ),
    _default_case(
        "default_decimal_bytes",
        dec(6, 2),
        "\u0001\u0000",
        Decimal("2.56"),
        "decimal default: the bytes 01 00 are the unscaled 256, i.e. 2.56 (fastavro returns the "
        "JSON string: spec wins)",
        spec_value=True,
    ),
    _default_case(
        "default_uuid",
        logical("string", "uuid"),
        "12345678-1234-5678-1234-567812345678",
        uuid.UUID("12345678-1234-5678-1234-567812345678"),
        "uuid default read through the logical type (fastavro returns the string: spec wins)",
        spec_value=True,
    ),
]

# ---------------------------------------------------------------------------------------------
# 7. namespaces and their inheritance


def _outer(ns: str | None, inner: dict[str, Any]) -> dict[str, Any]:
    extra = {"namespace": ns} if ns is not None else {}
    return rec("Outer", fld("in", inner), **extra)


NAMESPACES = [
    ok(
        "ns_changed_record_compatible",
        rec("R", fld("a", "int"), namespace="org.b"),
        rec("R", fld("a", "int"), namespace="org.a"),
        {"a": 1},
        note="names are compared unqualified: org.a.R reads as org.b.R",
    ),
    ok(
        "ns_added_record_compatible",
        rec("R", fld("a", "int"), namespace="org.b"),
        rec("R", fld("a", "int")),
        {"a": 1},
        note="no namespace -> namespace",
    ),
    bad(
        "ns_inherited_in_message",
        _outer("com.r", rec("Other")),
        _outer("com.w", rec("Inner")),
        [name_mismatch("com.w.Inner", "/fields/0/type/name")],
        "plan_error",
        note="the nested writer record inherits com.w: the message says com.w.Inner",
    ),
    bad(
        "ns_explicit_nested_namespace_in_message",
        _outer("com.r", rec("Other")),
        _outer("com.w", rec("Inner", namespace="org.x")),
        [name_mismatch("org.x.Inner", "/fields/0/type/name")],
        "plan_error",
        note="an explicit namespace overrides the inherited one",
    ),
    bad(
        "ns_dotted_name_ignores_namespace",
        _outer("com.r", rec("Other")),
        _outer("com.w", rec("org.y.Inner", namespace="ignored.ns")),
        [name_mismatch("org.y.Inner", "/fields/0/type/name")],
        "plan_error",
        note="a dotted name is a full name; the namespace attribute is ignored",
    ),
    ok(
        "ns_inherited_nested_names_match_unqualified",
        _outer("com.r", rec("Inner", fld("v", "long"))),
        _outer("com.w", rec("Inner", fld("v", "int"))),
        {"in": {"v": 3}},
        note="com.w.Inner reads as com.r.Inner",
    ),
    ok(
        "ns_reference_by_short_and_full_name",
        rec(
            "Pair",
            fld("p", rec("Point", fld("x", "long"))),
            fld("q", "com.r.Point"),
            namespace="com.r",
        ),
        rec(
            "Pair",
            fld("p", rec("Point", fld("x", "int"))),
            fld("q", "Point"),
            namespace="com.w",
        ),
        {"p": {"x": 1}, "q": {"x": 2}},
        note="a named type referenced by its short name (namespace inherited) and by full name",
    ),
    ok(
        "ns_enum_namespace_changed",
        rec("R", fld("e", enum("E", ["A", "B"])), namespace="org.b"),
        rec("R", fld("e", enum("E", ["A", "B"])), namespace="org.a"),
        {"e": "B"},
        note="enum names are compared unqualified too",
    ),
    ok(
        "ns_fixed_namespace_changed",
        fixed("F", 2, namespace="org.b"),
        fixed("F", 2, namespace="org.a"),
        b"ab",
        note="fixed names are compared unqualified too",
    ),
]

# ---------------------------------------------------------------------------------------------
# 8. recursive types and named types referenced from several places


def linked_list(value: str, *extra: dict[str, Any], name: str = "Node", **kw: Any) -> dict:
    return rec(name, fld("value", value), fld("next", ["null", name]), *extra, **kw)


def tree(value: str, *extra: dict[str, Any]) -> dict[str, Any]:
    return rec("Tree", fld("value", value), fld("children", array("Tree")), *extra)


LIST_DATUM = {"value": 1, "next": {"value": 2, "next": {"value": 3, "next": None}}}
TREE_DATUM = {
    "value": 1,
    "children": [
        {"value": 2, "children": []},
        {"value": 3, "children": [{"value": 4, "children": []}]},
    ],
}


def _point(x: str = "int", *extra: dict[str, Any]) -> dict[str, Any]:
    return rec("Point", fld("x", x), fld("y", "int"), *extra)


RECURSIVE = [
    ok(
        "recursive_list_identical",
        linked_list("int"),
        linked_list("int"),
        LIST_DATUM,
        note="a linked list",
    ),
    ok(
        "recursive_list_promotes_value",
        linked_list("long"),
        linked_list("int"),
        LIST_DATUM,
        note="promotion at every level of the recursion",
    ),
    ok(
        "recursive_list_added_field_with_default",
        linked_list("int", fld("tag", "string", default="t")),
        linked_list("int"),
        LIST_DATUM,
        note="the default is filled at every level",
    ),
    bad(
        "recursive_list_type_mismatch",
        linked_list("int"),
        linked_list("string"),
        [tm("INT", "STRING", "/fields/0/type")],
        "plan_error",
        note="reported once: the recursive reference is a pair already being checked, which "
        "Java treats as compatible",
    ),
    bad(
        "recursive_list_added_field_no_default",
        linked_list("int", fld("extra", "int")),
        linked_list("int"),
        [missing_default("extra", "/fields/2")],
        "plan_error",
        note="reported once despite the recursion",
    ),
    ok(
        "recursive_list_renamed_with_alias",
        linked_list("int", name="Cell", aliases=["Node"]),
        linked_list("int"),
        LIST_DATUM,
        note="the recursive type renamed, found through the alias at every level",
    ),
    ok(
        "recursive_tree_promotes_value",
        tree("double"),
        tree("int"),
        TREE_DATUM,
        note="a tree: recursion through array items",
    ),
    ok(
        "recursive_tree_added_field_with_default",
        tree("int", fld("label", "string", default="")),
        tree("int"),
        TREE_DATUM,
        note="defaults filled in every node",
    ),
    bad(
        "recursive_tree_missing_default",
        tree("int", fld("label", "string")),
        tree("int"),
        [missing_default("label", "/fields/2")],
        "plan_error",
        note="reported once",
    ),
    ok(
        "recursive_mutual",
        rec(
            "A",
            fld("n", "long"),
            fld("b", ["null", rec("B", fld("m", "double"), fld("a", ["null", "A"]))]),
        ),
        rec(
            "A",
            fld("n", "int"),
            fld("b", ["null", rec("B", fld("m", "float"), fld("a", ["null", "A"]))]),
        ),
        {"n": 1, "b": {"m": 0.5, "a": {"n": 2, "b": None}}},
        note="two records referring to each other",
    ),
    ok(
        "named_twice_promotion",
        rec("Pair", fld("a", _point("long")), fld("b", "Point")),
        rec("Pair", fld("a", _point("int")), fld("b", "Point")),
        {"a": {"x": 1, "y": 2}, "b": {"x": 3, "y": 4}},
        note="one named type used by two fields",
    ),
    bad(
        "named_twice_missing_default_reported_twice",
        rec("Pair", fld("a", _point("int", fld("z", "int"))), fld("b", "Point")),
        rec("Pair", fld("a", _point("int")), fld("b", "Point")),
        [missing_default("z", "/fields/0/type/fields/2")] * 2,
        "plan_error",
        note="Java memoizes the result per (reader, writer) schema pair and merges it again for "
        "the second field: the finding appears twice, both times at the FIRST location",
    ),
    bad(
        "named_twice_type_mismatch_reported_twice",
        rec("Pair", fld("a", _point("string")), fld("b", "Point")),
        rec("Pair", fld("a", _point("int")), fld("b", "Point")),
        [tm("STRING", "INT", "/fields/0/type/fields/0/type")] * 2,
        "plan_error",
        note="memoized: twice, at the first location",
    ),
    bad(
        "named_in_array_and_field",
        rec("Shape", fld("pts", array(_point("int"))), fld("first", "Point")),
        rec(
            "Shape",
            fld("pts", array(rec("Point", fld("x", "int"), fld("y", "string")))),
            fld("first", "Point"),
        ),
        [tm("INT", "STRING", "/fields/0/type/items/fields/1/type")] * 2,
        "plan_error",
        note="the memoized finding keeps its array location when met again as a field",
    ),
    bad(
        "named_memo_location_from_union",
        rec("Pair", fld("a", ["null", _point("int", fld("z", "int"))]), fld("b", "Point")),
        rec("Pair", fld("a", _point("int")), fld("b", "Point")),
        [
            missing_branch("RECORD", "/fields/0/type"),
            missing_default("z", "/fields/2"),
        ],
        "plan_error",
        note="Java checks Point against Point first while trying the reader union's branches, "
        "through the public two-argument getCompatibility, which starts a NEW location stack "
        "at the root; the findings are discarded there but memoized, and field b replays them "
        "with the root-relative location /fields/2",
    ),
    bad(
        "named_memo_location_from_union_vs_union",
        rec("Pair", fld("a", ["null", _point("int", fld("z", "int"))]), fld("b", "Point")),
        rec("Pair", fld("a", ["null", _point("int")]), fld("b", "Point")),
        [
            missing_branch("RECORD", "/fields/0/type/1"),
            missing_default("z", "/fields/2"),
        ],
        "plan_error",
        note="the same replay when both sides of field a are unions: the writer branch Point "
        "goes through the reader union's branch loop first (root-relative stack)",
    ),
]

# ---------------------------------------------------------------------------------------------
# 9. enums

SUIT = ["SPADES", "HEARTS", "DIAMONDS", "CLUBS"]

ENUMS = [
    ok("enum_identical", enum("Suit", SUIT), enum("Suit", SUIT), "HEARTS", note="identical"),
    ok(
        "enum_reader_adds_symbol",
        enum("Suit", [*SUIT, "JOKER"]),
        enum("Suit", SUIT),
        "CLUBS",
        note="a reader with more symbols",
    ),
    bad(
        "enum_writer_adds_symbol",
        enum("Suit", SUIT),
        enum("Suit", [*SUIT, "JOKER"]),
        [missing_symbols("[JOKER]")],
        "read_time",
        data=("SPADES",),
        unreadable=("JOKER",),
        note="only records holding the unknown symbol fail",
    ),
    bad(
        "enum_missing_symbols_sorted",
        enum("E", ["B"]),
        enum("E", ["Z", "B", "A", "M"]),
        [missing_symbols("[A, M, Z]")],
        "read_time",
        data=("B",),
        unreadable=("Z", "A", "M"),
        note="the missing symbols are listed sorted, in Java's Set.toString form",
    ),
    ok(
        "enum_reader_default_covers_unknown",
        enum("E", ["A", "B"], default="A"),
        enum("E", ["A", "B", "C"]),
        "C",
        "B",
        note="a reader enum default makes the pair compatible; unknown symbols read as it",
    ),
    ok(
        "enum_reader_default_covers_many",
        enum("E", ["UNKNOWN", "A"], default="UNKNOWN"),
        enum("E", ["A", "B", "C"]),
        "A",
        "B",
        "C",
        note="every unknown symbol reads as the default",
    ),
    ok(
        "enum_symbols_reordered",
        enum("E", ["C", "B", "A"]),
        enum("E", ["A", "B", "C"]),
        "A",
        "C",
        note="symbols are matched by name, not ordinal",
    ),
    bad(
        "enum_name_mismatch",
        enum("Color", SUIT),
        enum("Suit", SUIT),
        [name_mismatch("Suit")],
        "plan_error",
        note="enum names must match",
    ),
    bad(
        "enum_name_and_symbols_mismatch",
        enum("Color", ["RED"], namespace="x"),
        enum("Suit", SUIT, namespace="cards"),
        [name_mismatch("cards.Suit"), missing_symbols("[CLUBS, DIAMONDS, HEARTS, SPADES]")],
        "plan_error",
        note="the name first, then the symbols",
    ),
    bad(
        "enum_default_does_not_cover_name_mismatch",
        enum("Color", ["A"], default="A"),
        enum("Suit", ["A", "B"]),
        [name_mismatch("Suit")],
        "plan_error",
        note="the enum default silences the symbols, not the name",
    ),
    ok(
        "enum_renamed_with_alias",
        enum("Color", ["RED", "BLUE"], aliases=["Colour"]),
        enum("Colour", ["RED", "BLUE"]),
        "BLUE",
        note="an enum found through the reader's alias",
    ),
    bad(
        "enum_field_missing_symbols",
        rec("R", fld("s", enum("Suit", SUIT[:2]))),
        rec("R", fld("s", enum("Suit", SUIT))),
        [missing_symbols("[CLUBS, DIAMONDS]", "/fields/0/type/symbols")],
        "read_time",
        data=({"s": "SPADES"},),
        unreadable=({"s": "CLUBS"},),
        note="location /fields/0/type/symbols",
    ),
    bad(
        "enum_in_array_missing_symbols",
        array(enum("E", ["A"])),
        array(enum("E", ["A", "B"])),
        [missing_symbols("[B]", "/items/symbols")],
        "read_time",
        data=(["A", "A"], []),
        unreadable=(["A", "B"],),
        note="location /items/symbols",
    ),
    bad(
        "enum_in_map_missing_symbols",
        map_(enum("E", ["A"])),
        map_(enum("E", ["A", "B"])),
        [missing_symbols("[B]", "/values/symbols")],
        "read_time",
        data=({"k": "A"},),
        unreadable=({"k": "B"},),
        note="location /values/symbols",
    ),
    bad(
        "enum_from_string",
        enum("E", ["A"]),
        "string",
        [tm("ENUM", "STRING")],
        "plan_error",
        note="no string -> enum promotion",
    ),
    bad(
        "string_from_enum",
        "string",
        enum("E", ["A"]),
        [tm("STRING", "ENUM")],
        "plan_error",
        note="no enum -> string promotion",
    ),
    bad(
        "enum_from_fixed",
        enum("E", ["A"]),
        fixed("E", 1),
        [tm("ENUM", "FIXED")],
        "plan_error",
        note="same name, different kinds of named type",
    ),
]

# ---------------------------------------------------------------------------------------------
# 10. fixed

FIXED = [
    ok("fixed_identical", fixed("MD5", 4), fixed("MD5", 4), b"\x00\x01\xfe\xff", note="identical"),
    bad(
        "fixed_size_grown",
        fixed("Hash", 16),
        fixed("Hash", 8),
        [size_mismatch(8, 16)],
        "plan_error",
        note="'expected' is the writer's size, 'found' the reader's",
    ),
    bad(
        "fixed_size_shrunk",
        fixed("Hash", 8),
        fixed("Hash", 16),
        [size_mismatch(16, 8)],
        "plan_error",
        note="'expected: 16, found: 8'",
    ),
    bad(
        "fixed_name_mismatch",
        fixed("SHA", 4),
        fixed("MD5", 4),
        [name_mismatch("MD5")],
        "plan_error",
        note="fixed names must match",
    ),
    bad(
        "fixed_namespaced_name_mismatch",
        fixed("SHA", 4, namespace="com.acme"),
        fixed("MD5", 4, namespace="com.acme"),
        [name_mismatch("com.acme.MD5")],
        "plan_error",
        note="the message carries the writer's full name",
    ),
    bad(
        "fixed_name_and_size_mismatch",
        fixed("SHA", 20),
        fixed("MD5", 16),
        [name_mismatch("MD5"), size_mismatch(16, 20)],
        "plan_error",
        note="the name first, then the size",
    ),
    ok(
        "fixed_renamed_with_alias",
        fixed("Digest", 4, aliases=["MD5"]),
        fixed("MD5", 4),
        b"abcd",
        note="a fixed found through the reader's alias",
    ),
    bad(
        "fixed_alias_does_not_cover_size",
        fixed("Digest", 5, aliases=["MD5"]),
        fixed("MD5", 4),
        [size_mismatch(4, 5)],
        "plan_error",
        note="the alias matches the name, the size still differs",
    ),
    bad(
        "bytes_from_fixed",
        "bytes",
        fixed("F", 4),
        [tm("BYTES", "FIXED")],
        "plan_error",
        note="no fixed -> bytes promotion",
    ),
    bad(
        "fixed_from_bytes",
        fixed("F", 4),
        "bytes",
        [tm("FIXED", "BYTES")],
        "plan_error",
        note="no bytes -> fixed promotion",
    ),
    bad(
        "fixed_in_field_size_mismatch",
        rec("R", fld("h", fixed("H", 2))),
        rec("R", fld("h", fixed("H", 3))),
        [size_mismatch(3, 2, "/fields/0/type/size")],
        "plan_error",
        note="location /fields/0/type/size",
    ),
]

# ---------------------------------------------------------------------------------------------
# 11. logical types and decimals

TS_MS = logical("long", "timestamp-millis")
TS_US = logical("long", "timestamp-micros")
ONE_SECOND = dt.datetime(1970, 1, 1, 0, 0, 1, tzinfo=dt.timezone.utc)
UUID_TEXT = "12345678-1234-5678-1234-567812345678"

LOGICAL = [
    ok(
        "logical_timestamp_millis_identical",
        TS_MS,
        TS_MS,
        ONE_SECOND,
        note="same logical type on both sides",
    ),
    ok(
        "logical_timestamp_millis_to_long",
        "long",
        TS_MS,
        ONE_SECOND,
        expected=(1000,),
        note="the reader has no logical type: it reads the raw long. fastavro applies the "
        "WRITER's logical type and returns a datetime (spec wins)",
    ),
    ok(
        "logical_long_to_timestamp_millis",
        TS_MS,
        "long",
        1000,
        expected=(ONE_SECOND,),
        note="the reader's logical type applies to the resolved long. fastavro ignores the "
        "reader's logical type and returns 1000 (spec wins)",
    ),
    ok(
        "logical_timestamp_millis_to_micros",
        TS_US,
        TS_MS,
        ONE_SECOND,
        expected=(dt.datetime(1970, 1, 1, 0, 0, 0, 1000, tzinfo=dt.timezone.utc),),
        note="logical types are ignored by resolution (only decimal has a rule): the long 1000 "
        "is carried over and now means 1000 microseconds. Java agrees (compatible); fastavro "
        "returns the writer's 1 second",
    ),
    ok(
        "logical_date_to_int",
        "int",
        logical("int", "date"),
        dt.date(1970, 1, 2),
        expected=(1,),
        note="the raw int of the date (fastavro returns the writer's date: spec wins)",
    ),
    ok(
        "logical_time_millis_to_time_micros",
        logical("long", "time-micros"),
        logical("int", "time-millis"),
        dt.time(0, 0, 0, 5000),
        expected=(dt.time(0, 0, 0, 5),),
        note="int -> long promotion of the raw 5; read as time-micros it is 5 microseconds "
        "(fastavro returns the writer's time: spec wins)",
    ),
    ok(
        "logical_uuid_to_string",
        "string",
        logical("string", "uuid"),
        uuid.UUID(UUID_TEXT),
        expected=(UUID_TEXT,),
        note="the reader reads a plain string (fastavro returns a UUID: spec wins)",
    ),
    ok(
        "logical_string_to_uuid",
        logical("string", "uuid"),
        "string",
        UUID_TEXT,
        expected=(uuid.UUID(UUID_TEXT),),
        note="the reader's uuid logical type applies (fastavro returns the string: spec wins)",
    ),
    ok(
        "logical_in_union_to_plain",
        ["null", "long"],
        ["null", TS_MS],
        None,
        ONE_SECOND,
        expected=(None, 1000),
        note="a logical branch read by a plain branch (fastavro returns the datetime: spec wins)",
    ),
    ok(
        "logical_date_to_timestamp_promotion",
        TS_MS,
        logical("int", "date"),
        dt.date(1970, 1, 2),
        expected=(dt.datetime(1970, 1, 1, 0, 0, 0, 1000, tzinfo=dt.timezone.utc),),
        note="int -> long promotion of the raw day count 1, which the reader takes as 1 ms: "
        "resolution ignores the meaning (fastavro returns the writer's date)",
    ),
    ok(
        "decimal_bytes_identical",
        dec(5, 2),
        dec(5, 2),
        Decimal("1.23"),
        Decimal("-999.99"),
        note="decimals match when precision and scale are equal",
    ),
    ok(
        "decimal_fixed_identical",
        dec(9, 3, size=4),
        dec(9, 3, size=4),
        Decimal("123456.789"),
        note="fixed decimals with equal size, precision and scale",
    ),
    Case(
        "decimal_precision_changed",
        dec(7, 2),
        dec(5, 2),
        True,
        transcode="plan_error",
        note="Java's SchemaCompatibility ignores logical types: compatible. The spec: decimals "
        "match only if precision and scale are equal, so avrobridge refuses the resolution",
    ),
    Case(
        "decimal_scale_changed",
        dec(5, 3),
        dec(5, 2),
        True,
        transcode="plan_error",
        note="compatible for Java (bytes -> bytes); no match per the spec: the unscaled integer "
        "123 would mean 1.23 to the writer but 0.123 to the reader",
    ),
    Case(
        "decimal_precision_and_scale_changed",
        dec(10, 4),
        dec(5, 2),
        True,
        transcode="plan_error",
        note="even a widening change is no match per the spec",
    ),
    Case(
        "decimal_fixed_scale_changed",
        dec(9, 4, size=4),
        dec(9, 3, size=4),
        True,
        transcode="plan_error",
        note="fixed decimals: same name and size, different scale",
    ),
    bad(
        "decimal_bytes_to_fixed",
        dec(5, 2, size=4),
        dec(5, 2),
        [tm("FIXED", "BYTES")],
        "plan_error",
        note="bytes and fixed decimals are different underlying types",
    ),
    Case(
        "decimal_in_field_scale_changed",
        rec("Price", fld("amount", dec(8, 3))),
        rec("Price", fld("amount", dec(8, 2))),
        True,
        transcode="plan_error",
        note="a decimal scale change inside a record field",
    ),
    Case(
        "decimal_in_array_precision_changed",
        array(dec(12, 2)),
        array(dec(10, 2)),
        True,
        transcode="plan_error",
        note="a decimal precision change inside array items",
    ),
    Case(
        "decimal_in_union_scale_changed",
        ["null", dec(5, 3)],
        ["null", dec(5, 2)],
        True,
        transcode="read_time",
        data=(None,),
        unreadable=(Decimal("1.23"),),
        note="the decimal branch finds no matching reader branch, which is an error only for "
        "the records that select it; null records resolve",
    ),
    ok(
        "decimal_to_plain_bytes",
        "bytes",
        dec(5, 2),
        Decimal("1.23"),
        expected=(b"{",),
        note="the reader is plain bytes, so the decimal rule does not apply: the unscaled "
        "two's-complement bytes (123 = 0x7b) are read (fastavro returns the writer's Decimal)",
    ),
    ok(
        "plain_bytes_to_decimal",
        dec(5, 2),
        "bytes",
        b"{",
        expected=(Decimal("1.23"),),
        note="plain bytes read as a decimal(5,2): 0x7b = 123 -> 1.23 (fastavro returns the raw "
        "bytes: spec wins)",
    ),
]

# ---------------------------------------------------------------------------------------------

CASES: list[Case] = [
    *_matrix(),
    *PROMOTIONS,
    *CONTAINERS,
    *UNIONS,
    *RECORDS,
    *DEFAULTS,
    *NAMESPACES,
    *RECURSIVE,
    *ENUMS,
    *FIXED,
    *LOGICAL,
]


# ---------------------------------------------------------------------------------------------
# version histories for check_level


@dataclass(frozen=True)
class History:
    """``previous`` is oldest first; ``new`` is the schema being registered. ``results`` maps a
    level to None (compatible) or to the list of (direction, version index, findings) that
    Confluent reports: direction "forward" (an old schema reads new data) or "backward" (the
    new schema reads old data), version index into ``previous``."""

    id: str
    previous: tuple[str, ...]
    new: str
    results: dict[str, list[tuple[str, int, list[Finding]]] | None]
    note: str = ""


_R_A = '{"type":"record","name":"R","fields":[{"name":"a","type":"int"}]}'
_R_A_LONG = '{"type":"record","name":"R","fields":[{"name":"a","type":"long"}]}'
_R_A_STRING = '{"type":"record","name":"R","fields":[{"name":"a","type":"string"}]}'
_R_AB_DEFAULT = (
    '{"type":"record","name":"R","fields":[{"name":"a","type":"int"},'
    '{"name":"b","type":"string","default":""}]}'
)
_R_AB = (
    '{"type":"record","name":"R","fields":[{"name":"a","type":"int"},{"name":"b","type":"string"}]}'
)
_R_AB_INT_DEFAULT = (
    '{"type":"record","name":"R","fields":[{"name":"a","type":"int"},'
    '{"name":"b","type":"int","default":0}]}'
)
_R_AB_INT = (
    '{"type":"record","name":"R","fields":[{"name":"a","type":"int"},{"name":"b","type":"int"}]}'
)
_E_AB = '{"type":"enum","name":"E","symbols":["A","B"]}'
_E_ABC = '{"type":"enum","name":"E","symbols":["A","B","C"]}'

_ALL = ["BACKWARD", "FORWARD", "FULL"]
_ALL_T = ["BACKWARD_TRANSITIVE", "FORWARD_TRANSITIVE", "FULL_TRANSITIVE"]


def _every(value: list[tuple[str, int, list[Finding]]] | None) -> dict[str, Any]:
    return {level: value for level in [*_ALL, *_ALL_T, "NONE"]}


HISTORIES = [
    History(
        "add_field_with_default",
        (_R_A,),
        _R_AB_DEFAULT,
        _every(None),
        "adding an optional field is fully compatible",
    ),
    History(
        "add_required_field",
        (_R_A,),
        _R_AB,
        {
            **_every(None),
            "BACKWARD": [("backward", 0, [missing_default("b", "/fields/1")])],
            "BACKWARD_TRANSITIVE": [("backward", 0, [missing_default("b", "/fields/1")])],
            "FULL": [("backward", 0, [missing_default("b", "/fields/1")])],
            "FULL_TRANSITIVE": [("backward", 0, [missing_default("b", "/fields/1")])],
        },
        "the new schema cannot read old data; old readers ignore the new field",
    ),
    History(
        "remove_required_field",
        (_R_AB,),
        _R_A,
        {
            **_every(None),
            "FORWARD": [("forward", 0, [missing_default("b", "/fields/1")])],
            "FORWARD_TRANSITIVE": [("forward", 0, [missing_default("b", "/fields/1")])],
            "FULL": [("forward", 0, [missing_default("b", "/fields/1")])],
            "FULL_TRANSITIVE": [("forward", 0, [missing_default("b", "/fields/1")])],
        },
        "old readers need the removed field; under FULL the forward findings carry no "
        "oldSchema lines (Confluent appends them only to the backward part)",
    ),
    History(
        "enum_symbol_added",
        (_E_AB,),
        _E_ABC,
        {
            **_every(None),
            "FORWARD": [("forward", 0, [missing_symbols("[C]")])],
            "FORWARD_TRANSITIVE": [("forward", 0, [missing_symbols("[C]")])],
            "FULL": [("forward", 0, [missing_symbols("[C]")])],
            "FULL_TRANSITIVE": [("forward", 0, [missing_symbols("[C]")])],
        },
        "old readers do not know the new symbol",
    ),
    History(
        "default_dropped_transitive",
        (_R_A, _R_AB_INT_DEFAULT),
        _R_AB_INT,
        {
            **_every(None),
            "BACKWARD_TRANSITIVE": [("backward", 0, [missing_default("b", "/fields/1")])],
            "FULL_TRANSITIVE": [("backward", 0, [missing_default("b", "/fields/1")])],
        },
        "dropping a default is fine against the latest version, not against version 1",
    ),
    History(
        "type_changes_transitive_stops_at_first_failure",
        (_R_A_STRING, _R_A_LONG),
        _R_A,
        {
            **_every(None),
            "BACKWARD": [("backward", 1, [tm("INT", "LONG", "/fields/0/type")])],
            "BACKWARD_TRANSITIVE": [("backward", 1, [tm("INT", "LONG", "/fields/0/type")])],
            "FORWARD_TRANSITIVE": [("forward", 0, [tm("STRING", "INT", "/fields/0/type")])],
            "FULL": [("backward", 1, [tm("INT", "LONG", "/fields/0/type")])],
            "FULL_TRANSITIVE": [("backward", 1, [tm("INT", "LONG", "/fields/0/type")])],
        },
        "transitive checks go newest first and stop at the first failing version: version 2 "
        "for BACKWARD_TRANSITIVE (version 1 is never reported), version 1 for "
        "FORWARD_TRANSITIVE (version 2 passes)",
    ),
    History(
        "both_directions_fail",
        (_R_A_STRING,),
        _R_A,
        {
            **_every(None),
            **{
                lvl: [("backward", 0, [tm("INT", "STRING", "/fields/0/type")])]
                for lvl in ("BACKWARD", "BACKWARD_TRANSITIVE")
            },
            **{
                lvl: [("forward", 0, [tm("STRING", "INT", "/fields/0/type")])]
                for lvl in ("FORWARD", "FORWARD_TRANSITIVE")
            },
            **{
                lvl: [
                    ("forward", 0, [tm("STRING", "INT", "/fields/0/type")]),
                    ("backward", 0, [tm("INT", "STRING", "/fields/0/type")]),
                ]
                for lvl in ("FULL", "FULL_TRANSITIVE")
            },
        },
        "FULL lists the forward findings first, then the backward ones",
    ),
]
