"""Drop-in fast replacements for confluent-kafka's Avro serializer and deserializer.

Swap the import and nothing else::

    # from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
    from avrobridge.serde import AvroDeserializer, AvroSerializer

The classes take the constructor arguments of confluent-kafka 2.16's
``AvroSerializer``/``AvroDeserializer`` (``schema_registry_client``, ``schema_str``,
``to_dict``/``from_dict``, ``return_record_name``, ``conf``, ``rule_conf``, ``rule_registry``),
accept the same ``conf`` keys with the same defaults and validation, are called the same way
(``(obj, SerializationContext)``) and subclass confluent-kafka's own ``BaseSerializer`` /
``BaseDeserializer``, so ``SerializingProducer``/``DeserializingConsumer`` take them as they
are and the subject name strategies (including the default ``AssociatedNameStrategy``) are
confluent-kafka's own code.

The output is byte-identical to confluent-kafka's (Confluent framing: magic byte 0, the 4-byte
schema id, the Avro body; or whatever ``schema.id.serializer`` makes of it) and each side
reads what the other wrote. The difference is where the time goes: the Avro work is done by
the Rust codec, and everything that depends only on the schema is done once per schema id
(writer schema, reader schema, resolution plan), so a message costs one dictionary lookup and
one codec call. See docs/serde.md.

Errors subclass both avrobridge's hierarchy and confluent-kafka's ``SerializationError``
(:class:`SerializationFailure`, :class:`DeserializationFailure`, :class:`FramingFailure`,
:class:`ResolutionFailure`, :class:`SchemaFailure`, :class:`RegistryFailure`,
:class:`SerdeConfigError`).

Not supported (refused loudly rather than ignored): Data Contract rules (a registry schema
carrying a rule set: CSFLE, transforms, conditions, migrations) and inline validation rules
(``validation.rules.execution`` other than ``DISABLED``). ``validate.strict`` and
``return_record_name=True`` work, through fastavro exactly as confluent-kafka does them.
"""

from __future__ import annotations

import functools
import io
import struct
import threading
import uuid
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, Protocol, TypeVar, cast

from confluent_kafka.schema_registry import (
    RegisteredSchema,
    SchemaRegistryClient,
    dual_schema_id_deserializer,
    prefix_schema_id_deserializer,
    prefix_schema_id_serializer,
    record_subject_name_strategy,
    topic_record_subject_name_strategy,
    topic_subject_name_strategy,
)
from confluent_kafka.schema_registry import Schema as RegistrySchema
from confluent_kafka.schema_registry.error import SchemaRegistryError
from confluent_kafka.schema_registry.rule_registry import RuleRegistry
from confluent_kafka.schema_registry.serde import (
    AssociatedNameStrategy,
    BaseDeserializer,
    BaseSerializer,
    SchemaId,
    build_serde,
)
from confluent_kafka.serialization import (
    DeserializerBuilder,
    SerializationContext,
    SerializationError,
    SerializerBuilder,
)

from ._backend import DEFAULT_MAX_ZERO_BYTE_ITEMS, Schema, Transcoder
from ._backend import decode as _decode
from ._backend import encode as _encode
from .errors import (
    AvroBridgeError,
    ConfigError,
    DataError,
    DecodeError,
    EncodeError,
    FramingError,
    RegistryError,
    SchemaError,
    SchemaResolutionError,
)

__all__ = [
    "AvroDeserializer",
    "AvroDeserializerBuilder",
    "AvroSerializer",
    "AvroSerializerBuilder",
    "DeserializationFailure",
    "FramingFailure",
    "RegistryFailure",
    "ResolutionFailure",
    "SchemaFailure",
    "SerdeConfigError",
    "SerializationFailure",
]

_AVRO = "AVRO"
_KEY_SCHEMA_ID = "__key_schema_id"
_VALUE_SCHEMA_ID = "__value_schema_id"
_NAMED = frozenset({"record", "error", "enum", "fixed"})
#: Strategies whose answer depends only on (topic, key/value, record name): memoized.
_PURE_STRATEGIES = (
    topic_subject_name_strategy,
    topic_record_subject_name_strategy,
    record_subject_name_strategy,
)
_MISSING: Any = object()

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)
E = TypeVar("E", bound=DataError)


