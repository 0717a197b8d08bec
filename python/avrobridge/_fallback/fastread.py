"""fastavro first: the schema handed to fastavro's C reader so that it refuses what the
Rust decoder refuses, and the cheap checks around it. Input that fastavro reads this way is
the value the Rust decoder would build; anything it refuses (or a check below doubts) is
walked by ``wirecheck`` for the exact error, offset and path.

fastavro alone accepts: a boolean byte other than 0 or 1 (read as True), an int beyond 32
bits, a time of day outside 00:00-24:00 (wrapped around), a negative union or enum index
(Python's list indexing counts from the end), varints longer than 10 bytes, trailing bytes,
and any count of items that take no bytes. So booleans are read as a one-byte fixed, ints
(when the input holds four high-bit bytes in a row, the shortest an out-of-range int needs)
and times of day through range checks (as our own logical types), union branches and enum
symbols sit in lists that refuse negative indices, the input must be consumed exactly, and
input holding a run of nine bytes with the high bit set not followed by 0 or 1 (where an
over-long varint would have to be) is walked as well. Schemas whose data may nest without
bound or repeat zero-byte items (recursion, arrays of nulls) are always walked first.
"""

from __future__ import annotations

import io
from typing import Any, Final

import fastavro
from fastavro.read import LOGICAL_READERS

from ..schema import (
    ARRAY,
    BOOLEAN,
    INT,
    TIME_MICROS,
    TIME_MILLIS,
    Node,
    ParsedSchema,
    fastavro_logical,
    fastavro_schema,
    walk_nodes,
)
from . import wirecheck

__all__ = ["Refused", "strict_reader"]

_BOOLEAN: Final = "avrobridge-boolean"
_INT: Final = "avrobridge-int"
_TIME_MILLIS: Final = "avrobridge-time-millis"
_TIME_MICROS: Final = "avrobridge-time-micros"
_DAY_MICROS: Final = 86_400_000_000
_I32_MIN: Final = -(1 << 31)
_I32_MAX: Final = (1 << 31) - 1
# Nine bytes in a row with the high bit set: the shortest run a varint needs to be longer
# than 10 bytes or overflow 64 bits. Absent anywhere in the input, no varint can be; where
# present, the byte after it tells. Mapping each byte to its high bit and searching for the
# run is far faster than a regex class.
_HIGH_BITS: Final = bytes(b >> 7 for b in range(256))
_LONG_RUN: Final = b"\x01" * 9
# Four: the shortest run a varint needs to hold an int beyond 32 bits.
_INT_RUN: Final = b"\x01" * 4


class Refused(Exception):
    """A value fastavro read that the Rust decoder refuses (the walk finds which)."""


def _read_boolean(data: bytes, writer_schema: Any, reader_schema: Any = None) -> bool:
    if data == b"\x01":
        return True
    if data == b"\x00":
        return False
    raise Refused


def _read_int(value: int, writer_schema: Any, reader_schema: Any = None) -> int:
    if _I32_MIN <= value <= _I32_MAX:
        return value
    raise Refused


def _time_reader(fastavro_reader: Any, scale: int) -> Any:
    """fastavro's time reader wraps values outside the day around; Rust refuses them."""

    def read(value: int, writer_schema: Any, reader_schema: Any = None) -> Any:
        if 0 <= value * scale < _DAY_MICROS:
            return fastavro_reader(value, writer_schema, reader_schema)
        raise Refused

    return read


LOGICAL_READERS[f"fixed-{_BOOLEAN}"] = _read_boolean
LOGICAL_READERS[f"int-{_INT}"] = _read_int
LOGICAL_READERS[f"int-{_TIME_MILLIS}"] = _time_reader(LOGICAL_READERS["int-time-millis"], 1000)
LOGICAL_READERS[f"long-{_TIME_MICROS}"] = _time_reader(LOGICAL_READERS["long-time-micros"], 1)
_CHECKED: Final = {INT: _INT, TIME_MILLIS: _TIME_MILLIS, TIME_MICROS: _TIME_MICROS}
# The fixed a strict schema reads booleans as (our synthetic names never start so).
_BOOLEAN_FIXED: Final = "_avrobridge_boolean"


class _NoNegativeIndex(list[Any]):
    """Union branches: fastavro indexes them with the number it read, and a plain list takes
    a negative one as counting from the end. Cython may index through the mapping slot (the
    list's own, which adds the real length) or the sequence slot (which adds ``len()`` first),
    so both go through ``__getitem__`` here, with a length of 0 that leaves an index as read
    (fastavro's reader never asks these lists their length otherwise)."""

    __slots__ = ()

    def __len__(self) -> int:
        return 0

    def __getitem__(self, index: Any) -> Any:
        if index < 0:
            raise Refused
        return list.__getitem__(self, index)


