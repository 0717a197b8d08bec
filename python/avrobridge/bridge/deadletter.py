"""Dead-letter records: the original key, value and headers, untouched, plus Kafka Connect's
`__connect.errors.*` context headers."""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import RegistryError

Headers = list[tuple[str, bytes]]

#: Kafka Connect's stages (org.apache.kafka.connect.runtime.errors.Stage).
KEY_CONVERTER = "KEY_CONVERTER"
VALUE_CONVERTER = "VALUE_CONVERTER"
TRANSFORMATION = "TRANSFORMATION"

_PREFIX = "__connect.errors."
#: Ours, beside Connect's: the schema registry's error code behind a failure.
REGISTRY_ERROR_CODE = "__avrobridge.errors.registry.error.code"
#: A message is cut here: headers are not the place for megabytes of text.
_MAX_MESSAGE = 4000


@dataclass(frozen=True)
class Failure:
    """Why one record could not be converted."""

    stage: str
    exception_class: str
    message: str
    #: Confluent's error code, when a schema registry refused (e.g. 409 incompatible: 409,
    #: read-only mode: 42205), or had no such schema (40403).
    registry_error_code: int | None = None

    @classmethod
    def from_exception(cls, stage: str, exc: BaseException) -> Failure:
        kind = type(exc)
        code = exc.error_code if isinstance(exc, RegistryError) else None
        return cls(stage, f"{kind.__module__}.{kind.__qualname__}", str(exc), code)

    @property
    def short_class(self) -> str:
        return self.exception_class.rsplit(".", 1)[-1]


def context_headers(
    failure: Failure,
    topic: str,
    partition: int,
    offset: int,
    connector: str,
    task: int = 0,
) -> Headers:
    """Kafka Connect's error context headers (values are UTF-8 text, as Connect writes)."""
    message = failure.message
    if len(message) > _MAX_MESSAGE:
        message = message[:_MAX_MESSAGE] + "…"
    pairs = [
        ("topic", topic),
        ("partition", str(partition)),
        ("offset", str(offset)),
        ("connector.name", connector),
        ("task.id", str(task)),
        ("stage", failure.stage),
        ("class.name", "avrobridge.bridge.Bridge"),
        ("exception.class.name", failure.exception_class),
        ("exception.message", message),
    ]
    headers = [(_PREFIX + k, v.encode()) for k, v in pairs]
    if failure.registry_error_code is not None:
        headers.append((REGISTRY_ERROR_CODE, str(failure.registry_error_code).encode()))
    return headers
