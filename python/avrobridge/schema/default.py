"""Field defaults: validated against their type, as ``rust/src/schema/default.rs``."""

from __future__ import annotations

from typing import Any

from .._avro_rules import latin1
from .json_text import json_text
from .model import (
    ARRAY,
    BOOLEAN,
    BYTES,
    DATE,
    DECIMAL_BYTES,
    DECIMAL_FIXED,
    DOUBLE,
    ENUM,
    FIXED,
    FLOAT,
    INT,
    LOCAL_TIMESTAMP_MICROS,
    LOCAL_TIMESTAMP_MILLIS,
    LONG,
    MAP,
    MAX_DEFAULT_DEPTH,
    NULL,
    RECORD,
    STRING,
    TIME_MICROS,
    TIME_MILLIS,
    TIMESTAMP_MICROS,
    TIMESTAMP_MILLIS,
    UUID_STRING,
    Node,
    as_i64,
)
from .to_fastavro import fastavro_branch_name


class DefaultError(Exception):
    """A default that does not fit its type; the callers turn it into a SchemaError."""


def expected(what: str, got: Any) -> DefaultError:
    if isinstance(got, str) and len(got.encode("utf-8")) > 40:
        shown = f"a string of {len(got.encode('utf-8'))} bytes"
    else:
        shown = json_text(got)
        if len(shown) > 40:
            # Rust cuts the JSON text after 40 characters (Unicode scalar values).
            shown = shown[:40] + "…"
    return DefaultError(f"expected {what}, got {shown}")


def json_integer(value: Any) -> int | None:
    """An integer default (default.rs ``json_integer``): a JSON integer in the i64 range, or
    a float equal to zero (serde_json reads ``-0`` as the float -0.0; Jackson reads it as the
    integer 0, so it is accepted as 0)."""
    v = as_i64(value)
    if v is None and isinstance(value, float) and value == 0.0:
        return 0
    return v


def default_value(node: Node, value: Any, depth: int) -> Any:
    """Checks a JSON default against ``node`` (default.rs) and returns it as fastavro's writer
    takes it: unions as ``(branch name, value)`` with the FIRST branch the default matches,
    bytes/fixed as bytes, records with every field."""
    if depth > MAX_DEFAULT_DEPTH:
        raise DefaultError("default nested too deeply")
    op = node.op
    if op == NULL:
        if value is None:
            return None
        raise expected("null", value)
    if op == BOOLEAN:
        if isinstance(value, bool):
            return value
        raise expected("a boolean", value)
    if op in (INT, DATE, TIME_MILLIS):
        v = json_integer(value)
        if v is None or not -(1 << 31) <= v < (1 << 31):
            raise expected("an int (32-bit integer)", value)
        return v
    if op in (
        LONG,
        TIME_MICROS,
        TIMESTAMP_MILLIS,
        TIMESTAMP_MICROS,
        LOCAL_TIMESTAMP_MILLIS,
        LOCAL_TIMESTAMP_MICROS,
    ):
        v = json_integer(value)
        if v is None:
            raise expected("a long (64-bit integer)", value)
        return v
    if op in (FLOAT, DOUBLE):
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        raise expected("a number", value)
    if op in (BYTES, DECIMAL_BYTES):
        b = latin1(value)
        if b is None:
            raise expected("a string of code points 0-255 (bytes)", value)
        return b
    if op in (STRING, UUID_STRING):
        if isinstance(value, str):
            return value
        raise expected("a string", value)
    if op in (FIXED, DECIMAL_FIXED):
        b = latin1(value)
        if b is None or len(b) != node.size:
            assert node.name is not None
            raise expected(
                f"a string of {node.size} code points 0-255 (fixed '{node.name.fullname}')", value
            )
        return b
    if op == ENUM:
        if isinstance(value, str) and value in node.symbols:
            return value
        assert node.name is not None
        raise expected(f"a symbol of enum '{node.name.fullname}'", value)
    if op == ARRAY:
        if not isinstance(value, list):
            raise expected("an array", value)
        out: list[Any] = []
        for i, v in enumerate(value):
            try:
                out.append(default_value(node.items, v, depth + 1))
            except DefaultError as e:
                raise DefaultError(f"item {i}: {e}") from None
        return out
    if op == MAP:
        if not isinstance(value, dict):
            raise expected("an object (map)", value)
        entries: dict[str, Any] = {}
        for k, v in value.items():
            try:
                entries[k] = default_value(node.values, v, depth + 1)
            except DefaultError as e:
                raise DefaultError(f"key '{k}': {e}") from None
        return entries
    if op == RECORD:
        assert node.name is not None
        if not isinstance(value, dict):
            raise expected(f"an object (record '{node.name.fullname}')", value)
        record: dict[str, Any] = {}
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
                record[field.name] = default_value(field.node, v, depth + 1)
            except DefaultError as e:
                raise DefaultError(f"field '{field.name}': {e}") from None
        return record
    # UNION: Avro 1.12 lets a default match any branch; the first match encodes it.
    for branch in node.branches:
        try:
            return (fastavro_branch_name(branch), default_value(branch, value, depth + 1))
        except DefaultError:
            continue
    names = ", ".join(b.branch_name for b in node.branches)
    raise expected(f"a value of one of the union's branches [{names}]", value)


def matches_default(node: Node, value: Any) -> bool:
    """Whether the JSON ``value`` is a valid default for ``node`` (unions: any branch)."""
    try:
        default_value(node, value, 0)
    except DefaultError:
        return False
    return True
