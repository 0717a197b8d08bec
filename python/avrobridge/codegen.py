"""Typed Python classes from Avro schemas (``avrobridge codegen``).

``avrobridge codegen schema.avsc [more.avsc ...] -o module.py`` writes one module, standalone
(it imports only the standard library) and clean under ``mypy --strict``:

* a record becomes a ``@dataclass(kw_only=True, slots=True)`` class with type hints, its
  ``doc`` as the docstring and field ``doc``s as attribute docstrings; an enum becomes an
  ``enum.Enum`` whose values are the symbols; fixed and bytes are ``bytes``;
* unions are ``X | Y | None``, arrays ``list[...]``, maps ``dict[str, ...]``, logical types
  ``datetime.date``/``time``/``datetime`` (timestamps UTC-aware, local timestamps naive),
  ``decimal.Decimal`` and ``uuid.UUID``, exactly the types ``avrobridge.decode`` returns;
* field defaults are kept (lists, maps and records through ``field(default_factory=...)``);
* ``to_dict()`` gives the representation ``avrobridge.encode`` (and fastavro) take, and
  ``from_dict()`` builds the classes from what ``avrobridge.decode`` returns; enums convert
  to and from their symbol; recursive types work; union branches are told apart as fastavro's
  writer tells them apart;
* every record class carries its standalone schema as ``__avro_schema__``.

Names: a class takes the type's short name; short names that clash get a prefix made of
their namespace's last components (``com.acme.v1.Status`` -> ``V1Status``). Names that are
Python keywords or would shadow what the module uses get a trailing underscore (fields keep
their Avro names in ``to_dict``). Schemas given together share one namespace of names, as
schema references do: a later file may use the types of an earlier one.

:func:`decode_as` and :func:`encode_record` use such classes with the codec directly;
``avrobridge.serde.AvroDeserializer(..., record_type=Employee)`` returns them from Kafka.
"""

from __future__ import annotations

import argparse
import builtins
import datetime as dt
import decimal
import enum
import json
import keyword
import math
import struct
import sys
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TypeVar

from ._avro_rules import decimal_params, latin1, max_fixed_decimal_digits
from ._backend import Schema
from ._backend import decode as _decode
from ._backend import encode as _encode
from .errors import SchemaError

#: What the codec takes as a schema.
SchemaLike = Schema | str | dict[str, Any] | list[Any]

__all__ = [
    "AvroRecord",
    "RecordType",
    "add_codegen_command",
    "decode_as",
    "encode_record",
    "generate",
    "generate_files",
]

T_co = TypeVar("T_co", covariant=True)


class RecordType(Protocol[T_co]):
    """A generated record class: ``from_dict`` builds it from decoded data."""

    def from_dict(self, data: Mapping[str, Any], /) -> T_co: ...


class AvroRecord(Protocol):
    """An instance of a generated record class."""

    __avro_schema__: str

    def to_dict(self) -> dict[str, Any]: ...


def decode_as(
    record_type: RecordType[T_co],
    schema: SchemaLike | None,
    data: bytes,
    reader: SchemaLike | None = None,
) -> T_co:
    """``avrobridge.decode(schema, data, reader=reader)`` as an instance of ``record_type``
    (a generated class). ``schema=None`` takes the class's own ``__avro_schema__``."""
    if schema is None:
        schema = _class_schema(record_type)
    return record_type.from_dict(_decode(schema, data, reader))


def encode_record(obj: AvroRecord, schema: SchemaLike | None = None) -> bytes:
    """``avrobridge.encode(schema, obj.to_dict())``; ``schema=None`` takes the object's
    ``__avro_schema__``."""
    if schema is None:
        schema = _class_schema(obj)
    return _encode(schema, obj.to_dict())


_SCHEMA_CACHE: dict[str, Schema] = {}


def _class_schema(cls: object) -> Schema:
    text = getattr(cls, "__avro_schema__", None)
    if not isinstance(text, str):
        raise TypeError(f"{cls!r} has no __avro_schema__: pass the schema")
    schema = _SCHEMA_CACHE.get(text)
    if schema is None:
        schema = Schema(text)
        _SCHEMA_CACHE[text] = schema
    return schema


# --------------------------------------------------------------------------------------
# The schema model
# --------------------------------------------------------------------------------------

_PRIMITIVES = ("null", "boolean", "int", "long", "float", "double", "bytes", "string")
_INT_MIN, _INT_MAX = -(2**31), 2**31 - 1
_LONG_MIN, _LONG_MAX = -(2**63), 2**63 - 1
_EPOCH_ORDINAL = dt.date(1970, 1, 1).toordinal()
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
_EPOCH_NAIVE = dt.datetime(1970, 1, 1)


@dataclass(eq=False)
class _Field:
    name: str
    type: _Type
    json: dict[str, Any]
    py_name: str = ""

    @property
    def has_default(self) -> bool:
        return "default" in self.json


