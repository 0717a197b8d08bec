"""A resolution plan applied to bytes, mirroring ``rust/src/transcode.rs``: writer encoding in,
reader encoding out, no values in between.

Unchanged values are validated and copied as byte ranges, skipped fields are walked without
being decoded, promotions re-encode only the value that changes, and fields the reader wants
in another order are replayed from their saved input position. Input is validated exactly as
the Rust transcoder validates it (its own walk, not the decoder's: no logical-type checks,
UTF-8 checked only for strings that are kept), with the same messages, offsets and data paths.
"""

from __future__ import annotations

import struct
from typing import Final

from ..schema import Node
from ..wire import write_long
from . import wirecheck as _w
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
    WRITER_UNION,
    Plan,
)
from .wirecheck import MAX_DEPTH, WireError

__all__ = ["transcode"]

_F32: Final = struct.Struct("<f")
_F64: Final = struct.Struct("<d")


def transcode(plan: Plan, data: bytes, budget: _w.ItemBudget | None = None) -> bytes:
    """Transcodes one complete datum within ``budget`` of zero-byte items (updated; a fresh
    default budget when None); raises WireError where the Rust transcoder fails."""
    st = _w._State(data, budget)
    out = bytearray()
    pos = _run(plan, plan.root, st, data, 0, out, [], 0)
    if pos < len(data):
        raise WireError(f"{len(data) - pos} trailing bytes after the datum", pos)
    return bytes(out)


def _check_depth(depth: int, pos: int) -> None:
    if depth >= MAX_DEPTH:
        raise WireError(f"data nested deeper than {MAX_DEPTH} levels", pos)


def _skip_str(data: bytes, pos: int) -> int:
    """Skips a string, checking it is UTF-8 (``Reader::skip_str``)."""
    start, end = _w.read_bytes(data, pos)
    raw = data[start:end]
    if not raw.isascii():
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError:
            raise WireError("string is not valid UTF-8", pos) from None
    return end


def _read_index(data: bytes, pos: int, n: int, what: str) -> tuple[int, int]:
    v, at = _w.read_long(data, pos)
    if v < 0 or v >= n:
        raise WireError(f"{what} index {v} is out of range (0..{n})", pos)
    return v, at


def _long_to_f32(v: int) -> float:
    """``i64 as f32``: rounded once, to nearest (ties to even), from the exact integer."""
    a = -v if v < 0 else v
    n = a.bit_length()
    if n > 24:
        shift = n - 24
        q = a >> shift
        rest = a - (q << shift)
        half = 1 << (shift - 1)
        if rest > half or (rest == half and q & 1):
            q += 1
        a = q << shift
    return -float(a) if v < 0 else float(a)


def _run(
    plan: Plan,
    op_id: int,
    st: _w._State,
    data: bytes,
    pos: int,
    out: bytearray,
    slots: list[int],
    depth: int,
) -> int:
    """Transcodes one value of the op at ``pos``; returns the input position after it."""
    op = plan.ops[op_id]
    kind = op.kind
    if kind == COPY:
        assert op.node is not None
        end = walk(st, op.node, pos, True, depth)
        out += data[pos:end]
        return end
    if kind == RECORD:
        _check_depth(depth, pos)
        base = len(slots)
        slots.extend([0] * op.slots)
        for step in op.steps:
            sk = step.kind
            if sk == STEP_FIELD:
                pos = _run(plan, step.op, st, data, pos, out, slots, depth + 1)
            elif sk == STEP_COPY:
                start = pos
                for node in step.nodes:
                    pos = walk(st, node, pos, True, depth + 1)
                out += data[start:pos]
            elif sk == STEP_SKIP:
                assert step.node is not None
                pos = walk(st, step.node, pos, False, depth + 1)
            elif sk == STEP_SAVE:
                assert step.node is not None
                slots[base + step.slot] = pos
                pos = walk(st, step.node, pos, False, depth + 1)
            elif sk == STEP_REPLAY:
                _run(plan, step.op, st, data, slots[base + step.slot], out, slots, depth + 1)
            elif sk == STEP_DEFAULT:
                out += step.data
        del slots[base:]
        return pos
    if kind == INT_AS_LONG:
        end = _w.read_int(data, pos)[1]
        out += data[pos:end]
        return end
    if kind == INT_TO_FLOAT:
        v, end = _w.read_int(data, pos)
        out += _F32.pack(float(v))
        return end
    if kind == INT_TO_DOUBLE:
        v, end = _w.read_int(data, pos)
        out += _F64.pack(float(v))
        return end
    if kind == LONG_TO_FLOAT:
        v, end = _w.read_long(data, pos)
        out += _F32.pack(_long_to_f32(v))
        return end
    if kind == LONG_TO_DOUBLE:
        v, end = _w.read_long(data, pos)
        out += _F64.pack(float(v))
        return end
    if kind == FLOAT_TO_DOUBLE:
        end = _w.read_fixed(data, pos, 4)
        out += _F64.pack(_F32.unpack_from(data, pos)[0])
        return end
    if kind == BYTES_AS_STRING:
        end = _skip_str(data, pos)
        out += data[pos:end]
        return end
    if kind == ENUM:
        targets = op.enum_targets
        i, end = _read_index(data, pos, len(targets), "enum symbol")
        symbol = targets[i]
        if isinstance(symbol, str):
            raise WireError(
                f"enum symbol '{symbol}' is not in the reader's enum, which has no default", pos
            )
        write_long(out, symbol)
        return end
    if kind == ARRAY:
        _check_depth(depth, pos)
        index = 0
        while True:
            count, pos = _w.block_count(st, pos, op.min)
            if count == 0:
                break
            write_long(out, count)
            if op.min == 0:
                # Writer items that take no bytes are all alike: transcoding one transcodes
                # them all (the budget bounds the count).
                start = len(out)
                try:
                    pos = _run(plan, op.inner, st, data, pos, out, slots, depth + 1)
                except WireError as e:
                    e.segments.append(str(index))
                    raise
                out += out[start:] * (count - 1)
                index += count
                continue
            for _ in range(count):
                try:
                    pos = _run(plan, op.inner, st, data, pos, out, slots, depth + 1)
                except WireError as e:
                    e.segments.append(str(index))
                    raise
                index += 1
        out.append(0)
        return pos
    if kind == MAP:
        _check_depth(depth, pos)
        while True:
            count, pos = _w.block_count(st, pos, op.min + 1)
            if count == 0:
                break
            write_long(out, count)
            for _ in range(count):
                start = pos
                pos = _skip_str(data, pos)
                out += data[start:pos]
                try:
                    pos = _run(plan, op.inner, st, data, pos, out, slots, depth + 1)
                except WireError as e:
                    text_start, text_end = _w.read_bytes(data, start)
                    e.segments.append(data[text_start:text_end].decode("utf-8"))
                    raise
        out.append(0)
        return pos
    if kind == WRITER_UNION:
        branches = op.targets
        i, end = _read_index(data, pos, len(branches), "union branch")
        target = branches[i]
        if target.reason is not None:
            raise WireError(f"union branch {i}: {target.reason}", pos)
        if target.reader_index is not None:
            write_long(out, target.reader_index)
        return _run(plan, target.op, st, data, end, out, slots, depth)
    if kind == INTO_UNION:
        write_long(out, op.reader_index)
        return _run(plan, op.inner, st, data, pos, out, slots, depth)
    if kind == FAIL:
        raise WireError(op.reason, pos)
    if kind == PENDING:
        raise WireError("internal error: unfinished resolution plan", pos)
    # STRING_AS_BYTES: same encoding, no UTF-8 check.
    end = _w.read_bytes(data, pos)[1]
    out += data[pos:end]
    return end


