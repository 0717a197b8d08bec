"""Avro schema JSON -> validated node graph, mirroring ``rust/src/schema`` rule for rule.

The Rust parser is the reference: every check, message and JSON-pointer path below follows
``parse.rs`` (names, unions, fixed sizes, logical types), ``default.rs`` (field defaults),
``canonical.rs`` (Parsing Canonical Form) and ``fingerprint.rs``. Named types are one
``Node`` referenced from every use, so recursive schemas are cycles of Python objects.

On top of validation this module derives the schema JSON handed to ``fastavro``: synthetic
names (``_ab0``, ``_ab1``, ...) so fastavro's namespace rules never differ from ours, and only
the logical types whose fastavro conversion matches the Rust decoder.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from typing import Any, Final

from .._avro_rules import as_u64, decimal_params, latin1, max_fixed_decimal_digits
from ..errors import SchemaError

__all__ = [
    "Field",
    "Node",
    "ParsedSchema",
    "canonical_form",
    "fingerprint",
    "json_text",
    "parse_schema_text",
]

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

PRIMITIVES: Final = ("null", "boolean", "int", "long", "float", "double", "bytes", "string")
_PRIMITIVE_OPS: Final = {
    "null": NULL,
    "boolean": BOOLEAN,
    "int": INT,
    "long": LONG,
    "float": FLOAT,
    "double": DOUBLE,
    "bytes": BYTES,
    "string": STRING,
}

# Deeper JSON nesting than this is refused rather than risking the stack (parse.rs).
MAX_SCHEMA_DEPTH: Final = 256
# serde_json's recursion limit: 128 nested arrays/objects are refused while parsing text.
_JSON_MAX_NESTING: Final = 127
# default.rs bounds the work on pathological (recursive) defaults.
MAX_DEFAULT_DEPTH: Final = 128
# The synthetic name prefix of named types in the schemas given to fastavro.
_FASTAVRO_NAME: Final = "_ab"
# Our own fastavro logical type for decimals: fastavro rounds to the declared precision,
# the Rust decoder is exact (the bytes are the truth).
FASTAVRO_DECIMAL: Final = "avrobridge-decimal"

_NAME_RE: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


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


class ParsedSchema:
    """A validated schema: the root node, the named types and the canonical form."""

    __slots__ = ("canonical", "names", "recursive", "root")

    def __init__(self, root: Node, names: dict[str, Node], recursive: bool) -> None:
        self.root = root
        self.names = names
        # True when a named type refers to itself: data may then nest without bound.
        self.recursive = recursive
        self.canonical = canonical_form(root)


# --- JSON text, read and written the way serde_json does -----------------------------------


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


def _parse_float(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise ValueError("number out of range")
    return value


def _parse_int(text: str) -> int | float:
    value = int(text)
    if value == 0 and text.startswith("-"):
        return -0.0  # serde_json keeps the sign of "-0": it is the float -0.0
    # serde_json keeps integers that fit u64 / i64; larger ones become f64.
    if -(1 << 63) <= value < (1 << 64):
        return value
    return _parse_float(text)


def _has_surrogate(value: Any) -> bool:
    """serde_json refuses lone surrogate escapes (\\ud800); Python's json accepts them."""
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, str):
            if any("\ud800" <= c <= "\udfff" for c in v):
                return True
        elif isinstance(v, list):
            stack.extend(v)
        elif isinstance(v, dict):
            stack.extend(v.keys())
            stack.extend(v.values())
    return False


def _nesting(value: Any) -> int:
    """Depth of nested arrays/objects (1 for a flat array or object, 0 for a scalar)."""
    best = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        v, depth = stack.pop()
        if isinstance(v, list):
            best = max(best, depth + 1)
            stack.extend((x, depth + 1) for x in v)
        elif isinstance(v, dict):
            best = max(best, depth + 1)
            stack.extend((x, depth + 1) for x in v.values())
    return best


def load_json(text: str, what: str = "") -> Any:
    """Parses schema JSON text with serde_json's rules, raising SchemaError like Rust.
    ``what`` names the document in the message ("the schema", "reference 0")."""
    problem = ""
    try:
        value = json.loads(
            text,
            parse_constant=_reject_constant,
            parse_float=_parse_float,
            parse_int=_parse_int,
        )
    except RecursionError:
        problem = "recursion limit exceeded"
    except ValueError as exc:
        problem = str(exc)
    else:
        if _nesting(value) > _JSON_MAX_NESTING:
            problem = "recursion limit exceeded"
        elif _has_surrogate(value):
            problem = "lone surrogate in hex escape"
        else:
            return value
    # Raised outside the except blocks: no __context__, like errors raised from Rust.
    prefix = f"{what} is not valid JSON" if what else "not valid JSON"
    raise _schema_error(f"{prefix}: {problem}", "")


