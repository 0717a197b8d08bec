"""fastavro's union choice, mirrored (the codec writes a union value with the same branch):
a generated union value is kept only when that choice is the branch it was made for, so it
decodes back as itself. The test strategies draw their union values by the same rule."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from ..schema import Node
from .model import INT_MAX, INT_MIN, LONG_MAX, LONG_MIN, writer_key


class Unencodable(ValueError):
    """fastavro's logical-type conversion refuses the value."""


def _prepare(value: Any, node: Node, key: str) -> Any:
    if key == "int-date":
        if isinstance(value, date):
            return 0
        if isinstance(value, str):
            try:
                date.fromisoformat(value)
            except ValueError as exc:
                raise Unencodable(str(exc)) from None
            return 0
    elif key in ("int-time-millis", "long-time-micros"):
        if isinstance(value, time):
            return 0
    elif key == "string-uuid":
        if isinstance(value, uuid.UUID):
            return str(value)
    elif key in ("bytes-decimal", "fixed-decimal"):
        if isinstance(value, Decimal):
            _sign, digits, exp = value.as_tuple()
            if not isinstance(exp, int) or len(digits) > node.precision or exp + node.scale < 0:
                raise Unencodable("the decimal does not fit the schema")
            return b"\x00" * node.size if node.kind == "fixed" else b""
    elif isinstance(value, datetime):  # the timestamps
        return 0
    return value


def fastavro_valid(value: Any, node: Node, depth: int = 0) -> bool:
    """fastavro's ``validate``, the test its union choice makes; a missing record field
    with a default counts as valid, as the codec treats it."""
    if depth > 256:
        return False
    key = writer_key(node)
    if key is not None:
        value = _prepare(value, node, key)
    t = node.kind
    if t == "null":
        return value is None
    if t == "boolean":
        return isinstance(value, bool)
    if t in ("int", "long"):
        lo, hi = (INT_MIN, INT_MAX) if t == "int" else (LONG_MIN, LONG_MAX)
        return isinstance(value, int) and not isinstance(value, bool) and lo <= value <= hi
    if t in ("float", "double"):
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if t == "bytes":
        return isinstance(value, (bytes, bytearray))
    if t == "string":
        return isinstance(value, str)
    if t == "fixed":
        return isinstance(value, bytes) and len(value) == node.size
    if t == "enum":
        return isinstance(value, str) and value in node.symbols
    if t == "array":
        items = node.items
        return (
            isinstance(value, Sequence)
            and not isinstance(value, str)
            and all(fastavro_valid(v, items, depth + 1) for v in value)
        )
    if t == "map":
        vals = node.values
        return isinstance(value, Mapping) and all(
            isinstance(k, str) and fastavro_valid(v, vals, depth + 1) for k, v in value.items()
        )
    if t == "record":
        if not isinstance(value, Mapping):
            return False
        if "-type" in value and node.name is not None and value["-type"] != node.name.fullname:
            return False
        for f in node.fields:
            if f.name in value:
                if not fastavro_valid(value[f.name], f.node, depth + 1):
                    return False
            elif not f.has_default and not fastavro_valid(None, f.node, depth + 1):
                return False
        return True
    if t == "union":
        return any(fastavro_valid(value, b, depth + 1) for b in node.branches)
    return False


def fastavro_branch(value: Any, union: Node, valid: int = -1) -> int:
    """The index of the branch fastavro (and so the codec) writes ``value`` with; branch
    ``valid`` is taken as valid without testing it. Raises ValueError when no branch fits
    and :class:`Unencodable` when a logical-type conversion refuses the value."""
    best, most_fields, could_be_float = -1, -1, False
    for i, b in enumerate(union.branches):
        if could_be_float:
            if b.kind == "double":
                return i
            continue
        if i != valid and not fastavro_valid(value, b):
            continue
        if b.kind == "record" and not b.is_error:  # an error is no "record" there
            present = sum(1 for f in b.fields if f.name in value)
            if present > most_fields:
                best, most_fields = i, present
        elif b.kind == "float":
            best, could_be_float = i, True
        else:
            return i
    if best < 0:
        raise ValueError("the value fits no branch of the union")
    return best


def picked(value: Any, union: Node, drawn: int) -> bool:
    """Whether fastavro writes ``value`` (made for branch ``drawn``, so valid for it by
    construction) with that branch."""
    return fastavro_branch(value, union, drawn) == drawn