def _walk_fastavro(schema: Any, seen: set[int]) -> Any:
    """Swaps the lists fastavro indexes by wire numbers for ones without an index from the
    end, in place (named types are shared by reference)."""
    if isinstance(schema, list):
        for i, branch in enumerate(schema):
            schema[i] = _walk_fastavro(branch, seen)
        return _NoNegativeIndex(schema)
    if not isinstance(schema, dict) or id(schema) in seen:
        return schema
    seen.add(id(schema))
    kind = schema.get("type")
    if kind == "enum":
        # Looked up by the index read: a dict has no index from the end.
        schema["symbols"] = dict(enumerate(schema["symbols"]))
    elif kind == "record":
        for field in schema["fields"]:
            field["type"] = _walk_fastavro(field["type"], seen)
    elif kind == "array":
        schema["items"] = _walk_fastavro(schema["items"], seen)
    elif kind == "map":
        schema["values"] = _walk_fastavro(schema["values"], seen)
    return schema


def _safe(parsed: ParsedSchema) -> bool:
    """Whether fastavro may read this schema's data first: bounded nesting and no item that
    takes no bytes (whose count only the walk's budget bounds)."""
    if parsed.recursive:
        return False
    return not any(node.op == ARRAY and node.min_size == 0 for node in walk_nodes(parsed.root))


def _long_runs_are_varints(data: bytes, high: bytes) -> bool:
    """Whether every run of nine high-bit bytes is followed by 0 or 1: the only 10-byte
    varint that fits 64 bits (a longer run is never one). Runs inside strings, bytes and
    doubles make this doubt valid input too; the walk then decides."""
    at = high.find(_LONG_RUN)
    while at >= 0:
        after = at + 9
        if after >= len(data) or data[after] > 1:
            return False
        at = high.find(_LONG_RUN, at + 1)
    return True


class StrictReader:
    """Reads one datum with fastavro, or raises ``Refused`` (or fastavro's own error, or
    the walk's ``WireError``)."""

    __slots__ = ("_lean", "_root", "_schema")

    def __init__(self, schema: Any, lean: Any, root: Node) -> None:
        self._schema = schema
        # Without the int range check: for input with no run of four high-bit bytes, where
        # every varint has at most 4 bytes (28 bits) and so every int is in range.
        self._lean = lean
        self._root = root

    def read(self, data: bytes) -> Any:
        if data.isascii():
            schema = self._lean
            high = None
        else:
            high = data.translate(_HIGH_BITS)
            schema = self._schema if _INT_RUN in high else self._lean
        buffer = io.BytesIO(data)
        value = fastavro.schemaless_reader(buffer, schema, None)
        if buffer.tell() != len(data):
            raise Refused
        if high is not None and _LONG_RUN in high and not _long_runs_are_varints(data, high):
            wirecheck.check(self._root, data)  # the walk decides; the value stands if it passes
        return value


def strict_reader(parsed: ParsedSchema) -> StrictReader | None:
    """The fastavro-first reader of a schema, or None when its data must be walked first."""
    if not _safe(parsed):
        return None
    full = _strict_schema(parsed, check_ints=True)
    lean = _strict_schema(parsed, check_ints=False)
    if full is None or lean is None:
        return None  # fastavro would parse it again on every read, undoing the swaps
    return StrictReader(full, lean, parsed.root)


def _strict_schema(parsed: ParsedSchema, *, check_ints: bool) -> Any:
    boolean_defined = False

    def checked(node: Node, in_union: bool, json: Any) -> Any:
        nonlocal boolean_defined
        if node.op == BOOLEAN:
            if boolean_defined:
                return _BOOLEAN_FIXED
            boolean_defined = True
            return {"type": "fixed", "name": _BOOLEAN_FIXED, "size": 1, "logicalType": _BOOLEAN}
        logical = _CHECKED.get(node.op)
        if logical is None or (node.op == INT and not check_ints):
            return json
        base = fastavro_logical(node.op)
        return {"type": base[0] if base else node.kind, "logicalType": logical}

    schema = fastavro.parse_schema(fastavro_schema(parsed.root, logical=True, finish=checked))
    if not (isinstance(schema, dict) and schema.get("__fastavro_parsed")):
        return None
    return _walk_fastavro(schema, set())
