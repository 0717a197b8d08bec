"""Schema compatibility as Confluent Schema Registry decides it.

The reader/writer check itself comes from the backend (Rust, or the fastavro twin); this
module turns its findings into Confluent's verbose messages and applies the seven levels.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from ._backend import impl

__all__ = [
    "Compatibility",
    "CompatibilityLevel",
    "Incompatibility",
    "check_compatibility",
    "check_level",
]


class CompatibilityLevel(str, enum.Enum):
    NONE = "NONE"
    BACKWARD = "BACKWARD"
    BACKWARD_TRANSITIVE = "BACKWARD_TRANSITIVE"
    FORWARD = "FORWARD"
    FORWARD_TRANSITIVE = "FORWARD_TRANSITIVE"
    FULL = "FULL"
    FULL_TRANSITIVE = "FULL_TRANSITIVE"

    @classmethod
    def parse(cls, value: str | CompatibilityLevel) -> CompatibilityLevel:
        try:
            return cls(str(value.value if isinstance(value, CompatibilityLevel) else value).upper())
        except ValueError:
            levels = ", ".join(m.value for m in cls)
            raise ValueError(
                f"invalid compatibility level {value!r}: use one of {levels}"
            ) from None


class Incompatibility(NamedTuple):
    """One finding of Apache Avro's SchemaCompatibility."""

    error_type: str
    location: str
    message: str

    def describe(self, reader: str, writer: str) -> str:
        """Confluent's verbose line, with the two schemas called `reader` and `writer`."""
        path = self.location
        kind = self.error_type
        if kind == "FIXED_SIZE_MISMATCH":
            desc = (
                f"The size of FIXED type field at path '{path}' in the {reader} schema does "
                f"not match with the {writer} schema"
            )
        elif kind == "TYPE_MISMATCH":
            desc = (
                f"The type (path '{path}') of a field in the {reader} schema does not match "
                f"with the {writer} schema"
            )
        elif kind == "NAME_MISMATCH":
            desc = f"The name of the schema has changed (path '{path}')"
        elif kind == "MISSING_ENUM_SYMBOLS":
            desc = (
                f"The {reader} schema is missing enum symbols '{self.message}' at path "
                f"'{path}' in the {writer} schema"
            )
        elif kind == "MISSING_UNION_BRANCH":
            desc = (
                f"The {reader} schema is missing a type inside a union field at path "
                f"'{path}' in the {writer} schema"
            )
        elif kind == "READER_FIELD_MISSING_DEFAULT_VALUE":
            desc = (
                f"The field '{self.message}' at path '{path}' in the {reader} schema has no "
                f"default value and is missing in the {writer} schema"
            )
        else:
            desc = ""
        return f"{{errorType:'{kind}', description:'{desc}', additionalInfo:'{self.message}'}}"


@dataclass(frozen=True)
class Compatibility:
    """The answer of a compatibility check. Truthy when compatible."""

    is_compatible: bool
    messages: list[str] = field(default_factory=list)
    incompatibilities: list[Incompatibility] = field(default_factory=list)

    def __bool__(self) -> bool:
        return self.is_compatible


def _schema(value: Any) -> Any:
    return value if isinstance(value, impl.Schema) else impl.Schema(value)


def _findings(reader: Any, writer: Any) -> list[Incompatibility]:
    triples = impl.reader_writer_incompatibilities(_schema(reader), _schema(writer))
    return [Incompatibility(*t) for t in triples]


def check_compatibility(reader: Any, writer: Any) -> Compatibility:
    """Can `reader` read data written with `writer`? (Apache Avro's SchemaCompatibility.)"""
    found = _findings(reader, writer)
    return Compatibility(
        is_compatible=not found,
        messages=[f.describe("reader", "writer") for f in found],
        incompatibilities=found,
    )


#: Confluent does not repeat an old schema longer than this in its messages.
_MAX_SCHEMA_IN_MESSAGE = 10 * 1024


def _old_schema_lines(old: Any, version: int | None) -> list[str]:
    lines = [] if version is None else [f"{{oldSchemaVersion: {version}}}"]
    text = str(old)
    if len(text) <= _MAX_SCHEMA_IN_MESSAGE:
        lines.append(f"{{oldSchema: '{text}'}}")
    else:
        lines.append(
            f"{{oldSchema: <truncated to {_MAX_SCHEMA_IN_MESSAGE} characters> "
            f"'{text[:_MAX_SCHEMA_IN_MESSAGE]}'}}"
        )
    return lines


def _against(new: Any, old: Any, level: CompatibilityLevel, version: int | None) -> list[str]:
    """Confluent's messages for one (new, old) pair; empty when compatible."""
    backward = level in (CompatibilityLevel.BACKWARD, CompatibilityLevel.BACKWARD_TRANSITIVE)
    forward = level in (CompatibilityLevel.FORWARD, CompatibilityLevel.FORWARD_TRANSITIVE)
    messages: list[str] = []
    if forward or not backward:  # FORWARD and FULL: can the old schema read new data?
        found = _findings(old, new)
        messages += [f.describe("old", "new") for f in found]
        if found and forward:
            messages += _old_schema_lines(old, version)
    if backward or not forward:  # BACKWARD and FULL: can the new schema read old data?
        found = _findings(new, old)
        messages += [f.describe("new", "old") for f in found]
        if found:
            messages += _old_schema_lines(old, version)
    return messages


def check_level(
    new: Any,
    previous: Sequence[Any],
    level: str | CompatibilityLevel,
    versions: Sequence[int] | None = None,
) -> Compatibility:
    """Checks `new` against `previous` (oldest first) at a Confluent compatibility level.

    BACKWARD: `new` reads data written with the latest previous schema; FORWARD: the latest
    previous schema reads data written with `new`; FULL: both; the _TRANSITIVE forms check
    every previous schema (newest first, stopping at the first failure, as Confluent does);
    NONE checks nothing. `versions` (same order as `previous`) adds Confluent's
    `{oldSchemaVersion: N}` lines.
    """
    lvl = CompatibilityLevel.parse(level)
    if lvl is CompatibilityLevel.NONE or not previous:
        return Compatibility(is_compatible=True)
    new_schema = _schema(new)
    pairs = list(
        zip(previous, versions if versions is not None else [None] * len(previous), strict=False)
    )
    pairs.reverse()
    if not lvl.value.endswith("_TRANSITIVE"):
        pairs = pairs[:1]
    for old, version in pairs:
        messages = _against(new_schema, _schema(old), lvl, version)
        if messages:
            messages.append(f"{{validateFields: 'false', compatibility: '{lvl.value}'}}")
            return Compatibility(is_compatible=False, messages=messages)
    return Compatibility(is_compatible=True)
