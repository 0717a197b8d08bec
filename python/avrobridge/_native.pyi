"""Stubs for the compiled module ``avrobridge._native`` (checked by mypy.stubtest)."""

from collections.abc import Iterable
from typing import Any, final

__all__ = [
    "DEFAULT_MAX_ZERO_BYTE_ITEMS",
    "Schema",
    "Transcoder",
    "__version__",
    "_schema_from_parts",
    "decode",
    "decode_many",
    "encode",
    "encode_many",
    "group_by_schema_id",
    "reader_writer_incompatibilities",
]

__version__: str
DEFAULT_MAX_ZERO_BYTE_ITEMS: int

@final
class Schema:
    def __new__(
        cls,
        schema: str | bytes | dict[str, Any] | list[Any] | Schema,
        *,
        references: Iterable[str | bytes | dict[str, Any] | list[Any] | Schema] | None = None,
        validate_defaults: bool = True,
    ) -> Schema: ...
    @property
    def references(self) -> list[str]: ...
    @property
    def canonical_form(self) -> str: ...
    @property
    def text(self) -> str: ...
    @property
    def name(self) -> str | None: ...
    @property
    def type(self) -> str: ...
    def fingerprint(self, algorithm: str = "CRC-64-AVRO") -> bytes: ...
    def to_json(self) -> Any: ...
    def __eq__(self, other: object, /) -> bool: ...
    def __hash__(self) -> int: ...
    def __reduce__(self) -> tuple[Any, tuple[str, list[str]]]: ...

def _schema_from_parts(text: str, references: list[str]) -> Schema: ...

_SchemaLike = Schema | str | dict[str, Any] | list[Any]

def encode(schema: _SchemaLike, datum: Any) -> bytes: ...
def decode(
    schema: _SchemaLike,
    data: bytes,
    reader: _SchemaLike | None = None,
    *,
    max_zero_byte_items: int = ...,
) -> Any: ...
def encode_many(schema: _SchemaLike, data: Iterable[Any]) -> list[bytes]: ...
def decode_many(
    schema: _SchemaLike,
    items: Iterable[bytes],
    reader: _SchemaLike | None = None,
    *,
    max_zero_byte_items: int = ...,
) -> list[Any]: ...

_BatchResult = tuple[list[bytes | None], list[tuple[int, Exception]]]

@final
class Transcoder:
    def __new__(
        cls, writer: _SchemaLike, reader: _SchemaLike, *, max_zero_byte_items: int = ...
    ) -> Transcoder: ...
    @property
    def writer(self) -> Schema: ...
    @property
    def reader(self) -> Schema: ...
    @property
    def warnings(self) -> list[str]: ...
    @property
    def max_zero_byte_items(self) -> int: ...
    def transcode(self, data: bytes) -> bytes: ...
    def transcode_many(self, items: Iterable[bytes]) -> _BatchResult: ...
    def transcode_framed_many(
        self, items: Iterable[bytes], schema_id: int, expected_writer_id: int | None = None
    ) -> _BatchResult: ...

def reader_writer_incompatibilities(
    reader: _SchemaLike, writer: _SchemaLike
) -> list[tuple[str, str, str]]: ...
def group_by_schema_id(items: Iterable[bytes | None]) -> tuple[dict[int, list[int]], list[int]]: ...