@dataclass(eq=False)
class _Type:
    kind: str
    json: Any = None
    logical: str | None = None
    precision: int = 0
    scale: int = 0
    name: str | None = None
    namespace: str | None = None
    aliases: list[str] = field(default_factory=list)
    fields: list[_Field] = field(default_factory=list)
    symbols: list[str] = field(default_factory=list)
    size: int = 0
    items: _Type | None = None
    values: _Type | None = None
    branches: list[_Type] = field(default_factory=list)
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


class _Parser:
    """Schema JSON -> :class:`_Type` graph; named types shared across schemas."""

    def __init__(self) -> None:
        self.names: dict[str, _Type] = {}
        self.order: list[_Type] = []  # named types in definition order

    def lookup(self, ref: str, ns: str | None) -> _Type:
        if "." not in ref and ns and f"{ns}.{ref}" in self.names:
            return self.names[f"{ns}.{ref}"]
        if ref in self.names:
            return self.names[ref]
        raise SchemaError(f"unknown type {ref!r}")

    def named(self, obj: Mapping[str, Any], ns: str | None, node: _Type) -> _Type:
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

    def parse(self, s: Any, ns: str | None = None) -> _Type:
        if isinstance(s, str):
            return _Type(s, json=s) if s in _PRIMITIVES else self.lookup(s, ns)
        if isinstance(s, list):
            return _Type("union", json=s, branches=[self.parse(b, ns) for b in s])
        if not isinstance(s, Mapping):
            raise SchemaError(f"not a schema: {s!r}")
        t = s.get("type")
        if isinstance(t, (list, Mapping)):
            return self.parse(t, ns)
        if t in _PRIMITIVES:
            lt, precision, scale = _logical(str(t), s)
            return _Type(str(t), json=s, logical=lt, precision=precision, scale=scale)
        if t in ("record", "error"):
            node = self.named(s, ns, _Type(str(t), json=s))
            for f in s["fields"]:
                ftype = self.parse(f["type"], node.namespace)
                node.fields.append(_Field(str(f["name"]), ftype, dict(f)))
            return node
        if t == "enum":
            node = self.named(s, ns, _Type("enum", json=s, symbols=[str(x) for x in s["symbols"]]))
            return node
        if t == "fixed":
            size = int(s["size"])
            lt, precision, scale = _logical("fixed", s, size)
            node = _Type("fixed", json=s, size=size, logical=lt, precision=precision, scale=scale)
            return self.named(s, ns, node)
        if t == "array":
            return _Type("array", json=s, items=self.parse(s["items"], ns))
        if t == "map":
            return _Type("map", json=s, values=self.parse(s["values"], ns))
        if isinstance(t, str):
            return self.lookup(t, ns)
        raise SchemaError(f"not a schema: {s!r}")


def _load(schema: str | Mapping[str, Any] | list[Any]) -> Any:
    if isinstance(schema, str):
        try:
            return json.loads(schema)
        except json.JSONDecodeError as exc:
            raise SchemaError(f"schema is not JSON: {exc}") from None
    return schema


def _validate(texts: Sequence[str], where: Callable[[int], str]) -> None:
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


# --------------------------------------------------------------------------------------
# Naming
# --------------------------------------------------------------------------------------

_MODULES = ("_dc", "_dt", "_decimal", "_enum", "_t", "_uuid")
#: Names a field may not take: they would shadow names used in class bodies (annotations,
#: defaults).
_FIELD_RESERVED = frozenset(
    {
        *keyword.kwlist,
        *_MODULES,
        "int",
        "float",
        "bool",
        "str",
        "bytes",
        "list",
        "dict",
        "object",
        "to_dict",
        "from_dict",
    }
)
_CLASS_RESERVED = frozenset({*keyword.kwlist, *_MODULES, *dir(builtins), "self", "cls", "data"})


def _usable(name: str, reserved: frozenset[str] | set[str]) -> bool:
    return (
        name.isidentifier()
        and name not in reserved
        and not name.startswith("__")
        and not name.startswith("_avro")
    )


def _unique(name: str, taken: set[str], reserved: frozenset[str] | set[str]) -> str:
    """``name`` if it is free, else ``name_`` (``name_2``, ...): a usable, untaken name."""
    if not name.isidentifier():
        name = "".join(c if c.isalnum() or c == "_" else "_" for c in name) or "_"
        if name[0].isdigit():
            name = "_" + name
    if name.startswith(("__", "_avro")):
        name = "f" + name
    if _usable(name, reserved) and name not in taken:
        taken.add(name)
        return name
    base = name + "_"
    if base.startswith("__"):
        base = "f" + base
    candidate, n = base, 2
    while not _usable(candidate, reserved) or candidate in taken:
        candidate, n = f"{base}{n}", n + 1
    taken.add(candidate)
    return candidate