def walk(st: _w._State, node: Node, pos: int, utf8: bool, depth: int) -> int:
    """Walks one value of writer node ``node`` without building it, validating the encoding
    (``transcode::walk``); strings are checked to be UTF-8 when ``utf8`` is set."""
    data = st.data
    kind = node.kind
    if kind == "null":
        return pos
    if kind == "boolean":
        if pos >= len(data):
            raise _w.truncated("a boolean", 1, 0, pos)
        b = data[pos]
        if b > 1:
            raise WireError(f"invalid boolean byte {b} (must be 0 or 1)", pos)
        return pos + 1
    if kind == "int":
        return _w.read_int(data, pos)[1]
    if kind == "long":
        return _w.read_long(data, pos)[1]
    if kind == "float":
        return _w.read_fixed(data, pos, 4)
    if kind == "double":
        return _w.read_fixed(data, pos, 8)
    if kind == "bytes":
        return _w.read_bytes(data, pos)[1]
    if kind == "string":
        if utf8:
            return _skip_str(data, pos)
        return _w.read_bytes(data, pos)[1]
    if kind == "fixed":
        return _w.read_fixed(data, pos, node.size)
    if kind == "enum":
        return _read_index(data, pos, len(node.symbols), "enum symbol")[1]
    if kind == "union":
        i, at = _read_index(data, pos, len(node.branches), "union branch")
        return walk(st, node.branches[i], at, utf8, depth)
    if kind == "array":
        _check_depth(depth, pos)
        items = node.items
        min_size = node.min_size
        # Below the depth limit only: at it, item records must fail their depth check.
        fixed = items.fixed_size if depth + 1 < MAX_DEPTH else None
        while True:
            count, pos = _w.block_count(st, pos, min_size)
            if count == 0:
                return pos
            if fixed:
                # Items of one size needing no checks (doubles, floats, fixed): the whole block
                # at once. The block count proved they fit.
                pos += count * fixed
                continue
            if min_size == 0:
                pos = walk(st, items, pos, utf8, depth + 1)  # zero-byte items are all alike
                continue
            for _ in range(count):
                pos = walk(st, items, pos, utf8, depth + 1)
    if kind == "map":
        _check_depth(depth, pos)
        values = node.values
        min_size = node.min_size + 1
        while True:
            count, pos = _w.block_count(st, pos, min_size)
            if count == 0:
                return pos
            for _ in range(count):
                pos = _skip_str(data, pos) if utf8 else _w.read_bytes(data, pos)[1]
                pos = walk(st, values, pos, utf8, depth + 1)
    # record
    _check_depth(depth, pos)
    for f in node.fields:
        try:
            pos = walk(st, f.node, pos, utf8, depth + 1)
        except WireError as e:
            e.segments.append(f.name)
            raise
    return pos


def skip_datum(root: Node, data: bytes, pos: int, budget: _w.ItemBudget) -> int:
    """Walks the datum at ``pos`` of ``data`` as the transcoder does (``transcode::walk``, the
    container reader's record split) within ``budget``; returns where it ends."""
    return walk(_w._State(data, budget), root, pos, True, 0)
