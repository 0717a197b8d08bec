"""The schema model codegen reads: named types, fields and logical types, resolved from
the schema JSON (the codec's own parser validates the schemas first)."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .._avro_rules import decimal_params, max_fixed_decimal_digits
from .._backend import Schema
from ..errors import SchemaError

PRIMITIVES = ("null", "boolean", "int", "long", "float", "double", "bytes", "string")


@dataclass(eq=False)
class Field:
    name: str
    type: AvroType
    json: dict[str, Any]
    py_name: str = ""

    @property
    def has_default(self) -> bool:
        return "default" in self.json


@dataclass(eq=False)
class AvroType:
    kind: str
    json: Any = None
    logical: str | None = None
    precision: int = 0
    scale: int = 0
    name: str | None = None
    namespace: str | None = None
    aliases: list[str] = field(default_factory=list)
    fields: list[Field] = field(default_factory=list)
    symbols: list[str] = field(default_factory=list)
    size: int = 0
    items: AvroType | None = None
    values: AvroType | None = None
    branches: list[AvroType] = field(default_factory=list)
    # Code generation: the class name (records, enums) and enum member names.
    py_name: str = ""
    members: dict[str, str] = field(default_factory=dict)

    @property
    def short(self) -> str:
        assert self.name is not None
        return self.name.rsplit(".", 1)[-1]

    @property
    def is_record(self) -> bool:
        return self.kind in ("record", "error")


def _logical(kind: str, obj: Mapping[str, Any], size: int = 0) -> tuple[str | None, int, int]:
    """The logical type as the codec applies it (invalid annotations are ignored)."""
    lt = obj.get("logicalType")
    if not isinstance(lt, str):
        return None, 0, 0
    if kind == "int" and lt in ("date", "time-millis"):
        return lt, 0, 0
    if kind == "long" and lt in (
        "time-micros",
        "timestamp-millis",
        "timestamp-micros",
        "local-timestamp-millis",
        "local-timestamp-micros",
    ):
        return lt, 0, 0
    if kind == "string" and lt == "uuid":
        return lt, 0, 0
    if kind in ("bytes", "fixed") and lt == "decimal":
        params = decimal_params(obj)
        if params and (kind == "bytes" or params[0] <= max_fixed_decimal_digits(size)):
            return lt, params[0], params[1]
    return None, 0, 0


class Parser:
    """Schema JSON -> :class:`AvroType` graph; named types shared across schemas."""

    def __init__(self) -> None:
        self.names: dict[str, AvroType] = {}
        self.order: list[AvroType] = []  # named types in definition order

    def lookup(self, ref: str, ns: str | None) -> AvroType:
        if "." not in ref and ns and f"{ns}.{ref}" in self.names:
            return self.names[f"{ns}.{ref}"]
        if ref in self.names:
            return self.names[ref]
        raise SchemaError(f"unknown type {ref!r}")

    def named(self, obj: Mapping[str, Any], ns: str | None, node: AvroType) -> AvroType:
        name = str(obj["name"])
        explicit = obj.get("namespace")
        space: str | None
        if "." in name:
            space, short = name.rsplit(".", 1)
        else:
            space, short = (str(explicit) if explicit is not None else ns), name
        node.namespace = space or None
        node.name = f"{node.namespace}.{short}" if node.namespace else short
        node.aliases = [
            a if "." in a or not node.namespace else f"{node.namespace}.{a}"
            for a in obj.get("aliases", [])
        ]
        if node.name in self.names:
            raise SchemaError(f"{node.name} is defined twice (give each schema once)")
        self.names[node.name] = node
        self.order.append(node)
        return node

    def parse(self, s: Any, ns: str | None = None) -> AvroType:
        if isinstance(s, str):
            return AvroType(s, json=s) if s in PRIMITIVES else self.lookup(s, ns)
        if isinstance(s, list):
            return AvroType("union", json=s, branches=[self.parse(b, ns) for b in s])
        if not isinstance(s, Mapping):
            raise SchemaError(f"not a schema: {s!r}")
        t = s.get("type")
        if isinstance(t, (list, Mapping)):
            return self.parse(t, ns)
        if t in PRIMITIVES:
            lt, precision, scale = _logical(str(t), s)
            return AvroType(str(t), json=s, logical=lt, precision=precision, scale=scale)
        if t in ("record", "error"):
            node = self.named(s, ns, AvroType(str(t), json=s))
            for f in s["fields"]:
                ftype = self.parse(f["type"], node.namespace)
                node.fields.append(Field(str(f["name"]), ftype, dict(f)))
            return node
        if t == "enum":
            node = self.named(
                s, ns, AvroType("enum", json=s, symbols=[str(x) for x in s["symbols"]])
            )
            return node
        if t == "fixed":
            size = int(s["size"])
            lt, precision, scale = _logical("fixed", s, size)
            node = AvroType(
                "fixed", json=s, size=size, logical=lt, precision=precision, scale=scale
            )
            return self.named(s, ns, node)
        if t == "array":
            return AvroType("array", json=s, items=self.parse(s["items"], ns))
        if t == "map":
            return AvroType("map", json=s, values=self.parse(s["values"], ns))
        if isinstance(t, str):
            return self.lookup(t, ns)
        raise SchemaError(f"not a schema: {s!r}")


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
