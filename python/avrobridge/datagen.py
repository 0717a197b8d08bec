"""Realistic random data for any Avro schema, deterministic from a seed.

The values are in the Python representation :func:`avrobridge.encode` accepts and
:func:`avrobridge.decode` gives back (fastavro's): records are dicts, enums str, bytes and
fixed bytes, unions the plain value, and the logical types their Python objects (``Decimal``,
``UUID``, ``date``, ``time``, aware UTC ``datetime`` for ``timestamp-*``, naive ``datetime``
for ``local-timestamp-*``; ``timestamp-nanos``, ``local-timestamp-nanos``, ``uuid`` on a
``fixed`` and ``duration`` keep their underlying ``int``/``bytes``). Every generated value
round-trips: ``decode(encode(v)) == v``.

"Realistic" means the sizes a real topic carries rather than the extremes a fuzzer looks for:
short words for strings (names, e-mail addresses, cities, digits when the field name says
so), small numbers more often than large ones, 0-5 items in arrays and maps, ``null`` in
about a fifth of the nullable unions, recent dates and times. Recursive types are cut off at a
bounded depth (empty arrays and maps, the ``null`` branch, or the shallowest branch).

    >>> from avrobridge.datagen import DataGenerator
    >>> gen = DataGenerator(schema_text, seed=1)
    >>> records = gen.generate_many(1000)
"""

from __future__ import annotations

import json
import math
import random
import struct
import uuid
from collections.abc import Mapping, Sequence
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from typing import Any

from ._avro_rules import decimal_params, max_fixed_decimal_digits
from ._backend import Schema

__all__ = ["DataGenerator", "generate"]

PRIMITIVES = frozenset(("null", "boolean", "int", "long", "float", "double", "bytes", "string"))
INT_MIN, INT_MAX = -(2**31), 2**31 - 1
LONG_MIN, LONG_MAX = -(2**63), 2**63 - 1
INT_LOGICALS = frozenset(("date", "time-millis"))
LONG_LOGICALS = frozenset(
    (
        "time-micros",
        "timestamp-millis",
        "timestamp-micros",
        "timestamp-nanos",
        "local-timestamp-millis",
        "local-timestamp-micros",
        "local-timestamp-nanos",
    )
)
#: The ``{type}-{logicalType}`` pairs fastavro converts on write: it applies them by annotation,
#: and its union choice (which the codec follows) looks at the converted value.
FASTAVRO_WRITERS = frozenset(
    (
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
    )
)

UTC = timezone.utc
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
EPOCH_NAIVE = datetime(1970, 1, 1)
#: Timestamps fall in 2000-01-01 .. 2030-12-31; dates in 1950 .. 2030.
_TS_START = datetime(2000, 1, 1, tzinfo=UTC)
_TS_SPAN_US = int((datetime(2031, 1, 1, tzinfo=UTC) - _TS_START) / timedelta(microseconds=1))
_DATE_START = date(1950, 1, 1).toordinal()
_DATE_SPAN = date(2031, 1, 1).toordinal() - _DATE_START
_DAY_US = 86_400_000_000
INF = math.inf

