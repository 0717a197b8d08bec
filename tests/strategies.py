"""Hypothesis strategies for Avro schemas and for data that fits them.

* :func:`schemas` draws random *valid* Avro schemas as JSON objects: every primitive and
  complex type, named types with namespaces (inherited, explicit, dotted, null), aliases,
  references to earlier names, recursive records, logical types and field defaults.
* :func:`data_for` draws values for a schema in fastavro's canonical representation, i.e.
  values that decode back *identically* (same types, same float bits, same Decimal digits).
* :func:`parse_model` turns schema JSON into a small object graph (:class:`Node`) with named
  references resolved; the other helpers (defaults, union branch choice, value comparison)
  work on that graph, so later suites can build schema evolutions from it.

Rules mirrored here (see rust/src/schema/parse.rs and rust/src/py/encoder.rs):

* a name without a dot is looked up in the enclosing namespace; fastavro does not fall back
  to the null namespace, so generated schemas never rely on that fallback;
* logical types that are unknown or invalid for their type are ignored;
* union values are written with the branch fastavro picks (first branch that validates,
  the record with most present fields, double over float); generated union values always
  decode back as themselves, i.e. fastavro's pick is the branch they were drawn for;
* a field default for a union matches the first branch that its JSON fits (Avro 1.12).
"""

from __future__ import annotations

import math
import struct
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from typing import Any

from hypothesis import reject
from hypothesis import strategies as st

JSON = Any
Draw = Callable[[st.SearchStrategy[Any]], Any]

PRIMITIVES = ("null", "boolean", "int", "long", "float", "double", "bytes", "string")
NAMED_KINDS = ("record", "error", "enum", "fixed")
#: Names never used for generated types: they are type keywords somewhere.
RESERVED_NAMES = frozenset(
    (*PRIMITIVES, "record", "error", "enum", "array", "map", "fixed", "union", "request")
)
NAMESPACE_POOL = ("com.example", "org.acme.v1", "n1", "a.b.c")

INT_MIN, INT_MAX = -(2**31), 2**31 - 1
LONG_MIN, LONG_MAX = -(2**63), 2**63 - 1
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
EPOCH_NAIVE = datetime(1970, 1, 1)
EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
MICROS = timedelta(microseconds=1)

INT_LOGICALS = ("date", "time-millis")
LONG_LOGICALS = (
    "time-micros",
    "timestamp-millis",
    "timestamp-micros",
    "timestamp-nanos",
    "local-timestamp-millis",
    "local-timestamp-micros",
    "local-timestamp-nanos",
)
#: Logical types fastavro converts on write (``{type}-{logicalType}`` keys of its writers).
FASTAVRO_WRITERS = frozenset(
    {
        "long-timestamp-millis",
        "long-local-timestamp-millis",
        "long-timestamp-micros",
        "long-local-timestamp-micros",
        "int-date",
        "bytes-decimal",
        "fixed-decimal",
        "string-uuid",
        "int-time-millis",
        "long-time-micros",
    }
)


def max_fixed_decimal_digits(size: int) -> int:
    """The most decimal digits a two's-complement number of ``size`` bytes always holds."""
    if size <= 0:
        return 0
    return math.floor(math.log10(2) * (8 * size - 1))


# --------------------------------------------------------------------------------------
# The schema model
# --------------------------------------------------------------------------------------

NO_DEFAULT: Any = type("NoDefault", (), {"__repr__": lambda self: "NO_DEFAULT"})()


@dataclass(eq=False)
class Field:
    name: str
    type: Node
    default: JSON = NO_DEFAULT
    json: dict[str, Any] = field(default_factory=dict)

    @property
    def has_default(self) -> bool:
        return self.default is not NO_DEFAULT


@dataclass(eq=False)
class Node:
    """One schema node. Named types are shared objects, so recursive schemas are cycles."""

    type: str
    #: The logical type as the codec applies it (None when absent, unknown or invalid).
    logical: str | None = None
    #: The ``logicalType`` annotation as written (fastavro applies it by name).
    annotation: str | None = None
    precision: int = 0
    scale: int = 0
    name: str | None = None
    namespace: str | None = None
    aliases: tuple[str, ...] = ()
    fields: list[Field] = field(default_factory=list)
    symbols: list[str] = field(default_factory=list)
    enum_default: str | None = None
    items: Node | None = None
    values: Node | None = None
    branches: list[Node] = field(default_factory=list)
    size: int = 0
    json: JSON = None

    @property
    def is_named(self) -> bool:
        return self.type in NAMED_KINDS

    @property
    def kind(self) -> str:
        """The kind unions are checked by: the full name for named types."""
        return self.name if self.is_named and self.name else self.type

    def __repr__(self) -> str:  # keep reprs finite for recursive schemas
        extra = f" {self.name}" if self.name else ""
        logical = f" ({self.logical})" if self.logical else ""
        return f"<Node {self.type}{extra}{logical}>"


@dataclass
class Model:
    root: Node
    names: dict[str, Node]


class UnknownName(ValueError):
    pass


def _split_name(name: str, namespace: str | None) -> tuple[str | None, str]:
    if "." in name:
        space, short = name.rsplit(".", 1)
        return space or None, short
    return namespace or None, name


