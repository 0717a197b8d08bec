"""Which union branch a Python value is written as, fastavro's way (the twin of
``rust/src/py/union_choice.rs``)."""

from __future__ import annotations

import datetime
import decimal
import numbers
import uuid
from typing import Any

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
from .codec_objects import (
    I32_MAX,
    I32_MIN,
    I64_MAX,
    I64_MIN,
    MISSING,
    EncodeFailure,
    extract_i64,
    is_mapping,
    is_sequence,
    mapping_get,
    type_name,
    utf8_or_empty,
)
from .wirecheck import MAX_DEPTH


def choose_branch(node: Node, obj: Any) -> tuple[int, Any]:
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
            count = sum(1 for f in branch.fields if mapping_get(obj, f.name) is not MISSING)
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
        raise EncodeFailure(f"{type_name(obj)} value matches no branch of the union [{names}]")
    return best, obj


def _int_in(obj: Any, lo: int, hi: int) -> bool:
    if isinstance(obj, (bool, float, str)):
        return False
    if not isinstance(obj, (int, numbers.Integral)):
        return False
    try:
        v = extract_i64(obj, "long")
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
        return _int_in(obj, I32_MIN, I32_MAX)
    if op == LONG:
        return _int_in(obj, I64_MIN, I64_MAX)
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
        return isinstance(obj, str) and utf8_or_empty(obj) in node.symbols
    if op == ARRAY:
        if not is_sequence(obj):
            return False
        return all(_matches(node.items, item, depth + 1) for item in obj)
    if op == MAP:
        if not is_mapping(obj):
            return False
        for k, v in obj.items():
            if not isinstance(k, str) or not _matches(node.values, v, depth + 1):
                return False
        return True
    if op == RECORD:
        if not is_mapping(obj):
            return False
        declared = mapping_get(obj, "-type")
        if declared is not MISSING:
            assert node.name is not None
            if str(declared) != node.name.fullname:
                return False
        for f in node.fields:
            v = mapping_get(obj, f.name)
            if v is not MISSING:
                if not _matches(f.node, v, depth + 1):
                    return False
            elif not f.has_usable_default and not _matches(f.node, None, depth + 1):
                return False
        return True
    if op == UNION:
        return any(_matches(b, obj, depth + 1) for b in node.branches)
    if op == DATE:
        return (
            isinstance(obj, datetime.date) or _int_in(obj, I32_MIN, I32_MAX) or isinstance(obj, str)
        )
    if op == TIME_MILLIS:
        return isinstance(obj, datetime.time) or _int_in(obj, I32_MIN, I32_MAX)
    if op == TIME_MICROS:
        return isinstance(obj, datetime.time) or _int_in(obj, I64_MIN, I64_MAX)
    if op in (TIMESTAMP_MILLIS, TIMESTAMP_MICROS, LOCAL_TIMESTAMP_MILLIS, LOCAL_TIMESTAMP_MICROS):
        return isinstance(obj, datetime.datetime) or _int_in(obj, I64_MIN, I64_MAX)
    if op == DECIMAL_BYTES:
        return isinstance(obj, (bytes, bytearray, decimal.Decimal))
    if op == DECIMAL_FIXED:
        if isinstance(obj, (bytes, bytearray)):
            return len(obj) == node.size
        return isinstance(obj, decimal.Decimal)
    if op == UUID_STRING:
        return isinstance(obj, (str, uuid.UUID))
    raise AssertionError(f"unknown op {op}")  # pragma: no cover