# --------------------------------------------------------------------------------------
# Errors: both hierarchies
# --------------------------------------------------------------------------------------


class SerializationFailure(EncodeError, SerializationError):
    """A value cannot be encoded with the writer schema (``path`` names the field)."""


class DeserializationFailure(DecodeError, SerializationError):
    """A message is not a valid Avro encoding of its writer schema."""


class FramingFailure(FramingError, DeserializationFailure):
    """A message is not Confluent-framed (magic byte 0 + 4-byte id, or 1 + 16-byte GUID)."""


class ResolutionFailure(SchemaResolutionError, SerializationError):
    """Data written with the writer schema cannot be read with the reader schema."""


class SchemaFailure(SchemaError, SerializationError):
    """A schema (given, or fetched from the registry) is not a valid Avro schema."""


class SerdeConfigError(ConfigError, SerializationError):
    """The configuration cannot work: no subject for a message, an unsupported feature."""


# error_code is int | None here and int in SchemaRegistryError: None only when unreachable.
class RegistryFailure(RegistryError, SchemaRegistryError, SerializationError):  # type: ignore[misc]
    """The schema registry answered with an error or could not be reached.

    Also a ``SchemaRegistryError`` (``http_status_code``, ``error_code``, ``error_message``),
    which is what confluent-kafka's serializers raise for the same failures.
    """

    def __init__(
        self, message: str, status: int | None = None, error_code: int | None = None
    ) -> None:
        Exception.__init__(self, message)
        self.message = message
        self.status = status
        self.error_code = error_code
        self.http_status_code = status if status is not None else SchemaRegistryError.UNKNOWN
        self.error_message = message

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r})"

    def __reduce__(self) -> tuple[object, ...]:
        return (type(self), (self.message, self.status, self.error_code))


def _data_error(cls: type[E], exc: DecodeError | EncodeError) -> E:
    return cls(exc.message, exc.offset, exc.path, exc.index)


def _wrap_decode(exc: AvroBridgeError) -> SerializationError:
    """The serde error for an error of the codec while reading a message."""
    if isinstance(exc, SchemaResolutionError):
        return ResolutionFailure(exc.message, exc.messages)
    if isinstance(exc, FramingError):
        return _data_error(FramingFailure, exc)
    if isinstance(exc, DecodeError):
        return _data_error(DeserializationFailure, exc)
    return DeserializationFailure(str(exc))


def _registry_failure(what: str, exc: Exception) -> RegistryFailure:
    if isinstance(exc, RegistryFailure):
        return exc
    if isinstance(exc, SchemaRegistryError):
        return RegistryFailure(
            f"{what}: {exc.error_message} (HTTP status {exc.http_status_code}, "
            f"SR code {exc.error_code})",
            exc.http_status_code,
            exc.error_code,
        )
    return RegistryFailure(f"{what}: registry unreachable ({type(exc).__name__}: {exc})")


def _registry_call(what: str, fn: Callable[[], T]) -> T:
    try:
        return fn()
    except (SerializationError, AvroBridgeError):
        raise
    except Exception as exc:  # the client raises SchemaRegistryError or transport errors
        raise _registry_failure(what, exc) from exc


# --------------------------------------------------------------------------------------
# Shared helpers
# --------------------------------------------------------------------------------------


def _schema_text(schema: RegistrySchema) -> str:
    text = schema.schema_str
    if text is None:
        raise SchemaFailure("the schema has no text")
    text = text.strip()
    # As confluent-kafka's _schema_loads: a bare primitive name is wrapped in an object.
    if text and text[0] not in "{[":
        text = '{"type":' + text + "}"
    return text


def _loads(text: str) -> RegistrySchema:
    """A schema string as confluent-kafka's ``_schema_loads`` makes it a registry Schema."""
    return RegistrySchema(_schema_text(RegistrySchema(text, _AVRO)), _AVRO)


