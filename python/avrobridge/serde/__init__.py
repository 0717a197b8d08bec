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

from .builders import AvroDeserializerBuilder, AvroSerializerBuilder
from .deserializer import AvroDeserializer
from .failures import (
    DeserializationFailure,
    FramingFailure,
    RegistryFailure,
    ResolutionFailure,
    SchemaFailure,
    SerdeConfigError,
    SerializationFailure,
)
from .serializer import AvroSerializer

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
