"""Using generated classes with the codec: ``decode_as`` and ``encode_record``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol, TypeVar

from .._backend import Schema
from .._backend import decode as _decode
from .._backend import encode as _encode

#: What the codec takes as a schema.
SchemaLike = Schema | str | dict[str, Any] | list[Any]


T_co = TypeVar("T_co", covariant=True)


class RecordType(Protocol[T_co]):
    """A generated record class: ``from_dict`` builds it from decoded data."""

    def from_dict(self, data: Mapping[str, Any], /) -> T_co: ...


class AvroRecord(Protocol):
    """An instance of a generated record class."""

    __avro_schema__: str

    def to_dict(self) -> dict[str, Any]: ...


def decode_as(
    record_type: RecordType[T_co],
    schema: SchemaLike | None,
    data: bytes,
    reader: SchemaLike | None = None,
) -> T_co:
    """``avrobridge.decode(schema, data, reader=reader)`` as an instance of ``record_type``
    (a generated class). ``schema=None`` takes the class's own ``__avro_schema__``."""
    if schema is None:
        schema = _class_schema(record_type)
    return record_type.from_dict(_decode(schema, data, reader))


def encode_record(obj: AvroRecord, schema: SchemaLike | None = None) -> bytes:
    """``avrobridge.encode(schema, obj.to_dict())``; ``schema=None`` takes the object's
    ``__avro_schema__``."""
    if schema is None:
        schema = _class_schema(obj)
    return _encode(schema, obj.to_dict())


_SCHEMA_CACHE: dict[str, Schema] = {}


def _class_schema(cls: object) -> Schema:
    text = getattr(cls, "__avro_schema__", None)
    if not isinstance(text, str):
        raise TypeError(f"{cls!r} has no __avro_schema__: pass the schema")
    schema = _SCHEMA_CACHE.get(text)
    if schema is None:
        schema = Schema(text)
        _SCHEMA_CACHE[text] = schema
    return schema
