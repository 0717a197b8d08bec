"""Python values -> the exact input fastavro's writer needs to produce the Rust encoder's
bytes, and fastavro's reader output after wirecheck.

Encoding mirrors ``rust/src/py/encoder.rs`` check for check: ``prepare`` walks the datum by
the schema, raises the same errors at the same data paths, and returns a copy that leaves
fastavro no choice: every union value becomes tuple notation ``(branch name, value)`` with
the branch picked as Rust picks it, every record has all its fields (missing ones filled with
the default), logical values are converted to their wire ints/bytes, and subclasses of
int/float/str/bytes become the exact builtin types. fastavro then only writes bytes.
"""

from __future__ import annotations

import array
import datetime
import decimal
import io
import numbers
import operator
import time
import uuid
from collections.abc import Mapping, Sequence
from typing import Any, Final

import fastavro
from fastavro.read import LOGICAL_READERS

from .schema import (
    ARRAY,
    BOOLEAN,
    BYTES,
    DATE,
    DECIMAL_BYTES,
    DECIMAL_FIXED,
    DOUBLE,
    ENUM,
    FASTAVRO_DECIMAL,
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
    Field,
    Node,
    fastavro_branch_name,
)
from .wirecheck import MAX_DEPTH

__all__ = ["EncodeFailure", "prepare", "read", "write"]

_I64_MIN: Final = -(1 << 63)
_I64_MAX: Final = (1 << 63) - 1
_I32_MIN: Final = -(1 << 31)
_I32_MAX: Final = (1 << 31) - 1
_UTC: Final = datetime.timezone.utc
_EPOCH_UTC: Final = datetime.datetime(1970, 1, 1, tzinfo=_UTC)
_MISSING: Final = object()


