"""``AvroDeserializer``: confluent-kafka's, with the Avro work done by avrobridge."""

from __future__ import annotations

import functools
import io
import struct
import threading
import uuid
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, Protocol, TypeVar

from confluent_kafka.schema_registry import (
    RegisteredSchema,
    SchemaRegistryClient,
    dual_schema_id_deserializer,
    prefix_schema_id_deserializer,
)
from confluent_kafka.schema_registry import Schema as RegistrySchema
from confluent_kafka.schema_registry.rule_registry import RuleRegistry
from confluent_kafka.schema_registry.serde import (
    BaseDeserializer,
    SchemaId,
)
from confluent_kafka.serialization import (
    SerializationContext,
    SerializationError,
)

from .. import framing
from .._backend import DEFAULT_MAX_ZERO_BYTE_ITEMS, Schema, Transcoder
from .._backend import decode as _decode
from ..errors import (
    AvroBridgeError,
    SchemaResolutionError,
)
from .failures import (
    DeserializationFailure,
    FramingFailure,
    ResolutionFailure,
    registry_call,
    wrap_decode,
)
from .registry_schemas import (
    AVRO,
    NAMED_TYPES,
    SubjectMixin,
    fastavro_schema,
    is_raw_bytes_schema,
    loads_schema,
    parse_schema,
    pop_bool,
    pop_latest_with_metadata,
    pop_subject_name_strategy,
    refuse_rules,
    refuse_unknown,
)

T_co = TypeVar("T_co", covariant=True)


class RecordType(Protocol[T_co]):
    """A class with ``from_dict`` (the classes ``avrobridge codegen`` writes)."""

    def from_dict(self, data: Mapping[str, Any], /) -> T_co: ...


def _identity(body: bytes) -> bytes:
    return body


def _decoder(writer: Schema, reader: Schema | None, limit: int) -> Callable[[bytes], Any]:
    """bytes -> value for data written with ``writer`` and read as ``reader``; each message
    may hold ``limit`` items that take no bytes (``max_zero_byte_items``)."""
    if is_raw_bytes_schema(writer):
        return _identity
    if reader is None or (reader.text == writer.text and reader.references == writer.references):
        return functools.partial(_decode, writer, max_zero_byte_items=limit)
    try:
        transcoder = Transcoder(writer, reader, max_zero_byte_items=limit)
    except SchemaResolutionError as exc:
        raise ResolutionFailure(exc.message, exc.messages) from None
    transcode = transcoder.transcode

    def decode(body: bytes) -> Any:
        return _decode(reader, transcode(body), max_zero_byte_items=limit)

    return decode


