"""Connect-style single-message transforms.

Transforms that only change the schema are compiled into the transcoding plan, so they cost
nothing per record: the sink schema is the target schema rewritten (renamed fields keep their
old name as an alias, so resolution maps them; dropped fields are simply not read; static and
masked fields are reader fields whose default is the value, with the writer's field renamed
out of the way). Per-record transforms run in Python: inserting Kafka metadata fields
(their bytes are appended after the transcoded body, so they go at the end of the record),
filtering, and routing.

| transform        | runs where            |
|------------------|-----------------------|
| rename_fields    | plan (schema)         |
| drop_fields      | plan (schema)         |
| keep_fields      | plan (schema)         |
| insert_static    | plan (schema)         |
| mask_fields      | plan (schema)         |
| set_name         | plan (schema)         |
| insert_metadata  | per record (Python)   |
| filter           | per record (Python)   |
| route            | per record (Python)   |
"""

from __future__ import annotations

import copy
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, field_validator

from ..wire import write_long

JsonDict = dict[str, Any]


class _Spec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class RenameFields(_Spec):
    type: Literal["rename_fields"]
    renames: dict[str, str]


class DropFields(_Spec):
    type: Literal["drop_fields"]
    fields: list[str]


class KeepFields(_Spec):
    type: Literal["keep_fields"]
    fields: list[str]


class InsertStatic(_Spec):
    type: Literal["insert_static"]
    field: str
    value: str | int | float | bool | None
    #: The Avro type of the field (default: derived from the value).
    avro_type: Any = None


class MaskFields(_Spec):
    type: Literal["mask_fields"]
    fields: list[str]
    #: Replacement for string fields (numbers become 0, booleans false, bytes empty).
    replacement: str = "****"


class SetName(_Spec):
    type: Literal["set_name"]
    name: str | None = None
    namespace: str | None = None


class InsertMetadata(_Spec):
    type: Literal["insert_metadata"]
    topic_field: str | None = None
    partition_field: str | None = None
    offset_field: str | None = None
    timestamp_field: str | None = None


class Filter(_Spec):
    """Drops the records that match (or, with `negate`, those that do not)."""

    type: Literal["filter"]
    predicate: Literal["has_header", "topic_matches", "is_tombstone"]
    header: str | None = None
    pattern: str | None = None
    negate: bool = False

    @field_validator("pattern")
    @classmethod
    def _regex(cls, v: str | None) -> str | None:
        if v is not None:
            _compiles(v)
        return v


def _compiles(pattern: str) -> None:
    """A bad pattern is a ValueError, which pydantic reports as a settings error (re.error is
    not one, and would escape validation as a bare exception)."""
    try:
        re.compile(pattern)
    except re.error as exc:
        raise ValueError(f"{pattern!r} is not a regular expression: {exc}") from None


class Route(_Spec):
    """RegexRouter: the sink topic of a record is its source topic with `regex` replaced."""

    type: Literal["route"]
    regex: str
    replacement: str

    @field_validator("regex")
    @classmethod
    def _regex(cls, v: str) -> str:
        _compiles(v)
        return v


TransformSpec = (
    RenameFields
    | DropFields
    | KeepFields
    | InsertStatic
    | MaskFields
    | SetName
    | InsertMetadata
    | Filter
    | Route
)

_MASK_PREFIX = "__avrobridge_masked_"


def _root_record(schema: Any, what: str) -> JsonDict:
    if not isinstance(schema, dict) or schema.get("type") not in ("record", "error"):
        raise ValueError(f"{what}: field transforms need a record schema")
    return schema


def _mask_default(field_type: Any, replacement: str) -> Any:
    base = field_type["type"] if isinstance(field_type, dict) else field_type
    if isinstance(field_type, list):  # a union: mask as null when it can be null
        return None if "null" in field_type else _mask_default(field_type[0], replacement)
    return {
        "string": replacement,
        "int": 0,
        "long": 0,
        "float": 0.0,
        "double": 0.0,
        "boolean": False,
        "bytes": "",
        "null": None,
    }.get(base, replacement)


def _avro_type_of(value: Any) -> Any:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "long"
    if isinstance(value, float):
        return "double"
    return "string"


@dataclass(frozen=True)
class SchemaPair:
    """What the plan is built from: the writer schema as presented to the transcoder (field
    names may be changed, never its bytes), and the sink schema the records are written
    with (`plan_reader` is the sink schema minus appended metadata fields)."""

    writer: JsonDict
    plan_reader: JsonDict
    sink: JsonDict


