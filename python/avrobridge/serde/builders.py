"""confluent-kafka's experimental ``*.serializer.builder`` properties."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar, cast

from confluent_kafka.schema_registry import Schema as RegistrySchema
from confluent_kafka.schema_registry import (
    SchemaRegistryClient,
)
from confluent_kafka.schema_registry.rule_registry import RuleRegistry
from confluent_kafka.schema_registry.serde import (
    build_serde,
)
from confluent_kafka.serialization import (
    DeserializerBuilder,
    SerializationContext,
    SerializerBuilder,
)

from .deserializer import AvroDeserializer, RecordType
from .serializer import AvroSerializer

S = TypeVar("S", AvroSerializer, AvroDeserializer)


class _Builder(Generic[S]):
    """What both builders do: `build_serde` (the registry client made from its configuration
    when none is given, owned by the serde) around a constructor given that client."""

    def __init__(
        self,
        client: SchemaRegistryClient | None,
        config: dict[str, Any] | None,
        construct: Callable[[SchemaRegistryClient], S],
        init: Callable[[S], None] | None,
    ) -> None:
        self._client = client
        self._config = config
        self._construct: Callable[[SchemaRegistryClient], S] = construct
        self._init: Callable[[S], None] | None = init

    def build(self, conf: dict[str, Any], is_key: bool) -> tuple[S, dict[str, Any]]:
        serde = build_serde(
            self._client,
            self._config,
            lambda client: self._construct(cast(SchemaRegistryClient, client)),
            self._init,
        )
        return serde, dict(conf)


class AvroSerializerBuilder(_Builder[AvroSerializer], SerializerBuilder):
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
        super().__init__(
            schema_registry_client,
            schema_registry_config,
            lambda client: AvroSerializer(
                client, schema, to_dict, serializer_config, rule_config, rule_registry
            ),
            serializer_init,
        )


class AvroDeserializerBuilder(_Builder[AvroDeserializer], DeserializerBuilder):
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
        super().__init__(
            schema_registry_client,
            schema_registry_config,
            lambda client: AvroDeserializer(
                client,
                schema,
                from_dict,
                return_record_name,
                deserializer_config,
                rule_config,
                rule_registry,
                record_type=record_type,
            ),
            deserializer_init,
        )
