"""The schema model codegen reads: the nodes of :mod:`avrobridge.schema`, every given schema
parsed as one (a later schema may use the named types of the ones before it), after the
codec has validated each of them."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final

from .._backend import Schema
from ..errors import SchemaError
from ..schema import (
    DATE,
    DECIMAL_BYTES,
    DECIMAL_FIXED,
    LOCAL_TIMESTAMP_MICROS,
    LOCAL_TIMESTAMP_MILLIS,
    TIME_MICROS,
    TIME_MILLIS,
    TIMESTAMP_MICROS,
    TIMESTAMP_MILLIS,
    UUID_STRING,
    Node,
    parse_value,
)

#: The logical types whose values decode to another Python type than the plain type's.
_CONVERTED: Final = frozenset(
    (
        DATE,
        TIME_MILLIS,
        TIME_MICROS,
        TIMESTAMP_MILLIS,
        TIMESTAMP_MICROS,
        LOCAL_TIMESTAMP_MILLIS,
        LOCAL_TIMESTAMP_MICROS,
        DECIMAL_BYTES,
        DECIMAL_FIXED,
        UUID_STRING,
    )
)


def logical(t: Node) -> str | None:
    """The logical type of ``t`` when values of it decode to their own Python type (dates,
    times, decimals, UUIDs); None for plain values (nanosecond timestamps stay integers)."""
    return t.logical if t.op in _CONVERTED else None


def load_schema_json(schema: str | Mapping[str, Any] | list[Any]) -> Any:
    if isinstance(schema, str):
        try:
            return json.loads(schema)
        except json.JSONDecodeError as exc:
            raise SchemaError(f"schema is not JSON: {exc}") from None
    return schema


def validate_schemas(texts: Sequence[str], where: Callable[[int], str]) -> None:
    """Each schema must parse with the codec (with the earlier ones as references); an
    error names the schema (`where`: its file)."""
    for i, text in enumerate(texts):
        try:
            Schema(text)
        except SchemaError as alone:
            try:
                if i == 0:
                    raise
                Schema(text, references=list(texts[:i]))
            except SchemaError:
                raise SchemaError(f"{where(i)}: {alone}", alone.path) from None


def named_types(schemas: Sequence[Any], where: Callable[[int], str]) -> list[Node]:
    """The named types of ``schemas`` (parsed JSON, valid each with the ones before it), in
    definition order; a name defined twice is an error naming the schema."""
    if not schemas:
        return []
    try:
        parsed = parse_value(schemas[-1], False, list(schemas[:-1]))
    except SchemaError:
        for i, schema in enumerate(schemas):
            try:
                parse_value(schema, False, list(schemas[:i]))
            except SchemaError as exc:
                raise SchemaError(f"{where(i)}: {exc.message}", exc.path) from None
        raise
    return list(parsed.names.values())
