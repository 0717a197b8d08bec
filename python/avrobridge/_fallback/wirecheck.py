"""A validating walk over Avro bytes that builds nothing, enforcing every rule of
``rust/src/wire.rs`` and the range checks of ``rust/src/py/decoder.rs``.

fastavro accepts encodings the Rust decoder refuses (11-byte varints, ints beyond 32 bits,
boolean byte 2, invalid UTF-8 replaced or raised late) and can spin on a huge count of
zero-byte items. Decoding therefore walks the bytes here first; only input that passes goes
to fastavro. Errors carry the byte offset and data path where the Rust decoder stops.
"""

from __future__ import annotations

import uuid
from typing import Final

from .._avro_rules import DEFAULT_MAX_ZERO_BYTE_ITEMS, MAX_DEPTH
from ..schema import (
    ARRAY,
    BOOLEAN,
    BYTES,
    DATE,
    DECIMAL_BYTES,
    DECIMAL_FIXED,
    DOUBLE,
    ENUM,
    FIXED,
    FLOAT,
    INT,
    LOCAL_TIMESTAMP_MICROS,
    LOCAL_TIMESTAMP_MILLIS,
    LONG,
    MAP,
    NULL,
    RECORD,
    STRING,
    TIME_MICROS,
    TIME_MILLIS,
    TIMESTAMP_MICROS,
    TIMESTAMP_MILLIS,
    UNION,
    UUID_STRING,
    Node,
)

__all__ = [
    "DEFAULT_MAX_ZERO_BYTE_ITEMS",
    "MAX_DEPTH",
    "ItemBudget",
    "PythonFailure",
    "WireError",
    "check",
]


_I64_MIN: Final = -(1 << 63)
_I64_MAX: Final = (1 << 63) - 1
_I32_MIN: Final = -(1 << 31)
_I32_MAX: Final = (1 << 31) - 1
# Days from 1970-01-01 of 0001-01-01 and 9999-12-31: Python's date range.
_MIN_DAYS: Final = -719_162
_MAX_DAYS: Final = 2_932_896
_DAY_MICROS: Final = 86_400_000_000
_MIN_MICROS: Final = _MIN_DAYS * _DAY_MICROS
_MAX_MICROS: Final = (_MAX_DAYS + 1) * _DAY_MICROS - 1


class WireError(Exception):
    """An invalid encoding: message, byte offset and data path segments (innermost first)."""

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset
        self.segments: list[str] = []

    def path(self) -> str:
        return "".join("/" + s for s in reversed(self.segments))


class PythonFailure(Exception):
    """A Python-level failure the Rust decoder would report as ``cannot decode at byte 0``
    (e.g. an integer too long for ``str``)."""

    def __init__(self, cause: BaseException) -> None:
        super().__init__(str(cause))
        self.cause = cause


def read_long(data: bytes, pos: int) -> tuple[int, int]:
    """A zig-zag varint of at most 10 bytes -> (value, new position)."""
    start = pos
    end = len(data)
    value = 0
    shift = 0
    while True:
        if pos >= end:
            raise WireError("truncated input: varint ends early", start)
        byte = data[pos]
        pos += 1
        if shift == 63 and byte > 1:
            raise WireError("varint is longer than 10 bytes or overflows 64 bits", start)
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return (value >> 1) ^ -(value & 1), pos
        shift += 7


def read_int(data: bytes, pos: int) -> tuple[int, int]:
    v, new = read_long(data, pos)
    if not _I32_MIN <= v <= _I32_MAX:
        raise WireError(f"int value {v} is out of the 32-bit range", pos)
    return v, new


def truncated(what: str, needed: int, remaining: int, pos: int) -> WireError:
    return WireError(f"truncated input: {what} needs {needed} bytes, {remaining} remain", pos)


def read_bytes(data: bytes, pos: int) -> tuple[int, int]:
    """A length prefix and that many bytes -> (start of the bytes, end of the bytes)."""
    n, at = read_long(data, pos)
    if n < 0:
        raise WireError(f"negative length {n}", pos)
    remaining = len(data) - at
    if n > remaining:
        raise WireError(f"length {n} exceeds the {remaining} bytes that remain", pos)
    return at, at + n


