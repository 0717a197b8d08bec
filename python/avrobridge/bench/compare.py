"""Comparing an implementation's results with fastavro's before it is timed."""

from __future__ import annotations

import math
from typing import Any

__all__ = ["difference", "same", "short"]


def difference(a: Any, b: Any, path: str = "") -> str | None:
    """None for equal values of the same types (float bits included: what decode must give
    back), else where and how they differ."""
    where = path or "/"
    if type(a) is not type(b):
        return (
            f"{where}: {short(a, 40)} ({type(a).__name__}) != {short(b, 40)} ({type(b).__name__})"
        )
    if isinstance(a, float):
        equal = a == b or (math.isnan(a) and math.isnan(b))
        return None if equal else f"{where}: {a!r} != {b!r}"
    if isinstance(a, dict):
        if a.keys() != b.keys():
            return f"{where}: keys {sorted(a)} != {sorted(b)}"
        for k, v in a.items():
            found = difference(v, b[k], f"{path}/{k}")
            if found:
                return found
        return None
    if isinstance(a, list):
        if len(a) != len(b):
            return f"{where}: {len(a)} items != {len(b)}"
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            found = difference(x, y, f"{path}/{i}")
            if found:
                return found
        return None
    return None if a == b else f"{where}: {short(a, 40)} != {short(b, 40)}"


def same(a: Any, b: Any) -> bool:
    return difference(a, b) is None


def short(value: Any, limit: int = 120) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"