def _name_classes(types: Sequence[_Type]) -> None:
    """Class names: short names, clashes prefixed with namespace components."""
    groups: dict[str, list[_Type]] = {}
    for t in types:
        groups.setdefault(t.short, []).append(t)
    taken: set[str] = set()
    pending: list[list[_Type]] = []
    for short, group in groups.items():
        if len(group) == 1 and _usable(short, _CLASS_RESERVED):
            group[0].py_name = short
            taken.add(short)
        else:
            pending.append(group)
    for group in pending:
        depth = 1
        while True:
            names = [_prefixed(t, depth) for t in group]
            if len(set(names)) == len(names) or depth > 32:
                break
            depth += 1
        for t, name in zip(group, names, strict=True):
            t.py_name = _unique(name, taken, _CLASS_RESERVED)


def _prefixed(t: _Type, depth: int) -> str:
    parts = (t.namespace or "").split(".") if t.namespace else []
    prefix = "".join(p[:1].upper() + p[1:] for p in parts[-depth:])
    return prefix + t.short


def _name_fields(record: _Type, class_names: set[str]) -> None:
    reserved = _FIELD_RESERVED | class_names
    taken: set[str] = set()
    # Fields that are fine as they are keep their names; the others pick among the rest.
    for f in record.fields:
        if _usable(f.name, reserved):
            f.py_name = f.name
            taken.add(f.name)
    for f in record.fields:
        if not f.py_name:
            f.py_name = _unique(f.name, taken, reserved)


_ENUM_RESERVED = frozenset({*keyword.kwlist, *dir(enum.Enum), "mro", "name", "value"})


def _name_members(enum: _Type) -> None:
    taken: set[str] = set()
    for symbol in enum.symbols:
        if _usable(symbol, _ENUM_RESERVED) and not symbol.startswith("_"):
            enum.members[symbol] = symbol
            taken.add(symbol)
    for symbol in enum.symbols:
        if symbol not in enum.members:
            base = symbol.lstrip("_") or "S"
            enum.members[symbol] = _unique(base, taken, _ENUM_RESERVED)


# --------------------------------------------------------------------------------------
# Code generation
# --------------------------------------------------------------------------------------


class _NoDefault(Exception):
    """A default that has no Python value here (the field is generated without one)."""


def _walk(roots: Iterable[_Type]) -> list[_Type]:
    seen: set[int] = set()
    out: list[_Type] = []
    stack = list(roots)
    while stack:
        t = stack.pop()
        if id(t) in seen:
            continue
        seen.add(id(t))
        out.append(t)
        stack.extend(f.type for f in t.fields)
        stack.extend(t.branches)
        stack.extend(x for x in (t.items, t.values) if x is not None)
    return out


def _str_literal(text: str) -> str:
    """A Python string literal of ``text``."""
    return json.dumps(text, ensure_ascii=False) if text.isprintable() else repr(text)


def _text_literal(text: str) -> str:
    """A Python string literal of ``text``, preferring single quotes (for JSON text)."""
    return repr(text)


def _plain(line: str) -> bool:
    return line.isprintable() and '"""' not in line and "\\" not in line


def _doc_lines(doc: Any, extra: str | None, indent: str) -> list[str]:
    """A docstring: ``doc`` (any text), then the line ``extra``."""
    parts = [p for p in (doc if isinstance(doc, str) else None, extra) if p and p.strip()]
    if not parts:
        return []
    text = "\n\n".join(parts)
    lines = text.split("\n")
    if not all(_plain(line) for line in lines) or text.endswith('"'):
        return [f"{indent}{text!r}"]
    if len(lines) == 1:
        return [f'{indent}"""{text}"""']
    out = [f'{indent}"""{lines[0]}']
    out += [f"{indent}{line}".rstrip() for line in lines[1:]]
    out.append(f'{indent}"""')
    return out


