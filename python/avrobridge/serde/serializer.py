"""``AvroSerializer``: confluent-kafka's, with the Avro work done by avrobridge."""

from __future__ import annotations

import functools
import io
import threading
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

from confluent_kafka.schema_registry import (
    RegisteredSchema,
    SchemaRegistryClient,
    prefix_schema_id_serializer,
)
from confluent_kafka.schema_registry import Schema as RegistrySchema
from confluent_kafka.schema_registry.rule_registry import RuleRegistry
from confluent_kafka.schema_registry.serde import (
    BaseSerializer,
    SchemaId,
)
from confluent_kafka.serialization import (
    SerializationContext,
)

from .. import framing
from .._backend import Schema
from .._backend import encode as _encode
from ..errors import (
    EncodeError,
)
from .failures import (
    RegistryFailure,
    SerdeConfigError,
    SerializationFailure,
    data_error,
    registry_call,
)
from .registry_schemas import (
    AVRO,
    SubjectMixin,
    fastavro_schema,
    is_raw_bytes_schema,
    loads_schema,
    parse_schema,
    pop_bool,
    pop_latest_with_metadata,
    pop_subject_name_strategy,
    pop_validation_rules,
    refuse_rules,
    refuse_unknown,
    subject_record_name,
)


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


class AvroSerializer(SubjectMixin, BaseSerializer):
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
            schema = loads_schema(schema_str)
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
        self._auto_register = pop_bool(conf_copy, "auto.register.schemas")
        self._normalize_schemas = pop_bool(conf_copy, "normalize.schemas")
        self._use_schema_id = conf_copy.pop("use.schema.id")
        if self._use_schema_id is not None and not isinstance(self._use_schema_id, int):
            raise ValueError("use.schema.id must be an int value")
        self._use_latest_version = pop_bool(conf_copy, "use.latest.version")
        if self._use_latest_version and self._auto_register:
            raise ValueError("cannot enable both use.latest.version and auto.register.schemas")
        self._use_latest_with_metadata = pop_latest_with_metadata(conf_copy)
        self.configure_subject_name_strategy(**pop_subject_name_strategy(conf_copy))
        self._schema_id_serializer = conf_copy.pop("schema.id.serializer")
        if not callable(self._schema_id_serializer):
            raise ValueError("schema.id.serializer must be callable")
        self._strict = pop_bool(conf_copy, "validate.strict")
        self._strict_allow_default = pop_bool(conf_copy, "validate.strict.allow.default")
        pop_validation_rules(conf_copy)
        refuse_unknown(conf_copy)

        self._schema = schema
        self._writer: Schema | None = None
        self._record_name: str | None = None
        if schema is not None:
            self._writer = parse_schema(schema_registry_client, schema, "the writer schema")
            self._record_name = subject_record_name(self._writer)
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
            raise data_error(SerializationFailure, exc) from None
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
            registered = registry_call(
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
                registered = registry_call(
                    f"registering the schema under {subject!r}",
                    lambda: self._registry.register_schema_full_response(
                        subject, schema, normalize_schemas=self._normalize_schemas
                    ),
                )
            else:
                registered = registry_call(
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
            refuse_rules(registered.schema, what)
            writer = parse_schema(self._registry, registered.schema, what)
            plan = self._make_plan(writer, registered.schema, registered)
            self._latest_plans[key] = plan
        return plan

    def _make_plan(
        self, writer: Schema, registry_schema: RegistrySchema, registered: RegisteredSchema
    ) -> _WritePlan:
        schema_id = SchemaId(AVRO, registered.schema_id, registered.guid)
        encode: Callable[[Any], bytes]
        if is_raw_bytes_schema(writer):
            encode = _raw_bytes_encode
        elif self._strict or self._strict_allow_default:
            encode = self._fastavro_encoder(registry_schema)
        else:
            encode = functools.partial(_encode, writer)
        prefix = None
        if self._schema_id_serializer is prefix_schema_id_serializer:
            if registered.schema_id is None:
                raise RegistryFailure("the registry gave the schema no id")
            prefix = framing.prefix(registered.schema_id)
        return _WritePlan(writer, schema_id, encode, prefix)

    def _fastavro_encoder(self, schema: RegistrySchema) -> Callable[[Any], bytes]:
        from fastavro import schemaless_writer

        parsed = fastavro_schema(self._registry, schema)
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