class ItemBudget:
    """How many zero-byte items a call may still read; one object serves a whole batch
    (wire.rs ``ItemBudget``)."""

    __slots__ = ("left", "limit")

    def __init__(self, limit: int = DEFAULT_MAX_ZERO_BYTE_ITEMS) -> None:
        self.limit = limit
        self.left = limit

    def take(self, count: int, pos: int) -> None:
        if count > self.left:
            raise WireError(
                f"more than {self.limit} items that take no bytes (null, empty records, fixed "
                "of size 0) in one call: the max_zero_byte_items limit",
                pos,
            )
        self.left -= count


class _State:
    __slots__ = ("budget", "data")

    def __init__(self, data: bytes, budget: ItemBudget | None = None) -> None:
        self.data = data
        self.budget = budget if budget is not None else ItemBudget()


def block_count(st: _State, pos: int, min_item_size: int) -> tuple[int, int]:
    """The item count of the next array/map block (0 at the end) -> (count, new position)."""
    data = st.data
    raw, at = read_long(data, pos)
    if raw < 0:
        if raw == _I64_MIN:
            raise WireError(f"invalid block count {raw}", pos)
        count = -raw
        at = read_long(data, at)[1]  # the block's byte size: read, not used (as Java)
    else:
        count = raw
    if count == 0:
        return 0, at
    remaining = len(data) - at
    if min_item_size > 0:
        if count * min_item_size > remaining:
            raise WireError(
                f"block count {count} exceeds what the {remaining} remaining bytes can hold", pos
            )
    else:
        st.budget.take(count, pos)
    return count, at


def _walk(st: _State, node: Node, pos: int, depth: int) -> int:
    """Checks one value of ``node`` starting at ``pos``; returns the position after it."""
    data = st.data
    op = node.op
    # Unions add no depth and no path segment: resolve them in place.
    while op == UNION:
        n = len(node.branches)
        i, at = read_long(data, pos)
        if i < 0 or i >= n:
            raise WireError(f"union branch index {i} is out of range (0..{n})", pos)
        pos = at
        node = node.branches[i]
        op = node.op
    if op == RECORD:
        if depth >= MAX_DEPTH:
            raise WireError(f"data nested deeper than {MAX_DEPTH} levels", pos)
        field = None
        try:
            for field in node.fields:
                pos = _walk(st, field.node, pos, depth + 1)
        except WireError as e:
            assert field is not None
            e.segments.append(field.name)
            raise
        return pos
    if op in (INT, LONG):
        # Fast path: a one-byte varint is always valid.
        if pos < len(data) and data[pos] < 0x80:
            return pos + 1
        return (read_int if op == INT else read_long)(data, pos)[1]
    if op == STRING:
        b = data[pos] if pos < len(data) else 0x80
        if b < 0x80 and not b & 1 and pos + 1 + (b >> 1) <= len(data):
            # Fast path: a short string whose one-byte length is valid.
            start = pos + 1
            end = start + (b >> 1)
        else:
            start, end = read_bytes(data, pos)
        try:
            data[start:end].decode("utf-8")
        except UnicodeDecodeError:
            raise WireError("string is not valid UTF-8", pos) from None
        return end
    if op == NULL:
        return pos
    if op == BOOLEAN:
        if pos >= len(data):
            raise truncated("a boolean", 1, 0, pos)
        b = data[pos]
        if b > 1:
            raise WireError(f"invalid boolean byte {b} (must be 0 or 1)", pos)
        return pos + 1
    if op == FLOAT:
        return read_fixed(data, pos, 4)
    if op == DOUBLE:
        return read_fixed(data, pos, 8)
    if op == BYTES:
        return read_bytes(data, pos)[1]
    if op == FIXED:
        return read_fixed(data, pos, node.size)
    if op == ENUM:
        n = len(node.symbols)
        i, at = read_long(data, pos)
        if i < 0 or i >= n:
            raise WireError(f"enum symbol index {i} is out of range (0..{n})", pos)
        return at
    if op == ARRAY:
        if depth >= MAX_DEPTH:
            raise WireError(f"data nested deeper than {MAX_DEPTH} levels", pos)
        items = node.items
        min_size = node.min_size
        index = 0
        while True:
            # Block-count errors belong to the array; item errors get the item's index.
            count, pos = block_count(st, pos, min_size)
            if count == 0:
                return pos
            try:
                if min_size == 0:
                    # Items that take no bytes are all alike: checking one checks them all
                    # (the budget bounds the count).
                    pos = _walk(st, items, pos, depth + 1)
                    index += count
                else:
                    for _ in range(count):
                        pos = _walk(st, items, pos, depth + 1)
                        index += 1
            except WireError as e:
                e.segments.append(str(index))
                raise
    if op == MAP:
        if depth >= MAX_DEPTH:
            raise WireError(f"data nested deeper than {MAX_DEPTH} levels", pos)
        values = node.values
        min_size = node.min_size + 1  # each entry holds a key (at least one byte) and a value
        while True:
            count, pos = block_count(st, pos, min_size)
            if count == 0:
                return pos
            for _ in range(count):
                start, end = read_bytes(data, pos)
                try:
                    key = data[start:end].decode("utf-8")
                except UnicodeDecodeError:
                    raise WireError("string is not valid UTF-8", pos) from None
                try:
                    pos = _walk(st, values, end, depth + 1)
                except WireError as e:
                    e.segments.append(key)
                    raise
    return _walk_logical(st, node, pos)