def _reference_texts(
    client: SchemaRegistryClient | None, schema: RegistrySchema, depth: int = 0
) -> list[str]:
    """The texts of every schema ``schema`` refers to, dependencies first, each once."""
    if not schema.references:
        return []
    if client is None:
        raise SerdeConfigError("a schema with references needs a schema registry client")
    if depth > 32:
        raise SchemaFailure("schema references nest deeper than 32 levels")
    texts: list[str] = []
    for ref in schema.references:
        if ref.subject is None or ref.version is None:
            raise SchemaFailure("a schema reference has no subject or version")
        subject, version = str(ref.subject), int(ref.version)
        registered = _registry_call(
            f"reference {subject!r} version {version}",
            functools.partial(client.get_version, subject, version, True),
        )
        for text in _reference_texts(client, registered.schema, depth + 1):
            if text not in texts:
                texts.append(text)
        text = _schema_text(registered.schema)
        if text not in texts:
            texts.append(text)
    return texts


def _parse(client: SchemaRegistryClient | None, schema: RegistrySchema, what: str) -> Schema:
    """The avrobridge schema of a registry schema (references resolved through ``client``)."""
    if (schema.schema_type or _AVRO) != _AVRO:
        raise SchemaFailure(f"{what} is a {schema.schema_type} schema, not Avro")
    refs = _reference_texts(client, schema)
    try:
        return Schema(_schema_text(schema), references=refs or None)
    except SchemaError as exc:
        raise SchemaFailure(f"{what}: {exc.message}", exc.path) from None


def _has_rules(schema: RegistrySchema | None, *, migration: bool = False) -> bool:
    rule_set = getattr(schema, "rule_set", None)
    if rule_set is None:
        return False
    if rule_set.domain_rules or rule_set.encoding_rules:
        return True
    return bool(migration and rule_set.migration_rules)


def _refuse_rules(schema: RegistrySchema | None, what: str, *, migration: bool = False) -> None:
    if _has_rules(schema, migration=migration):
        raise SerdeConfigError(
            f"{what} has a Data Contract rule set; avrobridge.serde does not run rules "
            "(CSFLE, transforms, conditions, migrations): use confluent-kafka's serializers"
        )


def _record_name(schema: Schema) -> str | None:
    """The record name confluent-kafka hands to the subject name strategy for ``schema``."""
    kind = schema.type
    if kind in _NAMED:
        return schema.name
    if kind == "union":
        return None
    return kind


def _fastavro_schema(client: SchemaRegistryClient | None, schema: RegistrySchema) -> Any:
    """fastavro's parsed schema, made as confluent-kafka makes it (for the fastavro paths)."""
    from confluent_kafka.schema_registry._sync.avro import _resolve_named_schema
    from confluent_kafka.schema_registry.common.avro import parse_schema_with_repo

    named = _resolve_named_schema(schema, cast(SchemaRegistryClient, client))
    return parse_schema_with_repo(_schema_text(schema), named_schemas=named)


def _raw_bytes_schema(schema: Schema) -> bool:
    # confluent-kafka writes and reads a top-level "bytes" schema as the raw payload.
    return schema.type == "bytes"


def _check_bool(conf: dict[str, Any], key: str) -> bool:
    value = conf.pop(key)
    if not isinstance(value, bool):
        raise ValueError(f"{key} must be a boolean value")
    return value


def _pop_validation_rules(conf: dict[str, Any]) -> None:
    execution = conf.pop("validation.rules.execution", "DISABLED")
    conf.pop("validation.rules.fail.fast", None)
    conf.pop("validation.rules.executor", None)
    if str(getattr(execution, "value", execution)).upper() != "DISABLED":
        raise SerdeConfigError(
            "validation.rules.execution is not supported by avrobridge.serde "
            "(inline validation rules are not run); leave it DISABLED"
        )


