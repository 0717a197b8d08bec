"""The one exception hierarchy of avrobridge.

Both backends raise exactly these classes: the Rust extension imports them from here
(``pyo3::import_exception!``) and the fastavro fallback wraps fastavro's errors in them.
Data errors also subclass :class:`ValueError` so code written for fastavro keeps working.
Messages say what was wrong and where (byte offset, data path, schema id); they never
contain payload bytes or secrets.
"""

from __future__ import annotations

__all__ = [
    "AvroBridgeError",
    "BridgeError",
    "ConfigError",
    "ContainerError",
    "ContainerIOError",
    "DataError",
    "DecodeError",
    "EncodeError",
    "FramingError",
    "RegistryError",
    "SchemaError",
    "SchemaResolutionError",
]


class AvroBridgeError(Exception):
    """Base class of every error avrobridge raises on purpose."""


class SchemaError(AvroBridgeError, ValueError):
    """An Avro schema is invalid. ``path`` locates the problem inside the schema JSON."""

    def __init__(self, message: str, path: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.path = path


class SchemaResolutionError(AvroBridgeError, ValueError):
    """Data written with one schema cannot be read with another.

    ``messages`` lists every incompatibility found, in Confluent's verbose style.
    """

    def __init__(self, message: str, messages: list[str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.messages: list[str] = list(messages or [])


class DataError(AvroBridgeError, ValueError):
    """A decode or encode error: where in the data, and which batch item (the base of
    :class:`DecodeError` and :class:`EncodeError`)."""

    def __init__(
        self,
        message: str,
        offset: int | None = None,
        path: str | None = None,
        index: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset
        self.path = path
        self.index = index
        # Filled by the *_many functions when they raise: every result of the batch
        # (None where an item failed) and every (index, error) pair.
        self.results: list[object] | None = None
        self.errors: list[tuple[int, DataError]] = []

    def __str__(self) -> str:
        if self.index is None:
            return self.message
        return f"item {self.index}: {self.message}"

    def __reduce__(self) -> tuple[object, ...]:
        return (type(self), (self.message, self.offset, self.path, self.index))


class DecodeError(DataError):
    """Bytes are not a valid Avro encoding of the schema (``offset`` is the byte offset)."""


class EncodeError(DataError):
    """A Python value cannot be encoded with the schema (``path`` names the field)."""


class FramingError(DecodeError):
    """A record is not in the Confluent wire format (magic byte 0 + 4-byte schema id)."""


class ContainerError(DecodeError):
    """An Avro object container file (``.avro``) is malformed, or a record in it does not
    decode. ``file`` names the file, ``offset`` is the byte offset in it (of the bad bytes, or
    of the block holding a bad record), ``block`` the block's index (None in the header),
    ``index`` the record's index within the block and ``path`` the data path inside it."""

    def __init__(
        self,
        message: str,
        offset: int | None = None,
        path: str | None = None,
        index: int | None = None,
        file: str | None = None,
        block: int | None = None,
    ) -> None:
        super().__init__(message, offset, path, index)
        self.file = file
        self.block = block

    def __str__(self) -> str:
        return self.message

    def __reduce__(self) -> tuple[object, ...]:
        return (
            type(self),
            (self.message, self.offset, self.path, self.index, self.file, self.block),
        )


class ContainerIOError(AvroBridgeError, OSError):
    """A container file could not be opened, read, written or synced (also an
    :class:`OSError`, with ``errno`` and ``filename`` where the system gave them; the
    original exception is the ``__cause__``)."""


class ConfigError(AvroBridgeError, ValueError):
    """A setting is invalid; the message names the setting."""


class RegistryError(AvroBridgeError):
    """A schema registry answered with an error or could not be reached.

    ``status`` is the HTTP status (None when unreachable), ``error_code`` Confluent's code.
    """

    def __init__(
        self, message: str, status: int | None = None, error_code: int | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.error_code = error_code


class BridgeError(AvroBridgeError):
    """The bridge stopped: a record it may not skip, or a failure it cannot fix (the message
    says which, and what was committed)."""
