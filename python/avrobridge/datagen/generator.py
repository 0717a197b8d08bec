"""DataGenerator: values drawn from a seed for every node of the schema."""

from __future__ import annotations

import json
import random
import struct
import uuid
from datetime import date, time, timedelta
from decimal import Decimal
from typing import Any

from .._backend import Schema
from ..schema import Node, parse_value, walk_nodes
from .model import (
    DATE_SPAN,
    DATE_START,
    DAY_US,
    EPOCH,
    INF,
    INT_MAX,
    INT_MIN,
    LONG_MAX,
    LONG_MIN,
    TS_SPAN_US,
    TS_START,
    heights,
)
from .unions import Unencodable, picked
from .words import (
    CITIES,
    COUNTRIES,
    DIGIT_WIDTHS,
    DOMAINS,
    FIRST_NAMES,
    H_AGE,
    H_CITY,
    H_COUNT,
    H_COUNTRY,
    H_EMAIL,
    H_FIRST,
    H_ID,
    H_LAST,
    H_NAME,
    H_NONE,
    H_PHONE,
    H_STREET,
    H_URL,
    H_YEAR,
    LAST_NAMES,
    WORDS,
)
from .words import hint as name_hint


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
        references = [json.loads(ref) for ref in parsed.references]
        self.root = parse_value(parsed.to_json(), False, references).root
        self.height = heights(self.root)
        #: What each field's name says its values are, by ``id`` of the field.
        self.hints = {id(f): name_hint(f.name) for n in walk_nodes(self.root) for f in n.fields}
        if self.height[id(self.root)] == INF:
            raise ValueError("the schema has no finite value (a record always contains itself)")
        self.rng = random.Random(seed)
        self.max_depth = max_depth
        self.max_items = max_items

    def generate(self) -> Any:
        """One value."""
        return self._value(self.root, 0, H_NONE)

    def generate_many(self, n: int) -> list[Any]:
        """``n`` values."""
        return [self._value(self.root, 0, H_NONE) for _ in range(n)]

    # -- per type -----------------------------------------------------------------------

    def _value(self, node: Node, depth: int, hint: int) -> Any:
        t = node.kind
        rng = self.rng
        if node.logical is not None:
            return self._logical(node)
        if t == "string":
            return self._string(hint)
        if t == "record":
            return {f.name: self._value(f.node, depth + 1, self.hints[id(f)]) for f in node.fields}
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
            n = 0 if depth >= self.max_depth else rng.randint(0, self.max_items)
            return [self._value(node.items, depth + 1, hint) for _ in range(n)]
        if t == "map":
            n = 0 if depth >= self.max_depth else rng.randint(0, self.max_items)
            keys = [rng.choice(WORDS) for _ in range(n)]
            return {k: self._value(node.values, depth + 1, hint) for k in keys}
        raise AssertionError(f"no values for {node!r}")

    def _union(self, node: Node, depth: int, hint: int) -> Any:
        rng = self.rng
        branches = node.branches
        order = list(range(len(branches)))
        rng.shuffle(order)
        if depth >= self.max_depth:
            # Shallowest first (null, when there is one), so recursion ends.
            order.sort(key=lambda i: (self.height[id(branches[i])], branches[i].kind != "null"))
        else:
            nulls = [i for i in order if branches[i].kind == "null"]
            if nulls and len(branches) > 1:
                others = [i for i in order if branches[i].kind != "null"]
                order = nulls + others if rng.random() < 0.2 else others + nulls
        fallback: tuple[Any] | None = None
        for i in order:
            branch = branches[i]
            if self.height[id(branch)] == INF:
                continue
            value = self._value(branch, depth, hint)
            if fallback is None:
                fallback = (value,)
            try:
                if picked(value, node, i):
                    return value
            except Unencodable:
                continue
        if fallback is None:
            raise ValueError("a union without a finite branch has no value")
        return fallback[0]  # no branch writes its own values: it still encodes

    def _string(self, hint: int) -> str:
        rng = self.rng
        if hint == H_NONE:
            return rng.choice(WORDS)
        width = DIGIT_WIDTHS.get(hint)
        if width is not None:
            return str(rng.randrange(10 ** rng.randint(*width))).zfill(width[0])
        if hint == H_EMAIL:
            return f"{rng.choice(WORDS)}.{rng.choice(WORDS)}@{rng.choice(DOMAINS)}"
        if hint == H_PHONE:
            return f"+1-{rng.randint(200, 999)}-555-{rng.randrange(10000):04d}"
        if hint == H_FIRST:
            return rng.choice(FIRST_NAMES)
        if hint == H_LAST:
            return rng.choice(LAST_NAMES)
        if hint == H_NAME:
            return rng.choice(FIRST_NAMES if rng.random() < 0.5 else WORDS)
        if hint == H_CITY:
            return rng.choice(CITIES)
        if hint == H_STREET:
            return f"{rng.randint(1, 999)} {rng.choice(WORDS).title()} St"
        if hint == H_COUNTRY:
            return rng.choice(COUNTRIES)
        if hint == H_URL:
            return f"https://{rng.choice(DOMAINS)}/{rng.choice(WORDS)}"
        if hint == H_ID:
            return f"{rng.getrandbits(48):012x}"
        return rng.choice(WORDS)

    def _int(self, hint: int) -> int:
        rng = self.rng
        if hint == H_AGE:
            return rng.randint(18, 80)
        if hint == H_YEAR:
            return rng.randint(1990, 2030)
        if hint == H_COUNT:
            return rng.randint(0, 100)
        if hint == H_ID:
            return rng.randint(1, 10_000_000)
        r = rng.random()
        if r < 0.6:
            return rng.randint(0, 100)
        if r < 0.9:
            return rng.randint(-100_000, 100_000)
        return rng.randint(INT_MIN, INT_MAX)

    def _long(self, hint: int) -> int:
        rng = self.rng
        if hint in (H_AGE, H_YEAR, H_COUNT):
            return self._int(hint)
        if hint == H_ID:
            return rng.randint(1, 10**12)
        r = rng.random()
        if r < 0.5:
            return rng.randint(0, 1000)
        if r < 0.9:
            return rng.randint(-(2**40), 2**40)
        return rng.randint(LONG_MIN, LONG_MAX)

    def _logical(self, node: Node) -> Any:
        rng = self.rng
        lt = node.logical
        if lt == "decimal":
            digits = rng.randint(1, min(node.precision, node.scale + 7))
            unscaled = rng.randrange(-(10**digits) + 1, 10**digits)
            sign = 1 if unscaled < 0 else 0
            return Decimal((sign, tuple(int(c) for c in str(abs(unscaled))), -node.scale))
        if lt == "uuid":
            u = uuid.UUID(int=rng.getrandbits(128), version=4)
            return u if node.kind == "string" else u.bytes
        if lt == "date":
            return date.fromordinal(DATE_START + rng.randrange(DATE_SPAN))
        if lt in ("time-millis", "time-micros"):
            us = rng.randrange(DAY_US)
            if lt == "time-millis":
                us -= us % 1000
            secs, micro = divmod(us, 1_000_000)
            return time(secs // 3600, secs // 60 % 60, secs % 60, micro)
        if lt == "duration":
            return struct.pack(
                "<III", rng.randint(0, 24), rng.randint(0, 30), rng.randrange(86_400_000)
            )
        us = rng.randrange(TS_SPAN_US)
        if lt in ("timestamp-nanos", "local-timestamp-nanos"):
            base = (TS_START - EPOCH) // timedelta(microseconds=1)
            return (base + us) * 1000 + rng.randrange(1000)
        if lt in ("timestamp-millis", "local-timestamp-millis"):
            us -= us % 1000
        stamp = TS_START + timedelta(microseconds=us)
        return stamp.replace(tzinfo=None) if lt and lt.startswith("local-") else stamp


def generate(
    schema: Any, n: int, *, seed: int = 0, max_depth: int = 4, max_items: int = 5
) -> list[Any]:
    """``n`` random values of ``schema`` (see :class:`DataGenerator`)."""
    return DataGenerator(schema, seed, max_depth=max_depth, max_items=max_items).generate_many(n)
