"""avrobridge: move Avro records between Kafka topics and re-encode them into a target schema.

This module is the single import path of the public API. The codec comes from one of two
backends with identical behaviour: the Rust extension ``avrobridge._native`` ("native") or
the fastavro twin ``avrobridge._fallback`` ("fastavro"). ``AVROBRIDGE_BACKEND`` picks one:
``auto`` (default: native, falling back to fastavro when the extension cannot be imported),
``native`` (ImportError when it is missing) or ``fastavro``.
"""

from __future__ import annotations

# The codec's names, as the selected backend exports them (one list, in _backend.py).
from ._backend import (
    BACKEND,
    DEFAULT_MAX_ZERO_BYTE_ITEMS,
    ContainerReader,
    ContainerWriter,
    Schema,
    Transcoder,
    decode,
    decode_many,
    encode,
    encode_many,
)
from ._version import __version__
from .compat import (
    Compatibility,
    CompatibilityLevel,
    Incompatibility,
    check_compatibility,
    check_level,
)
from .errors import (
    AvroBridgeError,
    ConfigError,
    ContainerError,
    ContainerIOError,
    DecodeError,
    EncodeError,
    FramingError,
    RegistryError,
    SchemaError,
    SchemaResolutionError,
)

__all__ = [
    "BACKEND",
    "DEFAULT_MAX_ZERO_BYTE_ITEMS",
    "AvroBridgeError",
    "Compatibility",
    "CompatibilityLevel",
    "ConfigError",
    "ContainerError",
    "ContainerIOError",
    "ContainerReader",
    "ContainerWriter",
    "DecodeError",
    "EncodeError",
    "FramingError",
    "Incompatibility",
    "RegistryError",
    "Schema",
    "SchemaError",
    "SchemaResolutionError",
    "Transcoder",
    "__version__",
    "check_compatibility",
    "check_level",
    "decode",
    "decode_many",
    "encode",
    "encode_many",
]
