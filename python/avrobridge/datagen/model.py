"""What the generator needs beyond :mod:`avrobridge.schema`'s nodes: value ranges, the
logical types fastavro converts on write, and each node's height (how deep its values must
go) for cutting recursion off."""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta, timezone

from ..schema import Node, walk_nodes

INT_MIN, INT_MAX = -(2**31), 2**31 - 1
LONG_MIN, LONG_MAX = -(2**63), 2**63 - 1
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


def writer_key(node: Node) -> str | None:
    """``{type}-{logicalType}`` when fastavro converts values of ``node`` on write: it goes
    by the annotation, valid for the codec or not."""
    obj = node.json
    lt = obj.get("logicalType") if isinstance(obj, dict) else None
    key = f"{node.kind}-{lt}"
    return key if key in FASTAVRO_WRITERS else None


def heights(root: Node) -> dict[int, float]:
    """The fewest nested records a finite value of each node needs, by ``id`` of the node
    (math.inf: no finite value exists); a fixpoint, so recursion-safe."""
    nodes = walk_nodes(root)
    height = {id(n): INF if n.kind in ("record", "union") else 0.0 for n in nodes}
    changed = True
    while changed:
        changed = False
        for n in nodes:
            if n.kind == "record":
                h = 1.0 + max((height[id(f.node)] for f in n.fields), default=0.0)
            elif n.kind == "union":
                h = min((height[id(b)] for b in n.branches), default=INF)
            else:
                continue
            if h < height[id(n)]:
                height[id(n)] = h
                changed = True
    return height
