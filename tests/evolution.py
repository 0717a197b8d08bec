"""Schema evolutions for resolution tests: from a writer schema, a reader schema that must
resolve against it, made of the changes people make in practice (add a field with a
default, drop a field, reorder, promote, widen to a union, add an enum symbol, rename a field
with an alias, rename a record with an alias)."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import strategies as st

from avrobridge.schema import parse_value, walk_nodes

JSON = Any

#: Promotions the specification allows, by writer type.
PROMOTIONS = {
    "int": ["long", "float", "double"],
    "long": ["float", "double"],
    "float": ["double"],
    "string": ["bytes"],
}
# (bytes -> string is a valid promotion too, but random bytes are rarely UTF-8: the corpus
# tests it with data that is.)
#: Added fields: (type, default) pairs whose defaults every implementation reads alike.
ADDED = [
    ("long", 7),
    ("string", "added"),
    ("boolean", True),
    (["null", "string"], None),
    ("double", 1.5),
    ({"type": "array", "items": "int"}, [1, 2]),
    ({"type": "map", "values": "long"}, {"k": 3}),
]
OPS = ("add", "drop", "reorder", "promote", "widen", "symbol", "rename", "record_alias")


def _records_and_enums(schema: JSON) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    records: list[dict[str, Any]] = []
    enums: list[dict[str, Any]] = []

    def walk(node: JSON) -> None:
        if isinstance(node, list):
            for b in node:
                walk(b)
        elif isinstance(node, dict):
            t = node.get("type")
            if t in ("record", "error"):
                records.append(node)
                for f in node["fields"]:
                    walk(f["type"])
            elif t == "enum":
                enums.append(node)
            elif t == "array":
                walk(node["items"])
            elif t == "map":
                walk(node["values"])
            elif isinstance(t, (dict, list)):
                walk(t)

    walk(schema)
    return records, enums


#: Every promotion of the specification, bytes -> string included (for union branch choice).
_ALL_PROMOTIONS = {**PROMOTIONS, "bytes": ["string"]}


def _kind(branch: JSON) -> str | None:
    t = branch.get("type") if isinstance(branch, dict) else branch
    return t if isinstance(t, str) else None


def first_match_differs(schema: JSON) -> bool:
    """Whether a union holds a branch that could be promoted to an EARLIER branch
    (["string","bytes"], ["long","int"], ...). There the specification's first matching branch
    (fastavro's choice) is not the exact branch that Apache Avro Java and avrobridge take, so
    values read through such a union are checked against Java instead of fastavro. ``schema``
    must be valid; the evolutions walk the JSON themselves, as their readers may not be."""
    for node in walk_nodes(parse_value(schema, False, []).root):
        kinds = [b.kind for b in node.branches]
        for i, k in enumerate(kinds):
            if any(k2 in _ALL_PROMOTIONS.get(k, []) for k2 in kinds[:i]):
                return True
    return False


def _plain(field_type: JSON) -> str | None:
    """The primitive name of a field type without logical type, else None."""
    if isinstance(field_type, str) and field_type in PROMOTIONS:
        return field_type
    if (
        isinstance(field_type, dict)
        and field_type.get("type") in PROMOTIONS
        and "logicalType" not in field_type
        and len(field_type) == 1
    ):
        return str(field_type["type"])
    return None


@st.composite
def evolve(draw: st.DrawFn, writer: JSON, *, fastavro_safe: bool = False) -> JSON:
    """A reader schema for `writer` (whose top level is a record). `fastavro_safe` leaves out
    the promotions fastavro reads differently from the specification (to float, whose 32-bit
    rounding it skips; string to bytes, where it returns str)."""
    reader = copy.deepcopy(writer)
    records, enums = _records_and_enums(reader)
    for rec in records:
        ops = draw(st.lists(st.sampled_from(OPS), max_size=4))
        for op in ops:
            fields = rec["fields"]
            if op == "add":
                t, default = draw(st.sampled_from(ADDED))
                name = f"added_{len(fields)}_{draw(st.integers(0, 999))}"
                if all(f["name"] != name for f in fields):
                    position = draw(st.integers(0, len(fields)))
                    fields.insert(position, {"name": name, "type": t, "default": default})
            elif op == "drop" and len(fields) > 1:
                fields.pop(draw(st.integers(0, len(fields) - 1)))
            elif op == "reorder" and len(fields) > 1:
                rec["fields"] = draw(st.permutations(fields))
            elif op == "promote" and fields:
                f = fields[draw(st.integers(0, len(fields) - 1))]
                kind = None if f["name"].startswith("added_") else _plain(f["type"])
                if kind is not None:
                    targets = [
                        t
                        for t in PROMOTIONS[kind]
                        if not (fastavro_safe and t in ("float", "bytes"))
                    ]
                    if targets:
                        f["type"] = draw(st.sampled_from(targets))
                        f.pop("default", None)
            elif op == "widen" and fields:
                f = fields[draw(st.integers(0, len(fields) - 1))]
                t = f["type"]
                if f["name"].startswith("added_"):
                    continue
                if (
                    not isinstance(t, list)
                    and t != "null"
                    and not (isinstance(t, dict) and t.get("type") == "null")
                ):
                    f["type"] = ["null", t]
                    f.pop("default", None)
            elif op == "rename" and fields:
                f = fields[draw(st.integers(0, len(fields) - 1))]
                new = f"{f['name']}_v2"
                if all(g["name"] != new for g in fields):
                    f["aliases"] = [*f.get("aliases", []), f["name"]]
                    f["name"] = new
            elif op == "record_alias" and rec is not reader:
                pass  # renaming nested records would need every reference renamed too
    for enum in enums:
        if draw(st.booleans()):
            new = f"NEW_SYMBOL_{len(enum['symbols'])}"
            if new not in enum["symbols"]:
                enum["symbols"] = [*enum["symbols"], new]
    return reader


#: Reader types a writer type promotes to (decoys competing with the exact branch).
_DECOYS = {k: v for k, v in _ALL_PROMOTIONS.items()}
_PRIMITIVE_DECOYS = ("int", "long", "float", "double", "string", "bytes")


@st.composite
def add_decoys(draw: st.DrawFn, reader: JSON) -> JSON:
    """``reader`` with union branches that compete for the writer's values: promotion targets
    placed before or instead of the exact type (``long`` read as ``["float", "long"]``), and
    records of the same unqualified name in other namespaces, one that resolves (only fields
    with defaults) or one that cannot (a field without default), before or instead of the
    exact record. Enums and fixeds keep their exact branch (Java would not look further).
    A field's default keeps its meaning: the branch it is read with stays first, and no record
    a default may hold changes."""
    reader = copy.deepcopy(reader)
    records, _ = _records_and_enums(reader)
    under_defaults = _records_under_defaults(records)
    counter = [0]

    def decoy_record(short: str, resolves: bool) -> dict[str, Any]:
        counter[0] += 1
        n = counter[0]
        field: dict[str, Any] = {"name": f"decoy_{n}", "type": "int"}
        if resolves:
            field["default"] = n
        return {"type": "record", "name": short, "namespace": f"decoy{n}", "fields": [field]}

    def decoys_for(branch: JSON, taken: set[str]) -> tuple[list[JSON], bool]:
        """Decoys for one branch, and whether the branch itself may be left out."""
        kind = _kind(branch)
        if isinstance(branch, dict) and "logicalType" in branch:
            return [], False
        if kind in _PRIMITIVE_DECOYS:
            options = [d for d in _DECOYS.get(kind, []) if d not in taken]
            chosen = draw(st.lists(st.sampled_from(options), unique=True)) if options else []
            taken.update(chosen)
            # Reading bytes as string fails for bytes that are not UTF-8 (on purpose).
            return list(chosen), bool(chosen) and kind != "bytes"
        is_ref = isinstance(branch, str) and kind not in (*_PRIMITIVE_DECOYS, "null", "boolean")
        is_record = isinstance(branch, dict) and branch.get("type") in ("record", "error")
        if is_ref or is_record:
            short = str(branch if isinstance(branch, str) else branch["name"]).rsplit(".", 1)[-1]
            names_a_record = any(str(r["name"]).rsplit(".", 1)[-1] == short for r in records)
            flags = draw(st.lists(st.booleans(), min_size=1, max_size=2))
            # Records of another kind's name are no candidates: harmless, but keep the branch.
            return [decoy_record(short, f) for f in flags], is_ref and names_a_record
        return [], False

    for rec in records:
        if _short(rec["name"]) in under_defaults:
            continue
        for f in rec["fields"]:
            if f["name"].startswith("added_") or not draw(st.booleans()):
                continue
            t = f["type"]
            branches = list(t) if isinstance(t, list) else [t]
            taken = {k for k in map(_kind, branches) if k is not None}
            new: list[JSON] = []
            for i, b in enumerate(branches):
                decoys, may_drop = decoys_for(b, taken)
                if "default" in f and i == 0:
                    # A default is read with the union's first branch (Java): it stays first.
                    new.extend([b, *draw(st.permutations(decoys))])
                    continue
                keep = not (may_drop and draw(st.booleans()))
                group = [*decoys, b] if keep else decoys
                new.extend(draw(st.permutations(group)) if group else [b])
            if len(new) > 1 or isinstance(t, list):
                f["type"] = new
    return reader


def _short(name: Any) -> str:
    return str(name).rsplit(".", 1)[-1]


def _records_under_defaults(records: list[dict[str, Any]]) -> set[str]:
    """Unqualified names of the records a field default may hold (through any nesting)."""
    by_name = {_short(r["name"]): r for r in records}
    found: set[str] = set()

    def walk(node: JSON) -> None:
        if isinstance(node, list):
            for b in node:
                walk(b)
        elif isinstance(node, str):
            name = _short(node)
            if name in by_name and name not in found:
                found.add(name)
                walk(by_name[name])
        elif isinstance(node, dict):
            t = node.get("type")
            if t in ("record", "error"):
                name = _short(node["name"])
                if name in found:
                    return
                found.add(name)
                for f in node["fields"]:
                    walk(f["type"])
            elif t == "array":
                walk(node["items"])
            elif t == "map":
                walk(node["values"])
            elif isinstance(t, (dict, list, str)):
                walk(t)

    for r in records:
        for f in r["fields"]:
            if "default" in f:
                walk(f["type"])
    return found


#: Field types no writer primitive promotes to from the others (a breaking change).
_UNRELATED = {
    "boolean": "string",
    "int": "boolean",
    "long": "int",
    "float": "long",
    "double": "float",
    "string": "int",
    "bytes": "double",
    "null": "string",
}


@st.composite
def break_reader(draw: st.DrawFn, reader: JSON) -> JSON:
    """``reader`` with one change a checker must refuse (at least one record or enum of the
    writer reached this way): a new field without a default, a primitive field turned into a
    type no promotion reaches, or an enum that loses its last symbol and has no default."""
    reader = copy.deepcopy(reader)
    records, enums = _records_and_enums(reader)
    under_defaults = _records_under_defaults(records)
    choices = [r for r in records if _short(r["name"]) not in under_defaults]
    kinds = ["field"] + (["type"] if choices else []) + (["symbol"] if enums else [])
    kind = draw(st.sampled_from(kinds))
    if kind == "symbol":
        enum = draw(st.sampled_from(enums))
        if len(enum["symbols"]) > 1 and "default" not in enum:
            enum["symbols"] = enum["symbols"][:-1]
        return reader
    if kind == "type":
        rec = draw(st.sampled_from(choices))
        plain = [
            f
            for f in rec["fields"]
            if "default" not in f and isinstance(f["type"], str) and f["type"] in _UNRELATED
        ]
        if plain:
            f = draw(st.sampled_from(plain))
            f["type"] = _UNRELATED[f["type"]]
        return reader
    rec = draw(st.sampled_from(records))
    position = draw(st.integers(0, len(rec["fields"])))
    rec["fields"].insert(position, {"name": f"required_{len(rec['fields'])}", "type": "int"})
    return reader
