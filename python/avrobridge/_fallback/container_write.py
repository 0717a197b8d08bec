"""``ContainerWriter`` of the fastavro backend: ``rust/src/container/writer.rs`` and
``rust/src/py/container_writer.rs`` in Python. Records are encoded by the backend (fastavro,
after the same checks as the Rust encoder); the header and blocks are framed here, as
fastavro's writer cannot take already-encoded records or binary metadata."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from typing import Any, BinaryIO, Final, Literal

from .._avro_rules import DEFAULT_BLOCK_SIZE
from ..errors import ConfigError, ContainerIOError
from ..wire import write_long
from . import container_codecs as codecs
from . import transcode, wirecheck
from .api import encode, encode_many
from .container_blocks import MAGIC, SYNC_SIZE, io_error
from .exceptions import decode_error
from .schema_api import Schema, deep_recursion

__all__ = ["DEFAULT_BLOCK_SIZE", "ContainerWriter"]

_RESERVED: Final = "avro."


def _write_bytes(out: bytearray, data: bytes) -> None:
    write_long(out, len(data))
    out += data


def _metadata(metadata: Any) -> list[tuple[str, bytes]]:
    if metadata is None:
        return []
    out = []
    for key, value in metadata.items():
        if not isinstance(key, str):
            raise TypeError(f"metadata key {key!r} is not a str")
        if isinstance(value, (bytes, bytearray, memoryview)):
            out.append((key, bytes(value)))
        elif isinstance(value, str):
            out.append((key, value.encode("utf-8")))
        else:
            raise TypeError(f"metadata value of '{key}' must be bytes or str")
    return out


def _check_level(codec: str, level: int | None) -> None:
    if level is None:
        return
    levels = codecs.LEVELS.get(codec)
    if levels is None:
        raise ConfigError(f"the {codec} codec takes no compression level")
    lo, hi, _ = levels
    if not lo <= level <= hi:
        raise ConfigError(f"compression level {level} is outside the {codec} codec's {lo}..{hi}")


class ContainerWriter:
    """Writes an Avro object container file: the header at once, then blocks of about
    ``block_size`` uncompressed bytes as records are appended."""

    def __init__(
        self,
        sink: Any,
        schema: Any,
        *,
        codec: str = "null",
        compression_level: int | None = None,
        block_size: int = DEFAULT_BLOCK_SIZE,
        metadata: Any = None,
        sync_marker: bytes | None = None,
        name: str | None = None,
    ) -> None:
        self._schema = schema if isinstance(schema, Schema) else Schema(schema)
        if codec not in codecs.CODECS:
            raise ConfigError(f"unknown codec '{codec}': use {', '.join(codecs.CODECS)}")
        # Every argument is checked before the file is created (or truncated).
        _check_level(codec, compression_level)
        if block_size < 1:
            raise ConfigError("block_size must be at least 1 byte")
        pairs = _metadata(metadata)
        for key, _ in pairs:
            if key.startswith(_RESERVED):
                raise ConfigError(
                    f"metadata key '{key}' is reserved: keys starting with '{_RESERVED}' are "
                    "set by the writer"
                )
        if sync_marker is None:
            sync = os.urandom(SYNC_SIZE)
        else:
            sync = bytes(sync_marker)
            if len(sync) != SYNC_SIZE:
                raise ConfigError(f"sync_marker must be {SYNC_SIZE} bytes, not {len(sync)}")
        self._f, self._name, self._owned = self._open(sink, name)
        self._codec = codec
        self._level = compression_level
        self._block_size = block_size
        self._sync = sync
        self._pending = bytearray()
        self._ends: list[int] = []
        self._written = 0
        self._records = 0
        self._blocks = 0
        self._closed = False
        self._lock = threading.Lock()
        header = bytearray(MAGIC)
        write_long(header, 2 + len(pairs))
        _write_bytes(header, b"avro.schema")
        _write_bytes(header, self._schema.text.encode("utf-8"))
        _write_bytes(header, b"avro.codec")
        _write_bytes(header, codec.encode())
        for key, value in pairs:
            _write_bytes(header, key.encode("utf-8"))
            _write_bytes(header, value)
        header.append(0)
        header += sync
        self._write(bytes(header), "cannot write the header")
        self._written = len(header)

    @staticmethod
    def _open(sink: Any, name: str | None) -> tuple[BinaryIO, str, bool]:
        if isinstance(sink, str) or hasattr(sink, "__fspath__"):
            path = os.fsdecode(os.fspath(sink))
            shown = name if name is not None else path
            try:
                return open(path, "wb", buffering=0), shown, True
            except OSError as exc:
                message = f"cannot create the file: {exc.strerror or exc}"
                raise io_error(exc, message, shown, 0) from exc
        if hasattr(sink, "write"):
            given = name if name is not None else getattr(sink, "name", None)
            return sink, given if isinstance(given, str) else "<stream>", False
        raise TypeError(
            f"cannot write a container file to {type(sink).__name__}: give a path or a binary "
            "file object"
        )

    def _write(self, data: bytes, what: str) -> None:
        view = memoryview(data)
        try:
            while view:
                n = self._f.write(view)
                view = view[len(view) if n is None else n :]
        except Exception as exc:
            raise io_error(exc, f"{what}: {exc}", self._name, self._written) from exc

    @contextmanager
    def _using(self) -> Iterator[None]:
        if not self._lock.acquire(blocking=False):
            raise ContainerIOError("the ContainerWriter is being used by another thread")
        try:
            if self._closed:
                raise ContainerIOError("I/O operation on a closed ContainerWriter")
            yield
        finally:
            self._lock.release()

    def _write_blocks(self, everything: bool) -> None:
        head = first = 0
        try:
            for i, end in enumerate(self._ends):
                if end - head >= self._block_size:
                    self._write_block(head, end, i + 1 - first)
                    head, first = end, i + 1
            if everything and first < len(self._ends):
                end = len(self._pending)
                self._write_block(head, end, len(self._ends) - first)
                head, first = end, len(self._ends)
        finally:
            # Keep only what was not written, even after an error: nothing is written twice.
            del self._pending[:head]
            self._ends = [e - head for e in self._ends[first:]]

    def _write_block(self, start: int, end: int, count: int) -> None:
        stored = codecs.compress(self._codec, self._level, bytes(self._pending[start:end]))
        frame = bytearray()
        write_long(frame, count)
        write_long(frame, len(stored))
        frame += stored
        frame += self._sync
        self._write(bytes(frame), "cannot write a block")
        self._written += len(frame)
        self._records += count
        self._blocks += 1

    def _append(self, datums: list[bytes]) -> None:
        for datum in datums:
            self._pending += datum
            self._ends.append(len(self._pending))
        if len(self._pending) >= self._block_size:
            self._write_blocks(False)

    @property
    def name(self) -> str:
        return self._name

    @property
    def schema(self) -> Schema:
        return self._schema

    @property
    def codec(self) -> str:
        return self._codec

    @property
    def sync_marker(self) -> bytes:
        return self._sync

    @property
    def block_size(self) -> int:
        return self._block_size

    def _open_check(self) -> None:
        if self._closed:
            raise ContainerIOError("I/O operation on a closed ContainerWriter")

    @property
    def records(self) -> int:
        """Records appended so far (written or pending)."""
        self._open_check()
        return self._records + len(self._ends)

    @property
    def bytes_written(self) -> int:
        """Bytes written to the file so far (header and complete blocks)."""
        self._open_check()
        return self._written

    @property
    def blocks_written(self) -> int:
        self._open_check()
        return self._blocks

    @property
    def pending_bytes(self) -> int:
        self._open_check()
        return len(self._pending)

    @property
    def closed(self) -> bool:
        return self._closed

    def write(self, record: Any) -> None:
        """Appends one record."""
        with self._using():
            self._append([encode(self._schema, record)])

    def write_many(self, records: Any) -> None:
        """Appends many records: all of them, or (when one cannot be encoded) none, raising
        the ``EncodeError`` of the first bad one with its ``index``."""
        with self._using():
            self._append(encode_many(self._schema, records))

    def write_datums(self, datums: Any) -> None:
        """Appends records given as their Avro encoding in the writer schema; each is
        validated first: all are appended, or none, raising the ``DecodeError`` of the
        first bad one."""
        items: list[bytes] = []
        for i, item in enumerate(datums):
            if not isinstance(item, (bytes, bytearray)):
                raise TypeError(f"item {i} is not bytes")
            items.append(bytes(item))
        parsed = self._schema._parsed
        budget = wirecheck.ItemBudget()  # the call's records share one budget
        with self._using(), deep_recursion() if parsed.recursive else nullcontext():
            for index, datum in enumerate(items):
                try:
                    end = transcode.skip_datum(parsed.root, datum, 0, budget)
                    if end != len(datum):
                        raise wirecheck.WireError(
                            f"{len(datum) - end} trailing bytes after the datum", end
                        )
                except wirecheck.WireError as exc:
                    error = decode_error(exc, index)
                    raise error from None
            self._append(items)

    def flush(self) -> None:
        """Writes the pending records as a block and flushes the file."""
        with self._using():
            self._write_blocks(True)
            self._flush_file()

    def _flush_file(self) -> None:
        try:
            self._f.flush()
        except Exception as exc:
            raise io_error(exc, f"cannot flush: {exc}", self._name, self._written) from exc

    def fsync(self) -> None:
        """``flush()``, then makes the file durable (``os.fsync`` of its ``fileno()``)."""
        with self._using():
            self._write_blocks(True)
            self._flush_file()
            try:
                os.fsync(self._f.fileno())
            except Exception as exc:
                raise io_error(exc, f"cannot fsync: {exc}", self._name, self._written) from exc

    def close(self) -> None:
        """Flushes and, for a path, closes the file (a file object given by the caller stays
        open). Closing twice is allowed."""
        if self._closed:
            return
        self.flush()
        self._closed = True
        if self._owned:
            self._f.close()

    def __enter__(self) -> ContainerWriter:
        return self

    def __exit__(self, *_args: object) -> Literal[False]:
        self.close()
        return False

    def __repr__(self) -> str:
        return f"ContainerWriter({self._name!r}, codec={self._codec!r})"


ContainerWriter.__module__ = "avrobridge._fallback"
