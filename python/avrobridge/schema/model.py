"""The fallback's schema model (the twin of ``rust/src/schema/mod.rs``): one ``Node`` per
type, named types referenced from every use (recursive schemas are cycles of objects), and
the operation codes the codec dispatches on."""

from __future__ import annotations

import re
from typing import Any, Final

# The limits of the schema language, re-exported from the rule tables.
from .._avro_rules import JSON_MAX_NESTING as JSON_MAX_NESTING
from .._avro_rules import MAX_DEFAULT_DEPTH as MAX_DEFAULT_DEPTH
from .._avro_rules import MAX_SCHEMA_DEPTH as MAX_SCHEMA_DEPTH
from .._avro_rules import PRIMITIVE_TYPES
from ..errors import SchemaError

# Operation codes: one per way a value is read or written (the Rust `plan::Op`).
NULL: Final = 0
BOOLEAN: Final = 1
INT: Final = 2
LONG: Final = 3
FLOAT: Final = 4
DOUBLE: Final = 5
BYTES: Final = 6
STRING: Final = 7
RECORD: Final = 8
ENUM: Final = 9
ARRAY: Final = 10
MAP: Final = 11
UNION: Final = 12
FIXED: Final = 13
DATE: Final = 14
TIME_MILLIS: Final = 15
TIME_MICROS: Final = 16
TIMESTAMP_MILLIS: Final = 17
TIMESTAMP_MICROS: Final = 18
LOCAL_TIMESTAMP_MILLIS: Final = 19
LOCAL_TIMESTAMP_MICROS: Final = 20
DECIMAL_BYTES: Final = 21
DECIMAL_FIXED: Final = 22
UUID_STRING: Final = 23
# The logical types decoded to Python objects of their own (dates, times, Decimal, UUID):
# the codes from DATE on. Nanosecond timestamps, uuid on fixed and duration stay plain.
LOGICAL_OPS: Final = frozenset(range(DATE, UUID_STRING + 1))

PRIMITIVES: Final = PRIMITIVE_TYPES
PRIMITIVE_OPS: Final = {
    "null": NULL,
    "boolean": BOOLEAN,
    "int": INT,
    "long": LONG,
    "float": FLOAT,
    "double": DOUBLE,
    "bytes": BYTES,
    "string": STRING,
}

# The synthetic name prefix of named types in the schemas given to fastavro.
FASTAVRO_NAME: Final = "_ab"
# Our own fastavro logical type for decimals: fastavro rounds to the declared precision,
# the Rust decoder is exact (the bytes are the truth).
FASTAVRO_DECIMAL: Final = "avrobridge-decimal"

NAME_RE: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class Name:
    """A fully qualified name; ``namespace`` is None for the null namespace."""

    __slots__ = ("fullname", "name", "namespace")

    def __init__(self, fullname: str, name: str, namespace: str | None) -> None:
        self.fullname = fullname
        self.name = name
        self.namespace = namespace


class Field:
    """A record field. ``default_value`` is the default ready for fastavro's writer, valid
    only when ``has_usable_default`` (an invalid default kept with validate_defaults=False
    counts as no default, as in the Rust plan)."""

    __slots__ = (
        "aliases",
        "default",
        "default_value",
        "has_default",
        "has_usable_default",
        "json",
        "name",
        "node",
        "order",
    )

    def __init__(self, name: str, aliases: list[str], node: Node, order: str) -> None:
        self.name = name
        self.aliases = aliases
        self.node = node
        self.order = order
        self.has_default = False
        self.default: Any = None
        self.has_usable_default = False
        self.default_value: Any = None
        # The field's JSON object as written (doc, order, custom properties: codegen).
        self.json: dict[str, Any] = {}


class Node:
    """One schema node. Only the attributes of its kind are meaningful; the others keep
    neutral values (``items``/``values`` point at the node itself) so that hot loops need no
    None checks."""

    __slots__ = (
        "aliases",
        "branch_name",
        "branches",
        "enum_default",
        "fa_name",
        "fields",
        "fixed_size",
        "is_error",
        "items",
        "json",
        "kind",
        "logical",
        "min_size",
        "name",
        "null_branch",
        "op",
        "precision",
        "scale",
        "size",
        "symbols",
        "values",
    )

    def __init__(self, kind: str, op: int) -> None:
        self.kind = kind
        self.op = op
        self.logical: str | None = None
        self.precision = 0
        self.scale = 0
        self.name: Name | None = None
        self.aliases: list[str] = []
        self.fields: list[Field] = []
        self.is_error = False
        self.symbols: list[str] = []
        self.enum_default: int | None = None
        self.size = 0
        self.items: Node = self
        self.values: Node = self
        self.branches: list[Node] = []
        self.null_branch: int | None = None
        # Smallest encoding of an array item / map value (arrays and maps only).
        self.min_size = 0
        # The encoded size of every value when it is always the same and needs no validation
        # (null, float, double, fixed, records of those); None otherwise.
        self.fixed_size: int | None = None
        self.branch_name = kind
        self.fa_name = ""
        # The JSON this node was parsed from (a name string, an object, a union's array),
        # with its documentation and custom properties (codegen copies them).
        self.json: Any = kind


def schema_error(message: str, path: str) -> SchemaError:
    full = f"invalid schema: {message}" if not path else f"invalid schema at {path}: {message}"
    return SchemaError(full, path or None)


def as_i64(v: Any) -> int | None:
    if isinstance(v, int) and not isinstance(v, bool) and -(1 << 63) <= v < (1 << 63):
        return v
    return None
