"""The rules of the Avro schema language and the limits avrobridge enforces, as the Rust core
applies them. The tables (primitive and logical types, promotions, depth and size limits) are
``data/avro_rules.json``, which the Rust build turns into the consts of rust/src/rules.rs; the
small rules beside them (when a decimal annotation is valid, how many digits a fixed can hold,
which JSON strings stand for bytes) follow rust/src/schema. The schema model, the fastavro
backend, codegen and datagen all take them from here, so a schema means the same thing to each."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from importlib.resources import files
from typing import Any, Final

_RULES: Final[dict[str, Any]] = json.loads(
    files("avrobridge.data").joinpath("avro_rules.json").read_text(encoding="utf-8")
)


def _limit(name: str) -> int:
    value = _RULES["limits"][name]["value"]
    if not isinstance(value, int):
        raise TypeError(f"avro_rules.json: limits.{name} is not an integer")
    return value


#: The names of the primitive types.
PRIMITIVE_TYPES: Final[tuple[str, ...]] = tuple(_RULES["primitive_types"])
#: Each logical type with the types it may annotate.
LOGICAL_TYPES: Final[Mapping[str, frozenset[str]]] = {
    name: frozenset(bases) for name, bases in _RULES["logical_types"].items()
}
#: The logical types that annotate a fixed of one size only, with that size.
FIXED_LOGICAL_SIZES: Final[Mapping[str, int]] = dict(_RULES["fixed_logical_sizes"])
#: The specification's promotions, (writer type, reader type).
PROMOTIONS: Final[frozenset[tuple[str, str]]] = frozenset(
    (writer, reader) for writer, readers in _RULES["promotions"].items() for reader in readers
)

# The limits; what each is for is said beside it in avro_rules.json.
MAX_DEPTH: Final = _limit("max_depth")
DEFAULT_MAX_ZERO_BYTE_ITEMS: Final = _limit("default_max_zero_byte_items")
MAX_SCHEMA_DEPTH: Final = _limit("max_schema_depth")
JSON_MAX_NESTING: Final = _limit("json_max_nesting")
MAX_DEFAULT_DEPTH: Final = _limit("max_default_depth")
PLAN_CACHE_LIMIT: Final = _limit("plan_cache_limit")
SYNC_SIZE: Final = _limit("sync_size")
MAX_METADATA_ENTRIES: Final = _limit("max_metadata_entries")
DEFAULT_MAX_BLOCK_BYTES: Final = _limit("default_max_block_bytes")
DEFAULT_BLOCK_SIZE: Final = _limit("default_block_size")
STREAM_CHUNK: Final = _limit("stream_chunk")


def logical_type(obj: Mapping[str, Any], base: str, fixed_size: int | None = None) -> str | None:
    """The logical type ``obj``'s annotation gives a ``base`` type (of ``fixed_size`` bytes
    for a fixed), or None when it is unknown or invalid there (decimal parameters included):
    the plain type stays, as the specification requires (Rust ``logical_for``)."""
    name = obj.get("logicalType")
    if not isinstance(name, str) or base not in LOGICAL_TYPES.get(name, ()):
        return None
    required = FIXED_LOGICAL_SIZES.get(name)
    if fixed_size is not None and required is not None and fixed_size != required:
        return None
    if name == "decimal":
        params = decimal_params(obj)
        if params is None:
            return None
        if fixed_size is not None and params[0] > max_fixed_decimal_digits(fixed_size):
            return None
    return name


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