class _Generator:
    def __init__(self, roots: list[_Type], named: list[_Type], sources: Sequence[str]) -> None:
        self.roots = roots
        self.named = named
        self.sources = sources
        self.records = [t for t in named if t.is_record]
        self.enums = [t for t in named if t.kind == "enum"]
        self.helpers: list[str] = []
        self.factories: list[str] = []  # default factories: defined before the classes
        self.helper_names: dict[tuple[str, int], str] = {}
        self.uses: set[str] = {"_dc", "_t"}

    # Types ----------------------------------------------------------------------------

    def ann(self, t: _Type) -> str:
        k, lt = t.kind, t.logical
        if k == "null":
            return "None"
        if k == "boolean":
            return "bool"
        if k in ("int", "long"):
            if lt == "date":
                return self.use("_dt", "_dt.date")
            if lt in ("time-millis", "time-micros"):
                return self.use("_dt", "_dt.time")
            if lt is not None:
                return self.use("_dt", "_dt.datetime")
            return "int"
        if k in ("float", "double"):
            return "float"
        if k in ("bytes", "fixed"):
            return self.use("_decimal", "_decimal.Decimal") if lt == "decimal" else "bytes"
        if k == "string":
            return self.use("_uuid", "_uuid.UUID") if lt == "uuid" else "str"
        if k in ("record", "error", "enum"):
            return t.py_name
        if k == "array":
            assert t.items is not None
            return f"list[{self.ann(t.items)}]"
        if k == "map":
            assert t.values is not None
            return f"dict[str, {self.ann(t.values)}]"
        assert k == "union"
        parts: list[str] = []
        for b in t.branches:
            a = self.ann(b)
            if a != "None" and a not in parts:
                parts.append(a)
        if any(b.kind == "null" for b in t.branches):
            parts.append("None")
        if not parts:
            return "_t.NoReturn"
        return " | ".join(parts)

    def use(self, module: str, text: str) -> str:
        self.uses.add(module)
        return text

    # Conversions ----------------------------------------------------------------------

    def needs(self, t: _Type, seen: frozenset[int] = frozenset()) -> bool:
        """Whether values of ``t`` differ between the classes and the dict representation."""
        if t.kind in ("record", "error", "enum"):
            return True
        if id(t) in seen:
            return False
        inner = seen | {id(t)}
        if t.kind == "array":
            assert t.items is not None
            return self.needs(t.items, inner)
        if t.kind == "map":
            assert t.values is not None
            return self.needs(t.values, inner)
        if t.kind == "union":
            return any(self.needs(b, inner) for b in t.branches)
        return False

    def to_expr(self, t: _Type, e: str, depth: int) -> str | None:
        """Expression converting ``e`` (class representation) to the dict one; None when
        they are the same."""
        if not self.needs(t):
            return None
        k = t.kind
        if k in ("record", "error"):
            return f"{e}.to_dict()"
        if k == "enum":
            return f"{e}.value"
        x = f"_avro_x{depth}"
        if k == "array":
            assert t.items is not None
            return f"[{self.to_expr(t.items, x, depth + 1)} for {x} in {e}]"
        if k == "map":
            assert t.values is not None
            inner = self.to_expr(t.values, x, depth + 1)
            return f"{{_avro_k{depth}: {inner} for _avro_k{depth}, {x} in {e}.items()}}"
        others = [b for b in t.branches if b.kind != "null"]
        if len(others) == 1 and len(t.branches) == 2:
            return f"None if {e} is None else {self.to_expr(others[0], e, depth)}"
        return f"{self.to_helper(t)}({e})"

    def from_expr(self, t: _Type, e: str, depth: int) -> str | None:
        """Expression building the class representation from decoded ``e``."""
        if not self.needs(t):
            return None
        k = t.kind
        if k in ("record", "error"):
            return f"{t.py_name}.from_dict({e})"
        if k == "enum":
            return f"{t.py_name}({e})"
        x = f"_avro_x{depth}"
        if k == "array":
            assert t.items is not None
            return f"[{self.from_expr(t.items, x, depth + 1)} for {x} in {e}]"
        if k == "map":
            assert t.values is not None
            inner = self.from_expr(t.values, x, depth + 1)
            return f"{{_avro_k{depth}: {inner} for _avro_k{depth}, {x} in {e}.items()}}"
        others = [b for b in t.branches if b.kind != "null"]
        if len(others) == 1 and len(t.branches) == 2:
            return f"None if {e} is None else {self.from_expr(others[0], e, depth)}"
        return f"{self.from_helper(t)}({e})"

    def to_helper(self, t: _Type) -> str:
        key = ("to", id(t))
        if key in self.helper_names:
            return self.helper_names[key]
        name = f"_avro_to_{len(self.helper_names)}"
        self.helper_names[key] = name
        cases: list[tuple[str, str]] = []  # (isinstance test, conversion)
        covered = 0
        records = [b for b in t.branches if b.is_record]
        enums = [b for b in t.branches if b.kind == "enum"]
        for group, conversion in ((records, "_avro_v.to_dict()"), (enums, "_avro_v.value")):
            if group:
                names = ", ".join(b.py_name for b in group)
                cases.append((f"({names})" if len(group) > 1 else names, conversion))
                covered += len(group)
        for b in t.branches:
            if b.kind in ("array", "map") and self.needs(b):
                test = "list" if b.kind == "array" else "dict"
                cases.append((test, self.to_expr(b, "_avro_v", 1) or "_avro_v"))
                covered += 1
        lines = [f"def {name}(_avro_v: {self.ann(t)}) -> _t.Any:"]
        for i, (test, conversion) in enumerate(cases):
            if covered == len(t.branches) and i == len(cases) - 1:
                lines.append(f"    return {conversion}")  # every branch is handled
            else:
                lines += [f"    if isinstance(_avro_v, {test}):", f"        return {conversion}"]
        if covered < len(t.branches):
            lines.append("    return _avro_v")
        self.helpers.append("\n".join(lines))
        return name

    def from_helper(self, t: _Type) -> str:
        key = ("from", id(t))
        if key in self.helper_names:
            return self.helper_names[key]
        name = f"_avro_from_{len(self.helper_names)}"
        self.helper_names[key] = name
        ann = self.ann(t)
        lines = [f"def {name}(_avro_v: _t.Any) -> {ann}:"]
        # Decoded dicts come from records or a map, str from a string or enums, lists from
        # the array: tell the branches apart as fastavro's writer picks them.
        dict_branches = [b for b in t.branches if b.is_record or b.kind == "map"]
        if any(self.needs(b) for b in dict_branches):
            lines.append("    if isinstance(_avro_v, dict):")
            maps = [b for b in dict_branches if b.kind == "map"]
            records = sorted(
                (b for b in dict_branches if b.is_record),
                key=lambda b: -len(b.fields),  # stable: earliest first among equals
            )
            if len(dict_branches) == 1:
                only = dict_branches[0]
                lines.append(f"        return {self.from_expr(only, '_avro_v', 1) or '_avro_v'}")
            else:
                for m in maps:
                    lines += [
                        f"        if {self.match(m, '_avro_v', 1)}:",
                        f"            return {self.from_expr(m, '_avro_v', 1) or '_avro_v'}",
                    ]
                for r in records:
                    lines += [
                        f"        if {self.match(r, '_avro_v', 1)}:",
                        f"            return {r.py_name}.from_dict(_avro_v)",
                    ]
        str_branches = [
            b for b in t.branches if b.kind == "enum" or (b.kind == "string" and not b.logical)
        ]
        if any(b.kind == "enum" for b in str_branches):
            lines.append("    if isinstance(_avro_v, str):")
            for b in str_branches:
                if b.kind == "string":
                    lines.append("        return _avro_v")
                    break
                symbols = ", ".join(_str_literal(s) for s in b.symbols)
                lines += [
                    f"        if _avro_v in ({symbols},):",
                    f"            return {b.py_name}(_avro_v)",
                ]
        for b in t.branches:
            if b.kind == "array" and self.needs(b):
                lines += [
                    "    if isinstance(_avro_v, list):",
                    f"        return {self.from_expr(b, '_avro_v', 1)}",
                ]
        lines.append(f"    return _t.cast({_str_literal(ann)}, _avro_v)")
        self.helpers.append("\n".join(lines))
        return name

    def match(self, t: _Type, e: str, depth: int) -> str:
        """A boolean expression: ``e`` is a value ``avrobridge.decode`` returns for ``t``."""
        k, lt = t.kind, t.logical
        if k == "null":
            return f"{e} is None"
        if k == "boolean":
            return f"isinstance({e}, bool)"
        if k in ("int", "long"):
            if lt == "date":
                dt_ = self.use("_dt", "_dt")
                return f"(isinstance({e}, {dt_}.date) and not isinstance({e}, {dt_}.datetime))"
            if lt in ("time-millis", "time-micros"):
                return f"isinstance({e}, {self.use('_dt', '_dt')}.time)"
            if lt is not None:
                tz = "is None" if lt.startswith("local") else "is not None"
                return f"(isinstance({e}, {self.use('_dt', '_dt')}.datetime) and {e}.tzinfo {tz})"
            return f"(isinstance({e}, int) and not isinstance({e}, bool))"
        if k in ("float", "double"):
            return f"isinstance({e}, float)"
        if k in ("bytes", "fixed"):
            if lt == "decimal":
                return f"isinstance({e}, {self.use('_decimal', '_decimal')}.Decimal)"
            if k == "fixed":
                return f"(isinstance({e}, bytes) and len({e}) == {t.size})"
            return f"isinstance({e}, bytes)"
        if k == "string":
            if lt == "uuid":
                return f"isinstance({e}, {self.use('_uuid', '_uuid')}.UUID)"
            return f"isinstance({e}, str)"
        if k == "enum":
            symbols = ", ".join(_str_literal(s) for s in t.symbols)
            return f"(isinstance({e}, str) and {e} in ({symbols},))"
        if k in ("record", "error"):
            return f"{self.matcher(t)}({e})"
        x = f"_avro_x{depth}"
        if k == "array":
            assert t.items is not None
            inner = self.match(t.items, x, depth + 1)
            return f"(isinstance({e}, list) and all({inner} for {x} in {e}))"
        if k == "map":
            assert t.values is not None
            inner = self.match(t.values, x, depth + 1)
            return f"(isinstance({e}, dict) and all({inner} for {x} in {e}.values()))"
        if not t.branches:
            return "False"
        return "(" + " or ".join(self.match(b, e, depth) for b in t.branches) + ")"

    def matcher(self, record: _Type) -> str:
        key = ("is", id(record))
        if key in self.helper_names:
            return self.helper_names[key]
        name = f"_avro_is_{record.py_name}"
        self.helper_names[key] = name
        keys = ", ".join(_str_literal(f.name) for f in record.fields)
        tests = [
            "isinstance(_avro_v, dict)",
            f"_avro_v.keys() == {{{keys}}}" if record.fields else "not _avro_v",
        ]
        for f in record.fields:
            tests.append(self.match(f.type, f"_avro_v[{_str_literal(f.name)}]", 1))
        body = "\n        and ".join(tests)
        self.helpers.append(
            f"def {name}(_avro_v: _t.Any) -> bool:\n    return bool(\n        {body}\n    )"
        )
        return name

    # Defaults -------------------------------------------------------------------------

    def default(
        self, t: _Type, value: Any, depth: int = 0, filling: frozenset[int] = frozenset()
    ) -> tuple[str, bool]:
        """(expression, mutable) of the Python value of a JSON default. ``filling``: the
        fields whose schema default is being expanded (a default that contains itself, such
        as ``{}`` for a record whose field defaults to ``{}`` again, has no finite value)."""
        if depth > 64:
            raise _NoDefault
        k, lt = t.kind, t.logical
        is_int = isinstance(value, int) and not isinstance(value, bool)
        if k == "union":
            for b in t.branches:
                if _json_matches(b, value):
                    return self.default(b, value, depth + 1, filling)
            raise _NoDefault
        if not _json_matches(t, value):
            raise _NoDefault
        if k == "null":
            return "None", False
        if k == "boolean":
            return repr(bool(value)), False
        if k in ("int", "long"):
            assert is_int
            return self.int_default(lt, int(value)), False
        if k in ("float", "double"):
            number = float(value)
            if k == "float":
                number = struct.unpack("<f", struct.pack("<f", number))[0]
            if math.isnan(number) or math.isinf(number):
                return f'float("{number}")', False
            return repr(number), False
        if k in ("bytes", "fixed"):
            raw = str(value).encode("latin-1")
            if lt == "decimal":
                unscaled = int.from_bytes(raw, "big", signed=True)
                digits = tuple(int(c) for c in str(abs(unscaled)))
                amount = decimal.Decimal((1 if unscaled < 0 else 0, digits, -t.scale))
                return f"{self.use('_decimal', '_decimal')}.Decimal({str(amount)!r})", False
            return repr(raw), False
        if k == "string":
            if lt == "uuid":
                try:
                    text = str(uuid.UUID(str(value)))
                except ValueError:
                    raise _NoDefault from None
                return f"{self.use('_uuid', '_uuid')}.UUID({text!r})", False
            return _str_literal(str(value)), False
        if k == "enum":
            return f"{t.py_name}.{t.members[str(value)]}", False
        if k == "array":
            assert t.items is not None
            items = [self.default(t.items, v, depth + 1, filling)[0] for v in value]
            return "[" + ", ".join(items) + "]", True
        if k == "map":
            assert t.values is not None
            pairs = [
                f"{_str_literal(str(key))}: {self.default(t.values, v, depth + 1, filling)[0]}"
                for key, v in value.items()
            ]
            return "{" + ", ".join(pairs) + "}", True
        assert t.is_record
        args = []
        for f in t.fields:
            inner = filling
            if f.name in value:
                fv = value[f.name]
            elif f.has_default and id(f) not in filling:
                fv, inner = f.json["default"], filling | {id(f)}
            else:
                raise _NoDefault
            args.append(f"{f.py_name}={self.default(f.type, fv, depth + 1, inner)[0]}")
        return f"{t.py_name}({', '.join(args)})", True

    def factory(self, f: _Field, expr: str) -> str:
        """A typed function making a mutable default (a lambda's list would be inferred
        without the field's type, e.g. ``list[bytes]`` for ``list[bytes | None]``)."""
        branch = f.type
        if branch.kind == "union":
            branch = next(b for b in branch.branches if _json_matches(b, f.json["default"]))
        name = f"_avro_default_{len(self.factories)}"
        self.factories.append(f"def {name}() -> {self.ann(branch)}:\n    return {expr}")
        return name

    def int_default(self, lt: str | None, value: int) -> str:
        try:
            if lt == "date":
                d = dt.date.fromordinal(value + _EPOCH_ORDINAL)
                return f"{self.use('_dt', '_dt')}.date({d.year}, {d.month}, {d.day})"
            if lt in ("time-millis", "time-micros"):
                micros = value * 1000 if lt == "time-millis" else value
                secs, us = divmod(micros, 10**6)
                tm = dt.time(secs // 3600, secs // 60 % 60, secs % 60, us)
                args = f"{tm.hour}, {tm.minute}, {tm.second}, {tm.microsecond}"
                return f"{self.use('_dt', '_dt')}.time({args})"
            if lt is not None:
                micros = value * 1000 if lt.endswith("millis") else value
                base = _EPOCH_NAIVE if lt.startswith("local") else _EPOCH
                d = base + dt.timedelta(microseconds=micros)
                args = (
                    f"{d.year}, {d.month}, {d.day}, {d.hour}, {d.minute}, {d.second}, "
                    f"{d.microsecond}"
                )
                tz = "" if lt.startswith("local") else ", tzinfo=_dt.timezone.utc"
                return f"{self.use('_dt', '_dt')}.datetime({args}{tz})"
        except (ValueError, OverflowError):
            raise _NoDefault from None
        return repr(value)

    # Schema text ----------------------------------------------------------------------

    def standalone(self, t: _Type, seen: set[str], ns: str | None) -> Any:
        """``t`` as schema JSON defining every named type it uses (full names)."""
        k = t.kind
        if k in _PRIMITIVES or k in ("array", "map", "union"):
            if k == "array":
                assert t.items is not None
                out = {key: v for key, v in t.json.items() if key != "items"}
                out["items"] = self.standalone(t.items, seen, ns)
                return out
            if k == "map":
                assert t.values is not None
                out = {key: v for key, v in t.json.items() if key != "values"}
                out["values"] = self.standalone(t.values, seen, ns)
                return out
            if k == "union":
                return [self.standalone(b, seen, ns) for b in t.branches]
            return t.json
        assert t.name is not None
        if t.name in seen:
            return t.name
        seen.add(t.name)
        out = {"type": k, "name": t.name}
        if t.namespace is None and ns:
            out["namespace"] = ""
        skip = ("type", "name", "namespace", "aliases", "fields")
        out.update((key, v) for key, v in t.json.items() if key not in skip)
        if t.aliases:
            out["aliases"] = list(t.aliases)
        if t.is_record:
            fields = []
            for f in t.fields:
                fj = {"name": f.name, "type": self.standalone(f.type, seen, t.namespace)}
                fj.update((key, v) for key, v in f.json.items() if key not in fj)
                fields.append(fj)
            out["fields"] = fields
        return out

    # Module ---------------------------------------------------------------------------

    def module(self) -> str:
        class_names = {t.py_name for t in self.named if t.py_name}
        for r in self.records:
            _name_fields(r, class_names)
        for e in self.enums:
            _name_members(e)
        body: list[str] = []
        for e in self.enums:
            body += ["", "", *self.enum_class(e)]
        records: list[str] = []
        for r in self.records:
            records += ["", "", *self.record_class(r)]
        for factory in self.factories:
            body += ["", "", factory]
        body += records
        helpers = list(self.helpers)
        # Helpers made while making helpers (nested unions) are appended as they come.
        tail: list[str] = []
        for h in helpers:
            tail += ["", "", h]
        sources = ", ".join(self.sources) if self.sources else "schemas"
        head = [
            f'"""Typed Avro records generated by avrobridge codegen from {sources}.',
            "",
            "Do not edit: regenerate with ``avrobridge codegen``.",
            '"""',
            "",
            "# ruff: noqa: E501",
            "",
            "from __future__ import annotations",
            "",
        ]
        imports = {
            "_dc": "import dataclasses as _dc",
            "_dt": "import datetime as _dt",
            "_decimal": "import decimal as _decimal",
            "_enum": "import enum as _enum",
            "_t": "import typing as _t",
            "_uuid": "import uuid as _uuid",
        }
        if self.enums:
            self.uses.add("_enum")
        head += [imports[m] for m in sorted(self.uses)]
        exported = sorted(t.py_name for t in self.named if t.kind != "fixed")
        head += ["", "__all__ = [", *(f"    {_str_literal(n)}," for n in exported), "]"]
        return "\n".join(head + body + tail) + "\n"

    def enum_class(self, t: _Type) -> list[str]:
        lines = [f"class {t.py_name}(_enum.Enum):"]
        lines += _doc_lines(t.json.get("doc"), f"Avro enum ``{t.name}``.", "    ")
        lines.append("")
        for symbol in t.symbols:
            lines.append(f"    {t.members[symbol]} = {_str_literal(symbol)}")
        return lines

    def record_class(self, t: _Type) -> list[str]:
        lines = ["@_dc.dataclass(kw_only=True, slots=True)", f"class {t.py_name}:"]
        lines += _doc_lines(t.json.get("doc"), f"Avro record ``{t.name}``.", "    ")
        schema_text = json.dumps(self.standalone(t, set(), None), separators=(",", ":"))
        lines += ["", "    __avro_schema__: _t.ClassVar[str] = ("]
        lines += [
            f"        {_text_literal(schema_text[i : i + 80])}"
            for i in range(0, len(schema_text), 80)
        ]
        lines.append("    )")
        for f in t.fields:
            ann = self.ann(f.type)
            line = f"    {f.py_name}: {ann}"
            if f.has_default:
                try:
                    expr, mutable = self.default(f.type, f.json["default"])
                except _NoDefault:
                    pass
                else:
                    if not mutable:
                        line += f" = {expr}"
                    elif expr in ("[]", "{}") and f.type.kind in ("array", "map"):
                        factory = "list" if expr == "[]" else "dict"
                        line += f" = _dc.field(default_factory={factory})"
                    else:
                        line += f" = _dc.field(default_factory={self.factory(f, expr)})"
            lines.append(line)
            lines += _doc_lines(f.json.get("doc"), None, "    ")
        # to_dict
        lines += [
            "",
            "    def to_dict(self) -> dict[str, _t.Any]:",
            '        """This record as ``avrobridge.encode`` (and fastavro) take it."""',
        ]
        if t.fields:
            lines.append("        return {")
            for f in t.fields:
                e = f"self.{f.py_name}"
                lines.append(
                    f"            {_str_literal(f.name)}: {self.to_expr(f.type, e, 1) or e},"
                )
            lines.append("        }")
        else:
            lines.append("        return {}")
        # from_dict
        lines += [
            "",
            "    @classmethod",
            f"    def from_dict(cls, data: _t.Mapping[str, _t.Any]) -> {t.py_name}:",
            '        """The record from what ``avrobridge.decode`` (and fastavro) return."""',
        ]
        if t.fields:
            lines.append("        return cls(")
            for f in t.fields:
                e = f"data[{_str_literal(f.name)}]"
                lines.append(f"            {f.py_name}={self.from_expr(f.type, e, 1) or e},")
            lines.append("        )")
        else:
            lines.append("        return cls()")
        return lines


def _json_matches(t: _Type, value: Any, depth: int = 0) -> bool:
    """Whether a JSON default fits ``t`` (the codec's rule; unions: any branch)."""
    if depth > 128:
        return False
    k = t.kind
    is_int = isinstance(value, int) and not isinstance(value, bool)
    if k == "null":
        return value is None
    if k == "boolean":
        return isinstance(value, bool)
    if k == "int":
        return is_int and _INT_MIN <= value <= _INT_MAX
    if k == "long":
        return is_int and _LONG_MIN <= value <= _LONG_MAX
    if k in ("float", "double"):
        return is_int or isinstance(value, float)
    if k == "bytes":
        return latin1(value) is not None
    if k == "string":
        return isinstance(value, str)
    if k == "fixed":
        raw = latin1(value)
        return raw is not None and len(raw) == t.size
    if k == "enum":
        return isinstance(value, str) and value in t.symbols
    if k == "array":
        assert t.items is not None
        items = t.items
        return isinstance(value, list) and all(_json_matches(items, v, depth + 1) for v in value)
    if k == "map":
        assert t.values is not None
        vals = t.values
        return isinstance(value, dict) and all(
            _json_matches(vals, v, depth + 1) for v in value.values()
        )
    if k in ("record", "error"):
        if not isinstance(value, dict):
            return False
        for f in t.fields:
            if f.name in value:
                if not _json_matches(f.type, value[f.name], depth + 1):
                    return False
            elif not f.has_default:
                return False
        return True
    if k == "union":
        return any(_json_matches(b, value, depth + 1) for b in t.branches)
    return False


# --------------------------------------------------------------------------------------
# Entry points
# --------------------------------------------------------------------------------------


def generate(
    schemas: Iterable[str | Mapping[str, Any] | list[Any]], *, sources: Sequence[str] = ()
) -> str:
    """The Python module (source text) for ``schemas`` (JSON text or parsed JSON), given in
    dependency order: a schema may use the named types of the ones before it."""
    items = list(schemas)

    def where(i: int) -> str:
        return sources[i] if i < len(sources) else f"schema {i + 1}"

    loaded = []
    for i, item in enumerate(items):
        try:
            loaded.append(_load(item))
        except SchemaError as exc:
            raise SchemaError(f"{where(i)}: {exc.message}", exc.path) from None
    texts = [json.dumps(s) for s in loaded]
    _validate(texts, where)
    parser = _Parser()
    roots = []
    for i, schema in enumerate(loaded):
        try:
            roots.append(parser.parse(schema))
        except SchemaError as exc:
            raise SchemaError(f"{where(i)}: {exc.message}", exc.path) from None
    named = [t for t in parser.order if t.kind in ("record", "error", "enum", "fixed")]
    _name_classes([t for t in named if t.kind != "fixed"])
    generator = _Generator(roots, named, sources)
    return generator.module()


def generate_files(paths: Sequence[Path | str], output: Path | str | None = None) -> str:
    """Reads the ``.avsc`` files, writes the module to ``output`` (when given) and returns
    its text."""
    texts = [Path(p).read_text(encoding="utf-8") for p in paths]
    code = generate(texts, sources=[Path(p).name for p in paths])
    if output is not None:
        Path(output).write_text(code, encoding="utf-8")
    return code


def add_codegen_command(sub: Any) -> None:
    """Adds ``avrobridge codegen`` to the CLI's subparsers."""
    parser = sub.add_parser(
        "codegen",
        help="write typed Python classes (dataclasses, enums) for Avro schemas",
        description=(
            "Write one Python module with a dataclass per record and an enum.Enum per enum, "
            "with to_dict()/from_dict() for avrobridge.encode/decode. Schemas are read in "
            "order; a later one may use the named types of an earlier one."
        ),
    )
    parser.add_argument(
        "schemas",
        nargs="+",
        type=Path,
        metavar="SCHEMA.avsc",
        help="schema files, in dependency order",
    )
    parser.add_argument(
        "-o", "--output", type=Path, metavar="MODULE.py", help="output file (default: stdout)"
    )
    parser.set_defaults(handler=_run_codegen)


def _run_codegen(args: argparse.Namespace) -> int:
    """0 done; 2 a schema file that is missing or invalid, or an output that cannot be
    written (the exit statuses of every avrobridge command)."""
    try:
        code = generate_files(args.schemas, args.output)
    except OSError as exc:
        name = exc.filename if exc.filename is not None else args.output
        print(f"avrobridge codegen: {name}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    except SchemaError as exc:
        print(f"avrobridge codegen: {exc}", file=sys.stderr)
        return 2
    if args.output is None:
        sys.stdout.write(code)
    return 0
