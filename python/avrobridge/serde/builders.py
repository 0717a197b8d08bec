"""confluent-kafka's experimental ``*.serializer.builder`` properties."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

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
