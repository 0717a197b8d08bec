"""Reading Python values for the encoder, with the native encoder's checks and errors (the
twin of ``rust/src/py/objects.rs``): integers, floats, UTF-8 text, byte views, mappings."""

from __future__ import annotations

import array
import datetime
import numbers
import operator
from collections.abc import Mapping, Sequence
from typing import Any, Final

from .wirecheck import MAX_DEPTH

I64_MIN: Final = -(1 << 63)
I64_MAX: Final = (1 << 63) - 1
I32_MIN: Final = -(1 << 31)
I32_MAX: Final = (1 << 31) - 1


_UTC: Final = datetime.timezone.utc
EPOCH_UTC: Final = datetime.datetime(1970, 1, 1, tzinfo=_UTC)
MISSING: Final = object()


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


def type_name(obj: object) -> str:
    return type(obj).__name__


def wrong_type(expected: str, obj: object) -> EncodeFailure:
    return EncodeFailure(f"expected {expected}, got {type_name(obj)}")


def extract_i64(obj: Any, kind: str) -> int:
    """An integer from ``int`` or any ``numbers.Integral`` (via ``__index__``), never a bool."""
    if type(obj) is int:
        target = obj
    elif isinstance(obj, bool):
        # fastavro's validator (and so its union choice) refuses bools for numbers.
        raise wrong_type(f"an integer for {kind}", obj)
    elif isinstance(obj, int):
        target = obj
    elif not isinstance(obj, (float, str)) and isinstance(obj, numbers.Integral):
        target = operator.index(obj)
    else:
        raise wrong_type(f"an integer for {kind}", obj)
    v = int.__index__(target)
    if not I64_MIN <= v <= I64_MAX:
        raise EncodeFailure(f"{target} is out of range for {kind}")
    return v


def extract_i32(obj: Any) -> int:
    v = extract_i64(obj, "int")
    if not I32_MIN <= v <= I32_MAX:
        raise EncodeFailure(f"{v} is out of range for int (32-bit)")
    return v


def extract_f64(obj: Any, kind: str) -> float:
    if type(obj) is float:
        return obj
    if isinstance(obj, bool):
        raise wrong_type(f"a number for {kind}", obj)
    if isinstance(obj, float):
        return float.__float__(obj)
    if isinstance(obj, int) or (not isinstance(obj, str) and isinstance(obj, numbers.Real)):
        # PyFloat_AsDouble: __float__, else __index__; OverflowError for huge ints.
        cls = type(obj)
        if not (hasattr(cls, "__float__") or hasattr(cls, "__index__")):
            raise TypeError(f"must be real number, not {cls.__name__}")
        return float(obj)
    raise wrong_type(f"a number for {kind}", obj)


def utf8_checked(s: str) -> str:
    """``s`` as an exact str, refusing what cannot be encoded as UTF-8 (lone surrogates)."""
    if not s.isascii():
        try:
            s.encode("utf-8")
        except UnicodeEncodeError as e:
            raise EncodeFailure(
                f"string cannot be encoded as UTF-8: UnicodeEncodeError: {e}"
            ) from None
    return s if type(s) is str else str.__str__(s)


def utf8_or_empty(s: str) -> str | None:
    try:
        s.encode("utf-8")
    except UnicodeEncodeError:
        return None
    return s


def bytes_like(obj: Any) -> bytes | None:
    if type(obj) is bytes:
        return obj
    if isinstance(obj, (bytes, bytearray)):
        return bytes(obj)
    return None


def is_mapping(obj: Any) -> bool:
    return isinstance(obj, (dict, Mapping))


def is_sequence(obj: Any) -> bool:
    """Sequences fastavro writes as arrays: not text or bytes."""
    if isinstance(obj, (list, tuple)):
        return True
    if isinstance(obj, (str, bytes, bytearray)):
        return False
    return isinstance(obj, (Sequence, array.array))


def mapping_get(obj: Any, key: str) -> Any:
    """``obj[key]`` or ``MISSING``; a dict (or subclass) is read directly, like
    ``PyDict_GetItemWithError``."""
    if isinstance(obj, dict):
        return dict.get(obj, key, MISSING)
    if key in obj:
        return obj[key]
    return MISSING


def check_depth(depth: int) -> None:
    if depth >= MAX_DEPTH:
        raise EncodeFailure(f"data nested deeper than {MAX_DEPTH} levels (or a reference cycle)")