class _SubjectMixin:
    """Subject lookup, memoized when the strategy is a pure function of its inputs."""

    __slots__ = ()

    _subject_name_func: Callable[..., Any]
    _strategy_accepts_client: bool
    _subject_name_conf: dict[str, Any] | None
    _registry: Any
    _subjects: dict[tuple[str, bool, str | None], str | None] | None

    def _subject_memo(self) -> dict[tuple[str, bool, str | None], str | None] | None:
        """A memo for :meth:`_subject` when the strategy is pure, else None."""
        func = self._subject_name_func
        pure = func in _PURE_STRATEGIES or isinstance(func, AssociatedNameStrategy)
        return {} if pure else None

    def _subject(self, ctx: SerializationContext | None, record_name: str | None) -> str | None:
        memo = self._subjects
        key: tuple[str, bool, str | None] | None = None
        if memo is not None and ctx is not None:
            key = (ctx.topic, ctx.field == "key", record_name)
            hit = memo.get(key, _MISSING)
            if hit is not _MISSING:
                return cast("str | None", hit)
        try:
            if self._strategy_accepts_client:
                subject = self._subject_name_func(
                    ctx, record_name, self._registry, self._subject_name_conf
                )
            else:
                subject = self._subject_name_func(ctx, record_name)
        except (ValueError, TypeError, SerializationError, AvroBridgeError):
            raise  # the strategy's own refusals (no context, ...), as confluent-kafka
        except Exception as exc:  # the associated strategy asks the registry
            raise _registry_failure("subject name lookup", exc) from exc
        if key is not None and memo is not None:
            if len(memo) > 10_000:
                memo.clear()
            memo[key] = subject
        return cast("str | None", subject)


# --------------------------------------------------------------------------------------
# Serializer
# --------------------------------------------------------------------------------------


class _WritePlan:
    """Everything a message needs for one writer schema id: one lookup per message."""

    __slots__ = ("encode", "prefix", "schema", "schema_id")

    def __init__(
        self,
        schema: Schema,
        schema_id: SchemaId,
        encode: Callable[[Any], bytes],
        prefix: bytes | None,
    ) -> None:
        self.schema = schema
        self.schema_id = schema_id
        self.encode = encode
        self.prefix = prefix


def _raw_bytes_encode(value: Any) -> bytes:
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode()
    raise SerializationFailure(
        f"a value of the 'bytes' schema must be bytes or str, not {type(value).__name__}"
    )


def _as_datum(obj: Any) -> Any:
    """``obj`` as the codec takes it: objects with ``to_dict()`` (the generated record
    classes of ``avrobridge codegen``) are converted, anything else is passed as is."""
    to_dict = getattr(obj, "to_dict", None)
    if to_dict is not None and callable(to_dict) and not isinstance(obj, Mapping):
        return to_dict()
    return obj


