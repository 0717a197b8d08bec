"""Small rules of the Avro schema language that several Python modules apply exactly as the
Rust parser does (rust/src/schema): when a decimal annotation is valid, how many digits a
fixed can hold, and which JSON strings stand for bytes. The fastavro backend, codegen and
datagen all take them from here, so a schema means the same thing to each."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Final

# f64 LOG10_2, as Rust's `std::f64::consts::LOG10_2`.
_LOG10_2: Final = 0.301029995663981195213738894724493027


def as_u64(v: Any) -> int | None:
    """serde_json's ``as_u64``: only a non-negative JSON integer."""
    if isinstance(v, int) and not isinstance(v, bool) and 0 <= v < (1 << 64):
        return v
    return None


def decimal_params(obj: Mapping[str, Any]) -> tuple[int, int] | None:
    """``precision`` (> 0) and ``scale`` (0 ..= precision); None makes the annotation invalid."""
    precision = as_u64(obj.get("precision"))
    if precision is None:
        return None
    scale = as_u64(obj["scale"]) if "scale" in obj else 0
    if scale is None:
        return None
    if precision == 0 or precision > 0xFFFF_FFFF or scale > precision:
        return None
    return precision, scale


def max_fixed_decimal_digits(size: int) -> int:
    """The most decimal digits a two's-complement number of ``size`` bytes always holds."""
    if size <= 0:
        return 0
    return math.floor(float(8 * size - 1) * _LOG10_2)


def latin1(value: Any) -> bytes | None:
    """A JSON default for bytes or fixed: each code point 0-255 is one byte (Avro spec)."""
    if not isinstance(value, str):
        return None
    try:
        return value.encode("latin-1")
    except UnicodeEncodeError:
        return None
