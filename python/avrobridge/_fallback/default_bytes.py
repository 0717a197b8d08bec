"""Field defaults pre-encoded to Avro bytes, as ``default.rs``'s ``encode_default``."""

from __future__ import annotations

import math
import struct
from typing import Any

from .._avro_rules import latin1
from ..schema import (
    MAX_DEFAULT_DEPTH,
    DefaultError,
    Node,
    expected,
    json_integer,
)
from ..wire import write_long as write_long  # re-exported for the fallback


def _write_bytes(out: bytearray, data: bytes) -> None:
    write_long(out, len(data))
    out += data


def f32_bits(value: float) -> bytes:
    """``value as f32`` in Rust (round to nearest; beyond the f32 range: infinity), as 4
    little-endian bytes."""
    try:
        return struct.pack("<f", value)
    except OverflowError:
        return struct.pack("<f", math.copysign(math.inf, value))


def _as_f64(value: Any) -> float | None:
    """serde_json's ``as_f64``: any JSON number."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def encode_default(node: Node, value: Any) -> bytes:
    """A JSON default as Avro binary; raises DefaultError with default.rs's reason."""
    out = bytearray()
    _encode_default(node, value, out, 0)
    return bytes(out)


def _encode_default(node: Node, value: Any, out: bytearray | None, depth: int) -> None:
    if depth > MAX_DEFAULT_DEPTH:
        raise DefaultError("default nested too deeply")
    kind = node.kind
    if kind == "null":
        if value is not None:
            raise expected("null", value)
    elif kind == "boolean":
        if not isinstance(value, bool):
            raise expected("a boolean", value)
        if out is not None:
            out.append(1 if value else 0)
    elif kind == "int":
        v = json_integer(value)
        if v is None or not -(1 << 31) <= v < (1 << 31):
            raise expected("an int (32-bit integer)", value)
        if out is not None:
            write_long(out, v)
    elif kind == "long":
        v = json_integer(value)
        if v is None:
            raise expected("a long (64-bit integer)", value)
        if out is not None:
            write_long(out, v)
    elif kind == "float":
        f = _as_f64(value)
        if f is None:
            raise expected("a number", value)
        if out is not None:
            out += f32_bits(f)
    elif kind == "double":
        f = _as_f64(value)
        if f is None:
            raise expected("a number", value)
        if out is not None:
            out += struct.pack("<d", f)
    elif kind == "bytes":
        b = latin1(value)
        if b is None:
            raise expected("a string of code points 0-255 (bytes)", value)
        if out is not None:
            _write_bytes(out, b)
    elif kind == "string":
        if not isinstance(value, str):
            raise expected("a string", value)
        if out is not None:
            _write_bytes(out, value.encode("utf-8"))
    elif kind == "fixed":
        assert node.name is not None
        b = latin1(value)
        if b is None or len(b) != node.size:
            raise expected(
                f"a string of {node.size} code points 0-255 (fixed '{node.name.fullname}')", value
            )
        if out is not None:
            out += b
    elif kind == "enum":
        assert node.name is not None
        if not (isinstance(value, str) and value in node.symbols):
            raise expected(f"a symbol of enum '{node.name.fullname}'", value)
        if out is not None:
            write_long(out, node.symbols.index(value))
    elif kind == "array":
        if not isinstance(value, list):
            raise expected("an array", value)
        if out is not None and value:
            write_long(out, len(value))
        for i, v in enumerate(value):
            try:
                _encode_default(node.items, v, out, depth + 1)
            except DefaultError as e:
                raise DefaultError(f"item {i}: {e}") from None
        if out is not None:
            out.append(0)
    elif kind == "map":
        if not isinstance(value, dict):
            raise expected("an object (map)", value)
        if out is not None and value:
            write_long(out, len(value))
        for k, v in value.items():
            if out is not None:
                _write_bytes(out, k.encode("utf-8"))
            try:
                _encode_default(node.values, v, out, depth + 1)
            except DefaultError as e:
                raise DefaultError(f"key '{k}': {e}") from None
        if out is not None:
            out.append(0)
    elif kind == "record":
        assert node.name is not None
        if not isinstance(value, dict):
            raise expected(f"an object (record '{node.name.fullname}')", value)
        for field in node.fields:
            if field.name in value:
                v = value[field.name]
            elif field.has_default:
                v = field.default
            else:
                raise DefaultError(
                    f"record '{node.name.fullname}' default lacks field '{field.name}'"
                )
            try:
                _encode_default(field.node, v, out, depth + 1)
            except DefaultError as e:
                raise DefaultError(f"field '{field.name}': {e}") from None
    else:  # union: the first branch the default matches (Avro 1.12)
        for index, branch in enumerate(node.branches):
            try:
                _encode_default(branch, value, None, depth + 1)
            except DefaultError:
                continue
            if out is not None:
                write_long(out, index)
            _encode_default(branch, value, out, depth + 1)
            return
        names = ", ".join(b.branch_name for b in node.branches)
        raise expected(f"a value of one of the union's branches [{names}]", value)