def parse_model(schema: JSON) -> Model:
    """Parses (already valid) schema JSON into a :class:`Model` with references resolved."""
    names: dict[str, Node] = {}

    def lookup(ref: str, ns: str | None) -> Node:
        if "." not in ref and ns and f"{ns}.{ref}" in names:
            return names[f"{ns}.{ref}"]
        if ref in names:
            return names[ref]
        raise UnknownName(ref)

    def named(obj: dict[str, Any], ns: str | None, node: Node) -> Node:
        explicit = obj.get("namespace")
        space, short = _split_name(obj["name"], explicit if explicit is not None else ns)
        if "." not in obj["name"] and explicit == "":
            space = None
        node.name = f"{space}.{short}" if space else short
        node.namespace = space
        aliases = []
        for alias in obj.get("aliases", []):
            aliases.append(alias if "." in alias or not space else f"{space}.{alias}")
        node.aliases = tuple(aliases)
        names[node.name] = node
        return node

    def walk(s: JSON, ns: str | None) -> Node:
        if isinstance(s, str):
            if s in PRIMITIVES:
                return Node(type=s, json=s)
            return lookup(s, ns)
        if isinstance(s, list):
            return Node(type="union", branches=[walk(b, ns) for b in s], json=s)
        t = s["type"]
        if isinstance(t, (dict, list)):
            return walk(t, ns)
        annotation = s.get("logicalType") if isinstance(s.get("logicalType"), str) else None
        if t in PRIMITIVES:
            node = Node(type=t, annotation=annotation, json=s)
            node.logical = _effective_logical(node, s)
            if node.logical == "decimal":
                node.precision, node.scale = int(s["precision"]), int(s.get("scale", 0))
            return node
        if t in ("record", "error"):
            node = named(s, ns, Node(type=t, json=s))
            for f in s["fields"]:
                node.fields.append(
                    Field(
                        name=f["name"],
                        type=walk(f["type"], node.namespace),
                        default=f.get("default", NO_DEFAULT),
                        json=f,
                    )
                )
            return node
        if t == "enum":
            node = named(s, ns, Node(type="enum", json=s, symbols=list(s["symbols"])))
            node.enum_default = s.get("default")
            return node
        if t == "fixed":
            node = named(s, ns, Node(type="fixed", size=int(s["size"]), json=s))
            node.annotation = annotation
            node.logical = _effective_logical(node, s)
            if node.logical == "decimal":
                node.precision, node.scale = int(s["precision"]), int(s.get("scale", 0))
            return node
        if t == "array":
            return Node(type="array", items=walk(s["items"], ns), json=s)
        if t == "map":
            return Node(type="map", values=walk(s["values"], ns), json=s)
        return lookup(t, ns)

    root = walk(schema, None)
    return Model(root=root, names=names)


def _decimal_params(obj: Mapping[str, Any]) -> tuple[int, int] | None:
    precision = obj.get("precision")
    scale = obj.get("scale", 0)
    for v in (precision, scale):
        if not isinstance(v, int) or isinstance(v, bool) or v < 0:
            return None
    assert isinstance(precision, int) and isinstance(scale, int)
    if precision == 0 or scale > precision:
        return None
    return precision, scale


def _effective_logical(node: Node, obj: Mapping[str, Any]) -> str | None:
    """The logical type the codec applies: invalid annotations are ignored (Avro spec)."""
    lt = node.annotation
    if lt is None:
        return None
    if node.type == "int":
        return lt if lt in INT_LOGICALS else None
    if node.type == "long":
        return lt if lt in LONG_LOGICALS else None
    if node.type == "string":
        return "uuid" if lt == "uuid" else None
    if node.type == "bytes":
        return "decimal" if lt == "decimal" and _decimal_params(obj) else None
    if node.type == "fixed":
        if lt == "decimal":
            params = _decimal_params(obj)
            if params and params[0] <= max_fixed_decimal_digits(node.size):
                return "decimal"
            return None
        if lt == "uuid" and node.size == 16:
            return "uuid"
        if lt == "duration" and node.size == 12:
            return "duration"
    return None


def walk_nodes(root: Node) -> list[Node]:
    """Every node reachable from ``root``, each once."""
    seen: set[int] = set()
    out: list[Node] = []
    stack = [root]
    while stack:
        n = stack.pop()
        if id(n) in seen:
            continue
        seen.add(id(n))
        out.append(n)
        stack.extend(f.type for f in n.fields)
        stack.extend(n.branches)
        if n.items is not None:
            stack.append(n.items)
        if n.values is not None:
            stack.append(n.values)
    return out


# --------------------------------------------------------------------------------------
# Value conversions: Python <-> JSON defaults
# --------------------------------------------------------------------------------------


def float32(x: float) -> float:
    return float(struct.unpack("<f", struct.pack("<f", x))[0])


def decimal_from_unscaled(unscaled: int, scale: int) -> Decimal:
    """The Decimal fastavro decodes: exponent ``-scale``, no rounding."""
    sign = 1 if unscaled < 0 else 0
    digits = tuple(int(c) for c in str(abs(unscaled)))
    return Decimal((sign, digits, -scale))


def decimal_unscaled(value: Decimal, scale: int) -> int:
    """The unscaled integer of ``value`` at ``scale`` (exact: no context rounding)."""
    sign, digits, exp = value.as_tuple()
    assert isinstance(exp, int) and exp + scale >= 0, value
    magnitude = int("".join(map(str, digits)) or "0") * 10 ** (exp + scale)
    return -magnitude if sign else magnitude


def _timestamp_units(node: Node) -> int:
    assert node.logical is not None
    return 1000 if node.logical.endswith("millis") else 1