_WORDS = (  # noqa: SIM905 (a list literal would take a line per word)
    "alpha apple amber anchor arrow autumn badge basil beacon birch blue bold breeze bright "
    "cable candle canyon cedar cherry cloud cobalt comet copper coral crane crystal dawn delta "
    "desert dune eagle echo ember falcon fern field flint forest frost garnet gentle glacier "
    "granite harbor hazel honey horizon indigo island ivory jade jasper jungle kettle lagoon "
    "lantern lemon lilac linen lotus lunar maple marble meadow mint misty nectar noble north "
    "oak ocean olive onyx orbit orchid pearl pepper pine planet plum prairie quartz quiet rain "
    "raven river robin ruby saffron sage silver slate spruce stone storm summit sunny swift "
    "thunder tiger topaz tulip valley velvet violet walnut willow winter zephyr"
).split()
_FIRST_NAMES = (  # noqa: SIM905 (a list literal would take a line per word)
    "Alice Bob Carol David Emma Frank Grace Henry Irene Jack Karen Liam Maria Noah Olivia Paul "
    "Quinn Rosa Sam Tara Umar Vera Walter Xenia Yusuf Zoe Aiko Bruno Chen Dmitri Elena Fatima"
).split()
_LAST_NAMES = (  # noqa: SIM905 (a list literal would take a line per word)
    "Jones Smith Garcia Miller Brown Davis Wilson Moore Taylor Anderson Thomas Martin Lee "
    "Walker Young King Wright Lopez Hill Green Adams Baker Nelson Carter Mitchell Perez Roberts"
).split()
_CITIES = (  # noqa: SIM905 (a list literal would take a line per word)
    "Springfield Riverside Franklin Greenville Bristol Clinton Fairview Salem Madison "
    "Georgetown Arlington Ashland Dover Oxford Jackson Burlington Manchester Milton Newport "
    "Auburn"
).split()
_DOMAINS = ("example.com", "example.org", "example.net", "mail.test")
_COUNTRIES = ("US", "GB", "DE", "FR", "JP", "BR", "IN", "CA", "AU", "NL")

# Hints taken from field names: they only choose among realistic values of the same type.
_H_NONE, _H_EMAIL, _H_FIRST, _H_LAST, _H_NAME, _H_CITY, _H_COUNTRY, _H_URL = range(8)
_H_ID, _H_AGE, _H_YEAR, _H_COUNT, _H_STREET, _H_PHONE = range(8, 14)
#: Digit strings of a realistic width: hint -> (min digits, max digits).
_DIGITS = {
    "countrycode": (1, 2),
    "areacode": (3, 3),
    "prefix": (3, 3),
    "zip": (5, 5),
    "postal": (5, 5),
    "number": (4, 4),
}
_DIGIT_HINTS = {name: 100 + i for i, name in enumerate(_DIGITS)}
_DIGIT_WIDTHS = {100 + i: width for i, width in enumerate(_DIGITS.values())}


def _hint(field_name: str) -> int:
    n = field_name.lower().replace("_", "").replace("-", "")
    for key, hint in _DIGIT_HINTS.items():
        if key in n:
            return hint
    if "email" in n or "mail" in n:
        return _H_EMAIL
    if "phone" in n or "mobile" in n:
        return _H_PHONE
    if "first" in n or "given" in n:
        return _H_FIRST
    if "last" in n or "surname" in n or "family" in n:
        return _H_LAST
    if "country" in n:
        return _H_COUNTRY
    if "city" in n or "town" in n:
        return _H_CITY
    if "street" in n or "address" in n:
        return _H_STREET
    if "url" in n or "link" in n or "href" in n:
        return _H_URL
    if "name" in n or "nick" in n:
        return _H_NAME
    if n == "age":
        return _H_AGE
    if "year" in n:
        return _H_YEAR
    if any(k in n for k in ("count", "qty", "quantity", "size", "total")):
        return _H_COUNT
    if n == "id" or n.endswith("id"):
        return _H_ID
    return _H_NONE


class _Node:
    """One schema node. Named types are shared objects, so recursive schemas are cycles."""

    __slots__ = (
        "branches",
        "error",
        "fields",
        "height",
        "items",
        "logical",
        "name",
        "precision",
        "scale",
        "size",
        "symbols",
        "type",
        "values",
        "writer_key",
    )

    def __init__(self, type_: str) -> None:
        self.type = type_
        #: The logical type as the codec applies it (None when absent, unknown or invalid).
        self.logical: str | None = None
        #: ``{type}-{logicalType}`` when fastavro converts values of this node on write.
        self.writer_key: str | None = None
        self.name: str | None = None
        #: An ``error`` (a record, except in fastavro's union choice).
        self.error = False
        #: (name, type, name hint, has a default)
        self.fields: list[tuple[str, _Node, int, bool]] = []
        self.symbols: list[str] = []
        self.items: _Node | None = None
        self.values: _Node | None = None
        self.branches: list[_Node] = []
        self.size = 0
        self.precision = 0
        self.scale = 0
        #: The fewest nested records any value needs (math.inf: no finite value exists).
        self.height: float = 0.0

    def __repr__(self) -> str:
        name = f" {self.name}" if self.name else ""
        return f"<{self.type}{name}>"


