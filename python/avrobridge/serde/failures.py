"""The serializers' errors, in both hierarchies: avrobridge's and confluent-kafka's
``SerializationError``; and the wrapping of codec and registry failures into them."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from confluent_kafka.schema_registry.error import SchemaRegistryError
from confluent_kafka.serialization import (
    SerializationError,
)

from ..errors import (
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

T = TypeVar("T")
E = TypeVar("E", bound=DataError)


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


def data_error(cls: type[E], exc: DecodeError | EncodeError) -> E:
    return cls(exc.message, exc.offset, exc.path, exc.index)


def wrap_decode(exc: AvroBridgeError) -> SerializationError:
    """The serde error for an error of the codec while reading a message."""
    if isinstance(exc, SchemaResolutionError):
        return ResolutionFailure(exc.message, exc.messages)
    if isinstance(exc, FramingError):
        return data_error(FramingFailure, exc)
    if isinstance(exc, DecodeError):
        return data_error(DeserializationFailure, exc)
    return DeserializationFailure(str(exc))


def registry_failure(what: str, exc: Exception) -> RegistryFailure:
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


def registry_call(what: str, fn: Callable[[], T]) -> T:
    try:
        return fn()
    except (SerializationError, AvroBridgeError):
        raise
    except Exception as exc:  # the client raises SchemaRegistryError or transport errors
        raise registry_failure(what, exc) from exc
