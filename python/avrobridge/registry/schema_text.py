"""Avro schema text as Confluent Schema Registry stores and compares it.

Confluent stores ``AvroSchema.canonicalString()``, which is Apache Avro (Java)'s
``Schema.toString()``: compact JSON with a fixed attribute order, the namespace written only
where it changes, primitives without properties collapsed to ``"int"``, and named types from
references written as names. Two registrations are the same schema when these strings (plus
type and references) are equal, so whitespace and attribute order never create new ids.

:func:`render` reproduces that string from the parsed JSON. With ``normalize=True`` it writes
avrobridge's normal form instead (see docs/registry.md): full names and no ``namespace``,
properties sorted by key, references sorted — so equivalent spellings of a schema collapse
to one id.

The input JSON has already been validated by :class:`avrobridge.Schema`, so this module only
re-spells it; it never decides validity.
"""

from __future__ import annotations

import decimal
import json
import math
from typing import Any

from .._avro_rules import PRIMITIVE_TYPES

__all__ = ["MAX_DEPTH", "java_double", "json_depth", "render"]

#: Deeper JSON is refused before any recursive code sees it (the Rust parser stops at 128).
MAX_DEPTH = 120

PRIMITIVES = frozenset(PRIMITIVE_TYPES)
_NAMED = frozenset(["record", "error", "enum", "fixed"])
# Apache Avro's reserved attribute sets: everything else is a property, kept in input order.
_SCHEMA_RESERVED = frozenset(
    ["doc", "fields", "items", "name", "namespace", "size", "symbols", "values", "type", "aliases"]
)
_ENUM_RESERVED = _SCHEMA_RESERVED | {"default"}
_FIELD_RESERVED = frozenset(["default", "doc", "name", "order", "type", "aliases"])


def json_depth(value: Any) -> int:
    """Nesting depth of parsed JSON, computed without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            deepest = max(deepest, depth)
            stack.extend((v, depth + 1) for v in node.values())
        elif isinstance(node, list):
            deepest = max(deepest, depth)
            stack.extend((v, depth + 1) for v in node)
    return deepest


def java_double(value: float) -> str:
    """``Double.toString`` (Jackson writes doubles with it): 1.0E10, 1.5E-5, 123.45."""
    if math.isinf(value) or math.isnan(value):
        raise ValueError("JSON has no infinities or NaN")
    if value == 0:
        return "-0.0" if math.copysign(1.0, value) < 0 else "0.0"
    text = repr(value)  # the shortest digits that round-trip, as modern Java prints
    if 1e-3 <= abs(value) < 1e7:
        return text if "." in text or "e" in text else text + ".0"
    sign, digits, exponent = decimal.Decimal(text).as_tuple()
    significant = "".join(map(str, digits)).rstrip("0") or "0"
    power = len(digits) + int(exponent) - 1
    head, tail = significant[0], significant[1:] or "0"
    return f"{'-' if sign else ''}{head}.{tail}E{power}"


def _dump_scalar(value: Any) -> str:
    if isinstance(value, float):
        return java_double(value)
    return json.dumps(value, ensure_ascii=False)


def dump_tree(value: Any, sort_keys: bool = False) -> str:
    """Jackson's ``writeTree`` for default values and properties (compact)."""
    if isinstance(value, dict):
        items = sorted(value.items()) if sort_keys else value.items()
        inner = ",".join(
            f"{json.dumps(k, ensure_ascii=False)}:{dump_tree(v, sort_keys)}" for k, v in items
        )
        return "{" + inner + "}"
    if isinstance(value, list):
        return "[" + ",".join(dump_tree(v, sort_keys) for v in value) + "]"
    return _dump_scalar(value)