class EncodeFailure(Exception):
    """A value that cannot be encoded (Rust ``Error::Encode``): message and data path
    segments, innermost first. Python exceptions raised on the way are not wrapped in this
    class: like Rust's ``Fail::Py`` they lose the path."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
        self.segments: list[str] = []

    def path(self) -> str:
        return "".join("/" + s for s in reversed(self.segments))


def _type_name(obj: object) -> str:
    return type(obj).__name__


def _wrong_type(expected: str, obj: object) -> EncodeFailure:
    return EncodeFailure(f"expected {expected}, got {_type_name(obj)}")


def _extract_i64(obj: Any, kind: str) -> int:
    """An integer from ``int`` or any ``numbers.Integral`` (via ``__index__``), never a bool."""
    if type(obj) is int:
        target = obj
    elif isinstance(obj, bool):
        # fastavro's validator (and so its union choice) refuses bools for numbers.
        raise _wrong_type(f"an integer for {kind}", obj)
    elif isinstance(obj, int):
        target = obj
    elif not isinstance(obj, (float, str)) and isinstance(obj, numbers.Integral):
        target = operator.index(obj)
    else:
        raise _wrong_type(f"an integer for {kind}", obj)
    v = int.__index__(target)
    if not _I64_MIN <= v <= _I64_MAX:
        raise EncodeFailure(f"{target} is out of range for {kind}")
    return v


def _extract_i32(obj: Any) -> int:
    v = _extract_i64(obj, "int")
    if not _I32_MIN <= v <= _I32_MAX:
        raise EncodeFailure(f"{v} is out of range for int (32-bit)")
    return v


def _extract_f64(obj: Any, kind: str) -> float:
    if type(obj) is float:
        return obj
    if isinstance(obj, bool):
        raise _wrong_type(f"a number for {kind}", obj)
    if isinstance(obj, float):
        return float.__float__(obj)
    if isinstance(obj, int) or (not isinstance(obj, str) and isinstance(obj, numbers.Real)):
        # PyFloat_AsDouble: __float__, else __index__; OverflowError for huge ints.
        cls = type(obj)
        if not (hasattr(cls, "__float__") or hasattr(cls, "__index__")):
            raise TypeError(f"must be real number, not {cls.__name__}")
        return float(obj)
    raise _wrong_type(f"a number for {kind}", obj)


def _utf8_checked(s: str) -> str:
    """``s`` as an exact str, refusing what cannot be encoded as UTF-8 (lone surrogates)."""
    if not s.isascii():
        try:
            s.encode("utf-8")
        except UnicodeEncodeError as e:
            raise EncodeFailure(
                f"string cannot be encoded as UTF-8: UnicodeEncodeError: {e}"
            ) from None
    return s if type(s) is str else str.__str__(s)


def _utf8_or_empty(s: str) -> str | None:
    try:
        s.encode("utf-8")
    except UnicodeEncodeError:
        return None
    return s


def _bytes_like(obj: Any) -> bytes | None:
    if type(obj) is bytes:
        return obj
    if isinstance(obj, (bytes, bytearray)):
        return bytes(obj)
    return None


def _is_mapping(obj: Any) -> bool:
    return isinstance(obj, (dict, Mapping))


def _is_sequence(obj: Any) -> bool:
    """Sequences fastavro writes as arrays: not text or bytes."""
    if isinstance(obj, (list, tuple)):
        return True
    if isinstance(obj, (str, bytes, bytearray)):
        return False
    return isinstance(obj, (Sequence, array.array))


def _mapping_get(obj: Any, key: str) -> Any:
    """``obj[key]`` or ``_MISSING``; a dict (or subclass) is read directly, like
    ``PyDict_GetItemWithError``."""
    if isinstance(obj, dict):
        return dict.get(obj, key, _MISSING)
    if key in obj:
        return obj[key]
    return _MISSING


def _check_depth(depth: int) -> None:
    if depth >= MAX_DEPTH:
        raise EncodeFailure(f"data nested deeper than {MAX_DEPTH} levels (or a reference cycle)")


def prepare(node: Node, obj: Any, depth: int) -> Any:
    """Checks ``obj`` against ``node`` and returns the value to give fastavro's writer."""
    op = node.op
    if op == UNION:
        index, obj = _choose_branch(node, obj)
        branch = node.branches[index]
        return (fastavro_branch_name(branch), prepare(branch, obj, depth))
    if op == RECORD:
        return _prepare_record(node, obj, depth)
    if op == STRING:
        if isinstance(obj, str):
            return _utf8_checked(obj)
        raise _wrong_type("a str", obj)
    if op == LONG:
        return _extract_i64(obj, "long")
    if op == INT:
        return _extract_i32(obj)
    if op == NULL:
        if obj is None:
            return None
        raise _wrong_type("None", obj)
    if op == BOOLEAN:
        if isinstance(obj, bool):
            return obj
        raise _wrong_type("a bool", obj)
    if op == DOUBLE:
        return _extract_f64(obj, "double")
    if op == FLOAT:
        return _extract_f64(obj, "float")
    if op == BYTES:
        b = _bytes_like(obj)
        if b is None:
            raise _wrong_type("bytes", obj)
        return b
    if op == FIXED:
        b = _bytes_like(obj)
        if b is None:
            raise _wrong_type(f"bytes (fixed of {node.size})", obj)
        if len(b) != node.size:
            raise EncodeFailure(f"fixed needs exactly {node.size} bytes, got {len(b)}")
        return b
    if op == ENUM:
        if not isinstance(obj, str):
            raise _wrong_type("a str (enum symbol)", obj)
        s = _utf8_checked(obj)
        if s not in node.symbols:
            raise EncodeFailure(f"'{s}' is not a symbol of the enum ({', '.join(node.symbols)})")
        return s
    if op == ARRAY:
        return _prepare_array(node, obj, depth)
    if op == MAP:
        return _prepare_map(node, obj, depth)
    return _prepare_logical(node, obj)


