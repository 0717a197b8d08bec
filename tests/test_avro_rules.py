"""The rule tables (python/avrobridge/data/avro_rules.json) are the ones both backends apply:
Python loads them in ``avrobridge._avro_rules``, the Rust build turns them into consts (whose
agreement with the file ``cargo test`` checks, rust/src/rules.rs)."""

from __future__ import annotations

import json
from importlib.resources import files
from types import ModuleType
from typing import Any

import pytest

from avrobridge import _avro_rules as rules
from avrobridge import ocf
from avrobridge.errors import DecodeError
from avrobridge.schema import parse_value

RULES: dict[str, Any] = json.loads(
    files("avrobridge.data").joinpath("avro_rules.json").read_text(encoding="utf-8")
)


def test_the_python_constants_are_the_file() -> None:
    assert list(rules.PRIMITIVE_TYPES) == RULES["primitive_types"]
    assert {k: sorted(v) for k, v in rules.LOGICAL_TYPES.items()} == {
        k: sorted(v) for k, v in RULES["logical_types"].items()
    }
    assert {(w, r) for w, rs in RULES["promotions"].items() for r in rs} == rules.PROMOTIONS
    for name, limit in RULES["limits"].items():
        assert getattr(rules, name.upper()) == limit["value"], name
    assert (ocf.DEFAULT_BLOCK_SIZE, ocf.DEFAULT_MAX_BLOCK_BYTES) == (
        rules.DEFAULT_BLOCK_SIZE,
        rules.DEFAULT_MAX_BLOCK_BYTES,
    )


def test_the_backends_default_budget_is_the_files(backend: ModuleType) -> None:
    assert backend.DEFAULT_MAX_ZERO_BYTE_ITEMS == rules.DEFAULT_MAX_ZERO_BYTE_ITEMS


def test_data_nests_max_depth_levels_at_most(backend: ModuleType) -> None:
    """A recursive record read ``k`` levels deep: the last level that decodes is the limit."""
    schema = backend.Schema(
        '{"type":"record","name":"N","fields":[{"name":"c","type":["null","N"]}]}'
    )
    deepest = rules.MAX_DEPTH - 1  # the root record is level 0
    assert backend.decode(schema, b"\x02" * deepest + b"\x00") is not None
    with pytest.raises(DecodeError, match=f"nested deeper than {rules.MAX_DEPTH} levels"):
        backend.decode(schema, b"\x02" * (deepest + 1) + b"\x00")


@pytest.mark.parametrize("logical", sorted(rules.LOGICAL_TYPES))
def test_a_logical_type_annotates_the_types_of_the_table(logical: str) -> None:
    """Decimal parameters and fixed sizes that fit, so only the base type decides."""
    extra = {"precision": 4, "scale": 2}
    for base in (*rules.PRIMITIVE_TYPES, "fixed"):
        schema: dict[str, Any] = {"type": base, "logicalType": logical, **extra}
        if base == "fixed":
            schema |= {"name": "F", "size": rules.FIXED_LOGICAL_SIZES.get(logical, 8)}
        node = parse_value(schema, True, []).root
        expected = logical if base in rules.LOGICAL_TYPES[logical] else None
        assert node.logical == expected, base
