"""Hypothesis strategies for Avro schemas and for data that fits them.

* :func:`schemas` draws random *valid* Avro schemas as JSON objects: every primitive and
  complex type, named types with namespaces (inherited, explicit, dotted, null), aliases,
  references to earlier names, recursive records, logical types and field defaults.
* :func:`data_for` draws values for a schema in fastavro's canonical representation, i.e.
  values that decode back *identically* (same types, same float bits, same Decimal digits).
* :func:`parse_model` is the package's schema model (:mod:`avrobridge.schema`: names,
  namespaces and logical types resolved, defaults checked as the codec checks them); the
  other helpers (defaults, value comparison) work on its nodes.

Rules followed here (see rust/src/schema/parse.rs and rust/src/py/encoder.rs):

* fastavro does not fall back to the null namespace for a name without a dot, so generated
  schemas never rely on that fallback;
* union values are written with the branch fastavro picks (``avrobridge.datagen.unions``,
  which the data generator uses too); generated union values always decode back as
  themselves, i.e. fastavro's pick is the branch they were drawn for;
* a field default for a union matches the first branch that its JSON fits (Avro 1.12).
"""

from __future__ import annotations

import math
import struct
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from typing import Any

from hypothesis import reject
from hypothesis import strategies as st

from avrobridge._avro_rules import max_fixed_decimal_digits
from avrobridge.datagen.unions import Unencodable, fastavro_branch
from avrobridge.schema import Node, ParsedSchema, matches_default, parse_value, walk_nodes

JSON = Any
Draw = Callable[[st.SearchStrategy[Any]], Any]

PRIMITIVES = ("null", "boolean", "int", "long", "float", "double", "bytes", "string")
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


def parse_model(schema: JSON) -> ParsedSchema:
    """The package's schema model of (already valid) schema JSON: ``.root`` and ``.names``."""
    return parse_value(schema, False, [])


def annotation(node: Node) -> str | None:
    """The ``logicalType`` annotation as written (fastavro applies it by name; the codec
    ignores the ones unknown or invalid for their type, ``node.logical`` is None then)."""
    lt = node.json.get("logicalType") if isinstance(node.json, dict) else None
    return lt if isinstance(lt, str) else None


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
    t, lt = node.kind, node.logical
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
        return [to_json_default(v, node.items) for v in value]
    if t == "map":
        return {k: to_json_default(v, node.values) for k, v in value.items()}
    if t == "record":
        return {f.name: to_json_default(value[f.name], f.node) for f in node.fields}
    raise AssertionError(f"no JSON default for {node!r}")


def from_json_default(value: JSON, node: Node) -> Any:
    """The Python value a field default decodes to (the representation of ``decode``)."""
    t, lt = node.kind, node.logical
    if t == "union":
        for b in node.branches:
            if matches_default(b, value):
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
        return [from_json_default(v, node.items) for v in value]
    if t == "map":
        return {k: from_json_default(v, node.values) for k, v in value.items()}
    if t == "record":
        return {
            f.name: from_json_default(value.get(f.name, f.default), f.node) for f in node.fields
        }
    raise AssertionError(f"no value for default of {node!r}")


def fill_defaults(value: Any, node: Node) -> Any:
    """``value`` (possibly missing fields that have defaults) as it decodes back."""
    t = node.kind
    if value is None and t != "union":
        return value
    if t == "union":
        return fill_defaults(value, node.branches[fastavro_branch(value, node)])
    if t == "record":
        out = {}
        for f in node.fields:
            if f.name in value:
                out[f.name] = fill_defaults(value[f.name], f.node)
            else:
                out[f.name] = from_json_default(f.default, f.node)
        return out
    if t == "array":
        return [fill_defaults(v, node.items) for v in value]
    if t == "map":
        return {k: fill_defaults(v, node.values) for k, v in value.items()}
    return value


# --------------------------------------------------------------------------------------
# Defaults as written
# --------------------------------------------------------------------------------------


def default_written_as_given(value: Any, node: Node) -> bool:
    """Whether the Python value of a default, given explicitly, is written with the same
    union branches as the default itself (its first branch). Not so for ``0.0`` in
    ``["float", "double"]``: the default takes ``float``, an explicit 0.0 ``double``."""
    t = node.kind
    if t == "union":
        try:
            if fastavro_branch(value, node) != 0:
                return False
        except ValueError:
            return False
        return default_written_as_given(value, node.branches[0])
    if t == "record":
        return all(default_written_as_given(value[f.name], f.node) for f in node.fields)
    if t == "array":
        items = node.items
        return all(default_written_as_given(v, items) for v in value)
    if t == "map":
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
    t, lt = node.kind, node.logical
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
    t = node.kind
    deep = depth >= opts.max_depth
    if t == "array":
        n = 0 if deep else draw(st.integers(0, opts.max_items))
        return [draw_value(draw, node.items, opts, depth + 1) for _ in range(n)]
    if t == "map":
        keys = [] if deep else draw(st.lists(st.text(max_size=4), max_size=opts.max_items))
        return {k: draw_value(draw, node.values, opts, depth + 1) for k in keys}
    if t == "record":
        out = {}
        for f in node.fields:
            if opts.omit_defaults and f.has_default and draw(st.booleans()):
                continue
            out[f.name] = draw_value(draw, f.node, opts, depth + 1)
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
    null = next((i for i, b in enumerate(node.branches) if b.kind == "null"), None)
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
    schema: JSON | ParsedSchema,
    *,
    max_depth: int = 3,
    max_items: int = 3,
    omit_defaults: bool = False,
    allow_infinity: bool = True,
) -> st.SearchStrategy[Any]:
    """Valid canonical values of ``schema``: ``decode(encode(v)) == v`` exactly.

    With ``omit_defaults`` record fields that have a default may be left out; use
    :func:`fill_defaults` for the value that decodes back."""
    model = schema if isinstance(schema, ParsedSchema) else parse_model(schema)
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
                value = draw_value(self.draw, f.node, opts)
            except TooDeep:
                continue
            if default_written_as_given(value, f.node):
                fjson["default"] = to_json_default(value, f.node)


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