def _prepare_record(node: Node, obj: Any, depth: int) -> dict[str, Any]:
    _check_depth(depth)
    if not _is_mapping(obj):
        assert node.name is not None
        raise _wrong_type(f"a dict (record {node.name.fullname})", obj)
    out: dict[str, Any] = {}
    field: Field | None = None
    try:
        for field in node.fields:
            value = _mapping_get(obj, field.name)
            if value is not _MISSING:
                out[field.name] = prepare(field.node, value, depth + 1)
            elif field.has_usable_default:
                out[field.name] = field.default_value
            else:
                # fastavro writes a missing field without default as None: fine for a
                # nullable field, an error otherwise.
                try:
                    out[field.name] = prepare(field.node, None, depth + 1)
                except EncodeFailure:
                    if not _matches_null(field.node):
                        raise EncodeFailure(
                            f"missing field '{field.name}' has no default"
                        ) from None
                    raise
    except EncodeFailure as e:
        assert field is not None
        e.segments.append(field.name)
        raise
    return out


def _matches_null(node: Node) -> bool:
    return node.op == NULL or (node.op == UNION and node.null_branch is not None)


def _prepare_array(node: Node, obj: Any, depth: int) -> list[Any]:
    _check_depth(depth)
    if isinstance(obj, (list, tuple)):
        values: Sequence[Any] = obj
    elif _is_sequence(obj):
        values = list(obj)
    else:
        raise _wrong_type("a list", obj)
    items = node.items
    out: list[Any] = []
    try:
        for item in values:
            out.append(prepare(items, item, depth + 1))
    except EncodeFailure as e:
        e.segments.append(str(len(out)))
        raise
    return out


def _prepare_map(node: Node, obj: Any, depth: int) -> dict[str, Any]:
    _check_depth(depth)
    if isinstance(obj, dict):
        pairs: Any = dict.items(obj)
        size = len(obj)
    elif _is_mapping(obj):
        pairs = list(obj.items())
        size = -1
    else:
        raise _wrong_type("a dict (map)", obj)
    values = node.values
    out: dict[str, Any] = {}
    written = 0
    for k, v in pairs:
        if not isinstance(k, str):
            raise _wrong_type("str map keys", k)
        key = _utf8_checked(k)
        try:
            out[key] = prepare(values, v, depth + 1)
        except EncodeFailure as e:
            e.segments.append(key)
            raise
        written += 1
    if size >= 0 and written != size:
        raise EncodeFailure("dict changed size while being encoded")
    return out


def _choose_branch(node: Node, obj: Any) -> tuple[int, Any]:
    """The union branch for ``obj``, picked as fastavro picks it (encoder.rs ``choose_branch``);
    returns the branch index and the value (unwrapped from tuple notation)."""
    branches = node.branches
    null_branch = node.null_branch
    if obj is None and null_branch is not None:
        return null_branch, obj
    # Tuple notation: (branch name, value).
    if isinstance(obj, tuple) and len(obj) == 2:
        name = tuple.__getitem__(obj, 0)  # PyTuple_GetItem: a subclass's __getitem__ is not used
        if isinstance(name, str):
            name = str(name)
            for i, b in enumerate(branches):
                if b.branch_name == name:
                    return i, tuple.__getitem__(obj, 1)
    # The common ["null", T]: anything that is not None is a T.
    if len(branches) == 2 and null_branch is not None and obj is not None:
        return 1 - null_branch, obj
    best = -1
    most_fields = -1
    could_be_float = False
    for i, branch in enumerate(branches):
        if could_be_float:
            if branch.op == DOUBLE:
                best = i
                break
            continue
        if not _matches(branch, obj, 0):
            continue
        if branch.op == RECORD and not branch.is_error:
            # fastavro applies "most matching fields" to records only; an error record
            # that matches is taken at once (its accident, copied for identical bytes).
            count = sum(1 for f in branch.fields if _mapping_get(obj, f.name) is not _MISSING)
            if count > most_fields:
                best = i
                most_fields = count
        elif branch.op == FLOAT:
            best = i
            could_be_float = True
        else:
            best = i
            break
    if best < 0:
        names = ", ".join(b.branch_name for b in branches)
        raise EncodeFailure(f"{_type_name(obj)} value matches no branch of the union [{names}]")
    return best, obj


