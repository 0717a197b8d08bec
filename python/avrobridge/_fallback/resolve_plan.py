"""What resolution builds: the plan's ops and record steps (the Rust ``resolve::Plan``)."""

from __future__ import annotations

from typing import Final

from ..schema import (
    Node,
)

# Op kinds (the Rust ``resolve::Op`` variants).
COPY: Final = 0
INT_AS_LONG: Final = 1
INT_TO_FLOAT: Final = 2
INT_TO_DOUBLE: Final = 3
LONG_TO_FLOAT: Final = 4
LONG_TO_DOUBLE: Final = 5
FLOAT_TO_DOUBLE: Final = 6
BYTES_AS_STRING: Final = 7
STRING_AS_BYTES: Final = 8
ENUM: Final = 9
ARRAY: Final = 10
MAP: Final = 11
RECORD: Final = 12
WRITER_UNION: Final = 13
INTO_UNION: Final = 14
FAIL: Final = 15
#: Reserved for a record/array/map/union being built (Rust's ``Op::Pending``): recursive
#: references point at it, and it must not look like COPY to the step builder.
PENDING: Final = 16

# Step kinds (the Rust ``resolve::Step`` variants).
STEP_FIELD: Final = 0
STEP_COPY: Final = 1
STEP_SKIP: Final = 2
STEP_SAVE: Final = 3
STEP_REPLAY: Final = 4
STEP_DEFAULT: Final = 5


class Op:
    """One plan operation. ``kind`` selects which attributes are meaningful:

    * COPY: ``node`` (validate the writer value and copy its bytes);
    * ENUM: ``enum_targets`` (reader index, or the symbol name when it cannot be read);
    * ARRAY / MAP: ``inner`` (the items' / values' op) and ``min`` (fewest bytes per item);
    * RECORD: ``steps`` and ``slots``;
    * WRITER_UNION: ``targets``;
    * INTO_UNION: ``reader_index`` and ``inner``;
    * FAIL: ``reason``.
    """

    __slots__ = (
        "enum_targets",
        "inner",
        "kind",
        "min",
        "node",
        "reader_index",
        "reason",
        "slots",
        "steps",
        "targets",
    )

    def __init__(self, kind: int) -> None:
        self.kind = kind
        self.node: Node | None = None
        self.enum_targets: list[int | str] = []
        self.inner = 0
        self.min = 0
        self.steps: list[Step] = []
        self.slots = 0
        self.targets: list[BranchTarget] = []
        self.reader_index = 0
        self.reason = ""


def copy_op(node: Node) -> Op:
    op = Op(COPY)
    op.node = node
    return op


class BranchTarget:
    """What a writer union branch becomes: write ``reader_index`` (when the reader is a
    union, else None), then the value through ``op``; or fail with ``reason``."""

    __slots__ = ("op", "reader_index", "reason")

    def __init__(self, reader_index: int | None, op: int, reason: str | None) -> None:
        self.reader_index = reader_index
        self.op = op
        self.reason = reason


class Step:
    """One step of a record: FIELD(op), COPY(nodes), SKIP(node), SAVE(slot, node),
    REPLAY(slot, op) or DEFAULT(data)."""

    __slots__ = ("data", "kind", "node", "nodes", "op", "slot")

    def __init__(
        self,
        kind: int,
        *,
        op: int = 0,
        nodes: list[Node] | None = None,
        node: Node | None = None,
        slot: int = 0,
        data: bytes = b"",
    ) -> None:
        self.kind = kind
        self.op = op
        self.nodes: list[Node] = nodes if nodes is not None else []
        self.node = node
        self.slot = slot
        self.data = data


class Plan:
    """A compiled plan. ``ops`` may contain cycles (recursive types); ``root`` is the entry
    point; ``warnings`` lists the read-time problems that concern only some records;
    ``changes`` what happens to the records, as (kind, location, message)."""

    __slots__ = ("changes", "ops", "root", "slots", "warnings")

    def __init__(
        self,
        ops: list[Op],
        root: int,
        slots: int,
        warnings: list[str],
        changes: list[tuple[str, str, str]],
    ) -> None:
        self.ops = ops
        self.root = root
        self.slots = slots
        self.warnings = warnings
        self.changes = changes