def _logical(node: _Node, obj: Mapping[str, Any]) -> str | None:
    """The logical type the codec applies: invalid annotations are ignored (Avro spec)."""
    lt = obj.get("logicalType")
    if not isinstance(lt, str):
        return None
    if f"{node.type}-{lt}" in FASTAVRO_WRITERS:
        node.writer_key = f"{node.type}-{lt}"
    t = node.type
    if t == "int":
        return lt if lt in INT_LOGICALS else None
    if t == "long":
        return lt if lt in LONG_LOGICALS else None
    if t == "string":
        return "uuid" if lt == "uuid" else None
    if t in ("bytes", "fixed") and lt == "decimal":
        params = decimal_params(obj)
        if params is None or (t == "fixed" and params[0] > max_fixed_decimal_digits(node.size)):
            return None
        node.precision, node.scale = params
        return "decimal"
    if t == "fixed" and lt == "uuid" and node.size == 16:
        return "uuid"
    if t == "fixed" and lt == "duration" and node.size == 12:
        return "duration"
    return None


class _Parser:
    """Schema JSON -> :class:`_Node` graph, named references resolved the codec's way."""

    def __init__(self) -> None:
        self.names: dict[str, _Node] = {}
        self.nodes: list[_Node] = []

    def lookup(self, ref: str, ns: str | None) -> _Node:
        if "." not in ref and ns and f"{ns}.{ref}" in self.names:
            return self.names[f"{ns}.{ref}"]
        if ref in self.names:
            return self.names[ref]
        raise ValueError(f"unknown type name {ref!r} (namespace {ns!r})")

    def new(self, type_: str) -> _Node:
        node = _Node(type_)
        self.nodes.append(node)
        return node

    def named(self, obj: Mapping[str, Any], ns: str | None, node: _Node) -> str | None:
        """Registers a named type; returns its namespace (the one its children inherit)."""
        name = str(obj["name"])
        explicit = obj.get("namespace")
        if "." in name:
            space: str | None = name.rsplit(".", 1)[0] or None
            short = name.rsplit(".", 1)[1]
        else:
            space, short = (explicit if explicit is not None else ns) or None, name
        node.name = f"{space}.{short}" if space else short
        self.names[node.name] = node
        return space

    def walk(self, s: Any, ns: str | None) -> _Node:
        if isinstance(s, str):
            return self.new(s) if s in PRIMITIVES else self.lookup(s, ns)
        if isinstance(s, list):
            union = self.new("union")
            union.branches = [self.walk(b, ns) for b in s]
            return union
        if not isinstance(s, Mapping):
            raise ValueError(f"not an Avro schema: {s!r}")
        t = s["type"]
        if isinstance(t, (Mapping, list)):
            return self.walk(t, ns)
        if t in PRIMITIVES:
            node = self.new(t)
            node.logical = _logical(node, s)
            return node
        if t in ("record", "error"):
            node = self.new("record")
            node.error = t == "error"
            space = self.named(s, ns, node)
            node.fields = [
                (str(f["name"]), self.walk(f["type"], space), _hint(str(f["name"])), "default" in f)
                for f in s["fields"]
            ]
            return node
        if t == "enum":
            node = self.new("enum")
            self.named(s, ns, node)
            node.symbols = [str(x) for x in s["symbols"]]
            return node
        if t == "fixed":
            node = self.new("fixed")
            self.named(s, ns, node)
            node.size = int(s["size"])
            node.logical = _logical(node, s)
            return node
        if t == "array":
            node = self.new("array")
            node.items = self.walk(s["items"], ns)
            return node
        if t == "map":
            node = self.new("map")
            node.values = self.walk(s["values"], ns)
            return node
        return self.lookup(str(t), ns)


def _compute_heights(nodes: Sequence[_Node]) -> None:
    """Fixpoint of the fewest nested records a finite value needs (recursion-safe)."""
    for n in nodes:
        n.height = INF if n.type in ("record", "union") else 0.0
    changed = True
    while changed:
        changed = False
        for n in nodes:
            if n.type == "record":
                h = 1.0 + max((f.height for _, f, _, _ in n.fields), default=0.0)
            elif n.type == "union":
                h = min((b.height for b in n.branches), default=INF)
            else:
                continue
            if h < n.height:
                n.height = h
                changed = True