def to_json_default(value: Any, node: Node) -> JSON:
    """The JSON default that stands for the (canonical) Python ``value`` of ``node``.

    Unions take the value of their first branch (the only form older Avro accepts)."""
    t, lt = node.type, node.logical
    if t == "union":
        return to_json_default(value, node.branches[0])
    if t in ("null", "boolean", "string", "enum") and lt is None:
        return value
    if t in ("int", "long"):
        if lt == "date":
            return value.toordinal() - EPOCH_ORDINAL
        if lt in ("time-millis", "time-micros"):
            micros = ((value.hour * 60 + value.minute) * 60 + value.second) * 10**6
            micros += value.microsecond
            return micros // 1000 if lt == "time-millis" else micros
        if lt in ("timestamp-millis", "timestamp-micros"):
            return ((value - EPOCH) // MICROS) // _timestamp_units(node)
        if lt in ("local-timestamp-millis", "local-timestamp-micros"):
            return ((value - EPOCH_NAIVE) // MICROS) // _timestamp_units(node)
        return value
    if t in ("float", "double"):
        assert math.isfinite(value), "JSON has no infinities"
        return value
    if t == "string":  # uuid
        return str(value)
    if t == "bytes":
        if lt == "decimal":
            u = decimal_unscaled(value, node.scale)
            value = u.to_bytes((u.bit_length() + 8) // 8, "big", signed=True)
        return value.decode("latin-1")
    if t == "fixed":
        if lt == "decimal":
            value = decimal_unscaled(value, node.scale).to_bytes(node.size, "big", signed=True)
        return value.decode("latin-1")
    if t == "array":
        assert node.items is not None
        return [to_json_default(v, node.items) for v in value]
    if t == "map":
        assert node.values is not None
        return {k: to_json_default(v, node.values) for k, v in value.items()}
    if t in ("record", "error"):
        return {f.name: to_json_default(value[f.name], f.type) for f in node.fields}
    raise AssertionError(f"no JSON default for {node!r}")


def _latin1(value: JSON) -> bytes | None:
    if not isinstance(value, str):
        return None
    try:
        return value.encode("latin-1")
    except UnicodeEncodeError:
        return None


def json_matches(node: Node, value: JSON, depth: int = 0) -> bool:
    """Whether a JSON default fits ``node`` (the codec's ``validate_default``)."""
    if depth > 128:
        return False
    t = node.type
    is_int = isinstance(value, int) and not isinstance(value, bool)
    if t == "null":
        return value is None
    if t == "boolean":
        return isinstance(value, bool)
    if t == "int":
        return is_int and INT_MIN <= value <= INT_MAX
    if t == "long":
        return is_int and LONG_MIN <= value <= LONG_MAX
    if t in ("float", "double"):
        return is_int or isinstance(value, float)
    if t == "bytes":
        return _latin1(value) is not None
    if t == "string":
        return isinstance(value, str)
    if t == "fixed":
        b = _latin1(value)
        return b is not None and len(b) == node.size
    if t == "enum":
        return isinstance(value, str) and value in node.symbols
    if t == "array":
        assert node.items is not None
        items = node.items
        return isinstance(value, list) and all(json_matches(items, v, depth + 1) for v in value)
    if t == "map":
        assert node.values is not None
        vals = node.values
        return isinstance(value, dict) and all(
            json_matches(vals, v, depth + 1) for v in value.values()
        )
    if t in ("record", "error"):
        if not isinstance(value, dict):
            return False
        for f in node.fields:
            if f.name in value:
                if not json_matches(f.type, value[f.name], depth + 1):
                    return False
            elif not f.has_default:
                return False
        return True
    if t == "union":
        return any(json_matches(b, value, depth + 1) for b in node.branches)
    return False


def from_json_default(value: JSON, node: Node) -> Any:
    """The Python value a field default decodes to (the representation of ``decode``)."""
    t, lt = node.type, node.logical
    if t == "union":
        for b in node.branches:
            if json_matches(b, value):
                return from_json_default(value, b)
        raise ValueError(f"default {value!r} fits no branch of {node!r}")
    if t in ("null", "boolean", "string", "enum") and lt is None:
        return value
    if t in ("int", "long"):
        if lt == "date":
            return date.fromordinal(value + EPOCH_ORDINAL)
        if lt in ("time-millis", "time-micros"):
            micros = value * 1000 if lt == "time-millis" else value
            secs, us = divmod(micros, 10**6)
            return time(secs // 3600, secs // 60 % 60, secs % 60, us)
        if lt in ("timestamp-millis", "timestamp-micros"):
            return EPOCH + timedelta(microseconds=value * _timestamp_units(node))
        if lt in ("local-timestamp-millis", "local-timestamp-micros"):
            return EPOCH_NAIVE + timedelta(microseconds=value * _timestamp_units(node))
        return value
    if t == "float":
        return float32(float(value))
    if t == "double":
        return float(value)
    if t == "string":  # uuid
        return uuid.UUID(value)
    if t in ("bytes", "fixed"):
        raw = value.encode("latin-1")
        if lt == "decimal":
            return decimal_from_unscaled(int.from_bytes(raw, "big", signed=True), node.scale)
        return raw
    if t == "array":
        assert node.items is not None
        return [from_json_default(v, node.items) for v in value]
    if t == "map":
        assert node.values is not None
        return {k: from_json_default(v, node.values) for k, v in value.items()}
    if t in ("record", "error"):
        return {
            f.name: from_json_default(value.get(f.name, f.default), f.type) for f in node.fields
        }
    raise AssertionError(f"no value for default of {node!r}")


def fill_defaults(value: Any, node: Node) -> Any:
    """``value`` (possibly missing fields that have defaults) as it decodes back."""
    t = node.type
    if value is None and t != "union":
        return value
    if t == "union":
        return fill_defaults(value, node.branches[fastavro_branch(value, node)])
    if t in ("record", "error"):
        out = {}
        for f in node.fields:
            if f.name in value:
                out[f.name] = fill_defaults(value[f.name], f.type)
            else:
                out[f.name] = from_json_default(f.default, f.type)
        return out
    if t == "array":
        assert node.items is not None
        return [fill_defaults(v, node.items) for v in value]
    if t == "map":
        assert node.values is not None
        return {k: fill_defaults(v, node.values) for k, v in value.items()}
    return value


# --------------------------------------------------------------------------------------
# fastavro's union choice, mirrored
# --------------------------------------------------------------------------------------


class Unencodable(ValueError):
    """fastavro's logical-type conversion refuses the value (e.g. too many digits)."""


def _fastavro_prepare(value: Any, node: Node) -> Any:
    if node.annotation is None or f"{node.type}-{node.annotation}" not in FASTAVRO_WRITERS:
        return value
    key = f"{node.type}-{node.annotation}"
    if key == "int-date":
        if isinstance(value, date):
            return value.toordinal() - EPOCH_ORDINAL
        if isinstance(value, str):
            try:
                return date.fromisoformat(value).toordinal() - EPOCH_ORDINAL
            except ValueError as e:
                raise Unencodable(str(e)) from e
        return value
    if key in ("int-time-millis", "long-time-micros"):
        if isinstance(value, time):
            micros = ((value.hour * 60 + value.minute) * 60 + value.second) * 10**6
            micros += value.microsecond
            return micros // 1000 if key == "int-time-millis" else micros
        return value
    if key.startswith("long-"):  # timestamps
        if isinstance(value, datetime):
            return 0  # any long: only validity matters for the union choice
        return value
    if key == "string-uuid":
        return str(value) if isinstance(value, uuid.UUID) else value
    if key in ("bytes-decimal", "fixed-decimal"):
        if not isinstance(value, Decimal):
            return value
        _sign, digits, exp = value.as_tuple()
        assert isinstance(exp, int)
        precision = node.json.get("precision", 0)
        if len(digits) > precision or exp + node.json.get("scale", 0) < 0:
            raise Unencodable("decimal does not fit the schema")
        return b"\x00" * node.size if node.type == "fixed" else b""
    return value


def fastavro_valid(value: Any, node: Node, depth: int = 0) -> bool:
    """fastavro's ``validate`` (the test it picks union branches with); a missing record
    field with a default counts as valid, as the codec treats it."""
    if depth > 200:
        return False
    value = _fastavro_prepare(value, node)
    t = node.type
    is_int = isinstance(value, int) and not isinstance(value, bool)
    if t == "null":
        return value is None
    if t == "boolean":
        return isinstance(value, bool)
    if t == "int":
        return is_int and INT_MIN <= value <= INT_MAX
    if t == "long":
        return is_int and LONG_MIN <= value <= LONG_MAX
    if t in ("float", "double"):
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if t == "bytes":
        return isinstance(value, (bytes, bytearray))
    if t == "string":
        return isinstance(value, str)
    if t == "fixed":
        return isinstance(value, bytes) and len(value) == node.size
    if t == "enum":
        return value in node.symbols
    if t == "array":
        assert node.items is not None
        items = node.items
        # fastavro takes bytes for a sequence too: such values are ambiguous, never drawn.
        return (
            isinstance(value, Sequence)
            and not isinstance(value, str)
            and all(fastavro_valid(v, items, depth + 1) for v in value)
        )
    if t == "map":
        assert node.values is not None
        vals = node.values
        return isinstance(value, Mapping) and all(
            isinstance(k, str) and fastavro_valid(v, vals, depth + 1) for k, v in value.items()
        )
    if t in ("record", "error"):
        if not isinstance(value, Mapping):
            return False
        if "-type" in value and value["-type"] != node.name:
            return False
        for f in node.fields:
            if f.name in value:
                if not fastavro_valid(value[f.name], f.type, depth + 1):
                    return False
            elif not f.has_default and not fastavro_valid(None, f.type, depth + 1):
                return False
        return True
    if t == "union":
        return any(fastavro_valid(value, b, depth + 1) for b in node.branches)
    return False


def fastavro_branch(value: Any, union: Node) -> int:
    """The index of the branch fastavro (and so the codec) writes ``value`` with.

    Raises ValueError when no branch fits and :class:`Unencodable` when a logical-type
    conversion refuses the value."""
    best, most_fields, could_be_float = -1, -1, False
    for i, b in enumerate(union.branches):
        if could_be_float:
            if b.type == "double":
                return i
            continue
        if not fastavro_valid(value, b):
            continue
        if b.type == "record":  # fastavro: an "error" is not a record here
            present = sum(1 for f in b.fields if f.name in value)
            if present > most_fields:
                best, most_fields = i, present
        elif b.type == "float":
            best, could_be_float = i, True
        else:
            return i
    if best < 0:
        raise ValueError(f"{value!r} fits no branch of {union!r}")
    return best


def default_written_as_given(value: Any, node: Node) -> bool:
    """Whether the Python value of a default, given explicitly, is written with the same
    union branches as the default itself (its first branch). Not so for ``0.0`` in
    ``["float", "double"]``: the default takes ``float``, an explicit 0.0 ``double``."""
    t = node.type
    if t == "union":
        try:
            if fastavro_branch(value, node) != 0:
                return False
        except ValueError:
            return False
        return default_written_as_given(value, node.branches[0])
    if t in ("record", "error"):
        return all(default_written_as_given(value[f.name], f.type) for f in node.fields)
    if t == "array":
        assert node.items is not None
        items = node.items
        return all(default_written_as_given(v, items) for v in value)
    if t == "map":
        assert node.values is not None
        vals = node.values
        return all(default_written_as_given(v, vals) for v in value.values())
    return True


# --------------------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------------------


class TooDeep(Exception):
    """No finite value was found within the depth budget."""


_UTC = st.just(timezone.utc)
_MIN_DT, _MAX_DT = datetime(1, 1, 1), datetime(9999, 12, 31, 23, 59, 59, 999999)


def _millis(t: Any) -> Any:
    return t.replace(microsecond=t.microsecond // 1000 * 1000)


def _no_fold(t: Any) -> Any:
    return t.replace(fold=0)


@dataclass
class DataOptions:
    max_depth: int = 3
    max_items: int = 3
    omit_defaults: bool = False
    allow_infinity: bool = True
    #: For JSON defaults: unions take their first branch only, floats are finite.
    for_default: bool = False


def _leaf_strategy(node: Node, opts: DataOptions) -> st.SearchStrategy[Any] | None:
    t, lt = node.type, node.logical
    inf = opts.allow_infinity and not opts.for_default
    if lt == "date":
        return st.dates()
    if lt == "time-millis":
        return st.times().map(_millis).map(_no_fold)
    if lt == "time-micros":
        return st.times().map(_no_fold)
    if lt in ("timestamp-millis", "timestamp-micros"):
        s = st.datetimes(_MIN_DT, _MAX_DT, timezones=_UTC).map(_no_fold)
        return s.map(_millis) if lt == "timestamp-millis" else s
    if lt in ("local-timestamp-millis", "local-timestamp-micros"):
        s = st.datetimes(_MIN_DT, _MAX_DT).map(_no_fold)
        return s.map(_millis) if lt == "local-timestamp-millis" else s
    if lt == "decimal":
        bound = 10**node.precision - 1
        scale = node.scale
        return st.integers(-bound, bound).map(lambda u: decimal_from_unscaled(u, scale))
    if lt == "uuid" and t == "string":
        return st.uuids()
    if t == "null":
        return st.none()
    if t == "boolean":
        return st.booleans()
    if t == "int":
        return st.integers(INT_MIN, INT_MAX)
    if t == "long":
        return st.integers(LONG_MIN, LONG_MAX)
    if t == "float":
        return st.floats(width=32, allow_nan=False, allow_infinity=inf)
    if t == "double":
        return st.floats(allow_nan=False, allow_infinity=inf)
    if t == "bytes":
        return st.binary(max_size=8)
    if t == "string":
        return st.text(max_size=8)
    if t == "fixed":
        return st.binary(min_size=node.size, max_size=node.size)
    if t == "enum":
        return st.sampled_from(node.symbols)
    return None


def draw_value(draw: Draw, node: Node, opts: DataOptions, depth: int = 0) -> Any:
    """Draws a canonical value of ``node``. Beyond ``opts.max_depth`` collections are empty
    and unions take null when they can, so recursive schemas give finite values."""
    if depth > opts.max_depth + 24:
        raise TooDeep
    leaf = _leaf_strategy(node, opts)
    if leaf is not None:
        return draw(leaf)
    t = node.type
    deep = depth >= opts.max_depth
    if t == "array":
        assert node.items is not None
        n = 0 if deep else draw(st.integers(0, opts.max_items))
        return [draw_value(draw, node.items, opts, depth + 1) for _ in range(n)]
    if t == "map":
        assert node.values is not None
        keys = [] if deep else draw(st.lists(st.text(max_size=4), max_size=opts.max_items))
        return {k: draw_value(draw, node.values, opts, depth + 1) for k in keys}
    if t in ("record", "error"):
        out = {}
        for f in node.fields:
            if opts.omit_defaults and f.has_default and draw(st.booleans()):
                continue
            out[f.name] = draw_value(draw, f.type, opts, depth + 1)
        return out
    if t == "union":
        return _draw_union(draw, node, opts, depth)
    raise AssertionError(f"cannot draw {node!r}")


def _draw_union(draw: Draw, node: Node, opts: DataOptions, depth: int) -> Any:
    n = len(node.branches)
    if n == 0:
        reject()  # the empty union has no values
    if opts.for_default:
        return draw_value(draw, node.branches[0], opts, depth + 1)
    null = next((i for i, b in enumerate(node.branches) if b.type == "null"), None)
    if depth >= opts.max_depth and null is not None:
        return None
    start = draw(st.integers(0, n - 1))
    for k in range(n):
        i = (start + k) % n
        try:
            value = draw_value(draw, node.branches[i], opts, depth + 1)
            if fastavro_branch(value, node) == i:
                return value
        except (Unencodable, ValueError, TooDeep):
            continue
    reject()  # every branch is shadowed by an earlier one for the values drawn


def data_for(
    schema: JSON | Model,
    *,
    max_depth: int = 3,
    max_items: int = 3,
    omit_defaults: bool = False,
    allow_infinity: bool = True,
) -> st.SearchStrategy[Any]:
    """Valid canonical values of ``schema``: ``decode(encode(v)) == v`` exactly.

    With ``omit_defaults`` record fields that have a default may be left out; use
    :func:`fill_defaults` for the value that decodes back."""
    model = schema if isinstance(schema, Model) else parse_model(schema)
    opts = DataOptions(
        max_depth=max_depth,
        max_items=max_items,
        omit_defaults=omit_defaults,
        allow_infinity=allow_infinity,
    )

    @st.composite
    def values(draw: Draw) -> Any:
        try:
            return draw_value(draw, model.root, opts)
        except TooDeep:
            reject()

    return values()


# --------------------------------------------------------------------------------------
# Schemas
# --------------------------------------------------------------------------------------

_FIRST = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_"
_REST = _FIRST + "0123456789"
names_st: st.SearchStrategy[str] = (
    st.tuples(st.sampled_from(_FIRST), st.text(_REST, max_size=6))
    .map("".join)
    .filter(lambda n: n not in RESERVED_NAMES)
)

_UNNAMED_LEAVES = ("null", "boolean", "int", "long", "float", "double", "bytes", "string")


@dataclass
class _Ctx:
    depth: int
    namespace: str | None
    #: Records still being defined that may be referenced (an array, map or nullable union
    #: lies between them and here, so a finite value exists).
    crossed: frozenset[str]
    #: Records still being defined that may not be referenced yet.
    pending: frozenset[str]

    def optional(self) -> _Ctx:
        return _Ctx(self.depth, self.namespace, self.crossed | self.pending, frozenset())


class _SchemaBuilder:
    def __init__(
        self,
        draw: Draw,
        max_depth: int,
        budget: int,
        logical: bool,
        recursion: bool,
        errors: bool,
    ) -> None:
        self.draw = draw
        self.errors = errors
        self.max_depth = max_depth
        self.budget = budget
        self.logical = logical
        self.recursion = recursion
        #: Every named type defined so far: full name -> namespace.
        self.defined: dict[str, str | None] = {}
        #: Named types whose definition is complete (records stay open while their fields
        #: are generated), in definition order.
        self.complete: list[str] = []
        #: For a complete record: the records still open when it was defined that it refers
        #: to (directly or through other records). Such a record may only be referenced where
        #: those are crossed: A { x: ["null", B { a: A }], y: B } has no finite value.
        self.needs: dict[str, frozenset[str]] = {}
        #: The records being defined, outermost first, each with the open records its
        #: definition has referred to so far.
        self.open: list[tuple[str, set[str]]] = []
        self.default_fields: list[dict[str, Any]] = []

    # names ---------------------------------------------------------------------------

    def fresh_name(self, namespace: str | None) -> str:
        short = self.draw(names_st)
        full = f"{namespace}.{short}" if namespace else short
        k = 2
        while full in self.defined:
            full = f"{full}_{k}"
            k += 1
        return full.rsplit(".", 1)[-1]

    def define(self, obj: dict[str, Any], ctx: _Ctx) -> tuple[str, str | None]:
        """Gives ``obj`` a name and namespace in one of the spec's ways; returns
        (full name, namespace)."""
        style = self.draw(st.sampled_from(["inherit", "inherit", "explicit", "dotted", "null"]))
        if style == "inherit":
            space = ctx.namespace
        elif style == "null":
            space = None
        else:
            space = self.draw(st.sampled_from(NAMESPACE_POOL))
        short = self.fresh_name(space)
        if style == "dotted" and space:
            obj["name"] = f"{space}.{short}"
            if self.draw(st.booleans()):  # ignored when the name is dotted
                obj["namespace"] = self.draw(st.sampled_from(NAMESPACE_POOL))
        else:
            obj["name"] = short
            if style == "explicit":
                obj["namespace"] = space
            elif style == "null" and ctx.namespace:
                obj["namespace"] = ""
        full = f"{space}.{short}" if space else short
        self.defined[full] = space
        if self.draw(st.integers(0, 3)) == 0:
            obj["aliases"] = self.draw(
                st.lists(names_st.map(lambda n: f"old_{n}"), min_size=1, max_size=2, unique=True)
            )
        if self.draw(st.integers(0, 4)) == 0:
            obj["doc"] = self.draw(st.text(max_size=10))
        return full, space

    def spelling(self, full: str, ctx: _Ctx) -> str | None:
        """How to refer to ``full`` from ``ctx`` so that both the codec and fastavro find it
        (fastavro never falls back to the null namespace)."""
        space = self.defined[full]
        short = full.rsplit(".", 1)[-1]
        if space is None:
            return full if not ctx.namespace else None
        if space == ctx.namespace and self.draw(st.booleans()):
            return short
        return full

    # types ---------------------------------------------------------------------------

    def gen(
        self,
        ctx: _Ctx,
        *,
        in_union: bool = False,
        used_kinds: frozenset[str] = frozenset(),
        used_names: frozenset[str] = frozenset(),
    ) -> tuple[JSON, str]:
        """A schema and its union kind (the full name for named types)."""
        self.budget -= 1
        refs = [
            n
            for n in [*self.complete, *(sorted(ctx.crossed) if self.recursion else [])]
            if n not in used_names
            and self.spelling_possible(n, ctx)
            and not self.needs.get(n, frozenset()) & ctx.pending
        ]
        leaves: list[str] = [k for k in _UNNAMED_LEAVES if k not in used_kinds]
        leaves += ["enum", "fixed"]
        if refs:
            leaves += ["ref"] * (4 if ctx.crossed and self.recursion else 2)
        complex_kinds: list[str] = []
        if ctx.depth < self.max_depth and self.budget > 0:
            complex_kinds += ["record", "record"]
            complex_kinds += [k for k in ("array", "map") if k not in used_kinds]
            if not in_union:
                complex_kinds += ["union", "union"]
        # Shallow levels lean towards complex types so that deep schemas are common.
        threshold = {0: 8, 1: 6, 2: 5}.get(ctx.depth, 3)
        if complex_kinds and self.draw(st.integers(0, 9)) < threshold:
            kind = self.draw(st.sampled_from(complex_kinds))
        else:
            kind = self.draw(st.sampled_from(leaves))
        if kind == "ref":
            full = self.draw(st.sampled_from(refs))
            opened = {name for name, _ in self.open}
            deps = ({full} & opened) | self.needs.get(full, frozenset())
            for _, refers in self.open:
                refers |= deps
            spelled = self.spelling(full, ctx)
            assert spelled is not None
            return spelled, full
        if kind in _UNNAMED_LEAVES:
            return self.primitive(kind), kind
        deeper = _Ctx(ctx.depth + 1, ctx.namespace, ctx.crossed, ctx.pending)
        if kind == "array":
            items, _ = self.gen(deeper.optional())
            return {"type": "array", "items": items}, "array"
        if kind == "map":
            values, _ = self.gen(deeper.optional())
            return {"type": "map", "values": values}, "map"
        if kind == "union":
            return self.union(deeper), "union"
        if kind == "enum":
            return self.enum(ctx)
        if kind == "fixed":
            return self.fixed(ctx)
        return self.record(deeper)

    def spelling_possible(self, full: str, ctx: _Ctx) -> bool:
        return self.defined[full] is not None or not ctx.namespace

    def primitive(self, kind: str) -> JSON:
        choice = self.draw(st.integers(0, 9))
        if not self.logical or choice >= 6:
            return kind if choice != 9 else {"type": kind}
        if kind == "int":
            lt = self.draw(st.sampled_from([*INT_LOGICALS, "timestamp-millis", "x-custom"]))
            return {"type": "int", "logicalType": lt}
        if kind == "long":
            lt = self.draw(st.sampled_from([*LONG_LOGICALS, "date", "x-custom"]))
            return {"type": "long", "logicalType": lt}
        if kind == "bytes":
            if self.draw(st.integers(0, 5)) == 0:
                return {"type": "bytes", "logicalType": "uuid"}
            precision = self.draw(st.integers(1, 40))
            out: dict[str, Any] = {"type": "bytes", "logicalType": "decimal"}
            out["precision"] = precision
            scale = self.draw(st.integers(0, precision))
            if scale or self.draw(st.booleans()):
                out["scale"] = scale
            return out
        if kind == "string":
            lt = self.draw(st.sampled_from(["uuid", "uuid", "decimal", "x-custom"]))
            return {"type": "string", "logicalType": lt}
        return {"type": kind}

    def union(self, ctx: _Ctx) -> JSON:
        n = self.draw(st.integers(1, 4))
        with_null = self.draw(st.booleans())
        null_at = self.draw(st.integers(0, n)) if with_null else -1
        # With a null branch a value can stop here: open records become referenceable.
        inner = ctx.optional() if with_null else ctx
        branches: list[JSON] = []
        used_kinds: frozenset[str] = frozenset({"null"}) if with_null else frozenset()
        used_names: frozenset[str] = frozenset()
        for i in range(n):
            if i == null_at:
                branches.append("null")
            s, k = self.gen(inner, in_union=True, used_kinds=used_kinds, used_names=used_names)
            if k in self.defined:
                used_names |= {k}
            else:
                used_kinds |= {k}
            branches.append(s)
        if null_at == n:
            branches.append("null")
        return branches

    def enum(self, ctx: _Ctx) -> tuple[JSON, str]:
        obj: dict[str, Any] = {"type": "enum"}
        full, _ = self.define(obj, ctx)
        obj["symbols"] = self.draw(st.lists(names_st, min_size=1, max_size=5, unique=True))
        if self.draw(st.booleans()):
            obj["default"] = self.draw(st.sampled_from(obj["symbols"]))
        self.complete.append(full)
        return obj, full

    def fixed(self, ctx: _Ctx) -> tuple[JSON, str]:
        obj: dict[str, Any] = {"type": "fixed"}
        full, _ = self.define(obj, ctx)
        which = self.draw(st.integers(0, 9)) if self.logical else 9
        if which <= 2:
            size = self.draw(st.integers(1, 16))
            precision = self.draw(st.integers(1, max_fixed_decimal_digits(size)))
            obj.update(size=size, logicalType="decimal", precision=precision)
            obj["scale"] = self.draw(st.integers(0, precision))
        elif which == 3:
            obj.update(size=16, logicalType="uuid")
        elif which == 4:
            obj.update(size=12, logicalType="duration")
        elif which == 5:  # invalid for the size: ignored
            obj.update(size=self.draw(st.integers(0, 8)), logicalType="uuid")
        else:
            obj["size"] = self.draw(st.integers(0, 16))
        self.complete.append(full)
        return obj, full

    def record(self, ctx: _Ctx) -> tuple[JSON, str]:
        kind = self.draw(st.sampled_from(["record"] * 9 + ["error"])) if self.errors else "record"
        obj: dict[str, Any] = {"type": kind}
        full, space = self.define(obj, ctx)
        inner = _Ctx(ctx.depth, space, ctx.crossed, ctx.pending | {full})
        self.open.append((full, set()))
        n = self.draw(st.integers(0, 4 if self.budget > 0 else 1))
        fields = []
        taken: set[str] = set()
        for _ in range(n):
            fname = self.draw(names_st)
            while fname in taken:
                fname += "_"
            taken.add(fname)
            ftype, _ = self.gen(inner)
            f: dict[str, Any] = {"name": fname, "type": ftype}
            extra = self.draw(st.integers(0, 11))
            if extra == 0:
                f["doc"] = "a field"
            elif extra == 1:
                f["order"] = self.draw(st.sampled_from(["ascending", "descending", "ignore"]))
            elif extra == 2:
                f["aliases"] = [f"old_{fname}"]
            if self.draw(st.integers(0, 2)) == 0:
                self.default_fields.append(f)
            fields.append(f)
        obj["fields"] = fields
        _, refers = self.open.pop()
        self.needs[full] = frozenset(refers & {name for name, _ in self.open})
        self.complete.append(full)
        return obj, full

    def fill_defaults(self, schema: JSON) -> None:
        """Gives the fields chosen for a default a valid one (drawn once every type exists)."""
        if not self.default_fields:
            return
        model = parse_model(schema)
        by_id = {}
        for node in walk_nodes(model.root):
            for f in node.fields:
                by_id[id(f.json)] = f
        opts = DataOptions(max_depth=2, max_items=2, for_default=True)
        for fjson in self.default_fields:
            f = by_id[id(fjson)]
            try:
                value = draw_value(self.draw, f.type, opts)
            except TooDeep:
                continue
            if default_written_as_given(value, f.type):
                fjson["default"] = to_json_default(value, f.type)


@st.composite
def schemas(
    draw: Draw,
    *,
    max_depth: int = 5,
    budget: int = 24,
    logical: bool = True,
    recursion: bool = True,
    defaults: bool = True,
    errors: bool = True,
    top: str | None = None,
) -> JSON:
    """A valid Avro schema as JSON.

    ``top="record"`` forces a record at the top (as Kafka value schemas are). Depth counts
    complex types (record, array, map, union); ``budget`` bounds the number of types.
    ``recursion`` allows references to records still being defined; ``errors`` allows
    ``"type": "error"`` records."""
    b = _SchemaBuilder(draw, max_depth, budget, logical, recursion, errors)
    ctx = _Ctx(0, None, frozenset(), frozenset())
    if top == "record":
        schema, _ = b.record(_Ctx(1, None, frozenset(), frozenset()))
    else:
        schema, _ = b.gen(ctx)
    if not defaults:
        b.default_fields.clear()
    b.fill_defaults(schema)
    return schema


@st.composite
def schema_and_data(
    draw: Draw,
    *,
    n: int = 3,
    omit_defaults: bool = False,
    schema_strategy: st.SearchStrategy[JSON] | None = None,
) -> tuple[JSON, list[Any]]:
    """A schema and up to ``n`` values of it."""
    schema = draw(schema_strategy if schema_strategy is not None else schemas())
    model = parse_model(schema)
    values = draw(st.lists(data_for(model, omit_defaults=omit_defaults), min_size=1, max_size=n))
    return schema, values


# --------------------------------------------------------------------------------------
# Comparison
# --------------------------------------------------------------------------------------


def same_value(a: Any, b: Any, path: str = "") -> str | None:
    """None when ``a`` and ``b`` are the same decoded value (same types, same float bits,
    same Decimal digits and exponent, same tzinfo), else where and how they differ."""
    if type(a) is not type(b):
        return f"{path or '/'}: {type(a).__name__} {a!r} != {type(b).__name__} {b!r}"
    if isinstance(a, float):
        if math.isnan(a) and math.isnan(b):
            return None
        if struct.pack("<d", a) != struct.pack("<d", b):
            return f"{path or '/'}: {a!r} != {b!r}"
        return None
    if isinstance(a, Decimal):
        return None if a.as_tuple() == b.as_tuple() else f"{path or '/'}: {a!r} != {b!r}"
    if isinstance(a, (datetime, time)):
        if a != b or a.tzinfo != b.tzinfo or a.utcoffset() != b.utcoffset():
            return f"{path or '/'}: {a!r} != {b!r}"
        return None
    if isinstance(a, dict):
        if list(a) != list(b) and set(a) != set(b):
            return f"{path or '/'}: keys {sorted(a)} != {sorted(b)}"
        for k in a:
            diff = same_value(a[k], b[k], f"{path}/{k}")
            if diff:
                return diff
        return None
    if isinstance(a, list):
        if len(a) != len(b):
            return f"{path or '/'}: {len(a)} items != {len(b)} items"
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            diff = same_value(x, y, f"{path}/{i}")
            if diff:
                return diff
        return None
    return None if a == b else f"{path or '/'}: {a!r} != {b!r}"


def assert_same(actual: Any, expected: Any) -> None:
    diff = same_value(actual, expected)
    assert diff is None, diff
