"""The fastavro backend of avrobridge: the same API and behaviour as the Rust extension
``avrobridge._native``, in pure Python on top of fastavro.

``schema`` mirrors the Rust schema parser, ``wirecheck`` the byte-level validation of the
Rust decoder, ``codec`` the Rust encoder's checks and union choice; fastavro reads and writes
the bytes once those have passed. Schema resolution is ours too: ``resolve`` builds the
writer -> reader plan of ``rust/src/resolve.rs``, ``transcode`` applies it to bytes as
``rust/src/transcode.rs`` does, and ``compat`` is the Java compatibility check of
``rust/src/compat.rs``. ``container_read``/``container_write`` frame object container files
as ``rust/src/container/`` does (fastavro reads and writes the records).
"""

from __future__ import annotations

from .._version import __version__
from .api import decode, decode_many, encode, encode_many
from .batch import BatchSpec, ConvertedBatch, convert_batch
from .container_codecs import _compress, _decompress
from .container_read import ContainerReader
from .container_write import ContainerWriter
from .schema_api import DEFAULT_MAX_ZERO_BYTE_ITEMS, Schema, _schema_from_parts
from .transcoder_api import Transcoder, reader_writer_incompatibilities

__all__ = [
    "DEFAULT_MAX_ZERO_BYTE_ITEMS",
    "BatchSpec",
    "ContainerReader",
    "ContainerWriter",
    "ConvertedBatch",
    "Schema",
    "Transcoder",
    "__version__",
    "_compress",
    "_decompress",
    "_schema_from_parts",
    "convert_batch",
    "decode",
    "decode_many",
    "encode",
    "encode_many",
    "reader_writer_incompatibilities",
]
