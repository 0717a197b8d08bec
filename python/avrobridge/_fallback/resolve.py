"""Writer schema + reader schema -> a transcoding plan, mirroring ``rust/src/resolve.rs``
rule for rule (and ``rust/src/schema/default.rs`` for encoding reader defaults).

A plan maps writer bytes straight to reader bytes (``transcode.py``). Problems that make every
record unreadable are plan errors, all listed at once (``SchemaResolutionError``); problems
that only concern some records (a writer enum symbol the reader lacks and has no default for;
a writer union branch the reader cannot take) become read-time errors for those records and
are listed as warnings; what the plan changes in the records is listed as ``changes``. Node
identity (``id()``) plays the role of Rust's ``NodeId``: named types are one node wherever
they are used, every other type occurrence is a node of its own.

A non-union writer type read as a reader union takes the branch ``matching.select_branch``
picks (Apache Avro Java's order); trying a branch builds its plan and takes it back if it
does not resolve.
"""

from __future__ import annotations

from typing import Any, Final

from ..errors import SchemaResolutionError
from ..schema import (
    DECIMAL_BYTES,
    DECIMAL_FIXED,
    DefaultError,
    Node,
)
from .default_bytes import encode_default
from .matching import names_match, select_branch
from .resolve_plan import (
    ARRAY,
    BYTES_AS_STRING,
    COPY,
    ENUM,
    FAIL,
    FLOAT_TO_DOUBLE,
    INT_AS_LONG,
    INT_TO_DOUBLE,
    INT_TO_FLOAT,
    INTO_UNION,
    LONG_TO_DOUBLE,
    LONG_TO_FLOAT,
    MAP,
    PENDING,
    RECORD,
    STEP_COPY,
    STEP_DEFAULT,
    STEP_FIELD,
    STEP_REPLAY,
    STEP_SAVE,
    STEP_SKIP,
    STRING_AS_BYTES,
    WRITER_UNION,
    BranchTarget,
    Op,
    Plan,
    Step,
    copy_op,
)


class _Issue:
    __slots__ = ("kind", "location", "message")

    def __init__(self, kind: str, location: str, message: str) -> None:
        self.kind = kind
        self.location = location
        self.message = message

    def render(self) -> str:
        return f"{self.kind} at {self.location}: {self.message}"


def build_plan(writer: Node, reader: Node) -> Plan:
    """The plan reading data of ``writer`` as ``reader``; raises SchemaResolutionError with
    every plan-time problem."""
    b = _Builder()
    root = b.resolve(writer, reader)
    if b.errors or root is None:
        messages = [i.render() for i in b.errors]
        summary = "; ".join(messages) if messages else "writer and reader schemas do not resolve"
        raise SchemaResolutionError(
            "cannot read data written with the writer schema using the reader schema: " + summary,
            messages,
        )
    changes = [(i.kind, i.location, i.message) for i in b.changes]
    return Plan(b.ops, root, b.max_slots, [i.render() for i in b.warnings], changes)


def _decimal_params(node: Node) -> tuple[int, int] | None:
    if node.op in (DECIMAL_BYTES, DECIMAL_FIXED):
        return (node.precision, node.scale)
    return None


def _promotion(w: str, r: str) -> int | None:
    """The op of a promotion (``matching.PROMOTIONS``), None when there is none."""
    return _PROMOTION_OPS.get((w, r))


_PROMOTION_OPS: Final = {
    ("int", "long"): INT_AS_LONG,
    ("int", "float"): INT_TO_FLOAT,
    ("int", "double"): INT_TO_DOUBLE,
    ("long", "float"): LONG_TO_FLOAT,
    ("long", "double"): LONG_TO_DOUBLE,
    ("float", "double"): FLOAT_TO_DOUBLE,
    ("string", "bytes"): STRING_AS_BYTES,
    ("bytes", "string"): BYTES_AS_STRING,
}


