"""Avro schema JSON -> validated node graph, mirroring ``rust/src/schema`` rule for rule,
in modules named after their Rust twins (``parse``, ``default``, ``canonical``,
``fingerprint``; ``model`` is ``mod.rs``, ``json_text`` the JSON reader, ``to_fastavro`` the
schemas handed to fastavro).

The Rust parser is the reference: every check, message and JSON-pointer path below follows
``parse.rs`` (names, unions, fixed sizes, logical types), ``default.rs`` (field defaults),
``canonical.rs`` (Parsing Canonical Form) and ``fingerprint.rs``. Named types are one
``Node`` referenced from every use, so recursive schemas are cycles of Python objects.

On top of validation this module derives the schema JSON handed to ``fastavro``: synthetic
names (``_ab0``, ``_ab1``, ...) so fastavro's namespace rules never differ from ours, and only
the logical types whose fastavro conversion matches the Rust decoder.
"""

from __future__ import annotations

from .canonical import canonical_form
from .default import DefaultError, default_value, expected, json_integer, matches_default
from .fingerprint import fingerprint, rabin64
from .json_text import json_equal, json_text, load_json
from .model import (
    ARRAY,
    BOOLEAN,
    BYTES,
    DATE,
    DECIMAL_BYTES,
    DECIMAL_FIXED,
    DOUBLE,
    ENUM,
    FASTAVRO_DECIMAL,
    FASTAVRO_NAME,
    FIXED,
    FLOAT,
    INT,
    JSON_MAX_NESTING,
    LOCAL_TIMESTAMP_MICROS,
    LOCAL_TIMESTAMP_MILLIS,
    LOGICAL_OPS,
    LONG,
    MAP,
    MAX_DEFAULT_DEPTH,
    MAX_SCHEMA_DEPTH,
    NAME_RE,
    NULL,
    PRIMITIVE_OPS,
    PRIMITIVES,
    RECORD,
    STRING,
    TIME_MICROS,
    TIME_MILLIS,
    TIMESTAMP_MICROS,
    TIMESTAMP_MILLIS,
    UNION,
    UUID_STRING,
    Field,
    Name,
    Node,
    as_i64,
    schema_error,
)
from .parse import (
    ParsedSchema,
    children,
    is_valid_name,
    min_size,
    parse_schema_text,
    parse_value,
    walk_nodes,
)
from .to_fastavro import fastavro_branch_name, fastavro_logical, fastavro_schema

__all__ = [
    "ARRAY",
    "BOOLEAN",
    "BYTES",
    "DATE",
    "DECIMAL_BYTES",
    "DECIMAL_FIXED",
    "DOUBLE",
    "ENUM",
    "FASTAVRO_DECIMAL",
    "FASTAVRO_NAME",
    "FIXED",
    "FLOAT",
    "INT",
    "JSON_MAX_NESTING",
    "LOCAL_TIMESTAMP_MICROS",
    "LOCAL_TIMESTAMP_MILLIS",
    "LOGICAL_OPS",
    "LONG",
    "MAP",
    "MAX_DEFAULT_DEPTH",
    "MAX_SCHEMA_DEPTH",
    "NAME_RE",
    "NULL",
    "PRIMITIVES",
    "PRIMITIVE_OPS",
    "RECORD",
    "STRING",
    "TIMESTAMP_MICROS",
    "TIMESTAMP_MILLIS",
    "TIME_MICROS",
    "TIME_MILLIS",
    "UNION",
    "UUID_STRING",
    "DefaultError",
    "Field",
    "Name",
    "Node",
    "ParsedSchema",
    "as_i64",
    "canonical_form",
    "children",
    "default_value",
    "expected",
    "fastavro_branch_name",
    "fastavro_logical",
    "fastavro_schema",
    "fingerprint",
    "is_valid_name",
    "json_equal",
    "json_integer",
    "json_text",
    "load_json",
    "matches_default",
    "min_size",
    "parse_schema_text",
    "parse_value",
    "rabin64",
    "schema_error",
    "walk_nodes",
]
