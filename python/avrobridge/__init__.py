"""avrobridge: move Avro records between Kafka topics and re-encode them into a target schema.

This module is the single import path of the public API. The codec comes from one of two
backends with identical behaviour: the Rust extension ``avrobridge._native`` ("native") or
the fastavro twin ``avrobridge._fallback`` ("fastavro"). ``AVROBRIDGE_BACKEND`` picks one:
``auto`` (default: native, falling back to fastavro when the extension cannot be imported),
``native`` (ImportError when it is missing) or ``fastavro``.
"""

from __future__ import annotations

from ._backend import BACKEND, impl
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

Schema = impl.Schema
encode = impl.encode
decode = impl.decode
encode_many = impl.encode_many
decode_many = impl.decode_many
Transcoder = impl.Transcoder
ContainerReader = impl.ContainerReader
ContainerWriter = impl.ContainerWriter
#: How many items that take no bytes (null, empty records, fixed of size 0) one decode or
#: transcode call may read in total; raise it with ``max_zero_byte_items=``.
DEFAULT_MAX_ZERO_BYTE_ITEMS: int = impl.DEFAULT_MAX_ZERO_BYTE_ITEMS

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