def read_fixed(data: bytes, pos: int, n: int) -> int:
    remaining = len(data) - pos
    if n > remaining:
        raise truncated("the value", n, remaining, pos)
    return pos + n


def _walk_logical(st: _State, node: Node, pos: int) -> int:
    data = st.data
    op = node.op
    if op == DATE:
        days, end = read_int(data, pos)
        if not _MIN_DAYS <= days <= _MAX_DAYS:
            raise WireError(f"date {days} days from the epoch is outside years 1-9999", pos)
        return end
    if op in (TIME_MILLIS, TIME_MICROS):
        if op == TIME_MILLIS:
            v, end = read_int(data, pos)
            v *= 1000
        else:
            v, end = read_long(data, pos)
        if not 0 <= v < _DAY_MICROS:
            raise WireError("time of day is outside 00:00 to 24:00", pos)
        return end
    if op in (TIMESTAMP_MILLIS, TIMESTAMP_MICROS, LOCAL_TIMESTAMP_MILLIS, LOCAL_TIMESTAMP_MICROS):
        v, end = read_long(data, pos)
        if op in (TIMESTAMP_MILLIS, LOCAL_TIMESTAMP_MILLIS):
            v *= 1000
        # v * 1000 beyond i64 is refused by Rust's checked_mul: it is outside the range too.
        if not _MIN_MICROS <= v <= _MAX_MICROS:
            raise WireError(
                "timestamp is outside the years 1-9999 that Python's datetime holds", pos
            )
        return end
    if op == DECIMAL_BYTES:
        start, end = read_bytes(data, pos)
        _check_decimal_digits(data, start, end, pos)
        return end
    if op == DECIMAL_FIXED:
        end = read_fixed(data, pos, node.size)
        _check_decimal_digits(data, pos, end, pos)
        return end
    if op == UUID_STRING:
        start, end = read_bytes(data, pos)
        raw = data[start:end]
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise WireError("string is not valid UTF-8", pos) from None
        try:
            uuid.UUID(text)
        except ValueError:
            raise WireError(f"string of {end - start} bytes is not a valid UUID", pos) from None
        except Exception as exc:
            raise PythonFailure(exc) from exc
        return end
    raise AssertionError(f"unknown op {op}")  # pragma: no cover


def _check_decimal_digits(data: bytes, start: int, end: int, at: int) -> None:
    """Rust formats unscaled values over 16 bytes with Python's ``int.__str__``, which refuses
    more digits than ``sys.get_int_max_str_digits()``; fail where it would. Like any
    ValueError or OverflowError raised while building a value, that is a DecodeError at the
    value's offset ``at``."""
    if end - start > 16:
        try:
            str(int.from_bytes(data[start:end], "big", signed=True))
        except (ValueError, OverflowError) as exc:
            raise WireError(str(exc), at) from None


def check(root: Node, data: bytes, budget: ItemBudget | None = None) -> None:
    """Raises WireError (or PythonFailure) unless ``data`` is exactly one valid datum within
    ``budget`` (updated; a fresh default budget when None)."""
    st = _State(data, budget)
    pos = _walk(st, root, 0, 0)
    if pos < len(data):
        raise WireError(f"{len(data) - pos} trailing bytes after the datum", pos)


def datum_end(root: Node, data: bytes, pos: int) -> int:
    """Checks the datum at ``pos`` of ``data`` as ``check`` does; returns where it ends
    (records in a container block follow one another). Offsets in errors count from the
    start of ``data``."""
    return _walk(_State(data), root, pos, 0)
