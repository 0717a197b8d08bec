"""Differential property tests of the codec: on random valid schemas and data, both backends
write the bytes fastavro writes, read what fastavro reads, and give every value back.

The generators live in ``strategies.py``; their values are canonical (what decode returns),
so ``decode(encode(v))`` must be ``v`` exactly: same types, float bits, Decimal digits.
"""

from __future__ import annotations

import hashlib
import importlib
import io
import json
from collections.abc import Callable
from types import ModuleType
from typing import Any

import fastavro
import fastavro.schema
import pytest
from hypothesis import HealthCheck, Phase, find, given, note, settings

from avrobridge.schema import Node, children
from strategies import (
    JSON,
    annotation,
    assert_same,
    data_for,
    fill_defaults,
    parse_model,
    schema_and_data,
    schemas,
    walk_nodes,
)


def fastavro_encode(schema: JSON, value: Any) -> bytes:
    buf = io.BytesIO()
    # The raw JSON, not a parse_schema() result: fastavro re-parses parsed non-record
    # schemas and then loses `"namespace": ""`.
    fastavro.schemaless_writer(buf, schema, value)
    return buf.getvalue()


def fastavro_decode(schema: JSON, data: bytes) -> Any:
    return fastavro.schemaless_reader(io.BytesIO(data), schema)


def schema_of(backend: ModuleType, schema: JSON, values: list[Any] | None = None) -> Any:
    """The backend's Schema, with the case recorded for the failure report (this hypothesis
    and libcst pair prints failing arguments blank)."""
    note(f"schema: {json.dumps(schema)}")
    if values is not None:
        note(f"values: {values!r}")
    return backend.Schema(json.dumps(schema))


# --------------------------------------------------------------------------------------
# encode / decode against fastavro
# --------------------------------------------------------------------------------------


@given(case=schema_and_data())
def test_encode_and_decode_agree_with_fastavro(
    backend: ModuleType, case: tuple[JSON, list[Any]]
) -> None:
    schema, values = case
    s = schema_of(backend, schema, values)
    reference = s.to_json()
    assert reference == schema
    for value in values:
        data = backend.encode(s, value)
        note(f"bytes: {data.hex()}")
        assert data == fastavro_encode(reference, value)
        decoded = backend.decode(s, data)
        assert_same(decoded, fastavro_decode(reference, data))
        assert_same(decoded, value)


@settings(max_examples=200)
@given(case=schema_and_data(omit_defaults=True, schema_strategy=schemas(top="record")))
def test_missing_fields_are_written_as_their_defaults(
    backend: ModuleType, case: tuple[JSON, list[Any]]
) -> None:
    """A record without a field that has a default encodes exactly as the record with the
    default's value, and decodes to it."""
    schema, values = case
    s = schema_of(backend, schema, values)
    model = parse_model(schema)
    for value in values:
        full = fill_defaults(value, model.root)
        data = backend.encode(s, value)
        assert data == backend.encode(s, full)
        assert_same(backend.decode(s, data), full)


@settings(max_examples=100)
@given(case=schema_and_data(n=6))
def test_batches_give_what_single_calls_give(
    backend: ModuleType, case: tuple[JSON, list[Any]]
) -> None:
    schema, values = case
    s = schema_of(backend, schema, values)
    encoded = backend.encode_many(s, values)
    assert encoded == [backend.encode(s, v) for v in values]
    decoded = backend.decode_many(s, encoded)
    assert len(decoded) == len(values)
    for got, value in zip(decoded, values, strict=True):
        assert_same(got, value)


# --------------------------------------------------------------------------------------
# Schema objects
# --------------------------------------------------------------------------------------


@given(schema=schemas())
def test_canonical_form_and_fingerprints_agree_with_fastavro(
    backend: ModuleType, schema: JSON
) -> None:
    s = schema_of(backend, schema)
    canonical = fastavro.schema.to_parsing_canonical_form(schema)
    assert s.canonical_form == canonical
    raw = canonical.encode()
    assert s.fingerprint("CRC-64-AVRO").hex() == fastavro.schema.fingerprint(
        canonical, "CRC-64-AVRO"
    )
    assert s.fingerprint() == s.fingerprint("CRC-64-AVRO")
    assert s.fingerprint("MD5") == hashlib.md5(raw).digest()
    assert s.fingerprint("SHA-256") == hashlib.sha256(raw).digest()


