"""Python values -> the exact input fastavro's writer needs to produce the Rust encoder's
bytes, and fastavro's reader output after wirecheck.

Encoding mirrors ``rust/src/py/encoder.rs`` check for check: ``prepare`` walks the datum by
the schema, raises the same errors at the same data paths, and returns a copy that leaves
fastavro no choice: every union value becomes tuple notation ``(branch name, value)`` with
the branch picked as Rust picks it, every record has all its fields (missing ones filled with
the default), logical values are converted to their wire ints/bytes, and subclasses of
int/float/str/bytes become the exact builtin types. fastavro then only writes bytes.
"""

from __future__ import annotations

import decimal
import io
from collections.abc import Sequence
from typing import Any

import fastavro
from fastavro.read import LOGICAL_READERS

from ..schema import (
    ARRAY,
    BOOLEAN,
    BYTES,
    DOUBLE,
    ENUM,
    FASTAVRO_DECIMAL,
    FIXED,
    FLOAT,
    INT,
    LONG,
    MAP,
    NULL,
    RECORD,
    STRING,
    UNION,
    Field,
    Node,
    fastavro_branch_name,
)
from .codec_logical import prepare_logical
from .codec_objects import (
    MISSING,
    EncodeFailure,
    bytes_like,
    check_depth,
    extract_f64,
    extract_i32,
    extract_i64,
    is_mapping,
    is_sequence,
    mapping_get,
    utf8_checked,
    wrong_type,
)
from .union_choice import choose_branch

__all__ = ["EncodeFailure", "prepare", "read", "write"]


def prepare(node: Node, obj: Any, depth: int) -> Any:
    """Checks ``obj`` against ``node`` and returns the value to give fastavro's writer."""
    op = node.op
    if op == UNION:
        index, obj = choose_branch(node, obj)
        branch = node.branches[index]
        return (fastavro_branch_name(branch), prepare(branch, obj, depth))
    if op == RECORD:
        return _prepare_record(node, obj, depth)
    if op == STRING:
        if isinstance(obj, str):
            return utf8_checked(obj)
        raise wrong_type("a str", obj)
    if op == LONG:
        return extract_i64(obj, "long")
    if op == INT:
        return extract_i32(obj)
    if op == NULL:
        if obj is None:
            return None
        raise wrong_type("None", obj)
    if op == BOOLEAN:
        if isinstance(obj, bool):
            return obj
        raise wrong_type("a bool", obj)
    if op == DOUBLE:
        return extract_f64(obj, "double")
    if op == FLOAT:
        return extract_f64(obj, "float")
    if op == BYTES:
        b = bytes_like(obj)
        if b is None:
            raise wrong_type("bytes", obj)
        return b
    if op == FIXED:
        b = bytes_like(obj)
        if b is None:
            raise wrong_type(f"bytes (fixed of {node.size})", obj)
        if len(b) != node.size:
            raise EncodeFailure(f"fixed needs exactly {node.size} bytes, got {len(b)}")
        return b
    if op == ENUM:
        if not isinstance(obj, str):
            raise wrong_type("a str (enum symbol)", obj)
        s = utf8_checked(obj)
        if s not in node.symbols:
            raise EncodeFailure(f"'{s}' is not a symbol of the enum ({', '.join(node.symbols)})")
        return s
    if op == ARRAY:
        return _prepare_array(node, obj, depth)
    if op == MAP:
        return _prepare_map(node, obj, depth)
    return prepare_logical(node, obj)


def _prepare_record(node: Node, obj: Any, depth: int) -> dict[str, Any]:
    check_depth(depth)
    if not is_mapping(obj):
        assert node.name is not None
        raise wrong_type(f"a dict (record {node.name.fullname})", obj)
    out: dict[str, Any] = {}
    field: Field | None = None
    try:
        for field in node.fields:
            value = mapping_get(obj, field.name)
            if value is not MISSING:
                out[field.name] = prepare(field.node, value, depth + 1)
            elif field.has_usable_default:
                out[field.name] = field.default_value
            else:
                # fastavro writes a missing field without default as None: fine for a
                # nullable field, an error otherwise.
                try:
                    out[field.name] = prepare(field.node, None, depth + 1)
                except EncodeFailure:
                    if not _matches_null(field.node):
                        raise EncodeFailure(
                            f"missing field '{field.name}' has no default"
                        ) from None
                    raise
    except EncodeFailure as e:
        assert field is not None
        e.segments.append(field.name)
        raise
    return out


def _matches_null(node: Node) -> bool:
    return node.op == NULL or (node.op == UNION and node.null_branch is not None)


def _prepare_array(node: Node, obj: Any, depth: int) -> list[Any]:
    check_depth(depth)
    if isinstance(obj, (list, tuple)):
        values: Sequence[Any] = obj
    elif is_sequence(obj):
        values = list(obj)
    else:
        raise wrong_type("a list", obj)
    items = node.items
    out: list[Any] = []
    try:
        for item in values:
            out.append(prepare(items, item, depth + 1))
    except EncodeFailure as e:
        e.segments.append(str(len(out)))
        raise
    return out


def _prepare_map(node: Node, obj: Any, depth: int) -> dict[str, Any]:
    check_depth(depth)
    if isinstance(obj, dict):
        pairs: Any = dict.items(obj)
        size = len(obj)
    elif is_mapping(obj):
        pairs = list(obj.items())
        size = -1
    else:
        raise wrong_type("a dict (map)", obj)
    values = node.values
    out: dict[str, Any] = {}
    written = 0
    for k, v in pairs:
        if not isinstance(k, str):
            raise wrong_type("str map keys", k)
        key = utf8_checked(k)
        try:
            out[key] = prepare(values, v, depth + 1)
        except EncodeFailure as e:
            e.segments.append(key)
            raise
        written += 1
    if size >= 0 and written != size:
        raise EncodeFailure("dict changed size while being encoded")
    return out


def _read_decimal(data: bytes, writer_schema: Any, reader_schema: Any = None) -> decimal.Decimal:
    """Exact, like the Rust decoder: ``Decimal("<unscaled>E-<scale>")``, never rounded to
    the declared precision as fastavro's own reader does."""
    unscaled = int.from_bytes(data, "big", signed=True)
    return decimal.Decimal(f"{unscaled}E-{writer_schema['scale']}")


# Our own logical type names, so fastavro's registry for "decimal" stays untouched.
LOGICAL_READERS[f"bytes-{FASTAVRO_DECIMAL}"] = _read_decimal
LOGICAL_READERS[f"fixed-{FASTAVRO_DECIMAL}"] = _read_decimal


def write(parsed: Any, value: Any) -> bytes:
    out = io.BytesIO()
    fastavro.schemaless_writer(out, parsed, value)
    return out.getvalue()


def read(parsed: Any, data: bytes) -> Any:
    return fastavro.schemaless_reader(io.BytesIO(data), parsed, None)