# --------------------------------------------------------------------------------------
# fastavro's union choice, mirrored (the codec writes a union value with the same branch):
# a generated union value is kept only when that choice is the branch it was made for, so
# it decodes back as itself.
# --------------------------------------------------------------------------------------


class _Unencodable(ValueError):
    """fastavro's logical-type conversion refuses the value."""


def _prepare(value: Any, node: _Node) -> Any:
    key = node.writer_key
    if key == "int-date":
        if isinstance(value, date):
            return 0
        if isinstance(value, str):
            try:
                date.fromisoformat(value)
            except ValueError as exc:
                raise _Unencodable(str(exc)) from None
            return 0
    elif key in ("int-time-millis", "long-time-micros"):
        if isinstance(value, time):
            return 0
    elif key == "string-uuid":
        if isinstance(value, uuid.UUID):
            return str(value)
    elif key in ("bytes-decimal", "fixed-decimal"):
        if isinstance(value, Decimal):
            _sign, digits, exp = value.as_tuple()
            if not isinstance(exp, int) or len(digits) > node.precision or exp + node.scale < 0:
                raise _Unencodable("the decimal does not fit the schema")
            return b"\x00" * node.size if node.type == "fixed" else b""
    elif key is not None and isinstance(value, datetime):  # the timestamps
        return 0
    return value


def _valid(value: Any, node: _Node, depth: int = 0) -> bool:
    """fastavro's ``validate``, the test its union choice makes."""
    if depth > 256:
        return False
    if node.writer_key is not None:
        value = _prepare(value, node)
    t = node.type
    if t == "null":
        return value is None
    if t == "boolean":
        return isinstance(value, bool)
    if t in ("int", "long"):
        lo, hi = (INT_MIN, INT_MAX) if t == "int" else (LONG_MIN, LONG_MAX)
        return isinstance(value, int) and not isinstance(value, bool) and lo <= value <= hi
    if t in ("float", "double"):
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if t == "bytes":
        return isinstance(value, (bytes, bytearray))
    if t == "string":
        return isinstance(value, str)
    if t == "fixed":
        return isinstance(value, bytes) and len(value) == node.size
    if t == "enum":
        return isinstance(value, str) and value in node.symbols
    if t == "array":
        assert node.items is not None
        items = node.items
        return (
            isinstance(value, Sequence)
            and not isinstance(value, str)
            and all(_valid(v, items, depth + 1) for v in value)
        )
    if t == "map":
        assert node.values is not None
        vals = node.values
        return isinstance(value, Mapping) and all(
            isinstance(k, str) and _valid(v, vals, depth + 1) for k, v in value.items()
        )
    if t == "record":
        if not isinstance(value, Mapping):
            return False
        for name, ftype, _, has_default in node.fields:
            if name in value:
                if not _valid(value[name], ftype, depth + 1):
                    return False
            elif not has_default and not _valid(None, ftype, depth + 1):
                return False
        return True
    if t == "union":
        return any(_valid(value, b, depth + 1) for b in node.branches)
    return False


def _picked(value: Any, union: _Node, drawn: int) -> bool:
    """Whether fastavro writes ``value`` (made for branch ``drawn``) with that branch."""
    best, most_fields, could_be_float = -1, -1, False
    for i, b in enumerate(union.branches):
        if could_be_float:
            if b.type == "double":
                return i == drawn
            continue
        if i != drawn and not _valid(value, b):  # the drawn branch is valid by construction
            continue
        if b.type == "record" and not b.error:  # an error is no "record" there
            present = sum(1 for f in b.fields if f[0] in value)
            if present > most_fields:
                best, most_fields = i, present
        elif b.type == "float":
            best, could_be_float = i, True
        else:
            return i == drawn
    return best == drawn


# --------------------------------------------------------------------------------------
# Generation
# --------------------------------------------------------------------------------------


