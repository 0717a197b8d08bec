"""The schema JSON handed to fastavro: synthetic names (``_ab0``, ``_ab1``, ...) so
fastavro's namespace rules never differ from ours, and only the logical types whose fastavro
conversion matches the Rust decoder."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from .model import (
    ARRAY,
    DATE,
    DECIMAL_BYTES,
    DECIMAL_FIXED,
    ENUM,
    FASTAVRO_DECIMAL,
    FIXED,
    LOCAL_TIMESTAMP_MICROS,
    LOCAL_TIMESTAMP_MILLIS,
    MAP,
    RECORD,
    TIME_MICROS,
    TIME_MILLIS,
    TIMESTAMP_MICROS,
    TIMESTAMP_MILLIS,
    UNION,
    UUID_STRING,
    Node,
)

# Logical types whose fastavro reader returns exactly what the Rust decoder returns (range
# errors are caught by wirecheck before fastavro runs).
_FASTAVRO_LOGICAL_READS: Final = {
    DATE: ("int", "date"),
    TIME_MILLIS: ("int", "time-millis"),
    TIME_MICROS: ("long", "time-micros"),
    TIMESTAMP_MILLIS: ("long", "timestamp-millis"),
    TIMESTAMP_MICROS: ("long", "timestamp-micros"),
    LOCAL_TIMESTAMP_MILLIS: ("long", "local-timestamp-millis"),
    LOCAL_TIMESTAMP_MICROS: ("long", "local-timestamp-micros"),
    UUID_STRING: ("string", "uuid"),
}


def fastavro_logical(op: int) -> tuple[str, str] | None:
    """The base type and fastavro logical type name of a logical ``op`` fastavro reads
    like Rust, else None."""
    return _FASTAVRO_LOGICAL_READS.get(op)


def fastavro_branch_name(node: Node) -> str:
    """The name fastavro's tuple notation knows a union branch by in our fastavro schema."""
    return node.fa_name if node.name is not None else node.kind


def fastavro_schema(
    root: Node,
    *,
    logical: bool,
    finish: Callable[[Node, bool, Any], Any] | None = None,
) -> Any:
    """Schema JSON for ``fastavro.parse_schema``. ``logical=False`` gives the plain wire
    types (encoding: values are converted beforehand); ``logical=True`` keeps the logical
    types fastavro decodes like Rust, and marks decimals with our own reader. ``finish``
    (node, directly in a union, its JSON) gives the JSON to use instead: the fallback's
    strict reader and writer mark types with logical types of their own that check values.
    It sees each named type once, where it is defined."""
    seen: set[int] = set()

    def emit(node: Node, in_union: bool = False) -> Any:
        if node.name is not None:
            if id(node) in seen:
                return node.fa_name
            seen.add(id(node))
        json = plain(node)
        return json if finish is None else finish(node, in_union, json)

    def plain(node: Node) -> Any:
        op = node.op
        if op == RECORD:
            return {
                "type": "record",
                "name": node.fa_name,
                "fields": [{"name": f.name, "type": emit(f.node)} for f in node.fields],
            }
        if op == ENUM:
            return {"type": "enum", "name": node.fa_name, "symbols": list(node.symbols)}
        if op in (FIXED, DECIMAL_FIXED):
            fixed: dict[str, Any] = {"type": "fixed", "name": node.fa_name, "size": node.size}
            if logical and op == DECIMAL_FIXED:
                fixed["logicalType"] = FASTAVRO_DECIMAL
                fixed["scale"] = node.scale
            return fixed
        if op == ARRAY:
            return {"type": "array", "items": emit(node.items)}
        if op == MAP:
            return {"type": "map", "values": emit(node.values)}
        if op == UNION:
            return [emit(b, True) for b in node.branches]
        if logical:
            if op == DECIMAL_BYTES:
                return {"type": "bytes", "logicalType": FASTAVRO_DECIMAL, "scale": node.scale}
            known = _FASTAVRO_LOGICAL_READS.get(op)
            if known is not None:
                return {"type": known[0], "logicalType": known[1]}
        return node.kind

    return emit(root)