def _int_in(obj: Any, lo: int, hi: int) -> bool:
    if isinstance(obj, (bool, float, str)):
        return False
    if not isinstance(obj, (int, numbers.Integral)):
        return False
    try:
        v = _extract_i64(obj, "long")
    except Exception:
        return False
    return lo <= v <= hi


def _matches(node: Node, obj: Any, depth: int) -> bool:
    """Whether ``obj`` is a valid value of ``node`` (encoder.rs ``matches_value``)."""
    if depth >= MAX_DEPTH:
        return False
    op = node.op
    if op == NULL:
        return obj is None
    if op == BOOLEAN:
        return isinstance(obj, bool)
    if op == INT:
        return _int_in(obj, _I32_MIN, _I32_MAX)
    if op == LONG:
        return _int_in(obj, _I64_MIN, _I64_MAX)
    if op in (FLOAT, DOUBLE):
        return not isinstance(obj, bool) and (
            isinstance(obj, (float, int))
            or (not isinstance(obj, str) and isinstance(obj, numbers.Real))
        )
    if op == STRING:
        return isinstance(obj, str)
    if op == BYTES:
        return isinstance(obj, (bytes, bytearray))
    if op == FIXED:
        return isinstance(obj, (bytes, bytearray)) and len(obj) == node.size
    if op == ENUM:
        return isinstance(obj, str) and _utf8_or_empty(obj) in node.symbols
    if op == ARRAY:
        if not _is_sequence(obj):
            return False
        return all(_matches(node.items, item, depth + 1) for item in obj)
    if op == MAP:
        if not _is_mapping(obj):
            return False
        for k, v in obj.items():
            if not isinstance(k, str) or not _matches(node.values, v, depth + 1):
                return False
        return True
    if op == RECORD:
        if not _is_mapping(obj):
            return False
        declared = _mapping_get(obj, "-type")
        if declared is not _MISSING:
            assert node.name is not None
            if str(declared) != node.name.fullname:
                return False
        for f in node.fields:
            v = _mapping_get(obj, f.name)
            if v is not _MISSING:
                if not _matches(f.node, v, depth + 1):
                    return False
            elif not f.has_usable_default and not _matches(f.node, None, depth + 1):
                return False
        return True
    if op == UNION:
        return any(_matches(b, obj, depth + 1) for b in node.branches)
    if op == DATE:
        return (
            isinstance(obj, datetime.date)
            or _int_in(obj, _I32_MIN, _I32_MAX)
            or isinstance(obj, str)
        )
    if op == TIME_MILLIS:
        return isinstance(obj, datetime.time) or _int_in(obj, _I32_MIN, _I32_MAX)
    if op == TIME_MICROS:
        return isinstance(obj, datetime.time) or _int_in(obj, _I64_MIN, _I64_MAX)
    if op in (TIMESTAMP_MILLIS, TIMESTAMP_MICROS, LOCAL_TIMESTAMP_MILLIS, LOCAL_TIMESTAMP_MICROS):
        return isinstance(obj, datetime.datetime) or _int_in(obj, _I64_MIN, _I64_MAX)
    if op == DECIMAL_BYTES:
        return isinstance(obj, (bytes, bytearray, decimal.Decimal))
    if op == DECIMAL_FIXED:
        if isinstance(obj, (bytes, bytearray)):
            return len(obj) == node.size
        return isinstance(obj, decimal.Decimal)
    if op == UUID_STRING:
        return isinstance(obj, (str, uuid.UUID))
    raise AssertionError(f"unknown op {op}")  # pragma: no cover


