"""The schema as the generator walks it: a node per type, names resolved, logical types,
and each node's height (how deep its values must go) for cutting recursion off."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta, timezone
from typing import Any

from .._avro_rules import decimal_params, max_fixed_decimal_digits
from .words import hint

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
TS_START = datetime(2000, 1, 1, tzinfo=UTC)
TS_SPAN_US = int((datetime(2031, 1, 1, tzinfo=UTC) - TS_START) / timedelta(microseconds=1))
DATE_START = date(1950, 1, 1).toordinal()
DATE_SPAN = date(2031, 1, 1).toordinal() - DATE_START
DAY_US = 86_400_000_000
INF = math.inf


class Node:
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
        self.fields: list[tuple[str, Node, int, bool]] = []
        self.symbols: list[str] = []
        self.items: Node | None = None
        self.values: Node | None = None
        self.branches: list[Node] = []
        self.size = 0
        self.precision = 0
        self.scale = 0
        #: The fewest nested records any value needs (math.inf: no finite value exists).
        self.height: float = 0.0

    def __repr__(self) -> str:
        name = f" {self.name}" if self.name else ""
        return f"<{self.type}{name}>"


def logical(node: Node, obj: Mapping[str, Any]) -> str | None:
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


class Parser:
    """Schema JSON -> :class:`Node` graph, named references resolved the codec's way."""

    def __init__(self) -> None:
        self.names: dict[str, Node] = {}
        self.nodes: list[Node] = []

    def lookup(self, ref: str, ns: str | None) -> Node:
        if "." not in ref and ns and f"{ns}.{ref}" in self.names:
            return self.names[f"{ns}.{ref}"]
        if ref in self.names:
            return self.names[ref]
        raise ValueError(f"unknown type name {ref!r} (namespace {ns!r})")

    def new(self, type_: str) -> Node:
        node = Node(type_)
        self.nodes.append(node)
        return node

    def named(self, obj: Mapping[str, Any], ns: str | None, node: Node) -> str | None:
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

    def walk(self, s: Any, ns: str | None) -> Node:
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
            node.logical = logical(node, s)
            return node
        if t in ("record", "error"):
            node = self.new("record")
            node.error = t == "error"
            space = self.named(s, ns, node)
            node.fields = [
                (str(f["name"]), self.walk(f["type"], space), hint(str(f["name"])), "default" in f)
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
            node.logical = logical(node, s)
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


def compute_heights(nodes: Sequence[Node]) -> None:
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