class AvroDeserializer(SubjectMixin, BaseDeserializer):
    """Deserializer for Avro binary encoded data with Confluent Schema Registry framing;
    confluent-kafka's ``AvroDeserializer`` with the Avro work done by avrobridge.

    Arguments and configuration are confluent-kafka's: ``schema_str`` is the reader schema
    (schema evolution), ``from_dict(dict, ctx)`` converts the result; ``conf`` takes
    ``use.latest.version``, ``use.latest.with.metadata``, ``subject.name.strategy`` (and
    ``.type``/``.conf``) and ``schema.id.deserializer`` (``dual_schema_id_deserializer``: the
    id from the ``__key_schema_id``/``__value_schema_id`` header when there is one, else from
    the payload prefix; magic byte 0 + 4-byte id or 1 + 16-byte GUID).

    ``record_type`` (keyword only, an avrobridge addition): a class with
    ``from_dict(dict)``, such as the classes ``avrobridge codegen`` writes, to return
    instances of instead of dicts. ``max_zero_byte_items`` (keyword only, also ours): how many
    items that take no bytes (null, empty records, fixed of size 0) one message may hold
    (default ``avrobridge.DEFAULT_MAX_ZERO_BYTE_ITEMS``); such items are all a message of a
    few bytes can ask memory for, so the limit bounds what a hostile producer can cost.
    """

    __slots__ = [
        "_decoders",
        "_fast",
        "_from_dict",
        "_limit",
        "_lock",
        "_reader",
        "_readers_by_id",
        "_record_type",
        "_return_record_name",
        "_schema",
        "_subjects",
        "_writers",
    ]

    _default_conf: ClassVar[dict[str, Any]] = {
        "use.latest.version": False,
        "use.latest.with.metadata": None,
        "subject.name.strategy.type": None,
        "subject.name.strategy.conf": None,
        "subject.name.strategy": None,
        "schema.id.deserializer": dual_schema_id_deserializer,
    }

    def __init__(
        self,
        schema_registry_client: SchemaRegistryClient,
        schema_str: str | RegistrySchema | None = None,
        from_dict: Callable[[Any, SerializationContext], Any] | None = None,
        return_record_name: bool = False,
        conf: dict[str, Any] | None = None,
        rule_conf: dict[str, Any] | None = None,
        rule_registry: RuleRegistry | None = None,
        *,
        record_type: RecordType[Any] | None = None,
        max_zero_byte_items: int = DEFAULT_MAX_ZERO_BYTE_ITEMS,
    ) -> None:
        super().__init__()
        if (
            not isinstance(max_zero_byte_items, int)
            or isinstance(max_zero_byte_items, bool)
            or max_zero_byte_items < 0
        ):
            raise ValueError("max_zero_byte_items must be a non-negative int")
        self._limit = max_zero_byte_items
        schema: RegistrySchema | None
        if schema_str is None:
            schema = None
        elif isinstance(schema_str, str):
            schema = loads_schema(schema_str)
        elif isinstance(schema_str, RegistrySchema):
            schema = schema_str
        else:
            raise TypeError("You must pass either schema string or schema object")
        self._schema = schema
        self._registry = schema_registry_client
        self._rule_registry = rule_registry if rule_registry else RuleRegistry.get_global_instance()  # type: ignore[no-untyped-call]
        self._use_schema_id = None

        conf_copy = dict(self._default_conf)
        if conf is not None:
            conf_copy.update(conf)
        self._use_latest_version = pop_bool(conf_copy, "use.latest.version")
        self._use_latest_with_metadata = pop_latest_with_metadata(conf_copy)
        self.configure_subject_name_strategy(**pop_subject_name_strategy(conf_copy))
        self._schema_id_deserializer = conf_copy.pop("schema.id.deserializer")
        if not callable(self._schema_id_deserializer):
            raise ValueError("schema.id.deserializer must be callable")
        refuse_unknown(conf_copy)

        if from_dict is not None and not callable(from_dict):
            raise ValueError(
                "from_dict must be callable with the signature "
                "from_dict(SerializationContext, dict) -> object"
            )
        if from_dict is not None and record_type is not None:
            raise ValueError("give from_dict or record_type, not both")
        self._from_dict = from_dict
        self._record_type = record_type
        if not isinstance(return_record_name, bool):
            raise ValueError("return_record_name must be a boolean value")
        self._return_record_name = return_record_name

        self._reader: Schema | None = None
        if schema is not None:
            refuse_rules(schema, "the reader schema")
            self._reader = parse_schema(schema_registry_client, schema, "the reader schema")
        self._subjects = self._subject_memo()
        self._lock = threading.Lock()
        # The fast path: the id in the payload prefix, the reader fixed at construction.
        self._fast = (
            self._schema_id_deserializer
            in (dual_schema_id_deserializer, prefix_schema_id_deserializer)
            and not self._use_latest_version
            and self._use_latest_with_metadata is None
            and not return_record_name
        )
        # id bytes (4 bytes of id or 16 of GUID) -> (registry schema, avrobridge schema)
        self._writers: dict[bytes, tuple[RegistrySchema, Schema]] = {}
        # (id bytes, latest schema id or None) -> bytes -> value
        self._decoders: dict[Any, Callable[[bytes], Any]] = {}
        self._readers_by_id: dict[int | None, Schema] = {}

    # The per-message path -------------------------------------------------------------

    def __call__(self, data: bytes | None, ctx: SerializationContext | None = None) -> Any:
        """Deserializes Confluent-framed Avro to a dict (or what ``from_dict`` or
        ``record_type`` make of it); ``None`` gives ``None``."""
        if data is None:
            return None
        if (
            self._fast
            and type(data) is bytes
            and len(data) >= 5
            and data[0] == 0
            and (ctx is None or not ctx.headers)
        ):
            decoder = self._decoders.get(data[1:5])
            if decoder is None:
                decoder = self._static_decoder(data[1:5])
            try:
                value = decoder(data[5:])
            except AvroBridgeError as exc:
                raise wrap_decode(exc) from None
        else:
            value = self._deserialize(bytes(data), ctx)
        if self._from_dict is not None:
            if ctx is None:
                raise TypeError("SerializationContext cannot be None")
            return self._from_dict(value, ctx)
        if self._record_type is not None:
            return self._record_type.from_dict(value)
        return value

    def _deserialize(self, data: bytes, ctx: SerializationContext | None) -> Any:
        """Everything but the common case: ids in headers, GUIDs, custom id deserializers,
        use.latest.*, return_record_name, bad framing."""
        id_bytes, body = self._split(data, ctx)
        subject: str | None = None
        latest: RegisteredSchema | None = None
        dynamic = self._use_latest_version or self._use_latest_with_metadata is not None
        if dynamic and ctx is not None:
            subject = self._subject(ctx, None)
        registry_writer, writer = self._writer(id_bytes, subject)
        if dynamic and ctx is not None and subject is None:
            subject = self._subject(ctx, writer.name if writer.type in NAMED_TYPES else None)
        if dynamic and subject is not None:
            latest = registry_call(
                f"latest schema of subject {subject!r}", lambda: self._get_reader_schema(subject)
            )
        key: tuple[bytes, int | None] = (id_bytes, latest.schema_id if latest else None)
        decoder = self._decoders.get(key) if latest is not None else self._decoders.get(id_bytes)
        if decoder is None:
            decoder = self._make_decoder(registry_writer, writer, latest)
            if latest is not None:
                self._decoders[key] = decoder
            else:
                self._decoders[id_bytes] = decoder
        try:
            return decoder(body)
        except AvroBridgeError as exc:
            raise wrap_decode(exc) from None

    def _split(self, data: bytes, ctx: SerializationContext | None) -> tuple[bytes, bytes]:
        """(id bytes, Avro body): 4 bytes of schema id or 16 of GUID."""
        deserializer = self._schema_id_deserializer
        if deserializer is dual_schema_id_deserializer:
            header = _schema_id_header(ctx)
            if header is not None:
                return framing.ref_bytes(header, "the schema id header", FramingFailure)[0], data
        if deserializer in (dual_schema_id_deserializer, prefix_schema_id_deserializer):
            id_bytes, body_at = framing.ref_bytes(data, "the message", FramingFailure)
            return id_bytes, data[body_at:]
        schema_id = SchemaId(AVRO)
        try:
            payload = deserializer(data, ctx, schema_id)
        except SerializationError:
            raise
        except Exception as exc:
            raise FramingFailure(f"schema.id.deserializer failed: {exc}") from exc
        body = payload.read() if hasattr(payload, "read") else bytes(payload)
        if schema_id.id is not None:
            return struct.pack(">I", schema_id.id), body
        if schema_id.guid is not None:
            return schema_id.guid.bytes, body
        raise FramingFailure("schema.id.deserializer set neither a schema id nor a GUID")

    # Plans ----------------------------------------------------------------------------

    def _static_decoder(self, id_bytes: bytes) -> Callable[[bytes], Any]:
        registry_writer, writer = self._writer(id_bytes, None)
        decoder = self._make_decoder(registry_writer, writer, None)
        self._decoders[id_bytes] = decoder
        return decoder

    def _writer(self, id_bytes: bytes, subject: str | None) -> tuple[RegistrySchema, Schema]:
        cached = self._writers.get(id_bytes)
        if cached is not None:
            return cached
        if len(id_bytes) == 4:
            (schema_id,) = struct.unpack(">I", id_bytes)
            what = f"schema id {schema_id}"
            registry_schema = registry_call(
                what, lambda: self._registry.get_schema(schema_id, subject)
            )
        else:
            guid = str(uuid.UUID(bytes=id_bytes))
            what = f"schema guid {guid}"
            registry_schema = registry_call(what, lambda: self._registry.get_schema_by_guid(guid))
        refuse_rules(registry_schema, what)
        entry = (registry_schema, parse_schema(self._registry, registry_schema, what))
        self._writers[id_bytes] = entry
        return entry

    def _make_decoder(
        self,
        registry_writer: RegistrySchema,
        writer: Schema,
        latest: RegisteredSchema | None,
    ) -> Callable[[bytes], Any]:
        registry_reader: RegistrySchema | None
        if latest is not None:
            what = f"schema id {latest.schema_id}"
            refuse_rules(latest.schema, what, migration=True)
            reader = self._readers_by_id.get(latest.schema_id)
            if reader is None:
                reader = parse_schema(self._registry, latest.schema, what)
                self._readers_by_id[latest.schema_id] = reader
            registry_reader = latest.schema
        else:
            reader = self._reader
            registry_reader = self._schema
        if self._return_record_name and not is_raw_bytes_schema(writer):
            return self._fastavro_decoder(registry_writer, registry_reader, writer)
        return _decoder(writer, reader, self._limit)

    def _fastavro_decoder(
        self, writer: RegistrySchema, reader: RegistrySchema | None, checked: Schema
    ) -> Callable[[bytes], Any]:
        from fastavro import schemaless_reader

        parsed_writer = fastavro_schema(self._registry, writer)
        parsed_reader = (
            fastavro_schema(self._registry, reader) if reader is not None else parsed_writer
        )
        # fastavro builds whatever counts the bytes declare: the body is first checked (within
        # the limit of zero-byte items) by transcoding it to itself.
        check = Transcoder(checked, checked, max_zero_byte_items=self._limit).transcode

        def decode(body: bytes) -> Any:
            check(body)
            try:
                return schemaless_reader(io.BytesIO(body), parsed_writer, parsed_reader, True)
            except (ValueError, TypeError, EOFError, IndexError, KeyError) as exc:
                raise DeserializationFailure(f"{type(exc).__name__}: {exc}") from exc

        return decode


def _schema_id_header(ctx: SerializationContext | None) -> bytes | None:
    if ctx is None:
        return None
    name = framing.KEY_SCHEMA_ID_HEADER if ctx.field == "key" else framing.VALUE_SCHEMA_ID_HEADER
    value = framing.header_value(ctx.headers, name)
    if value is None:
        return None
    if isinstance(value, str):
        return value.encode()
    return bytes(value)