# --- logical types ------------------------------------------------------------------------


def _days_from_civil(y: int, m: int, d: int) -> int:
    """(year, month, day) -> days since 1970-01-01 (Howard Hinnant's algorithm)."""
    y = y - 1 if m <= 2 else y
    era = y // 400
    yoe = y - era * 400
    doy = (153 * (m - 3 if m > 2 else m + 9) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146_097 + doe - 719_468


def _date_to_days(obj: Any) -> int:
    if isinstance(obj, str):
        date: Any = datetime.date.fromisoformat(obj)
    elif isinstance(obj, datetime.date):
        date = obj
    else:
        raise _wrong_type("a datetime.date or int", obj)
    return _days_from_civil(int(date.year), int(date.month), int(date.day))


def _time_to_micros(obj: Any) -> int:
    if not isinstance(obj, datetime.time):
        raise _wrong_type("a datetime.time or int", obj)
    return ((int(obj.hour) * 60 + int(obj.minute)) * 60 + int(obj.second)) * 1_000_000 + int(
        obj.microsecond
    )


def _checked_timestamp(secs: int, scale: int, sub: int) -> int:
    v = secs * scale
    if not _I64_MIN <= v <= _I64_MAX:
        raise EncodeFailure("timestamp out of range")
    v += sub
    if not _I64_MIN <= v <= _I64_MAX:
        raise EncodeFailure("timestamp out of range")
    return v


def _datetime_to_long(op: int, obj: Any) -> int:
    """A datetime -> the long of a timestamp logical type, with fastavro's rules: aware values
    are instants; naive ones are local time for timestamp-* (``time.mktime``) and taken as
    they are for local-timestamp-*."""
    if not isinstance(obj, datetime.datetime):
        raise _wrong_type("a datetime.datetime or int", obj)
    millis = op in (TIMESTAMP_MILLIS, LOCAL_TIMESTAMP_MILLIS)
    micro = int(obj.microsecond)
    sub = micro // 1000 if millis else micro
    scale = 1000 if millis else 1_000_000
    if op in (LOCAL_TIMESTAMP_MILLIS, LOCAL_TIMESTAMP_MICROS):
        days = _days_from_civil(int(obj.year), int(obj.month), int(obj.day))
        secs = days * 86_400 + int(obj.hour) * 3600 + int(obj.minute) * 60 + int(obj.second)
        return _checked_timestamp(secs, scale, sub)
    if obj.tzinfo is None:
        fsecs = float(time.mktime(obj.timetuple()))
        # Rust's `f64 as i64`: truncation toward zero, saturating, NaN -> 0.
        if fsecs != fsecs:
            isecs = 0
        elif fsecs >= 9.223372036854775807e18:
            isecs = _I64_MAX
        elif fsecs <= -9.223372036854775808e18:
            isecs = _I64_MIN
        else:
            isecs = int(fsecs)
        return _checked_timestamp(isecs, scale, sub)
    delta = obj - _EPOCH_UTC
    secs = int(delta.days) * 86_400 + int(delta.seconds)
    us = int(delta.microseconds)
    return _checked_timestamp(secs, scale, us // 1000 if millis else us)


def _decimal_unscaled(obj: Any, precision: int, scale: int) -> int:
    """A Decimal -> its unscaled integer at ``scale``, refusing values whose digits exceed
    ``precision`` or whose exponent is finer than ``scale``."""
    if not isinstance(obj, decimal.Decimal):
        raise _wrong_type("a decimal.Decimal or bytes", obj)
    sign, digits, exponent = obj.as_tuple()
    if not isinstance(exponent, int):
        raise EncodeFailure("NaN and infinite decimals cannot be encoded")
    if len(digits) > precision:
        raise EncodeFailure(
            f"decimal has {len(digits)} digits, more than the schema's precision {precision}"
        )
    delta = exponent + scale
    if delta < 0:
        raise EncodeFailure(f"decimal has more fractional digits than the schema's scale {scale}")
    significant = len(digits)
    for d in digits:
        if d != 0:
            break
        significant -= 1
    if significant > 0 and significant + delta > precision:
        raise EncodeFailure(
            f"decimal needs {significant + delta} digits at scale {scale}, more than the "
            f"schema's precision {precision}"
        )
    if significant == 0:
        return 0
    magnitude = 0
    for d in digits:
        magnitude = magnitude * 10 + d
    magnitude *= int(10**delta)
    return -magnitude if sign else magnitude


def _prepare_logical(node: Node, obj: Any) -> Any:
    op = node.op
    if op == DATE:
        days = _extract_i32(obj) if isinstance(obj, int) else _date_to_days(obj)
        if not _I32_MIN <= days <= _I32_MAX:
            raise EncodeFailure("date out of range")
        return days
    if op == TIME_MILLIS:
        v = _extract_i32(obj) if isinstance(obj, int) else _time_to_micros(obj) // 1000
        if not _I32_MIN <= v <= _I32_MAX:
            raise EncodeFailure("time-millis out of range")
        return v
    if op == TIME_MICROS:
        return _extract_i64(obj, "long") if isinstance(obj, int) else _time_to_micros(obj)
    if op in (TIMESTAMP_MILLIS, TIMESTAMP_MICROS, LOCAL_TIMESTAMP_MILLIS, LOCAL_TIMESTAMP_MICROS):
        if isinstance(obj, int):
            return _extract_i64(obj, "long")
        return _datetime_to_long(op, obj)
    if op == DECIMAL_BYTES:
        b = _bytes_like(obj)
        if b is not None:
            return b
        unscaled = _decimal_unscaled(obj, node.precision, node.scale)
        # fastavro's length: (bit_length + 8) // 8 bytes, even where one fewer would do.
        return unscaled.to_bytes((abs(unscaled).bit_length() + 8) // 8, "big", signed=True)
    if op == DECIMAL_FIXED:
        size = node.size
        b = _bytes_like(obj)
        if b is not None:
            if len(b) != size:
                raise EncodeFailure(f"fixed needs exactly {size} bytes, got {len(b)}")
            return b
        unscaled = _decimal_unscaled(obj, node.precision, node.scale)
        if abs(unscaled).bit_length() + 1 > size * 8:
            raise EncodeFailure(f"decimal does not fit in fixed of {size} bytes")
        return unscaled.to_bytes(size, "big", signed=True)
    if op == UUID_STRING:
        if isinstance(obj, str):
            return _utf8_checked(obj)
        if isinstance(obj, uuid.UUID):
            return _utf8_checked(str(obj))
        raise _wrong_type("a str or uuid.UUID", obj)
    raise AssertionError(f"unknown op {op}")  # pragma: no cover


# --- fastavro ---------------------------------------------------------------------------


def _read_decimal(data: bytes, writer_schema: Any, reader_schema: Any = None) -> decimal.Decimal:
    """Exact, like the Rust decoder: ``Decimal("<unscaled>E-<scale>")``, never rounded to
    the declared precision as fastavro's own reader does."""
    unscaled = int.from_bytes(data, "big", signed=True)
    return decimal.Decimal(f"{unscaled}E-{writer_schema['scale']}")


# Our own logical type names, so fastavro's registry for "decimal" stays untouched.
LOGICAL_READERS[f"bytes-{FASTAVRO_DECIMAL}"] = _read_decimal
LOGICAL_READERS[f"fixed-{FASTAVRO_DECIMAL}"] = _read_decimal


def write(parsed: Any, value: Any) -> bytes:
    out = io.BytesIO()
    fastavro.schemaless_writer(out, parsed, value)
    return out.getvalue()


def read(parsed: Any, data: bytes) -> Any:
    return fastavro.schemaless_reader(io.BytesIO(data), parsed, None)