@settings(max_examples=150)
@given(schema=schemas())
def test_schema_attributes_and_construction_forms(backend: ModuleType, schema: JSON) -> None:
    text = json.dumps(schema)
    s = schema_of(backend, schema)
    root = parse_model(schema).root
    assert s.type == root.kind
    assert s.name == (root.name.fullname if root.name is not None else None)
    assert s.text == text
    assert s.to_json() == schema
    forms = [backend.Schema(s.text), backend.Schema(s)]
    if isinstance(schema, (dict, list)):
        forms.append(backend.Schema(schema))
    if '"namespace": ""' not in text:
        # Parsing Canonical Form cannot say "null namespace" inside a namespace; otherwise it
        # is a schema of its own, with the same canonical form.
        forms.append(backend.Schema(s.canonical_form))
    for other in forms:
        assert other.canonical_form == s.canonical_form
        assert other.fingerprint() == s.fingerprint()


# --------------------------------------------------------------------------------------
# Both backends
# --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def both_backends() -> tuple[ModuleType, ModuleType]:
    return (
        importlib.import_module("avrobridge._native"),
        importlib.import_module("avrobridge._fallback"),
    )


@settings(max_examples=300)
@given(case=schema_and_data())
def test_both_backends_give_identical_results(
    both_backends: tuple[ModuleType, ModuleType], case: tuple[JSON, list[Any]]
) -> None:
    native, fallback = both_backends
    schema, values = case
    a, b = schema_of(native, schema, values), schema_of(fallback, schema)
    assert a.canonical_form == b.canonical_form
    for algorithm in ("CRC-64-AVRO", "MD5", "SHA-256"):
        assert a.fingerprint(algorithm) == b.fingerprint(algorithm)
    assert (a.name, a.type) == (b.name, b.type)
    for value in values:
        data = native.encode(a, value)
        assert fallback.encode(b, value) == data
        assert_same(fallback.decode(b, data), native.decode(a, data))


# --------------------------------------------------------------------------------------
# The generators themselves cover what the suite relies on
# --------------------------------------------------------------------------------------


def _depth(s: JSON) -> int:
    if isinstance(s, list):
        return 1 + max((_depth(b) for b in s), default=0)
    if isinstance(s, dict):
        t = s["type"]
        if t in ("record", "error"):
            return 1 + max((_depth(f["type"]) for f in s["fields"]), default=0)
        if t == "array":
            return 1 + _depth(s["items"])
        if t == "map":
            return 1 + _depth(s["values"])
    return 0


def _json_nodes(s: JSON) -> list[Any]:
    out: list[Any] = []
    stack = [s]
    while stack:
        x = stack.pop()
        out.append(x)
        if isinstance(x, list):
            stack.extend(x)
        elif isinstance(x, dict):
            for key in ("items", "values"):
                if key in x:
                    stack.append(x[key])
            for f in x.get("fields", []):
                stack.append(f["type"])
    return out


def _nodes(s: JSON) -> list[Node]:
    return walk_nodes(parse_model(s).root)


def _type(n: Node) -> str:
    return "error" if n.is_error else n.kind


def _has_type(t: str) -> Callable[[JSON], bool]:
    return lambda s: any(_type(n) == t for n in _nodes(s))


def _has_logical(base: str, logical: str) -> Callable[[JSON], bool]:
    return lambda s: any(n.kind == base and n.logical == logical for n in _nodes(s))


def _is_recursive(s: JSON) -> bool:
    """A record reachable from itself."""
    for node in _nodes(s):
        if node.kind != "record":
            continue
        seen: set[int] = set()
        stack = children(node)
        while stack:
            n = stack.pop()
            if n is node:
                return True
            if id(n) in seen:
                continue
            seen.add(id(n))
            stack.extend(children(n))
    return False


def _has_reference(s: JSON) -> bool:
    """A named type used again by name after its definition."""
    named = {n.name.fullname for n in _nodes(s) if n.name is not None}
    short = {name.rsplit(".", 1)[-1] for name in named}
    return any(isinstance(x, str) and (x in named or x in short) for x in _json_nodes(s))