def _q(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def _split(name: str, space: str | None) -> tuple[str, str | None]:
    """(short name, namespace) as Avro's ``Name`` constructor makes them ("" means none)."""
    if "." in name:
        space, name = name.rsplit(".", 1)
    return name, (space or None)


def _full(short: str, space: str | None) -> str:
    return f"{space}.{short}" if space else short


class _Writer:
    """One rendering pass; ``space`` is the enclosing namespace as Avro's ``Names.space``."""

    def __init__(self, normalize: bool) -> None:
        self.normalize = normalize

    def props(self, node: dict[str, Any], reserved: frozenset[str]) -> list[str]:
        keys = [k for k in node if k not in reserved]
        if self.normalize:
            keys.sort()
        return [f"{_q(k)}:{dump_tree(node[k], self.normalize)}" for k in keys]

    def ref(self, name: str, space: str | None) -> str:
        short, ns = _split(name, space)
        if self.normalize:
            return _q(_full(short, ns))
        # Name.getQualified(space): the short name when the namespaces agree (or it has none).
        return _q(short if ns is None or ns == space else _full(short, ns))

    def schema(self, node: Any, space: str | None) -> str:
        if isinstance(node, str):
            return _q(node) if node in PRIMITIVES else self.ref(node, space)
        if isinstance(node, list):
            return "[" + ",".join(self.schema(branch, space) for branch in node) + "]"
        if not isinstance(node, dict):
            return dump_tree(node)
        kind = node.get("type")
        if isinstance(kind, (dict, list)):
            # {"type": {...}} wraps a schema; Avro parses the inner one and drops the rest.
            return self.schema(kind, space)
        if not isinstance(kind, str):
            return dump_tree(node)
        if kind in PRIMITIVES:
            parts = self.props(node, _SCHEMA_RESERVED)
            if not parts:
                return _q(kind)
            return "{" + ",".join([f'"type":{_q(kind)}', *parts]) + "}"
        if kind == "array":
            parts = ['"type":"array"', f'"items":{self.schema(node.get("items"), space)}']
            return "{" + ",".join(parts + self.props(node, _SCHEMA_RESERVED)) + "}"
        if kind == "map":
            parts = ['"type":"map"', f'"values":{self.schema(node.get("values"), space)}']
            return "{" + ",".join(parts + self.props(node, _SCHEMA_RESERVED)) + "}"
        if kind in _NAMED:
            return self.named(node, kind, space)
        # A reference to a named type spelled as {"type": "Name"}: Avro keeps only the name.
        return self.ref(kind, space)

    def named(self, node: dict[str, Any], kind: str, space: str | None) -> str:
        explicit = node.get("namespace")
        given_space = explicit if isinstance(explicit, str) else space
        short, ns = _split(str(node.get("name", "")), given_space)
        parts = [f'"type":{_q(kind)}']
        if self.normalize:
            parts.append(f'"name":{_q(_full(short, ns))}')
        else:
            parts.append(f'"name":{_q(short)}')
            if ns is not None and ns != space:
                parts.append(f'"namespace":{_q(ns)}')
            elif ns is None and space is not None:
                parts.append('"namespace":""')
        doc = node.get("doc")
        if isinstance(doc, str):
            parts.append(f'"doc":{_q(doc)}')
        if kind in ("record", "error"):
            fields = node.get("fields")
            rendered = [self.field(f, ns) for f in fields] if isinstance(fields, list) else []
            parts.append('"fields":[' + ",".join(rendered) + "]")
            parts += self.props(node, _SCHEMA_RESERVED)
        elif kind == "enum":
            symbols = node.get("symbols") or []
            parts.append('"symbols":[' + ",".join(_q(str(s)) for s in symbols) + "]")
            default = node.get("default")
            if isinstance(default, str):
                parts.append(f'"default":{_q(default)}')
            parts += self.props(node, _ENUM_RESERVED)
        else:
            parts.append(f'"size":{dump_tree(node.get("size"))}')
            parts += self.props(node, _SCHEMA_RESERVED)
        aliases = node.get("aliases")
        if isinstance(aliases, list) and aliases:
            names = [self.alias(str(a), ns) for a in aliases]
            if self.normalize:
                names.sort()
            parts.append('"aliases":[' + ",".join(names) + "]")
        return "{" + ",".join(parts) + "}"

    def alias(self, alias: str, space: str | None) -> str:
        short, ns = _split(alias, space)
        if self.normalize or (ns is not None and ns != space):
            return _q(_full(short, ns))
        return _q(short)

    def field(self, node: Any, space: str | None) -> str:
        if not isinstance(node, dict):
            return dump_tree(node)
        parts = [f'"name":{_q(str(node.get("name", "")))}']
        parts.append(f'"type":{self.schema(node.get("type"), space)}')
        doc = node.get("doc")
        if isinstance(doc, str):
            parts.append(f'"doc":{_q(doc)}')
        if "default" in node:
            parts.append(f'"default":{dump_tree(node["default"], self.normalize)}')
        order = node.get("order")
        if isinstance(order, str) and order.lower() != "ascending":
            parts.append(f'"order":{_q(order.lower())}')
        aliases = node.get("aliases")
        if isinstance(aliases, list) and aliases:
            names = [str(a) for a in aliases]
            if self.normalize:
                names.sort()
            parts.append('"aliases":[' + ",".join(_q(a) for a in names) + "]")
        parts += self.props(node, _FIELD_RESERVED)
        return "{" + ",".join(parts) + "}"


def render(parsed: Any, *, normalize: bool = False) -> str:
    """The stored text of a parsed (and already validated) schema."""
    return _Writer(normalize).schema(parsed, None)