def _identical(w: Node, r: Node, seen: list[tuple[Node, Node]]) -> bool:
    """Same encoding in both schemas, so bytes can be copied. ``seen`` stops recursion
    through recursive types."""
    for a, b in seen:
        if a is w and b is r:
            return True
    wd, rd = _decimal_params(w), _decimal_params(r)
    if wd != rd and wd is not None and rd is not None:
        return False
    seen.append((w, r))
    wk, rk = w.kind, r.kind
    out: bool
    if wk != rk:
        out = False
    elif wk == "fixed":
        out = w.size == r.size and names_match(w, r)
    elif wk == "enum":
        out = w.symbols == r.symbols and names_match(w, r)
    elif wk == "array":
        out = _identical(w.items, r.items, seen)
    elif wk == "map":
        out = _identical(w.values, r.values, seen)
    elif wk == "union":
        out = len(w.branches) == len(r.branches) and all(
            _identical(x, y, seen) for x, y in zip(w.branches, r.branches, strict=False)
        )
    elif wk == "record":
        out = (
            names_match(w, r)
            and len(w.fields) == len(r.fields)
            and all(
                x.name == y.name and _identical(x.node, y.node, seen)
                for x, y in zip(w.fields, r.fields, strict=False)
            )
        )
    else:
        out = True
    seen.pop()
    return out