def _ryu(value: float) -> str:
    """Formats a finite float as serde_json does: ``1.0``, ``1e+20``, ``1.5e-7``."""
    if value == 0.0:
        return "-0.0" if math.copysign(1.0, value) < 0 else "0.0"
    sign = "-" if value < 0 else ""
    mantissa, _, exp_text = repr(abs(value)).partition("e")
    whole, _, frac = mantissa.partition(".")
    digits = (whole + frac).lstrip("0")
    exponent = (int(exp_text) if exp_text else 0) - len(frac)
    stripped = digits.rstrip("0")
    exponent += len(digits) - len(stripped)
    digits = stripped
    length = len(digits)
    point = length + exponent  # position of the decimal point within the digits
    if exponent >= 0 and point <= 16:
        return f"{sign}{digits}{'0' * exponent}.0"
    if 0 < point <= 16:
        return f"{sign}{digits[:point]}.{digits[point:]}"
    if -5 < point <= 0:
        return f"{sign}0.{'0' * -point}{digits}"
    exp = f"e{point - 1}" if point <= 0 else f"e+{point - 1}"
    if length == 1:
        return f"{sign}{digits}{exp}"
    return f"{sign}{digits[0]}.{digits[1:]}{exp}"


def json_text(value: Any) -> str:
    """Compact JSON as serde_json's ``to_string`` writes it (used in messages)."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _ryu(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ",".join(json_text(v) for v in value) + "]"
    if isinstance(value, dict):
        inner = ",".join(
            f"{json.dumps(k, ensure_ascii=False)}:{json_text(v)}" for k, v in value.items()
        )
        return "{" + inner + "}"
    return str(value)


def json_equal(a: Any, b: Any) -> bool:
    """serde_json ``Value`` equality: unlike Python, ``1 != 1.0`` and ``true != 1``."""
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, int) and isinstance(b, int):
        return a == b
    if isinstance(a, float) and isinstance(b, float):
        return a == b
    if isinstance(a, str) and isinstance(b, str):
        return a == b
    if a is None or b is None:
        return a is b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(json_equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(json_equal(v, b[k]) for k, v in a.items())
    return False


# --- the parser ---------------------------------------------------------------------------


def _schema_error(message: str, path: str) -> SchemaError:
    full = f"invalid schema: {message}" if not path else f"invalid schema at {path}: {message}"
    return SchemaError(full, path or None)


class _Error(Exception):
    """A schema problem before it becomes a SchemaError (message, path)."""

    def __init__(self, message: str, path: str) -> None:
        super().__init__(message)
        self.message = message
        self.path = path


def is_valid_name(name: str) -> bool:
    return _NAME_RE.fullmatch(name) is not None


def _is_valid_namespace(ns: str) -> bool:
    return ns == "" or all(is_valid_name(part) for part in ns.split("."))


def _describe(v: Any) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "a boolean"
    if isinstance(v, (int, float)):
        return "a number"
    if isinstance(v, str):
        return "a string"
    if isinstance(v, list):
        return "an array"
    return "an object"


def _as_i64(v: Any) -> int | None:
    if isinstance(v, int) and not isinstance(v, bool) and -(1 << 63) <= v < (1 << 63):
        return v
    return None


def _primitive(type_name: str) -> Node | None:
    op = _PRIMITIVE_OPS.get(type_name)
    return None if op is None else Node(type_name, op)


class _PendingDefault:
    __slots__ = ("field", "path", "value")

    def __init__(self, field: Field, value: Any, path: str) -> None:
        self.field = field
        self.value = value
        self.path = path


class _Parser:
    def __init__(self) -> None:
        self.names: dict[str, Node] = {}
        self.defaults: list[_PendingDefault] = []
        self.fields: list[Field] = []
        self.depth = 0
        self.open_records: set[int] = set()
        self.recursive = False
        self.named_count = 0

    def parse_node(self, value: Any, ns: str | None, path: str) -> Node:
        self.depth += 1
        try:
            if self.depth > MAX_SCHEMA_DEPTH:
                raise _Error(f"schema nested deeper than {MAX_SCHEMA_DEPTH} levels", path)
            if isinstance(value, str):
                return self.parse_reference(value, ns, path)
            if isinstance(value, list):
                return self.parse_union(value, ns, path)
            if isinstance(value, dict):
                return self.parse_object(value, ns, path)
            raise _Error(
                f"a schema must be a string, an object or an array, not {_describe(value)}",
                path,
            )
        finally:
            self.depth -= 1

    def parse_reference(self, s: str, ns: str | None, path: str) -> Node:
        node = _primitive(s)
        if node is not None:
            return node
        found = self.lookup(s, ns)
        if found is not None:
            if id(found) in self.open_records:
                self.recursive = True
            return found
        hint = ""
        if s in ("record", "error", "enum", "array", "map", "fixed"):
            hint = f' (\'{s}\' must be given as {{"type": "{s}", ...}})'
        raise _Error(f"unknown type '{s}'{hint}", path)

    def lookup(self, s: str, ns: str | None) -> Node | None:
        if "." not in s and ns:
            found = self.names.get(f"{ns}.{s}")
            if found is not None:
                return found
        return self.names.get(s)

    def parse_union(self, items: list[Any], ns: str | None, path: str) -> Node:
        branches: list[Node] = []
        seen_kinds: set[str] = set()
        seen_names: set[str] = set()
        for i, item in enumerate(items):
            node = self.parse_node(item, ns, f"{path}/{i}")
            branch_path = f"{path}/{i}"
            if node.op == UNION:
                raise _Error("a union may not immediately contain another union", branch_path)
            if node.name is not None:
                name = node.name.fullname
                if name in seen_names:
                    raise _Error(f"union contains '{name}' twice", branch_path)
                seen_names.add(name)
            else:
                if node.kind in seen_kinds:
                    raise _Error(f"union contains more than one {node.kind}", branch_path)
                seen_kinds.add(node.kind)
            branches.append(node)
        union = Node("union", UNION)
        union.branches = branches
        for i, b in enumerate(branches):
            if b.op == NULL:
                union.null_branch = i
                break
        return union

    def parse_object(self, obj: dict[str, Any], ns: str | None, path: str) -> Node:
        if "type" not in obj:
            raise _Error("schema object has no 'type'", path)
        type_value = obj["type"]
        if isinstance(type_value, (dict, list)):
            # {"type": {...}} and {"type": [...]}: a nested schema in place of a name.
            return self.parse_node(type_value, ns, f"{path}/type")
        if not isinstance(type_value, str):
            raise _Error(f"'type' must be a string, not {_describe(type_value)}", f"{path}/type")
        if type_value in ("record", "error"):
            return self.parse_record(obj, ns, path, type_value == "error")
        if type_value == "enum":
            return self.parse_enum(obj, ns, path)
        if type_value == "fixed":
            return self.parse_fixed(obj, ns, path)
        if type_value == "array":
            if "items" not in obj:
                raise _Error("array schema has no 'items'", path)
            node = Node("array", ARRAY)
            node.items = self.parse_node(obj["items"], ns, f"{path}/items")
            return node
        if type_value == "map":
            if "values" not in obj:
                raise _Error("map schema has no 'values'", path)
            node = Node("map", MAP)
            node.values = self.parse_node(obj["values"], ns, f"{path}/values")
            return node
        node_or_none = _primitive(type_value)
        if node_or_none is not None:
            _apply_logical(node_or_none, obj)
            return node_or_none
        return self.parse_reference(type_value, ns, f"{path}/type")

    def define_name(self, obj: dict[str, Any], ns: str | None, path: str) -> Name:
        if "name" not in obj:
            raise _Error("named type has no 'name'", path)
        raw = obj["name"]
        if not isinstance(raw, str):
            raise _Error(f"'name' must be a string, not {_describe(raw)}", f"{path}/name")
        namespace_attr = obj.get("namespace")
        if namespace_attr is not None and not isinstance(namespace_attr, str):
            raise _Error(
                f"'namespace' must be a string, not {_describe(namespace_attr)}",
                f"{path}/namespace",
            )
        namespace: str | None
        if "." in raw:
            namespace, short = raw.rsplit(".", 1)
        else:
            namespace = namespace_attr if namespace_attr is not None else ns
            short = raw
        if not namespace:
            namespace = None
        if not is_valid_name(short):
            raise _Error(
                f"invalid name '{raw}': names start with a letter or _ and hold only "
                "letters, digits and _",
                f"{path}/name",
            )
        if namespace is not None and not _is_valid_namespace(namespace):
            raise _Error(f"invalid namespace '{namespace}'", f"{path}/namespace")
        if short in PRIMITIVES:
            raise _Error(f"'{short}' is a primitive type and cannot be redefined", f"{path}/name")
        fullname = f"{namespace}.{short}" if namespace is not None else short
        if fullname in self.names:
            raise _Error(f"name '{fullname}' is already defined", f"{path}/name")
        return Name(fullname, short, namespace)

    def parse_aliases(self, obj: dict[str, Any], namespace: str | None, path: str) -> list[str]:
        if "aliases" not in obj:
            return []
        value = obj["aliases"]
        if not isinstance(value, list):
            raise _Error("'aliases' must be an array of names", f"{path}/aliases")
        out: list[str] = []
        for i, alias in enumerate(value):
            if not isinstance(alias, str):
                raise _Error("an alias must be a string", f"{path}/aliases/{i}")
            if "." in alias:
                space, short = alias.rsplit(".", 1)
                valid = _is_valid_namespace(space) and is_valid_name(short)
            else:
                valid = is_valid_name(alias)
            if not valid:
                raise _Error(f"invalid alias '{alias}'", f"{path}/aliases/{i}")
            if "." not in alias and namespace is not None:
                out.append(f"{namespace}.{alias}")
            else:
                out.append(alias)
        return out

    def named(self, kind: str, op: int, name: Name) -> Node:
        node = Node(kind, op)
        node.name = name
        node.branch_name = name.fullname
        node.fa_name = f"{_FASTAVRO_NAME}{self.named_count}"
        self.named_count += 1
        return node

    def parse_record(self, obj: dict[str, Any], ns: str | None, path: str, is_error: bool) -> Node:
        name = self.define_name(obj, ns, path)
        aliases = self.parse_aliases(obj, name.namespace, path)
        # Registered before the fields so that they can refer to the record recursively.
        node = self.named("record", RECORD, name)
        node.aliases = aliases
        node.is_error = is_error
        self.names[name.fullname] = node
        self.open_records.add(id(node))
        try:
            self.parse_fields(node, obj, path)
        finally:
            self.open_records.discard(id(node))
        return node

    def parse_fields(self, node: Node, obj: dict[str, Any], path: str) -> None:
        assert node.name is not None
        fullname = node.name.fullname
        if "fields" not in obj:
            raise _Error(f"record '{fullname}' has no 'fields'", path)
        field_values = obj["fields"]
        if not isinstance(field_values, list):
            raise _Error("'fields' must be an array", f"{path}/fields")
        seen: set[str] = set()
        for i, f in enumerate(field_values):
            field_path = f"{path}/fields/{i}"
            if not isinstance(f, dict):
                raise _Error("a field must be an object", field_path)
            if "name" not in f:
                raise _Error("field has no 'name'", field_path)
            fname = f["name"]
            if not isinstance(fname, str):
                raise _Error("field 'name' must be a string", f"{field_path}/name")
            if not is_valid_name(fname):
                raise _Error(f"invalid field name '{fname}'", f"{field_path}/name")
            if fname in seen:
                raise _Error(
                    f"record '{fullname}' has two fields named '{fname}'", f"{field_path}/name"
                )
            seen.add(fname)
            if "type" not in f:
                raise _Error(f"field '{fname}' has no 'type'", field_path)
            field_node = self.parse_node(f["type"], node.name.namespace, f"{field_path}/type")
            order = f.get("order", "ascending")
            if order not in ("ascending", "descending", "ignore") or not isinstance(order, str):
                raise _Error(
                    'field \'order\' must be "ascending", "descending" or "ignore"',
                    f"{field_path}/order",
                )
            aliases: list[str] = []
            if "aliases" in f:
                alias_values = f["aliases"]
                if not isinstance(alias_values, list):
                    raise _Error("field 'aliases' must be an array", f"{field_path}/aliases")
                for j, a in enumerate(alias_values):
                    if not (isinstance(a, str) and is_valid_name(a)):
                        raise _Error(
                            "a field alias must be a valid name", f"{field_path}/aliases/{j}"
                        )
                    aliases.append(a)
            field = Field(fname, aliases, field_node, order)
            if "default" in f:
                field.has_default = True
                field.default = f["default"]
                self.defaults.append(_PendingDefault(field, f["default"], f"{field_path}/default"))
            node.fields.append(field)
            self.fields.append(field)

    def parse_enum(self, obj: dict[str, Any], ns: str | None, path: str) -> Node:
        name = self.define_name(obj, ns, path)
        aliases = self.parse_aliases(obj, name.namespace, path)
        items = obj.get("symbols")
        if not isinstance(items, list):
            raise _Error(f"enum '{name.fullname}' needs a 'symbols' array", path)
        symbols: list[str] = []
        seen: set[str] = set()
        for i, sym in enumerate(items):
            if not isinstance(sym, str):
                raise _Error("an enum symbol must be a string", f"{path}/symbols/{i}")
            if not is_valid_name(sym):
                raise _Error(f"invalid enum symbol '{sym}'", f"{path}/symbols/{i}")
            if sym in seen:
                raise _Error(
                    f"enum '{name.fullname}' has the symbol '{sym}' twice", f"{path}/symbols/{i}"
                )
            seen.add(sym)
            symbols.append(sym)
        default: int | None = None
        if "default" in obj:
            d = obj["default"]
            if not isinstance(d, str):
                raise _Error("enum 'default' must be a symbol", f"{path}/default")
            if d not in symbols:
                raise _Error(
                    f"enum default '{d}' is not one of the symbols of '{name.fullname}'",
                    f"{path}/default",
                )
            default = symbols.index(d)
        node = self.named("enum", ENUM, name)
        node.aliases = aliases
        node.symbols = symbols
        node.enum_default = default
        self.names[name.fullname] = node
        return node

    def parse_fixed(self, obj: dict[str, Any], ns: str | None, path: str) -> Node:
        name = self.define_name(obj, ns, path)
        aliases = self.parse_aliases(obj, name.namespace, path)
        if "size" not in obj:
            raise _Error(f"fixed '{name.fullname}' has no 'size'", path)
        size = as_u64(obj["size"])
        if size is None or size > 0xFFFF_FFFF:
            raise _Error(
                f"fixed '{name.fullname}' needs a non-negative integer 'size'", f"{path}/size"
            )
        node = self.named("fixed", FIXED, name)
        node.aliases = aliases
        node.size = size
        lt = obj.get("logicalType")
        if lt == "decimal":
            params = decimal_params(obj)
            if params is not None and params[0] <= max_fixed_decimal_digits(size):
                node.logical = "decimal"
                node.op = DECIMAL_FIXED
                node.precision, node.scale = params
        elif lt == "uuid" and size == 16:
            node.logical = "uuid"
        elif lt == "duration" and size == 12:
            node.logical = "duration"
        self.names[name.fullname] = node
        return node


_INT_LOGICAL: Final = {"date": DATE, "time-millis": TIME_MILLIS}
_LONG_LOGICAL: Final = {
    "time-micros": TIME_MICROS,
    "timestamp-millis": TIMESTAMP_MILLIS,
    "timestamp-micros": TIMESTAMP_MICROS,
    # Nanosecond timestamps do not fit Python's datetime; they stay integers.
    "timestamp-nanos": LONG,
    "local-timestamp-millis": LOCAL_TIMESTAMP_MILLIS,
    "local-timestamp-micros": LOCAL_TIMESTAMP_MICROS,
    "local-timestamp-nanos": LONG,
}


def _apply_logical(node: Node, obj: dict[str, Any]) -> None:
    """Attaches a valid logical type; an unknown or invalid one leaves the plain type."""
    lt = obj.get("logicalType")
    if not isinstance(lt, str):
        return
    op = node.op
    if op == INT and lt in _INT_LOGICAL:
        node.logical = lt
        node.op = _INT_LOGICAL[lt]
    elif op == LONG and lt in _LONG_LOGICAL:
        node.logical = lt
        node.op = _LONG_LOGICAL[lt]
    elif op == BYTES and lt == "decimal":
        params = decimal_params(obj)
        if params is not None:
            node.logical = lt
            node.op = DECIMAL_BYTES
            node.precision, node.scale = params
    elif op == STRING and lt == "uuid":
        node.logical = lt
        node.op = UUID_STRING


def _min_size(node: Node, visiting: list[Node]) -> int:
    """The fewest bytes any value of ``node`` takes (Rust ``Schema::min_size``)."""
    op = node.op
    if op == NULL:
        return 0
    if op in (FLOAT,):
        return 4
    if op == DOUBLE:
        return 8
    if op in (FIXED, DECIMAL_FIXED):
        return node.size
    if op == RECORD:
        if any(v is node for v in visiting):
            # A record containing itself without a union or collection in between holds no
            # finite value; treat it as non-empty.
            return 1
        visiting.append(node)
        total = sum(_min_size(f.node, visiting) for f in node.fields)
        visiting.pop()
        return total
    return 1


def min_size(node: Node) -> int:
    """The fewest bytes any value of ``node`` takes (Rust ``Schema::min_size``)."""
    return _min_size(node, [])


def _fixed_size(node: Node, visiting: list[Node]) -> int | None:
    """Rust ``Schema::fixed_size``: the size every value of ``node`` takes when it is always
    the same and the bytes need no validation."""
    kind = node.kind
    if kind == "null":
        return 0
    if kind == "float":
        return 4
    if kind == "double":
        return 8
    if kind == "fixed":
        return node.size
    if kind == "record":
        if any(v is node for v in visiting):
            return None
        visiting.append(node)
        total: int | None = 0
        for f in node.fields:
            size = _fixed_size(f.node, visiting)
            if size is None or total is None:
                total = None
                break
            total += size
        visiting.pop()
        return total
    return None


def _walk(root: Node) -> list[Node]:
    """Every node reachable from ``root``, once each."""
    out: list[Node] = []
    seen: set[int] = set()
    stack = [root]
    while stack:
        n = stack.pop()
        if id(n) in seen:
            continue
        seen.add(id(n))
        out.append(n)
        if n.op == RECORD:
            stack.extend(f.node for f in n.fields)
        elif n.op == ARRAY:
            stack.append(n.items)
        elif n.op == MAP:
            stack.append(n.values)
        elif n.op == UNION:
            stack.extend(n.branches)
    return out


def parse_value(value: Any, validate_defaults: bool, references: list[Any]) -> ParsedSchema:
    """Validates parsed schema JSON; raises SchemaError at the first problem, like Rust.
    The named types of ``references`` (parsed first) can be used by ``value``."""
    parser = _Parser()
    for i, reference in enumerate(references):
        try:
            parser.parse_node(reference, None, f"/references/{i}")
        except _Error as e:
            error = _schema_error(f"in reference {i}: {e.message}", e.path)
        else:
            continue
        raise error
    try:
        root = parser.parse_node(value, None, "")
    except _Error as e:
        error = _schema_error(e.message, e.path)
    else:
        return _finish(parser, root, validate_defaults)
    raise error


def _finish(parser: _Parser, root: Node, validate_defaults: bool) -> ParsedSchema:
    schema = ParsedSchema(root, parser.names, parser.recursive)
    for node in _walk(root):
        node.fixed_size = _fixed_size(node, [])
        if node.op == ARRAY:
            node.min_size = _min_size(node.items, [])
        elif node.op == MAP:
            node.min_size = _min_size(node.values, [])
    # Checked once every name is defined: a default may use a type defined later.
    for pending in parser.defaults:
        try:
            value = _default_value(pending.field.node, pending.value, 0)
        except DefaultError as e:
            problem = f"invalid default for field '{pending.field.name}': {e}"
        else:
            pending.field.has_usable_default = True
            pending.field.default_value = value
            continue
        if validate_defaults:
            raise _schema_error(problem, pending.path)
    return schema


def parse_schema_text(
    text: str, validate_defaults: bool, references: list[str] | None = None
) -> ParsedSchema:
    """Parses schema JSON text, with the texts of the schemas it references (Schema Registry
    references), as ``Schema::parse_str_with`` / ``parse_with_references`` do."""
    if not references:
        return parse_value(load_json(text), validate_defaults, [])
    value = load_json(text, "the schema")
    refs = [load_json(r, f"reference {i}") for i, r in enumerate(references)]
    return parse_value(value, validate_defaults, refs)


# --- defaults -----------------------------------------------------------------------------


class DefaultError(Exception):
    """A default that does not fit its type; the callers turn it into a SchemaError."""


def expected(what: str, got: Any) -> DefaultError:
    if isinstance(got, str) and len(got.encode("utf-8")) > 40:
        shown = f"a string of {len(got.encode('utf-8'))} bytes"
    else:
        shown = json_text(got)
        if len(shown) > 40:
            # Rust cuts the JSON text after 40 characters (Unicode scalar values).
            shown = shown[:40] + "…"
    return DefaultError(f"expected {what}, got {shown}")


def json_integer(value: Any) -> int | None:
    """An integer default (default.rs ``json_integer``): a JSON integer in the i64 range, or
    a float equal to zero (serde_json reads ``-0`` as the float -0.0; Jackson reads it as the
    integer 0, so it is accepted as 0)."""
    v = _as_i64(value)
    if v is None and isinstance(value, float) and value == 0.0:
        return 0
    return v


def _default_value(node: Node, value: Any, depth: int) -> Any:
    """Checks a JSON default against ``node`` (default.rs) and returns it as fastavro's writer
    takes it: unions as ``(branch name, value)`` with the FIRST branch the default matches,
    bytes/fixed as bytes, records with every field."""
    if depth > MAX_DEFAULT_DEPTH:
        raise DefaultError("default nested too deeply")
    op = node.op
    if op == NULL:
        if value is None:
            return None
        raise expected("null", value)
    if op == BOOLEAN:
        if isinstance(value, bool):
            return value
        raise expected("a boolean", value)
    if op in (INT, DATE, TIME_MILLIS):
        v = json_integer(value)
        if v is None or not -(1 << 31) <= v < (1 << 31):
            raise expected("an int (32-bit integer)", value)
        return v
    if op in (
        LONG,
        TIME_MICROS,
        TIMESTAMP_MILLIS,
        TIMESTAMP_MICROS,
        LOCAL_TIMESTAMP_MILLIS,
        LOCAL_TIMESTAMP_MICROS,
    ):
        v = json_integer(value)
        if v is None:
            raise expected("a long (64-bit integer)", value)
        return v
    if op in (FLOAT, DOUBLE):
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        raise expected("a number", value)
    if op in (BYTES, DECIMAL_BYTES):
        b = latin1(value)
        if b is None:
            raise expected("a string of code points 0-255 (bytes)", value)
        return b
    if op in (STRING, UUID_STRING):
        if isinstance(value, str):
            return value
        raise expected("a string", value)
    if op in (FIXED, DECIMAL_FIXED):
        b = latin1(value)
        if b is None or len(b) != node.size:
            assert node.name is not None
            raise expected(
                f"a string of {node.size} code points 0-255 (fixed '{node.name.fullname}')", value
            )
        return b
    if op == ENUM:
        if isinstance(value, str) and value in node.symbols:
            return value
        assert node.name is not None
        raise expected(f"a symbol of enum '{node.name.fullname}'", value)
    if op == ARRAY:
        if not isinstance(value, list):
            raise expected("an array", value)
        out: list[Any] = []
        for i, v in enumerate(value):
            try:
                out.append(_default_value(node.items, v, depth + 1))
            except DefaultError as e:
                raise DefaultError(f"item {i}: {e}") from None
        return out
    if op == MAP:
        if not isinstance(value, dict):
            raise expected("an object (map)", value)
        entries: dict[str, Any] = {}
        for k, v in value.items():
            try:
                entries[k] = _default_value(node.values, v, depth + 1)
            except DefaultError as e:
                raise DefaultError(f"key '{k}': {e}") from None
        return entries
    if op == RECORD:
        assert node.name is not None
        if not isinstance(value, dict):
            raise expected(f"an object (record '{node.name.fullname}')", value)
        record: dict[str, Any] = {}
        for field in node.fields:
            if field.name in value:
                v = value[field.name]
            elif field.has_default:
                v = field.default
            else:
                raise DefaultError(
                    f"record '{node.name.fullname}' default lacks field '{field.name}'"
                )
            try:
                record[field.name] = _default_value(field.node, v, depth + 1)
            except DefaultError as e:
                raise DefaultError(f"field '{field.name}': {e}") from None
        return record
    # UNION: Avro 1.12 lets a default match any branch; the first match encodes it.
    for branch in node.branches:
        try:
            return (fastavro_branch_name(branch), _default_value(branch, value, depth + 1))
        except DefaultError:
            continue
    names = ", ".join(b.branch_name for b in node.branches)
    raise expected(f"a value of one of the union's branches [{names}]", value)


# --- canonical form and fingerprints -----------------------------------------------------


def canonical_form(root: Node) -> str:
    """Parsing Canonical Form, as canonical.rs writes it."""
    out: list[str] = []
    seen: set[int] = set()

    def write(node: Node) -> None:
        if node.name is not None:
            if id(node) in seen:
                out.append(json.dumps(node.name.fullname))
                return
            seen.add(id(node))
        op = node.op
        if op == RECORD:
            assert node.name is not None
            out.append('{"name":')
            out.append(json.dumps(node.name.fullname))
            # Java's SchemaNormalization (and so Schema Registry) and fastavro write error
            # types as "record" too: they parse the same.
            out.append(',"type":"record","fields":[')
            for i, f in enumerate(node.fields):
                if i:
                    out.append(",")
                out.append('{"name":')
                out.append(json.dumps(f.name))
                out.append(',"type":')
                write(f.node)
                out.append("}")
            out.append("]}")
        elif op == ENUM:
            assert node.name is not None
            out.append('{"name":')
            out.append(json.dumps(node.name.fullname))
            out.append(',"type":"enum","symbols":[')
            out.append(",".join(json.dumps(s) for s in node.symbols))
            out.append("]}")
        elif op in (FIXED, DECIMAL_FIXED):
            assert node.name is not None
            out.append('{"name":')
            out.append(json.dumps(node.name.fullname))
            out.append(f',"type":"fixed","size":{node.size}}}')
        elif op == ARRAY:
            out.append('{"type":"array","items":')
            write(node.items)
            out.append("}")
        elif op == MAP:
            out.append('{"type":"map","values":')
            write(node.values)
            out.append("}")
        elif op == UNION:
            out.append("[")
            for i, b in enumerate(node.branches):
                if i:
                    out.append(",")
                write(b)
            out.append("]")
        else:
            out.append(f'"{node.kind}"')

    write(root)
    return "".join(out)


_EMPTY64: Final = 0xC15D213AA4D7A795


def _rabin_table() -> list[int]:
    table = []
    for i in range(256):
        fp = i
        for _ in range(8):
            fp = (fp >> 1) ^ (_EMPTY64 & -(fp & 1))
        table.append(fp)
    return table


_RABIN: Final = _rabin_table()


def rabin64(data: bytes) -> int:
    """The 64-bit Rabin fingerprint of the specification (Java's ``parsingFingerprint64``)."""
    fp = _EMPTY64
    table = _RABIN
    for b in data:
        fp = (fp >> 8) ^ table[(fp ^ b) & 0xFF]
    return fp


def _fingerprint_algorithm(name: str) -> str | None:
    # ASCII-only upper-casing, as Rust's `to_ascii_uppercase` (Python's would map 'ſ' to 'S').
    upper = "".join(chr(ord(c) - 32) if "a" <= c <= "z" else c for c in name)
    if upper in ("CRC-64-AVRO", "RABIN"):
        return "crc64"
    if upper == "MD5":
        return "md5"
    if upper in ("SHA-256", "SHA256"):
        return "sha256"
    return None


def fingerprint(canonical: str, algorithm: str) -> bytes:
    """The digest bytes; CRC-64-AVRO is given little-endian, as Java does."""
    alg = _fingerprint_algorithm(algorithm)
    data = canonical.encode("utf-8")
    if alg == "crc64":
        return rabin64(data).to_bytes(8, "little")
    if alg == "md5":
        return hashlib.md5(data).digest()
    if alg == "sha256":
        return hashlib.sha256(data).digest()
    raise ValueError(
        f"unknown fingerprint algorithm '{algorithm}': use CRC-64-AVRO, MD5 or SHA-256"
    )


# --- the schemas handed to fastavro ------------------------------------------------------

# Logical types whose fastavro reader returns exactly what the Rust decoder returns (range
# errors are caught by wirecheck before fastavro runs).
_FASTAVRO_LOGICAL_READS: Final = {
    DATE: ("int", "date"),
    TIME_MILLIS: ("int", "time-millis"),
    TIME_MICROS: ("long", "time-micros"),
    TIMESTAMP_MILLIS: ("long", "timestamp-millis"),
    TIMESTAMP_MICROS: ("long", "timestamp-micros"),
    LOCAL_TIMESTAMP_MILLIS: ("long", "local-timestamp-millis"),
    LOCAL_TIMESTAMP_MICROS: ("long", "local-timestamp-micros"),
    UUID_STRING: ("string", "uuid"),
}


def fastavro_branch_name(node: Node) -> str:
    """The name fastavro's tuple notation knows a union branch by in our fastavro schema."""
    return node.fa_name if node.name is not None else node.kind


def fastavro_schema(root: Node, *, logical: bool) -> Any:
    """Schema JSON for ``fastavro.parse_schema``. ``logical=False`` gives the plain wire
    types (encoding: values are converted beforehand); ``logical=True`` keeps the logical
    types fastavro decodes like Rust, and marks decimals with our own reader."""
    seen: set[int] = set()

    def emit(node: Node) -> Any:
        if node.name is not None:
            if id(node) in seen:
                return node.fa_name
            seen.add(id(node))
        op = node.op
        if op == RECORD:
            return {
                "type": "record",
                "name": node.fa_name,
                "fields": [{"name": f.name, "type": emit(f.node)} for f in node.fields],
            }
        if op == ENUM:
            return {"type": "enum", "name": node.fa_name, "symbols": list(node.symbols)}
        if op in (FIXED, DECIMAL_FIXED):
            fixed: dict[str, Any] = {"type": "fixed", "name": node.fa_name, "size": node.size}
            if logical and op == DECIMAL_FIXED:
                fixed["logicalType"] = FASTAVRO_DECIMAL
                fixed["scale"] = node.scale
            return fixed
        if op == ARRAY:
            return {"type": "array", "items": emit(node.items)}
        if op == MAP:
            return {"type": "map", "values": emit(node.values)}
        if op == UNION:
            return [emit(b) for b in node.branches]
        if logical:
            if op == DECIMAL_BYTES:
                return {"type": "bytes", "logicalType": FASTAVRO_DECIMAL, "scale": node.scale}
            known = _FASTAVRO_LOGICAL_READS.get(op)
            if known is not None:
                return {"type": known[0], "logicalType": known[1]}
        return node.kind

    return emit(root)
