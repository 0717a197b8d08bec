"""Schema JSON text read and written the way serde_json does (the Rust parser's reader)."""

from __future__ import annotations

import json
import math
from typing import Any

from .model import JSON_MAX_NESTING, schema_error


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


def _parse_float(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise ValueError("number out of range")
    return value


def _parse_int(text: str) -> int | float:
    value = int(text)
    if value == 0 and text.startswith("-"):
        return -0.0  # serde_json keeps the sign of "-0": it is the float -0.0
    # serde_json keeps integers that fit u64 / i64; larger ones become f64.
    if -(1 << 63) <= value < (1 << 64):
        return value
    return _parse_float(text)


def _has_surrogate(value: Any) -> bool:
    """serde_json refuses lone surrogate escapes (\\ud800); Python's json accepts them."""
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, str):
            if any("\ud800" <= c <= "\udfff" for c in v):
                return True
        elif isinstance(v, list):
            stack.extend(v)
        elif isinstance(v, dict):
            stack.extend(v.keys())
            stack.extend(v.values())
    return False


def _nesting(value: Any) -> int:
    """Depth of nested arrays/objects (1 for a flat array or object, 0 for a scalar)."""
    best = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        v, depth = stack.pop()
        if isinstance(v, list):
            best = max(best, depth + 1)
            stack.extend((x, depth + 1) for x in v)
        elif isinstance(v, dict):
            best = max(best, depth + 1)
            stack.extend((x, depth + 1) for x in v.values())
    return best


def load_json(text: str, what: str = "") -> Any:
    """Parses schema JSON text with serde_json's rules, raising SchemaError like Rust.
    ``what`` names the document in the message ("the schema", "reference 0")."""
    problem = ""
    try:
        value = json.loads(
            text,
            parse_constant=_reject_constant,
            parse_float=_parse_float,
            parse_int=_parse_int,
        )
    except RecursionError:
        problem = "recursion limit exceeded"
    except ValueError as exc:
        problem = str(exc)
    else:
        if _nesting(value) > JSON_MAX_NESTING:
            problem = "recursion limit exceeded"
        elif _has_surrogate(value):
            problem = "lone surrogate in hex escape"
        else:
            return value
    # Raised outside the except blocks: no __context__, like errors raised from Rust.
    prefix = f"{what} is not valid JSON" if what else "not valid JSON"
    raise schema_error(f"{prefix}: {problem}", "")


def json_text(value: Any) -> str:
    """Compact JSON of a parsed value, for messages."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ",".join(json_text(v) for v in value) + "]"
    if isinstance(value, dict):
        inner = ",".join(
            f"{json.dumps(k, ensure_ascii=False)}:{json_text(v)}" for k, v in value.items()
        )
        return "{" + inner + "}"
    return str(value)


def json_equal(a: Any, b: Any) -> bool:
    """serde_json ``Value`` equality: unlike Python, ``1 != 1.0`` and ``true != 1``."""
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, int) and isinstance(b, int):
        return a == b
    if isinstance(a, float) and isinstance(b, float):
        return a == b
    if isinstance(a, str) and isinstance(b, str):
        return a == b
    if a is None or b is None:
        return a is b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(json_equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(json_equal(v, b[k]) for k, v in a.items())
    return False