class _Builder:
    def __init__(self) -> None:
        self.ops: list[Op] = []
        self.memo: dict[tuple[int, int], int] = {}
        # The nodes of the memo keys, kept alive so their ids stay theirs.
        self.keep: list[Node] = []
        self.location: list[str] = []
        self.errors: list[_Issue] = []
        self.warnings: list[_Issue] = []
        self.changes: list[_Issue] = []
        self.max_slots = 0
        # Pairs a trial found unresolvable (a failure never depends on where it is met).
        self.unresolvable: set[tuple[int, int]] = set()

    def here(self) -> str:
        if not self.location:
            return "/"
        return "/" + "/".join(self.location)

    def error(self, kind: str, message: str) -> None:
        self.errors.append(_Issue(kind, self.here(), message))

    def change(self, kind: str, location: str, message: str) -> None:
        self.changes.append(_Issue(kind, location, message))

    def note_alias(self, w: Node, r: Node) -> None:
        """Notes a named type matched through a reader alias (its name differs)."""
        a, b = w.name, r.name
        if a is not None and b is not None and a.name != b.name:
            self.change(
                "NAME_ALIASED",
                self.here(),
                f"the writer's {a.fullname} is read as {b.fullname} through an alias",
            )

    def push(self, op: Op) -> int:
        self.ops.append(op)
        return len(self.ops) - 1

    def remember(self, w: Node, r: Node, op: int) -> None:
        self.memo[(id(w), id(r))] = op
        self.keep.append(w)
        self.keep.append(r)

    def resolve_at(self, segment: str, w: Node, r: Node) -> int | None:
        self.location.append(segment)
        try:
            return self.resolve(w, r)
        finally:
            self.location.pop()

    def resolve(self, w: Node, r: Node) -> int | None:
        """Builds the op turning writer node ``w`` into reader node ``r``, recording errors."""
        known = self.memo.get((id(w), id(r)))
        if known is not None:
            return known
        if _identical(w, r, []):
            op_id = self.push(copy_op(w))
            self.remember(w, r, op_id)
            return op_id
        # Writer union (the reader may or may not be one).
        if w.kind == "union":
            # Reserve the id so recursive references resolve to it.
            op_id = self.push(Op(PENDING))
            self.remember(w, r, op_id)
            targets: list[BranchTarget] = []
            any_ok = False
            for i, wb in enumerate(w.branches):
                self.location.append(str(i))
                try:
                    target = self.resolve_writer_branch(wb, r)
                finally:
                    self.location.pop()
                any_ok = any_ok or target.reason is None
                targets.append(target)
            if not any_ok and w.branches:
                self.error(
                    "MISSING_UNION_BRANCH",
                    "the reader can take none of the writer union's branches",
                )
            union_op = Op(WRITER_UNION)
            union_op.targets = targets
            self.ops[op_id] = union_op
            return op_id
        # Reader union, non-union writer: the branch Java's Resolver picks.
        if r.kind == "union":
            picked = self.union_branch(w, r.branches, True)
            if picked is None:
                return None
            into = Op(INTO_UNION)
            into.reader_index, into.inner = picked
            op_id = self.push(into)
            self.remember(w, r, op_id)
            return op_id
        wk, rk = w.kind, r.kind
        wd, rd = _decimal_params(w), _decimal_params(r)
        if wd is not None and rd is not None and wd != rd:
            self.error(
                "DECIMAL_MISMATCH",
                f"decimal({wd[0]}, {wd[1]}) data cannot be read as decimal({rd[0]}, {rd[1]}): "
                "the specification matches decimals only with equal precision and scale",
            )
            return None
        if wk != rk:
            promotion = _promotion(wk, rk)
            if promotion is not None:
                self.change("TYPE_PROMOTED", self.here(), f"{wk} is promoted to {rk}")
                op_id = self.push(Op(promotion))
                self.remember(w, r, op_id)
                return op_id
            self.error("TYPE_MISMATCH", f"writer type {wk} cannot be read as {rk}")
            return None
        if wk in ("array", "map"):
            op_id = self.push(Op(PENDING))
            self.remember(w, r, op_id)
            if wk == "array":
                inner = self.resolve_at("items", w.items, r.items)
            else:
                inner = self.resolve_at("values", w.values, r.values)
            if inner is None:
                return self.failed(w, r, op_id)
            coll = Op(ARRAY if wk == "array" else MAP)
            coll.inner = inner
            # The array / map node knows the fewest bytes of its items (Schema::min_size).
            coll.min = w.min_size
            self.ops[op_id] = coll
            return op_id
        if wk == "fixed":
            ok = True
            assert w.name is not None
            if not names_match(w, r):
                self.location.append("name")
                self.error("NAME_MISMATCH", f"expected: {w.name.fullname}")
                self.location.pop()
                ok = False
            if w.size != r.size:
                self.location.append("size")
                self.error("FIXED_SIZE_MISMATCH", f"expected: {w.size}, found: {r.size}")
                self.location.pop()
                ok = False
            if not ok:
                return None
            self.note_alias(w, r)
            op_id = self.push(copy_op(w))
            self.remember(w, r, op_id)
            return op_id
        if wk == "enum":
            assert w.name is not None
            if not names_match(w, r):
                self.location.append("name")
                self.error("NAME_MISMATCH", f"expected: {w.name.fullname}")
                self.location.pop()
                return None
            self.note_alias(w, r)
            missing: list[str] = []
            defaulted: list[str] = []
            enum_targets: list[int | str] = []
            for s in w.symbols:
                if s in r.symbols:
                    enum_targets.append(r.symbols.index(s))
                elif r.enum_default is not None:
                    defaulted.append(s)
                    enum_targets.append(r.enum_default)
                else:
                    missing.append(s)
                    enum_targets.append(s)
            if defaulted and r.enum_default is not None:
                self.change(
                    "ENUM_SYMBOL_DEFAULTED",
                    self.here().rstrip("/") + "/symbols",
                    f"[{', '.join(defaulted)}] are read as the reader's default "
                    f"'{r.symbols[r.enum_default]}'",
                )
            if missing:
                location = self.here().rstrip("/") + "/symbols"
                self.warnings.append(
                    _Issue(
                        "MISSING_ENUM_SYMBOLS",
                        location,
                        f"[{', '.join(missing)}]: records holding them cannot be read "
                        "(the reader enum has no default)",
                    )
                )
            enum_op = Op(ENUM)
            enum_op.enum_targets = enum_targets
            op_id = self.push(enum_op)
            self.remember(w, r, op_id)
            return op_id
        if wk == "record":
            assert w.name is not None
            if not names_match(w, r):
                self.location.append("name")
                self.error("NAME_MISMATCH", f"expected: {w.name.fullname}")
                self.location.pop()
                return None
            self.note_alias(w, r)
            op_id = self.push(Op(PENDING))
            self.remember(w, r, op_id)
            built = self.record_steps(w, r)
            if built is None:
                return self.failed(w, r, op_id)
            steps, slots = built
            self.max_slots = max(self.max_slots, slots)
            record_op = Op(RECORD)
            record_op.steps = steps
            record_op.slots = slots
            self.ops[op_id] = record_op
            return op_id
        # Same primitive kind: `_identical` already answered, except for logical-type
        # differences, which resolution ignores.
        op_id = self.push(copy_op(w))
        self.remember(w, r, op_id)
        return op_id

    def failed(self, w: Node, r: Node, op_id: int) -> int | None:
        """Marks a reserved op as failed and forgets it, so a later use of the same pair
        resolves (and reports) again at its own location."""
        self.memo.pop((id(w), id(r)), None)
        fail = Op(FAIL)
        fail.reason = "this part of the writer schema does not resolve"
        self.ops[op_id] = fail
        return None

    def resolve_writer_branch(self, wb: Node, r: Node) -> BranchTarget:
        """One writer union branch against the reader (a union or not). Errors inside a
        branch only concern the records that use it, so they become a read-time failure."""
        errors_before = len(self.errors)
        reader_index: int | None = None
        op: int | None
        if r.kind == "union":
            picked = self.union_branch(wb, r.branches, False)
            op = None if picked is None else picked[1]
            reader_index = None if picked is None else picked[0]
        else:
            readable = (wb.kind == r.kind and names_match(wb, r)) or _promotion(
                wb.kind, r.kind
            ) is not None
            if not readable:
                message = (
                    f"the writer union's {wb.branch_name} branch cannot be read as {r.branch_name}"
                )
                self.warnings.append(_Issue("MISSING_UNION_BRANCH", self.here(), message))
                return BranchTarget(None, 0, message)
            op = self.resolve(wb, r)
        if op is not None and len(self.errors) == errors_before:
            return BranchTarget(reader_index, op, None)
        # Demote the branch's errors to warnings: only records using it fail.
        demoted = self.errors[errors_before:]
        del self.errors[errors_before:]
        if len(demoted) == 1 and demoted[0].kind == "MISSING_UNION_BRANCH":
            message = demoted[0].message
        else:
            message = "this union branch does not resolve: " + "; ".join(
                i.render() for i in demoted
            )
        self.warnings.extend(demoted)
        return BranchTarget(None, 0, message)

    def union_branch(self, w: Node, branches: list[Node], at_index: bool) -> tuple[int, int] | None:
        """The reader union branch non-union writer node ``w`` is read as (``matching``), with
        the op reading it. Each candidate is tried; one that does not resolve is taken back.
        When none resolves, the first candidate (Java's pick) is resolved again to report
        why; or the reader union has no branch for the writer's type at all. ``at_index``:
        locations name the reader branch (a writer union's branch already names the
        writer's)."""
        tried: dict[int, tuple[int, list[_Issue]]] = {}
        first: list[int] = []

        def resolves(i: int) -> bool:
            if not first:
                first.append(i)
            if at_index:
                self.location.append(str(i))
            try:
                result = self.trial(w, branches[i])
            finally:
                if at_index:
                    self.location.pop()
            if result is None:
                return False
            tried[i] = result
            return True

        picked = select_branch(w, branches, resolves)
        if picked is not None:
            op, warnings = tried[picked]
            self.warnings.extend(warnings)
            return picked, op
        if first:
            i = first[0]
            errors_before = len(self.errors)
            again = (
                self.resolve_at(str(i), w, branches[i])
                if at_index
                else self.resolve(w, branches[i])
            )
            if again is not None and len(self.errors) == errors_before:
                return i, again
            return None
        message = f"the reader union has no branch for the writer's {w.branch_name}"
        self.error("MISSING_UNION_BRANCH", message)
        return None

    def trial(self, w: Node, r: Node) -> tuple[int, list[_Issue]] | None:
        """Builds the op for (w, r) tentatively: on success it stays (with the warnings it
        raised, handed back), on failure everything it added is taken back."""
        key = (id(w), id(r))
        if key in self.unresolvable:
            return None
        ops, errors, warnings = len(self.ops), len(self.errors), len(self.warnings)
        out = self.resolve(w, r)
        raised = self.warnings[warnings:]
        del self.warnings[warnings:]
        if out is not None and len(self.errors) == errors:
            return out, raised
        del self.errors[errors:]
        del self.ops[ops:]
        self.memo = {k: v for k, v in self.memo.items() if v < ops}
        self.unresolvable.add(key)
        self.keep.append(w)
        self.keep.append(r)
        return None

    def record_steps(self, wr: Node, rr: Node) -> tuple[list[Step], int] | None:
        wfields, rfields = wr.fields, rr.fields
        # Which reader field each writer field feeds (by name, then by reader aliases).
        feeds: list[int | None] = [None] * len(wfields)
        fed_by: list[int | None] = [None] * len(rfields)
        for ri, rf in enumerate(rfields):
            found = _position(wfields, rf.name)
            if found is None:
                for alias in rf.aliases:
                    found = _position(wfields, alias)
                    if found is not None:
                        break
            if found is not None and feeds[found] is None:
                feeds[found] = ri
                fed_by[ri] = found
        # Ops for matched fields, and defaults for the rest.
        field_ops: list[int | None] = [None] * len(rfields)
        defaults: list[bytes | None] = [None] * len(rfields)
        ok = True
        self.location.append("fields")
        for ri, rf in enumerate(rfields):
            self.location.append(str(ri))
            wi = fed_by[ri]
            if wi is not None:
                if wfields[wi].name != rf.name:
                    self.change(
                        "FIELD_RENAMED",
                        self.here(),
                        f"writer field '{wfields[wi].name}' is read as '{rf.name}' "
                        "through an alias",
                    )
                op = self.resolve_at("type", wfields[wi].node, rf.node)
                if op is not None:
                    field_ops[ri] = op
                else:
                    ok = False
            elif rf.has_default:
                try:
                    defaults[ri] = encode_default(rf.node, rf.default)
                    self.change(
                        "FIELD_DEFAULTED",
                        self.here(),
                        f"field '{rf.name}' is not in the writer: its default is used",
                    )
                except DefaultError as e:
                    self.error(
                        "INVALID_DEFAULT", f"the default of field '{rf.name}' is invalid: {e}"
                    )
                    ok = False
            else:
                self.error(
                    "READER_FIELD_MISSING_DEFAULT_VALUE",
                    f"field '{rf.name}' has no default value and the writer has no such field",
                )
                ok = False
            self.location.pop()
        self.location.pop()
        if not ok:
            return None
        for wi, wf in enumerate(wfields):
            if feeds[wi] is None:
                self.change(
                    "FIELD_DROPPED",
                    self.here(),
                    f"writer field '{wf.name}' is not in the reader: dropped",
                )
        # Walk the writer's fields in order, emitting reader fields as soon as they can be.
        steps: list[Step] = []
        slot_of: list[int | None] = [None] * len(wfields)
        slots = 0
        nxt = 0  # next reader field to emit

        def emit_ready() -> None:
            nonlocal nxt
            while nxt < len(rfields):
                d = defaults[nxt]
                if d is not None:
                    steps.append(Step(STEP_DEFAULT, data=d))
                else:
                    source = fed_by[nxt]
                    if source is None:
                        return
                    slot, op = slot_of[source], field_ops[nxt]
                    if slot is None or op is None:
                        return
                    steps.append(Step(STEP_REPLAY, slot=slot, op=op))
                nxt += 1

        emit_ready()
        for wi, wf in enumerate(wfields):
            fed = feeds[wi]
            if fed is None:
                steps.append(Step(STEP_SKIP, node=wf.node))
            elif fed == nxt:
                field_op = field_ops[fed]
                if field_op is None:
                    return None
                current = self.ops[field_op]
                if current.kind == COPY:
                    assert current.node is not None
                    if steps and steps[-1].kind == STEP_COPY:
                        steps[-1].nodes.append(current.node)
                    else:
                        steps.append(Step(STEP_COPY, nodes=[current.node]))
                else:
                    steps.append(Step(STEP_FIELD, op=field_op))
                nxt += 1
                emit_ready()
            else:
                slot_of[wi] = slots
                steps.append(Step(STEP_SAVE, slot=slots, node=wf.node))
                slots += 1
        emit_ready()
        if nxt != len(rfields):
            self.error("INTERNAL", "could not order the reader's fields")
            return None
        return steps, slots


def _position(fields: list[Any], name: str) -> int | None:
    for i, f in enumerate(fields):
        if f.name == name:
            return i
    return None