def apply_schema_transforms(
    writer: Any, target: Any, transforms: Sequence[TransformSpec]
) -> SchemaPair:
    """Rewrites the writer and target schemas for the schema-level transforms."""
    w = copy.deepcopy(writer)
    r = copy.deepcopy(target)
    metadata_fields: list[JsonDict] = []
    for t in transforms:
        if isinstance(t, RenameFields):
            rec = _root_record(r, "rename_fields")
            for f in rec["fields"]:
                if f["name"] in t.renames:
                    f["aliases"] = [*f.get("aliases", []), f["name"]]
                    f["name"] = t.renames[f["name"]]
        elif isinstance(t, DropFields):
            rec = _root_record(r, "drop_fields")
            rec["fields"] = [f for f in rec["fields"] if f["name"] not in t.fields]
        elif isinstance(t, KeepFields):
            rec = _root_record(r, "keep_fields")
            rec["fields"] = [f for f in rec["fields"] if f["name"] in t.fields]
        elif isinstance(t, InsertStatic):
            rec = _root_record(r, "insert_static")
            avro_type = t.avro_type if t.avro_type is not None else _avro_type_of(t.value)
            rec["fields"] = [f for f in rec["fields"] if f["name"] != t.field]
            rec["fields"].append({"name": t.field, "type": avro_type, "default": t.value})
            _hide_writer_field(w, t.field)
        elif isinstance(t, MaskFields):
            rec = _root_record(r, "mask_fields")
            for f in rec["fields"]:
                if f["name"] in t.fields:
                    f["default"] = _mask_default(f["type"], t.replacement)
                    if isinstance(f["type"], list) and f["default"] is None:
                        f["type"] = ["null", *[b for b in f["type"] if b != "null"]]
                    _hide_writer_field(w, f["name"])
        elif isinstance(t, SetName):
            rec = _root_record(r, "set_name")
            old = (
                rec["name"]
                if "." in rec["name"]
                else ".".join(x for x in (rec.get("namespace"), rec["name"]) if x)
            )
            if t.name is not None:
                rec["name"] = t.name
            if t.namespace is not None:
                rec["namespace"] = t.namespace
            rec["aliases"] = [*rec.get("aliases", []), old]
        elif isinstance(t, InsertMetadata):
            for name, avro_type in (
                (t.topic_field, "string"),
                (t.partition_field, "int"),
                (t.offset_field, "long"),
                (t.timestamp_field, {"type": "long", "logicalType": "timestamp-millis"}),
            ):
                if name is not None:
                    metadata_fields.append({"name": name, "type": avro_type})
    if metadata_fields:
        rec = _root_record(r, "insert_metadata")
        names = {f["name"] for f in metadata_fields}
        rec["fields"] = [f for f in rec["fields"] if f["name"] not in names]
        plan_reader = copy.deepcopy(r)
        rec["fields"].extend(metadata_fields)
        return SchemaPair(writer=w, plan_reader=plan_reader, sink=r)
    return SchemaPair(writer=w, plan_reader=r, sink=r)


def regex_route(regex: str, replacement: str, topic: str) -> str:
    """Kafka Connect's RegexRouter: when the whole topic name matches, it becomes the
    replacement, whose groups are written `$1` (Java, as in Connect configs) or `\\1`;
    otherwise the name is left alone. (re.sub would also match the empty string at the end
    of a `(.*)` pattern and apply the replacement twice.)"""
    match = re.fullmatch(regex, topic)
    if match is None:
        return topic
    return match.expand(re.sub(r"\$(\d+)", r"\\g<\1>", replacement))


def _hide_writer_field(writer: Any, name: str) -> None:
    """Renames the writer's field so the reader takes its default instead (same bytes)."""
    if isinstance(writer, dict) and writer.get("type") in ("record", "error"):
        for f in writer["fields"]:
            if f["name"] == name:
                f["name"] = _MASK_PREFIX + name
                f.pop("aliases", None)


@dataclass(frozen=True)
class RecordTransforms:
    """The per-record part of the transform chain."""

    metadata: InsertMetadata | None
    filters: tuple[Filter, ...]
    routes: tuple[Route, ...]

    @classmethod
    def from_specs(cls, specs: Sequence[TransformSpec]) -> RecordTransforms:
        metadata = next((s for s in specs if isinstance(s, InsertMetadata)), None)
        return cls(
            metadata=metadata,
            filters=tuple(s for s in specs if isinstance(s, Filter)),
            routes=tuple(s for s in specs if isinstance(s, Route)),
        )

    @property
    def appends(self) -> bool:
        return self.metadata is not None

    def keep(self, topic: str, value: bytes | None, headers: Sequence[tuple[str, Any]]) -> bool:
        for f in self.filters:
            if f.predicate == "is_tombstone":
                hit = value is None
            elif f.predicate == "has_header":
                hit = any(k == f.header for k, _ in headers)
            else:
                hit = re.fullmatch(f.pattern or "", topic) is not None
            if hit != f.negate:
                return False
        return True

    def route(self, topic: str) -> str:
        for r in self.routes:
            topic = regex_route(r.regex, r.replacement, topic)
        return topic

    def metadata_bytes(self, topic: str, partition: int, offset: int, timestamp: int) -> bytes:
        """The Avro encoding of the metadata fields, in the order they were added."""
        m = self.metadata
        if m is None:
            return b""
        out = bytearray()
        if m.topic_field is not None:
            encoded = topic.encode()
            write_long(out, len(encoded))
            out += encoded
        for field_name, value in (
            (m.partition_field, partition),
            (m.offset_field, offset),
            (m.timestamp_field, timestamp),
        ):
            if field_name is not None:
                write_long(out, value)
        return bytes(out)


def transform_types() -> list[str]:
    return [
        "rename_fields",
        "drop_fields",
        "keep_fields",
        "insert_static",
        "mask_fields",
        "set_name",
        "insert_metadata",
        "filter",
        "route",
    ]
