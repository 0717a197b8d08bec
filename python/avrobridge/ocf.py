"""Avro object container files (``.avro``): what Kafka Connect's S3 and HDFS sinks, Spark
and Hive write, and where topic backups are kept.

``ContainerReader`` reads a file block by block: records by iteration or ``read_block()``,
resolved to a reader schema when one is given, or each record's Avro bytes without decoding
(``read_block_datums()``, what a bridge needs). ``ContainerWriter`` appends records, or
already-encoded record bytes (``write_datums()``), and can ``flush()`` and ``fsync()``;
``bytes_written`` and ``records`` tell when to roll to a new file. Both come from the active
backend: on the native one, reading, decompressing, splitting and resolving a block, and
compressing and writing one, run in Rust with the GIL released.

Codecs: ``null``, ``deflate``, ``snappy`` (with its CRC-32 checked), ``zstandard``,
``bzip2`` and ``xz``. A bad file raises :class:`~avrobridge.errors.ContainerError` naming
the file and the byte offset; a failed read or write raises
:class:`~avrobridge.errors.ContainerIOError` (an ``OSError``). Memory stays bounded for any
input: a block (or header) above ``max_block_bytes`` is refused, before it is decompressed
past the limit.

::

    from avrobridge import ocf

    with ocf.ContainerWriter("out.avro", schema, codec="zstandard") as w:
        w.write_many(records)
    with ocf.ContainerReader("out.avro", reader_schema=target) as r:
        for record in r:
            ...
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, Final

# The default block size a writer closes blocks at (Apache Avro Java's), and the largest
# decompressed block (and header) a reader accepts by default.
from ._avro_rules import DEFAULT_BLOCK_SIZE, DEFAULT_MAX_BLOCK_BYTES
from ._backend import impl

__all__ = [
    "CODECS",
    "DEFAULT_BLOCK_SIZE",
    "DEFAULT_MAX_BLOCK_BYTES",
    "ContainerReader",
    "ContainerWriter",
    "datum_blocks",
    "read_records",
    "write_records",
]

ContainerReader = impl.ContainerReader
ContainerWriter = impl.ContainerWriter

#: Every codec avrobridge reads and writes, by its ``avro.codec`` name.
CODECS: Final = ("null", "deflate", "snappy", "zstandard", "bzip2", "xz")


def read_records(source: Any, reader_schema: Any = None, **options: Any) -> list[Any]:
    """Every record of a container file (a path, bytes or a binary file object), resolved to
    ``reader_schema`` when given. ``options`` go to :class:`ContainerReader`."""
    with ContainerReader(source, reader_schema, **options) as reader:
        records: list[Any] = []
        while (block := reader.read_block()) is not None:
            records.extend(block)
        return records


def write_records(sink: Any, schema: Any, records: Iterable[Any], **options: Any) -> int:
    """Writes ``records`` to a new container file (a path, or a binary file object, left
    open) and returns how many were written. ``options`` (``codec``, ``compression_level``,
    ``block_size``, ``metadata``, ``sync_marker``) go to :class:`ContainerWriter`."""
    with ContainerWriter(sink, schema, **options) as writer:
        writer.write_many(records)
        return int(writer.records)


def datum_blocks(reader: Any) -> Iterator[tuple[int, int, list[bytes]]]:
    """``(block index, byte offset, [record bytes])`` for each remaining block of an open
    :class:`ContainerReader`: the records' Avro encoding, resolved to its reader schema
    when it has one, ready for ``Transcoder`` or a Kafka producer."""
    while (block := reader.read_block_datums()) is not None:
        yield block
