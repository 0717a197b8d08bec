"""The Confluent wire formats in Python, for the serializers and the fastavro backend (the
twin of ``rust/src/framing.rs``, whose messages it gives): a payload framed with magic
byte 0 and a 4-byte big-endian schema id, or magic byte 1 and a 16-byte schema GUID, before
the Avro body; or the same 5/17 bytes in a ``__value_schema_id``/``__key_schema_id`` header
in front of a bare body.

Every function raises ``error`` (:class:`~avrobridge.errors.FramingError` unless the caller
names a subclass of its own) with byte offset 0."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from .errors import FramingError

__all__ = [
    "GUID_HEADER_LEN",
    "HEADER_LEN",
    "KEY_SCHEMA_ID_HEADER",
    "MAGIC",
    "MAGIC_GUID",
    "VALUE_SCHEMA_ID_HEADER",
    "SchemaRef",
    "guid_prefix",
    "header_value",
    "parse_ref",
    "prefix",
    "ref_bytes",
    "split",
]

MAGIC = 0
MAGIC_GUID = 1
HEADER_LEN = 5
GUID_HEADER_LEN = 17
VALUE_SCHEMA_ID_HEADER = "__value_schema_id"
KEY_SCHEMA_ID_HEADER = "__key_schema_id"

#: What a frame names its writer schema by: an id, or a GUID (its lower-case UUID string).
SchemaRef = int | str


def split(frame: bytes, error: type[FramingError] = FramingError) -> tuple[int, bytes]:
    """A record framed with magic byte 0 -> (schema id, body)."""
    if len(frame) >= HEADER_LEN and frame[0] == MAGIC:
        return int.from_bytes(frame[1:HEADER_LEN], "big"), frame[HEADER_LEN:]
    if not frame:
        raise error("empty record: not in the Confluent wire format", 0)
    if frame[0] != MAGIC:
        raise error(
            f"unknown magic byte {frame[0]}: not in the Confluent wire format "
            "(magic byte 0 + 4-byte schema id)",
            0,
        )
    raise error(f"record of {len(frame)} bytes is shorter than the 5-byte Confluent header", 0)


def ref_bytes(
    data: bytes, what: str, error: type[FramingError] = FramingError
) -> tuple[bytes, int]:
    """(the 4 id bytes or the 16 GUID bytes, offset of the body) of a framed payload or an id
    header's value; ``what`` names it in errors ("value", "header __value_schema_id"...)."""
    if not data:
        raise error(f"{what} is empty: no Confluent schema id", 0)
    magic = data[0]
    if magic == MAGIC and len(data) >= HEADER_LEN:
        return bytes(data[1:HEADER_LEN]), HEADER_LEN
    if magic == MAGIC_GUID and len(data) >= GUID_HEADER_LEN:
        return bytes(data[1:GUID_HEADER_LEN]), GUID_HEADER_LEN
    if magic in (MAGIC, MAGIC_GUID):
        raise error(f"{what} of {len(data)} bytes is shorter than its Confluent header", 0)
    raise error(
        f"{what} has unknown magic byte {magic}: not in the Confluent wire format "
        "(magic 0 + 4-byte schema id, or magic 1 + 16-byte GUID)",
        0,
    )


def parse_ref(
    data: bytes, what: str, error: type[FramingError] = FramingError
) -> tuple[SchemaRef, int]:
    """(writer reference, offset of the body) of a framed payload or an id header's value."""
    raw, body_at = ref_bytes(data, what, error)
    if body_at == HEADER_LEN:
        return int.from_bytes(raw, "big"), body_at
    return str(uuid.UUID(bytes=raw)), body_at


def header_value(headers: Mapping[str, Any] | Sequence[Any] | None, name: str) -> Any:
    """The value of the first header called ``name`` (a dict, or a list of (name, value)
    pairs as confluent-kafka gives them), or None."""
    if not headers:
        return None
    if isinstance(headers, Mapping):
        return headers.get(name)
    for pair in headers:
        if isinstance(pair, (tuple, list)) and len(pair) >= 2 and pair[0] == name:
            return pair[1]
    return None


def prefix(schema_id: int) -> bytes:
    """The 5-byte frame of schema id ``schema_id`` (magic byte 0)."""
    return bytes([MAGIC]) + schema_id.to_bytes(4, "big")


def guid_prefix(guid: str) -> bytes:
    """The 17-byte frame of schema GUID ``guid`` (magic byte 1)."""
    return bytes([MAGIC_GUID]) + uuid.UUID(guid).bytes