def _named_json(s: JSON) -> list[dict[str, Any]]:
    return [
        x
        for x in _json_nodes(s)
        if isinstance(x, dict) and x.get("type") in ("record", "error", "enum", "fixed")
    ]


def _namespace_inherited(s: JSON) -> bool:
    """A named type without namespace of its own inside a record with a namespace."""
    return any(
        n.name.namespace and "." not in n.json["name"] and "namespace" not in n.json
        for n in _nodes(s)
        if n.name is not None
    )


FEATURES: dict[str, Callable[[JSON], bool]] = {
    **{
        f"type {t}": _has_type(t)
        for t in (
            "null",
            "boolean",
            "int",
            "long",
            "float",
            "double",
            "bytes",
            "string",
            "record",
            "error",
            "enum",
            "array",
            "map",
            "union",
            "fixed",
        )
    },
    **{
        f"logical {b}/{lt}": _has_logical(b, lt)
        for b, lt in (
            ("bytes", "decimal"),
            ("fixed", "decimal"),
            ("string", "uuid"),
            ("fixed", "uuid"),
            ("int", "date"),
            ("int", "time-millis"),
            ("long", "time-micros"),
            ("long", "timestamp-millis"),
            ("long", "timestamp-micros"),
            ("long", "timestamp-nanos"),
            ("long", "local-timestamp-millis"),
            ("long", "local-timestamp-micros"),
            ("long", "local-timestamp-nanos"),
            ("fixed", "duration"),
        )
    },
    "ignored logical type": lambda s: any(
        annotation(n) is not None and n.logical is None for n in _nodes(s)
    ),
    "enum with default": lambda s: any(n.enum_default is not None for n in _nodes(s)),
    "enum without default": lambda s: any(
        n.kind == "enum" and n.enum_default is None for n in _nodes(s)
    ),
    "field default": lambda s: any(f.has_default for n in _nodes(s) for f in n.fields),
    "record default": lambda s: any(
        f.has_default and f.node.kind == "record" for n in _nodes(s) for f in n.fields
    ),
    "union with null": lambda s: any(
        n.kind == "union" and any(b.kind == "null" for b in n.branches) for n in _nodes(s)
    ),
    "union of 4+ branches": lambda s: any(len(n.branches) >= 4 for n in _nodes(s)),
    "explicit namespace": lambda s: any(x.get("namespace") for x in _named_json(s)),
    "dotted name": lambda s: any("." in x["name"] for x in _named_json(s)),
    "null namespace inside a namespace": lambda s: any(
        x.get("namespace") == "" for x in _named_json(s)
    ),
    "inherited namespace": _namespace_inherited,
    "aliases": lambda s: any("aliases" in x for x in _named_json(s)),
    "field aliases": lambda s: any("aliases" in f.json for n in _nodes(s) for f in n.fields),
    "reference to a named type": _has_reference,
    "recursive record": _is_recursive,
    "nesting 4 deep": lambda s: _depth(s) >= 4,
    "nesting 5 deep": lambda s: _depth(s) >= 5,
}


def test_schema_generator_covers_every_feature() -> None:
    """One derandomized pass of schemas() meets every feature in FEATURES (no shrinking, so
    this stays quick)."""
    counts = dict.fromkeys(FEATURES, 0)

    @settings(
        max_examples=1500,
        database=None,
        derandomize=True,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
        deadline=None,
    )
    @given(schema=schemas())
    def collect(schema: JSON) -> None:
        for feature, present in FEATURES.items():
            counts[feature] += present(schema)

    collect()
    missing = [feature for feature, n in counts.items() if n == 0]
    assert not missing, f"schemas() never generated: {missing}"


def test_data_generator_gives_deep_values_for_recursive_schemas() -> None:
    tree = {
        "type": "record",
        "name": "Tree",
        "fields": [
            {"name": "label", "type": "string"},
            {"name": "children", "type": {"type": "array", "items": "Tree"}},
        ],
    }

    def depth(v: dict[str, Any]) -> int:
        return 1 + max((depth(c) for c in v["children"]), default=0)

    value = find(
        data_for(tree, max_depth=8),
        lambda v: depth(v) >= 4,
        settings=settings(max_examples=2000, database=None, deadline=None),
    )
    assert depth(value) >= 4