class DataGenerator:
    """Random values of one schema. Same schema and seed, same values.

    ``schema`` is anything :class:`avrobridge.Schema` takes (or a ``Schema``; its
    ``references`` are honoured). ``max_depth`` bounds the nesting of records, arrays and maps
    (beyond it arrays and maps are empty and unions take their shallowest branch, so recursive
    types stay finite); ``max_items`` bounds array and map sizes."""

    def __init__(
        self, schema: Any, seed: int = 0, *, max_depth: int = 4, max_items: int = 5
    ) -> None:
        parsed = schema if isinstance(schema, Schema) else Schema(schema)
        parser = _Parser()
        for ref in parsed.references:
            parser.walk(json.loads(ref), None)
        self.root = parser.walk(parsed.to_json(), None)
        _compute_heights(parser.nodes)
        if self.root.height == INF:
            raise ValueError("the schema has no finite value (a record always contains itself)")
        self.rng = random.Random(seed)
        self.max_depth = max_depth
        self.max_items = max_items

    def generate(self) -> Any:
        """One value."""
        return self._value(self.root, 0, _H_NONE)

    def generate_many(self, n: int) -> list[Any]:
        """``n`` values."""
        return [self._value(self.root, 0, _H_NONE) for _ in range(n)]

    # -- per type -----------------------------------------------------------------------

    def _value(self, node: _Node, depth: int, hint: int) -> Any:
        t = node.type
        rng = self.rng
        if node.logical is not None:
            return self._logical(node)
        if t == "string":
            return self._string(hint)
        if t == "record":
            return {name: self._value(ftype, depth + 1, h) for name, ftype, h, _ in node.fields}
        if t == "union":
            return self._union(node, depth, hint)
        if t == "int":
            return self._int(hint)
        if t == "long":
            return self._long(hint)
        if t == "null":
            return None
        if t == "boolean":
            return rng.random() < 0.5
        if t == "double":
            return round(rng.uniform(-1000.0, 1000.0), rng.choice((2, 3, 6)))
        if t == "float":
            x = round(rng.uniform(-1000.0, 1000.0), 2)
            return float(struct.unpack("<f", struct.pack("<f", x))[0])
        if t == "bytes":
            return rng.randbytes(rng.randint(0, 24))
        if t == "fixed":
            return rng.randbytes(node.size)
        if t == "enum":
            return rng.choice(node.symbols)
        if t == "array":
            assert node.items is not None
            n = 0 if depth >= self.max_depth else rng.randint(0, self.max_items)
            return [self._value(node.items, depth + 1, hint) for _ in range(n)]
        if t == "map":
            assert node.values is not None
            n = 0 if depth >= self.max_depth else rng.randint(0, self.max_items)
            keys = [rng.choice(_WORDS) for _ in range(n)]
            return {k: self._value(node.values, depth + 1, hint) for k in keys}
        raise AssertionError(f"no values for {node!r}")

    def _union(self, node: _Node, depth: int, hint: int) -> Any:
        rng = self.rng
        branches = node.branches
        order = list(range(len(branches)))
        rng.shuffle(order)
        if depth >= self.max_depth:
            # Shallowest first (null, when there is one), so recursion ends.
            order.sort(key=lambda i: (branches[i].height, branches[i].type != "null"))
        else:
            nulls = [i for i in order if branches[i].type == "null"]
            if nulls and len(branches) > 1:
                others = [i for i in order if branches[i].type != "null"]
                order = nulls + others if rng.random() < 0.2 else others + nulls
        fallback: tuple[Any] | None = None
        for i in order:
            branch = branches[i]
            if branch.height == INF:
                continue
            value = self._value(branch, depth, hint)
            if fallback is None:
                fallback = (value,)
            try:
                if _picked(value, node, i):
                    return value
            except _Unencodable:
                continue
        if fallback is None:
            raise ValueError("a union without a finite branch has no value")
        return fallback[0]  # no branch writes its own values: it still encodes

    def _string(self, hint: int) -> str:
        rng = self.rng
        if hint == _H_NONE:
            return rng.choice(_WORDS)
        width = _DIGIT_WIDTHS.get(hint)
        if width is not None:
            return str(rng.randrange(10 ** rng.randint(*width))).zfill(width[0])
        if hint == _H_EMAIL:
            return f"{rng.choice(_WORDS)}.{rng.choice(_WORDS)}@{rng.choice(_DOMAINS)}"
        if hint == _H_PHONE:
            return f"+1-{rng.randint(200, 999)}-555-{rng.randrange(10000):04d}"
        if hint == _H_FIRST:
            return rng.choice(_FIRST_NAMES)
        if hint == _H_LAST:
            return rng.choice(_LAST_NAMES)
        if hint == _H_NAME:
            return rng.choice(_FIRST_NAMES if rng.random() < 0.5 else _WORDS)
        if hint == _H_CITY:
            return rng.choice(_CITIES)
        if hint == _H_STREET:
            return f"{rng.randint(1, 999)} {rng.choice(_WORDS).title()} St"
        if hint == _H_COUNTRY:
            return rng.choice(_COUNTRIES)
        if hint == _H_URL:
            return f"https://{rng.choice(_DOMAINS)}/{rng.choice(_WORDS)}"
        if hint == _H_ID:
            return f"{rng.getrandbits(48):012x}"
        return rng.choice(_WORDS)

    def _int(self, hint: int) -> int:
        rng = self.rng
        if hint == _H_AGE:
            return rng.randint(18, 80)
        if hint == _H_YEAR:
            return rng.randint(1990, 2030)
        if hint == _H_COUNT:
            return rng.randint(0, 100)
        if hint == _H_ID:
            return rng.randint(1, 10_000_000)
        r = rng.random()
        if r < 0.6:
            return rng.randint(0, 100)
        if r < 0.9:
            return rng.randint(-100_000, 100_000)
        return rng.randint(INT_MIN, INT_MAX)

    def _long(self, hint: int) -> int:
        rng = self.rng
        if hint in (_H_AGE, _H_YEAR, _H_COUNT):
            return self._int(hint)
        if hint == _H_ID:
            return rng.randint(1, 10**12)
        r = rng.random()
        if r < 0.5:
            return rng.randint(0, 1000)
        if r < 0.9:
            return rng.randint(-(2**40), 2**40)
        return rng.randint(LONG_MIN, LONG_MAX)

    def _logical(self, node: _Node) -> Any:
        rng = self.rng
        lt = node.logical
        if lt == "decimal":
            digits = rng.randint(1, min(node.precision, node.scale + 7))
            unscaled = rng.randrange(-(10**digits) + 1, 10**digits)
            sign = 1 if unscaled < 0 else 0
            return Decimal((sign, tuple(int(c) for c in str(abs(unscaled))), -node.scale))
        if lt == "uuid":
            u = uuid.UUID(int=rng.getrandbits(128), version=4)
            return u if node.type == "string" else u.bytes
        if lt == "date":
            return date.fromordinal(_DATE_START + rng.randrange(_DATE_SPAN))
        if lt in ("time-millis", "time-micros"):
            us = rng.randrange(_DAY_US)
            if lt == "time-millis":
                us -= us % 1000
            secs, micro = divmod(us, 1_000_000)
            return time(secs // 3600, secs // 60 % 60, secs % 60, micro)
        if lt == "duration":
            return struct.pack(
                "<III", rng.randint(0, 24), rng.randint(0, 30), rng.randrange(86_400_000)
            )
        us = rng.randrange(_TS_SPAN_US)
        if lt in ("timestamp-nanos", "local-timestamp-nanos"):
            base = (_TS_START - EPOCH) // timedelta(microseconds=1)
            return (base + us) * 1000 + rng.randrange(1000)
        if lt in ("timestamp-millis", "local-timestamp-millis"):
            us -= us % 1000
        stamp = _TS_START + timedelta(microseconds=us)
        return stamp.replace(tzinfo=None) if lt and lt.startswith("local-") else stamp


def generate(
    schema: Any, n: int, *, seed: int = 0, max_depth: int = 4, max_items: int = 5
) -> list[Any]:
    """``n`` random values of ``schema`` (see :class:`DataGenerator`)."""
    return DataGenerator(schema, seed, max_depth=max_depth, max_items=max_items).generate_many(n)
