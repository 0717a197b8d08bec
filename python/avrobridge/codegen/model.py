"""The schema model codegen reads: the nodes of :mod:`avrobridge.schema`, every given schema
parsed as one (a later schema may use the named types of the ones before it), after the
codec has validated each of them."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from .._backend import Schema
from ..errors import SchemaError
from ..schema import LOGICAL_OPS, Node, parse_value


def logical(t: Node) -> str | None:
    """The logical type of ``t`` when values of it decode to their own Python type (dates,
    times, decimals, UUIDs); None for plain values (nanosecond timestamps stay integers)."""
    return t.logical if t.op in LOGICAL_OPS else None


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
