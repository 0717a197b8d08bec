"""Python names for Avro names: class names unique across namespaces, fields and enum
members that shadow nothing the generated module uses."""

from __future__ import annotations

import builtins
import enum
import keyword
from collections.abc import Sequence

from ..schema import Node

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


def name_classes(types: Sequence[Node]) -> dict[int, str]:
    """Class names by ``id`` of the type: short names, clashes prefixed with namespace
    components."""
    out: dict[int, str] = {}
    groups: dict[str, list[Node]] = {}
    for t in types:
        assert t.name is not None
        groups.setdefault(t.name.name, []).append(t)
    taken: set[str] = set()
    pending: list[list[Node]] = []
    for short, group in groups.items():
        if len(group) == 1 and _usable(short, _CLASS_RESERVED):
            out[id(group[0])] = short
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
            out[id(t)] = _unique(name, taken, _CLASS_RESERVED)
    return out


def _prefixed(t: Node, depth: int) -> str:
    assert t.name is not None
    parts = t.name.namespace.split(".") if t.name.namespace else []
    prefix = "".join(p[:1].upper() + p[1:] for p in parts[-depth:])
    return prefix + t.name.name


def name_fields(record: Node, class_names: set[str]) -> dict[int, str]:
    """Attribute names by ``id`` of the field."""
    reserved = _FIELD_RESERVED | class_names
    taken: set[str] = set()
    out: dict[int, str] = {}
    # Fields that are fine as they are keep their names; the others pick among the rest.
    for f in record.fields:
        if _usable(f.name, reserved):
            out[id(f)] = f.name
            taken.add(f.name)
    for f in record.fields:
        if id(f) not in out:
            out[id(f)] = _unique(f.name, taken, reserved)
    return out


_ENUM_RESERVED = frozenset({*keyword.kwlist, *dir(enum.Enum), "mro", "name", "value"})


def name_members(enum: Node) -> dict[str, str]:
    """Member names by symbol."""
    taken: set[str] = set()
    members: dict[str, str] = {}
    for symbol in enum.symbols:
        if _usable(symbol, _ENUM_RESERVED) and not symbol.startswith("_"):
            members[symbol] = symbol
            taken.add(symbol)
    for symbol in enum.symbols:
        if symbol not in members:
            base = symbol.lstrip("_") or "S"
            members[symbol] = _unique(base, taken, _ENUM_RESERVED)
    return members