class AvroSerializer(_SubjectMixin, BaseSerializer):
    """Serializer that outputs Avro binary encoded data with Confluent Schema Registry
    framing; confluent-kafka's ``AvroSerializer`` with the Avro work done by avrobridge.

    Arguments and configuration are confluent-kafka's (see its documentation):
    ``auto.register.schemas`` (True), ``normalize.schemas`` (False), ``use.schema.id``,
    ``use.latest.version`` (False), ``use.latest.with.metadata``, ``subject.name.strategy``,
    ``subject.name.strategy.type``, ``subject.name.strategy.conf``, ``schema.id.serializer``
    (``prefix_schema_id_serializer``), ``validate.strict``, ``validate.strict.allow.default``.
    Objects with a ``to_dict()`` method (the classes ``avrobridge codegen`` writes) are
    accepted without a ``to_dict`` hook.
    """

    __slots__ = [
        "_key_plans",
        "_latest_plans",
        "_lock",
        "_plans_by_subject",
        "_record_name",
        "_schema",
        "_strict",
        "_strict_allow_default",
        "_subjects",
        "_to_dict",
        "_value_plans",
        "_writer",
    ]

    _default_conf: ClassVar[dict[str, Any]] = {
        "auto.register.schemas": True,
        "normalize.schemas": False,
        "use.schema.id": None,
        "use.latest.version": False,
        "use.latest.with.metadata": None,
        "subject.name.strategy.type": None,
        "subject.name.strategy.conf": None,
        "subject.name.strategy": None,
        "schema.id.serializer": prefix_schema_id_serializer,
        "validate.strict": False,
        "validate.strict.allow.default": False,
    }

    def __init__(
        self,
        schema_registry_client: SchemaRegistryClient,
        schema_str: str | RegistrySchema | None = None,
        to_dict: Callable[[Any, SerializationContext], Any] | None = None,
        conf: dict[str, Any] | None = None,
        rule_conf: dict[str, Any] | None = None,
        rule_registry: RuleRegistry | None = None,
    ) -> None:
        super().__init__()
        schema: RegistrySchema | None
        if isinstance(schema_str, str):
            schema = _loads(schema_str)
        elif isinstance(schema_str, RegistrySchema):
            schema = schema_str
        else:
            schema = None
        self._registry = schema_registry_client
        self._rule_registry = rule_registry if rule_registry else RuleRegistry.get_global_instance()  # type: ignore[no-untyped-call]
        self._use_schema_id = None

        if to_dict is not None and not callable(to_dict):
            raise ValueError(
                "to_dict must be callable with the signature to_dict(object, SerializationContext)"
                "->dict"
            )
        self._to_dict = to_dict

        conf_copy = dict(self._default_conf)
        if conf is not None:
            conf_copy.update(conf)
        self._auto_register = _check_bool(conf_copy, "auto.register.schemas")
        self._normalize_schemas = _check_bool(conf_copy, "normalize.schemas")
        self._use_schema_id = conf_copy.pop("use.schema.id")
        if self._use_schema_id is not None and not isinstance(self._use_schema_id, int):
            raise ValueError("use.schema.id must be an int value")
        self._use_latest_version = _check_bool(conf_copy, "use.latest.version")
        if self._use_latest_version and self._auto_register:
            raise ValueError("cannot enable both use.latest.version and auto.register.schemas")
        self._use_latest_with_metadata = conf_copy.pop("use.latest.with.metadata")
        if self._use_latest_with_metadata is not None and not isinstance(
            self._use_latest_with_metadata, dict
        ):
            raise ValueError("use.latest.with.metadata must be a dict value")
        self.configure_subject_name_strategy(
            subject_name_strategy_type=conf_copy.pop("subject.name.strategy.type"),
            subject_name_strategy_conf=conf_copy.pop("subject.name.strategy.conf"),
            subject_name_strategy=conf_copy.pop("subject.name.strategy"),
        )
        self._schema_id_serializer = conf_copy.pop("schema.id.serializer")
        if not callable(self._schema_id_serializer):
            raise ValueError("schema.id.serializer must be callable")
        self._strict = _check_bool(conf_copy, "validate.strict")
        self._strict_allow_default = _check_bool(conf_copy, "validate.strict.allow.default")
        _pop_validation_rules(conf_copy)
        if conf_copy:
            raise ValueError("Unrecognized properties: {}".format(", ".join(conf_copy.keys())))

        self._schema = schema
        self._writer: Schema | None = None
        self._record_name: str | None = None
        if schema is not None:
            self._writer = _parse(schema_registry_client, schema, "the writer schema")
            self._record_name = _record_name(self._writer)
        self._subjects = self._subject_memo()
        self._lock = threading.Lock()
        # topic -> plan, for keys and for values (when the schema id cannot change).
        self._key_plans: dict[str, _WritePlan] = {}
        self._value_plans: dict[str, _WritePlan] = {}
        self._plans_by_subject: dict[str | None, _WritePlan] = {}
        # (schema id, guid) -> plan, for use.latest.* / use.schema.id.
        self._latest_plans: dict[tuple[int | None, str | None], _WritePlan] = {}

    # The per-message path -------------------------------------------------------------

    def __call__(self, obj: Any, ctx: SerializationContext | None = None) -> bytes | None:
        """Serializes ``obj`` (a dict, or what ``to_dict`` makes a dict of) to
        Confluent-framed Avro; ``None`` gives ``None``."""
        if obj is None:
            return None
        plan: _WritePlan | None = None
        if ctx is not None:
            plan = (self._key_plans if ctx.field == "key" else self._value_plans).get(ctx.topic)
        if plan is None:
            plan = self._plan(ctx)
        if self._to_dict is not None:
            if ctx is None:
                raise TypeError("SerializationContext cannot be None")
            value = self._to_dict(obj, ctx)
        elif type(obj) is dict:
            value = obj
        else:
            value = _as_datum(obj)
        try:
            body = plan.encode(value)
        except EncodeError as exc:
            raise _data_error(SerializationFailure, exc) from None
        if plan.prefix is not None:
            return plan.prefix + body
        return self._schema_id_serializer(body, ctx, plan.schema_id)

    # Plans ----------------------------------------------------------------------------

    @property
    def _dynamic(self) -> bool:
        return bool(
            self._use_schema_id is not None
            or self._use_latest_with_metadata is not None
            or self._use_latest_version
        )

    def _plan(self, ctx: SerializationContext | None) -> _WritePlan:
        subject = self._subject(ctx, self._record_name)
        if self._dynamic:
            if subject is None:
                raise SerdeConfigError(
                    "the subject name strategy gave no subject, so no latest version can be "
                    "looked up"
                )
            registered = _registry_call(
                f"latest schema of subject {subject!r}", lambda: self._get_reader_schema(subject)
            )
            if registered is None:  # pragma: no cover - _dynamic guarantees a lookup
                raise SerdeConfigError(f"no schema for subject {subject!r}")
            return self._latest_plan(registered)
        plan = self._plans_by_subject.get(subject)
        if plan is None:
            plan = self._register(subject)
        if ctx is not None and self._subjects is not None:
            (self._key_plans if ctx.field == "key" else self._value_plans)[ctx.topic] = plan
        return plan

    def _register(self, subject: str | None) -> _WritePlan:
        if self._schema is None or self._writer is None:
            raise SerdeConfigError(
                "AvroSerializer needs schema_str unless use.latest.version, "
                "use.latest.with.metadata or use.schema.id is set"
            )
        if subject is None:
            raise SerdeConfigError(
                "the subject name strategy gave no subject for this message, so the schema "
                "cannot be registered or looked up"
            )
        schema = self._schema
        with self._lock:
            plan = self._plans_by_subject.get(subject)
            if plan is not None:
                return plan
            if self._auto_register:
                registered = _registry_call(
                    f"registering the schema under {subject!r}",
                    lambda: self._registry.register_schema_full_response(
                        subject, schema, normalize_schemas=self._normalize_schemas
                    ),
                )
            else:
                registered = _registry_call(
                    f"looking the schema up under {subject!r}",
                    lambda: self._registry.lookup_schema(
                        subject, schema, normalize_schemas=self._normalize_schemas
                    ),
                )
            plan = self._make_plan(self._writer, schema, registered)
            self._plans_by_subject[subject] = plan
            return plan

    def _latest_plan(self, registered: RegisteredSchema) -> _WritePlan:
        key = (registered.schema_id, registered.guid)
        plan = self._latest_plans.get(key)
        if plan is None:
            what = f"schema id {registered.schema_id}"
            _refuse_rules(registered.schema, what)
            writer = _parse(self._registry, registered.schema, what)
            plan = self._make_plan(writer, registered.schema, registered)
            self._latest_plans[key] = plan
        return plan

    def _make_plan(
        self, writer: Schema, registry_schema: RegistrySchema, registered: RegisteredSchema
    ) -> _WritePlan:
        schema_id = SchemaId(_AVRO, registered.schema_id, registered.guid)
        encode: Callable[[Any], bytes]
        if _raw_bytes_schema(writer):
            encode = _raw_bytes_encode
        elif self._strict or self._strict_allow_default:
            encode = self._fastavro_encoder(registry_schema)
        else:
            encode = functools.partial(_encode, writer)
        prefix = None
        if self._schema_id_serializer is prefix_schema_id_serializer:
            if registered.schema_id is None:
                raise RegistryFailure("the registry gave the schema no id")
            prefix = struct.pack(">bI", 0, registered.schema_id)
        return _WritePlan(writer, schema_id, encode, prefix)

    def _fastavro_encoder(self, schema: RegistrySchema) -> Callable[[Any], bytes]:
        from fastavro import schemaless_writer

        parsed = _fastavro_schema(self._registry, schema)
        strict, allow_default = self._strict, self._strict_allow_default

        def encode(value: Any) -> bytes:
            out = io.BytesIO()
            try:
                schemaless_writer(
                    out, parsed, value, strict=strict, strict_allow_default=allow_default
                )
            except (ValueError, TypeError, KeyError, AttributeError) as exc:
                raise SerializationFailure(f"{type(exc).__name__}: {exc}") from exc
            return out.getvalue()

        return encode


