"""Logical types from Python objects (the twin of ``rust/src/py/encoder_logical.rs``):
date, time and datetime values to Avro ints and longs, ``Decimal`` to its unscaled value."""

from __future__ import annotations

import datetime
import decimal
import time
import uuid
from typing import Any

from ..schema import (
    DATE,
    DECIMAL_BYTES,
    DECIMAL_FIXED,
    LOCAL_TIMESTAMP_MICROS,
    LOCAL_TIMESTAMP_MILLIS,
    TIME_MICROS,
    TIME_MILLIS,
    TIMESTAMP_MICROS,
    TIMESTAMP_MILLIS,
    UUID_STRING,
    Node,
)
from .codec_objects import (
    EPOCH_UTC,
    I32_MAX,
    I32_MIN,
    I64_MAX,
    I64_MIN,
    EncodeFailure,
    bytes_like,
    extract_i32,
    extract_i64,
    utf8_checked,
    wrong_type,
)


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
        raise wrong_type("a datetime.date or int", obj)
    return _days_from_civil(int(date.year), int(date.month), int(date.day))


def _time_to_micros(obj: Any) -> int:
    if not isinstance(obj, datetime.time):
        raise wrong_type("a datetime.time or int", obj)
    return ((int(obj.hour) * 60 + int(obj.minute)) * 60 + int(obj.second)) * 1_000_000 + int(
        obj.microsecond
    )


def _checked_timestamp(secs: int, scale: int, sub: int) -> int:
    v = secs * scale
    if not I64_MIN <= v <= I64_MAX:
        raise EncodeFailure("timestamp out of range")
    v += sub
    if not I64_MIN <= v <= I64_MAX:
        raise EncodeFailure("timestamp out of range")
    return v


def _datetime_to_long(op: int, obj: Any) -> int:
    """A datetime -> the long of a timestamp logical type, with fastavro's rules: aware values
    are instants; naive ones are local time for timestamp-* (``time.mktime``) and taken as
    they are for local-timestamp-*."""
    if not isinstance(obj, datetime.datetime):
        raise wrong_type("a datetime.datetime or int", obj)
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
            isecs = I64_MAX
        elif fsecs <= -9.223372036854775808e18:
            isecs = I64_MIN
        else:
            isecs = int(fsecs)
        return _checked_timestamp(isecs, scale, sub)
    delta = obj - EPOCH_UTC
    secs = int(delta.days) * 86_400 + int(delta.seconds)
    us = int(delta.microseconds)
    return _checked_timestamp(secs, scale, us // 1000 if millis else us)


def _decimal_unscaled(obj: Any, precision: int, scale: int) -> int:
    """A Decimal -> its unscaled integer at ``scale``, refusing values whose digits exceed
    ``precision`` or whose exponent is finer than ``scale``."""
    if not isinstance(obj, decimal.Decimal):
        raise wrong_type("a decimal.Decimal or bytes", obj)
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


def prepare_logical(node: Node, obj: Any) -> Any:
    op = node.op
    if op == DATE:
        days = extract_i32(obj) if isinstance(obj, int) else _date_to_days(obj)
        if not I32_MIN <= days <= I32_MAX:
            raise EncodeFailure("date out of range")
        return days
    if op == TIME_MILLIS:
        v = extract_i32(obj) if isinstance(obj, int) else _time_to_micros(obj) // 1000
        if not I32_MIN <= v <= I32_MAX:
            raise EncodeFailure("time-millis out of range")
        return v
    if op == TIME_MICROS:
        return extract_i64(obj, "long") if isinstance(obj, int) else _time_to_micros(obj)
    if op in (TIMESTAMP_MILLIS, TIMESTAMP_MICROS, LOCAL_TIMESTAMP_MILLIS, LOCAL_TIMESTAMP_MICROS):
        if isinstance(obj, int):
            return extract_i64(obj, "long")
        return _datetime_to_long(op, obj)
    if op == DECIMAL_BYTES:
        b = bytes_like(obj)
        if b is not None:
            return b
        unscaled = _decimal_unscaled(obj, node.precision, node.scale)
        # fastavro's length: (bit_length + 8) // 8 bytes, even where one fewer would do.
        return unscaled.to_bytes((abs(unscaled).bit_length() + 8) // 8, "big", signed=True)
    if op == DECIMAL_FIXED:
        size = node.size
        b = bytes_like(obj)
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
            return utf8_checked(obj)
        if isinstance(obj, uuid.UUID):
            return utf8_checked(str(obj))
        raise wrong_type("a str or uuid.UUID", obj)
    raise AssertionError(f"unknown op {op}")  # pragma: no cover
