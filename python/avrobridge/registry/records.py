"""Records of the `_schemas` topic, byte for byte as Confluent Schema Registry writes them.

The registry's state is a fold over an ordered log of these records (see ``state.py``). Keys
must be byte-identical to Confluent's: in a compacted topic only equal key bytes replace each
other, so a key written with another field order or spacing would keep stale state alive.
Values are read by field name and their field order does not matter.

Key formats (Jackson, compact, fixed field order; ``subject`` is ``null`` for global keys)::

    {"keytype":"SCHEMA","subject":"s","version":1,"magic":1}
    {"keytype":"CONFIG","subject":"s","magic":0}    {"keytype":"CONFIG","subject":null,"magic":0}
    {"keytype":"MODE","subject":"s","magic":0}      {"keytype":"MODE","subject":null,"magic":0}
    {"keytype":"DELETE_SUBJECT","subject":"s","magic":0}
    {"keytype":"CLEAR_SUBJECT","subject":"s","magic":0}
    {"keytype":"NOOP","magic":0}
"""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass
from typing import Any

__all__ = [
    "KeyType",
    "RecordKey",
    "Reference",
    "SchemaValue",
    "decode_key",
    "decode_value",
    "encode_json",
    "parse_references",
    "parse_schema_value",
    "schema_entity",
    "schema_value_json",
]


class KeyType(str, enum.Enum):
    SCHEMA = "SCHEMA"
    CONFIG = "CONFIG"
    MODE = "MODE"
    DELETE_SUBJECT = "DELETE_SUBJECT"
    CLEAR_SUBJECT = "CLEAR_SUBJECT"
    NOOP = "NOOP"


def encode_json(value: Any) -> bytes:
    """Compact JSON as Jackson writes it: no spaces, non-ASCII left as UTF-8.

    ``backslashreplace`` turns a lone surrogate (which json.loads accepts) into a JSON
    ``\\udXXX`` escape instead of failing to encode.
    """
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return text.encode("utf-8", "backslashreplace")


@dataclass(frozen=True)
class RecordKey:
    keytype: KeyType
    subject: str | None = None
    version: int | None = None

    @classmethod
    def schema(cls, subject: str, version: int) -> RecordKey:
        return cls(KeyType.SCHEMA, subject, version)

    @classmethod
    def config(cls, subject: str | None) -> RecordKey:
        return cls(KeyType.CONFIG, subject)

    @classmethod
    def mode(cls, subject: str | None) -> RecordKey:
        return cls(KeyType.MODE, subject)

    @classmethod
    def delete_subject(cls, subject: str) -> RecordKey:
        return cls(KeyType.DELETE_SUBJECT, subject)

    @classmethod
    def clear_subject(cls, subject: str | None) -> RecordKey:
        return cls(KeyType.CLEAR_SUBJECT, subject)

    @classmethod
    def noop(cls) -> RecordKey:
        return cls(KeyType.NOOP)

    def encode(self) -> bytes:
        # Built as text in Jackson's @JsonPropertyOrder; json.dumps only quotes the strings.
        kt = self.keytype.value
        if self.keytype is KeyType.NOOP:
            return b'{"keytype":"NOOP","magic":0}'
        subject = encode_json(self.subject).decode("utf-8")
        if self.keytype is KeyType.SCHEMA:
            return (
                f'{{"keytype":"SCHEMA","subject":{subject},"version":{int(self.version or 0)},'
                f'"magic":1}}'
            ).encode()
        return f'{{"keytype":"{kt}","subject":{subject},"magic":0}}'.encode()


@dataclass(frozen=True)
class Reference:
    """A schema reference: the named type ``name`` is defined by ``subject`` ``version``."""

    name: str
    subject: str
    version: int

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "subject": self.subject, "version": self.version}


@dataclass(frozen=True)
class SchemaValue:
    """The value of a SCHEMA record (``SchemaValue`` in Confluent)."""

    subject: str
    version: int
    schema_id: int
    schema: str
    schema_type: str = "AVRO"
    references: tuple[Reference, ...] = ()
    deleted: bool = False


def schema_entity(value: SchemaValue) -> dict[str, Any]:
    """Confluent's ``Schema`` entity: subject, version, id, [schemaType], [references], schema
    (``schemaType`` left out for AVRO, ``references`` when empty)."""
    out: dict[str, Any] = {
        "subject": value.subject,
        "version": value.version,
        "id": value.schema_id,
    }
    if value.schema_type != "AVRO":
        out["schemaType"] = value.schema_type
    if value.references:
        out["references"] = [r.to_json() for r in value.references]
    out["schema"] = value.schema
    return out


def schema_value_json(value: SchemaValue) -> dict[str, Any]:
    """A version's record in the log: its entity and whether it is soft-deleted."""
    return {**schema_entity(value), "deleted": value.deleted}


def _as_int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def decode_key(raw: bytes) -> RecordKey | None:
    """The key of a record, or None for keys this registry does not handle.

    Field order is not checked: Karapace's older key format orders fields differently.
    """
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        return None
    if not isinstance(data, dict):
        return None
    try:
        keytype = KeyType(data.get("keytype"))
    except ValueError:
        return None
    subject = data.get("subject")
    if subject is not None and not isinstance(subject, str):
        return None
    if keytype is KeyType.SCHEMA:
        version = _as_int(data.get("version"))
        if subject is None or version is None:
            return None
        return RecordKey(keytype, subject, version)
    if keytype is KeyType.DELETE_SUBJECT and subject is None:
        return None
    return RecordKey(keytype, subject)


def decode_value(raw: bytes | None) -> dict[str, Any] | None:
    """A record value as a JSON object; None for a tombstone (or an empty/non-object value)."""
    if not raw:
        return None
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        return None
    return data if isinstance(data, dict) else None


def parse_references(raw: Any) -> tuple[Reference, ...] | None:
    """References from a record value; None when malformed."""
    if raw is None:
        return ()
    if not isinstance(raw, list):
        return None
    refs = []
    for item in raw:
        if not isinstance(item, dict):
            return None
        name, subject, version = item.get("name"), item.get("subject"), _as_int(item.get("version"))
        if not isinstance(name, str) or not isinstance(subject, str) or version is None:
            return None
        refs.append(Reference(name, subject, version))
    return tuple(refs)


def parse_schema_value(subject: str, version: int, data: dict[str, Any]) -> SchemaValue | None:
    """A SCHEMA value; the key's subject and version are authoritative. None when malformed."""
    schema_id = _as_int(data.get("id"))
    schema = data.get("schema")
    schema_type = data.get("schemaType") or "AVRO"
    references = parse_references(data.get("references"))
    if schema_id is None or not isinstance(schema, str) or not isinstance(schema_type, str):
        return None
    if references is None:
        return None
    return SchemaValue(
        subject=subject,
        version=version,
        schema_id=schema_id,
        schema=schema,
        schema_type=schema_type,
        references=references,
        deleted=data.get("deleted") is True,
    )