# --------------------------------------------------------------------------------------
# Deserializer
# --------------------------------------------------------------------------------------


class RecordType(Protocol[T_co]):
    """A class with ``from_dict`` (the classes ``avrobridge codegen`` writes)."""

    def from_dict(self, data: Mapping[str, Any], /) -> T_co: ...


def _identity(body: bytes) -> bytes:
    return body


def _decoder(writer: Schema, reader: Schema | None, limit: int) -> Callable[[bytes], Any]:
    """bytes -> value for data written with ``writer`` and read as ``reader``; each message
    may hold ``limit`` items that take no bytes (``max_zero_byte_items``)."""
    if _raw_bytes_schema(writer):
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


class AvroDeserializer(_SubjectMixin, BaseDeserializer):
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
            schema = _loads(schema_str)
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
        self._use_latest_version = _check_bool(conf_copy, "use.latest.version")
        self._use_latest_with_metadata = conf_copy.pop("use.latest.with.metadata")
        if self._use_latest_with_metadata is not None and not isinstance(
            self._use_latest_with_metadata, dict
        ):
            raise ValueError("use.latest.with.metadata must be a dict value")
        self.configure_subject_name_strategy(
            subject_name_strategy_type=conf_copy.pop("subject.name.strategy.type"),
            subject_name_strategy_conf=conf_copy.pop("subject.name.strategy.conf"),
            subject_name_strategy=conf_copy.pop("subject.name.strategy"),
        )
        self._schema_id_deserializer = conf_copy.pop("schema.id.deserializer")
        if not callable(self._schema_id_deserializer):
            raise ValueError("schema.id.deserializer must be callable")
        if conf_copy:
            raise ValueError("Unrecognized properties: {}".format(", ".join(conf_copy.keys())))

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
            _refuse_rules(schema, "the reader schema")
            self._reader = _parse(schema_registry_client, schema, "the reader schema")
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
                raise _wrap_decode(exc) from None
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
            subject = self._subject(ctx, writer.name if writer.type in _NAMED else None)
        if dynamic and subject is not None:
            latest = _registry_call(
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
            raise _wrap_decode(exc) from None

    def _split(self, data: bytes, ctx: SerializationContext | None) -> tuple[bytes, bytes]:
        """(id bytes, Avro body): 4 bytes of schema id or 16 of GUID."""
        deserializer = self._schema_id_deserializer
        if deserializer is dual_schema_id_deserializer:
            header = _schema_id_header(ctx)
            if header is not None:
                return _id_bytes(header, "the schema id header"), data
            return _id_bytes(data, "the message"), data[5 if data[0] == 0 else 17 :]
        if deserializer is prefix_schema_id_deserializer:
            return _id_bytes(data, "the message"), data[5 if data[0] == 0 else 17 :]
        schema_id = SchemaId(_AVRO)
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
            registry_schema = _registry_call(
                what, lambda: self._registry.get_schema(schema_id, subject)
            )
        else:
            guid = str(uuid.UUID(bytes=id_bytes))
            what = f"schema guid {guid}"
            registry_schema = _registry_call(what, lambda: self._registry.get_schema_by_guid(guid))
        _refuse_rules(registry_schema, what)
        entry = (registry_schema, _parse(self._registry, registry_schema, what))
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
            _refuse_rules(latest.schema, what, migration=True)
            reader = self._readers_by_id.get(latest.schema_id)
            if reader is None:
                reader = _parse(self._registry, latest.schema, what)
                self._readers_by_id[latest.schema_id] = reader
            registry_reader = latest.schema
        else:
            reader = self._reader
            registry_reader = self._schema
        if self._return_record_name and not _raw_bytes_schema(writer):
            return self._fastavro_decoder(registry_writer, registry_reader, writer)
        return _decoder(writer, reader, self._limit)

    def _fastavro_decoder(
        self, writer: RegistrySchema, reader: RegistrySchema | None, checked: Schema
    ) -> Callable[[bytes], Any]:
        from fastavro import schemaless_reader

        parsed_writer = _fastavro_schema(self._registry, writer)
        parsed_reader = (
            _fastavro_schema(self._registry, reader) if reader is not None else parsed_writer
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
    if ctx is None or not ctx.headers:
        return None
    name = _KEY_SCHEMA_ID if ctx.field == "key" else _VALUE_SCHEMA_ID
    headers = ctx.headers
    if isinstance(headers, dict):
        value = headers.get(name)
    else:
        value = None
        for header in headers:
            if header[0] == name:
                value = header[1]
                break
    if value is None:
        return None
    if isinstance(value, str):
        return value.encode()
    return bytes(value)


def _id_bytes(framed: bytes, what: str) -> bytes:
    """The 4 id bytes (magic 0) or the 16 GUID bytes (magic 1) at the start of ``framed``."""
    if framed[:1] == b"\x00" and len(framed) >= 5:
        return framed[1:5]
    if framed[:1] == b"\x01" and len(framed) >= 17:
        return framed[1:17]
    if framed[:1] in (b"\x00", b"\x01"):
        raise FramingFailure(
            f"{what} ends inside its schema id ({len(framed)} bytes): it was not produced with "
            "a Confluent Schema Registry serializer"
        )
    if not framed:
        raise FramingFailure(f"{what} is empty: it was not produced with a Confluent serializer")
    raise FramingFailure(
        f"Invalid magic byte {framed[0]} in {what}: it was not produced with a Confluent "
        "Schema Registry serializer"
    )


# --------------------------------------------------------------------------------------
# Builders (confluent-kafka's experimental ``*.serializer.builder`` properties)
# --------------------------------------------------------------------------------------


class AvroSerializerBuilder(SerializerBuilder):
    """Builds an :class:`AvroSerializer` for ``key.serializer.builder`` /
    ``value.serializer.builder``, as confluent-kafka's ``AvroSerializerBuilder``."""

    def __init__(
        self,
        schema_registry_config: dict[str, Any] | None = None,
        schema_registry_client: SchemaRegistryClient | None = None,
        schema: str | RegistrySchema | None = None,
        to_dict: Callable[[Any, SerializationContext], Any] | None = None,
        serializer_config: dict[str, Any] | None = None,
        rule_config: dict[str, Any] | None = None,
        rule_registry: RuleRegistry | None = None,
        serializer_init: Callable[[AvroSerializer], None] | None = None,
    ) -> None:
        self._schema_registry_conf = schema_registry_config
        self._schema_registry_client = schema_registry_client
        self._schema = schema
        self._to_dict = to_dict
        self._serializer_conf = serializer_config
        self._rule_conf = rule_config
        self._rule_registry = rule_registry
        self._serializer_init = serializer_init

    def build(self, conf: dict[str, Any], is_key: bool) -> tuple[AvroSerializer, dict[str, Any]]:
        serializer = build_serde(
            self._schema_registry_client,
            self._schema_registry_conf,
            lambda client: AvroSerializer(
                cast(SchemaRegistryClient, client),
                self._schema,
                self._to_dict,
                self._serializer_conf,
                self._rule_conf,
                self._rule_registry,
            ),
            self._serializer_init,
        )
        return serializer, dict(conf)


class AvroDeserializerBuilder(DeserializerBuilder):
    """Builds an :class:`AvroDeserializer` for ``key.deserializer.builder`` /
    ``value.deserializer.builder``, as confluent-kafka's ``AvroDeserializerBuilder``."""

    def __init__(
        self,
        schema_registry_config: dict[str, Any] | None = None,
        schema_registry_client: SchemaRegistryClient | None = None,
        schema: str | RegistrySchema | None = None,
        from_dict: Callable[[Any, SerializationContext], Any] | None = None,
        return_record_name: bool = False,
        deserializer_config: dict[str, Any] | None = None,
        rule_config: dict[str, Any] | None = None,
        rule_registry: RuleRegistry | None = None,
        deserializer_init: Callable[[AvroDeserializer], None] | None = None,
        *,
        record_type: RecordType[Any] | None = None,
    ) -> None:
        self._schema_registry_conf = schema_registry_config
        self._schema_registry_client = schema_registry_client
        self._schema = schema
        self._from_dict = from_dict
        self._return_record_name = return_record_name
        self._deserializer_conf = deserializer_config
        self._rule_conf = rule_config
        self._rule_registry = rule_registry
        self._deserializer_init = deserializer_init
        self._record_type = record_type

    def build(self, conf: dict[str, Any], is_key: bool) -> tuple[AvroDeserializer, dict[str, Any]]:
        deserializer = build_serde(
            self._schema_registry_client,
            self._schema_registry_conf,
            lambda client: AvroDeserializer(
                cast(SchemaRegistryClient, client),
                self._schema,
                self._from_dict,
                self._return_record_name,
                self._deserializer_conf,
                self._rule_conf,
                self._rule_registry,
                record_type=self._record_type,
            ),
            self._deserializer_init,
        )
        return deserializer, dict(conf)
