"""Registry schemas as the serializers use them: text, references, Data Contract rules,
the avrobridge and fastavro schemas, configuration checks and the subject name lookup."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, cast

from confluent_kafka.schema_registry import Schema as RegistrySchema
from confluent_kafka.schema_registry import (
    SchemaRegistryClient,
    record_subject_name_strategy,
    topic_record_subject_name_strategy,
    topic_subject_name_strategy,
)
from confluent_kafka.schema_registry.serde import (
    AssociatedNameStrategy,
)
from confluent_kafka.serialization import (
    SerializationContext,
    SerializationError,
)

from .._backend import Schema
from ..errors import (
    AvroBridgeError,
    SchemaError,
)
from .failures import SchemaFailure, SerdeConfigError, registry_call, registry_failure

AVRO = "AVRO"
NAMED_TYPES = frozenset({"record", "error", "enum", "fixed"})
#: Strategies whose answer depends only on (topic, key/value, record name): memoized.
_PURE_STRATEGIES = (
    topic_subject_name_strategy,
    topic_record_subject_name_strategy,
    record_subject_name_strategy,
)
_MISSING: Any = object()


def _schema_text(schema: RegistrySchema) -> str:
    text = schema.schema_str
    if text is None:
        raise SchemaFailure("the schema has no text")
    text = text.strip()
    # As confluent-kafka's _schema_loads: a bare primitive name is wrapped in an object.
    if text and text[0] not in "{[":
        text = '{"type":' + text + "}"
    return text


def loads_schema(text: str) -> RegistrySchema:
    """A schema string as confluent-kafka's ``_schema_loads`` makes it a registry Schema."""
    return RegistrySchema(_schema_text(RegistrySchema(text, AVRO)), AVRO)


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
        registered = registry_call(
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


def parse_schema(client: SchemaRegistryClient | None, schema: RegistrySchema, what: str) -> Schema:
    """The avrobridge schema of a registry schema (references resolved through ``client``)."""
    if (schema.schema_type or AVRO) != AVRO:
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


def refuse_rules(schema: RegistrySchema | None, what: str, *, migration: bool = False) -> None:
    if _has_rules(schema, migration=migration):
        raise SerdeConfigError(
            f"{what} has a Data Contract rule set; avrobridge.serde does not run rules "
            "(CSFLE, transforms, conditions, migrations): use confluent-kafka's serializers"
        )


def subject_record_name(schema: Schema) -> str | None:
    """The record name confluent-kafka hands to the subject name strategy for ``schema``."""
    kind = schema.type
    if kind in NAMED_TYPES:
        return schema.name
    if kind == "union":
        return None
    return kind


def fastavro_schema(client: SchemaRegistryClient | None, schema: RegistrySchema) -> Any:
    """fastavro's parsed schema, made as confluent-kafka makes it (for the fastavro paths)."""
    from confluent_kafka.schema_registry._sync.avro import _resolve_named_schema
    from confluent_kafka.schema_registry.common.avro import parse_schema_with_repo

    named = _resolve_named_schema(schema, cast(SchemaRegistryClient, client))
    return parse_schema_with_repo(_schema_text(schema), named_schemas=named)


def is_raw_bytes_schema(schema: Schema) -> bool:
    # confluent-kafka writes and reads a top-level "bytes" schema as the raw payload.
    return schema.type == "bytes"


def pop_bool(conf: dict[str, Any], key: str) -> bool:
    value = conf.pop(key)
    if not isinstance(value, bool):
        raise ValueError(f"{key} must be a boolean value")
    return value


def pop_latest_with_metadata(conf: dict[str, Any]) -> dict[str, Any] | None:
    value = conf.pop("use.latest.with.metadata")
    if value is not None and not isinstance(value, dict):
        raise ValueError("use.latest.with.metadata must be a dict value")
    return value


def pop_subject_name_strategy(conf: dict[str, Any]) -> dict[str, Any]:
    """The ``subject.name.strategy*`` properties, as ``configure_subject_name_strategy``'s
    arguments."""
    return {
        "subject_name_strategy_type": conf.pop("subject.name.strategy.type"),
        "subject_name_strategy_conf": conf.pop("subject.name.strategy.conf"),
        "subject_name_strategy": conf.pop("subject.name.strategy"),
    }


def refuse_unknown(conf: dict[str, Any]) -> None:
    """What is left of a configuration once every known property was taken: an error."""
    if conf:
        raise ValueError("Unrecognized properties: {}".format(", ".join(conf.keys())))


def pop_validation_rules(conf: dict[str, Any]) -> None:
    execution = conf.pop("validation.rules.execution", "DISABLED")
    conf.pop("validation.rules.fail.fast", None)
    conf.pop("validation.rules.executor", None)
    if str(getattr(execution, "value", execution)).upper() != "DISABLED":
        raise SerdeConfigError(
            "validation.rules.execution is not supported by avrobridge.serde "
            "(inline validation rules are not run); leave it DISABLED"
        )


class SubjectMixin:
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
            raise registry_failure("subject name lookup", exc) from exc
        if key is not None and memo is not None:
            if len(memo) > 10_000:
                memo.clear()
            memo[key] = subject
        return cast("str | None", subject)
