"""``ContainerReader`` of the fastavro backend: ``rust/src/container/reader.rs`` and
``rust/src/py/container_reader.rs`` in Python, with the same checks, messages and offsets.

fastavro's ``reader``/``block_reader`` cannot serve here as they are: they decompress without
a bound, read lengths from the file without checking them, report no offsets and give no raw
record bytes. So the framing is done here and fastavro reads the records (through the
backend's ``Schema``, after the same validation as the Rust decoder)."""

from __future__ import annotations

import contextlib
import io
import os
import threading
from collections import deque
from collections.abc import Iterator
from typing import Any, BinaryIO, Final, Literal

from ..errors import ConfigError, ContainerError, ContainerIOError, DecodeError, SchemaError
from . import container_codecs as codecs
from . import transcode, wirecheck
from .api import Schema, decode_error, deep_recursion
from .resolve import build_plan
from .schema import min_size

__all__ = ["DEFAULT_MAX_BLOCK_BYTES", "MAGIC", "SYNC_SIZE", "ContainerReader"]

MAGIC: Final = b"Obj\x01"
SYNC_SIZE: Final = 16
DEFAULT_MAX_BLOCK_BYTES: Final = 64 << 20
_MAX_METADATA_ENTRIES: Final = 4096
#: Most zero-byte records a block may claim (``wire::MAX_ITEMS_WITHOUT_BYTES``).
_MAX_ITEMS_WITHOUT_BYTES: Final = wirecheck.MAX_ITEMS_WITHOUT_BYTES
_CHUNK: Final = 1 << 20


class _Fail(Exception):
    """A container error before the file name is added (``ContainerError`` in Rust)."""

    def __init__(self, message: str, offset: int, block: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset
        self.block = block
        self.record: int | None = None
        self.path: str | None = None
        self.cause: BaseException | None = None


def _describe(name: str, message: str, offset: int, block: int | None, record: int | None) -> str:
    where = f"block {block} at byte {offset}: " if block is not None else f"byte {offset}: "
    what = f"record {record}: " if record is not None else ""
    return f"{name}: {where}{what}{message}"


def _truncated(what: str, needed: int, at: int, block: int | None) -> _Fail:
    return _Fail(f"truncated file: {what} needs {needed} more bytes than the file has", at, block)


def _open(source: Any, name: str | None) -> tuple[BinaryIO, str, int, int | None, bool]:
    """(file, name, start offset, length when known, whether we opened it)."""
    if isinstance(source, str) or hasattr(source, "__fspath__"):
        path = os.fsdecode(os.fspath(source))
        shown = name if name is not None else path
        try:
            f = open(path, "rb")  # noqa: SIM115 - closed by close()
        except OSError as exc:
            raise io_error(exc, f"cannot open the file: {exc.strerror or exc}", shown, 0) from exc
        size = os.fstat(f.fileno()).st_size if os.path.isfile(path) else None
        return f, shown, 0, size, True
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
        return io.BytesIO(data), name if name is not None else "<bytes>", 0, len(data), False
    if hasattr(source, "read"):
        given = name if name is not None else getattr(source, "name", None)
        shown = given if isinstance(given, str) else "<stream>"
        try:
            seekable = bool(source.seekable())
        except Exception:
            seekable = False
        if seekable:
            start = int(source.tell())
            end = int(source.seek(0, 2))
            source.seek(start, 0)
            return source, shown, start, end, False
        return source, shown, 0, None, False
    raise TypeError(
        f"cannot read a container file from {type(source).__name__}: give a path, bytes or a "
        "binary file object"
    )


def io_error(exc: BaseException, message: str, name: str, offset: int) -> ContainerIOError:
    text = f"{name}: byte {offset}: {message}"
    errno = exc.errno if isinstance(exc, OSError) else None
    error = ContainerIOError(errno, text) if errno is not None else ContainerIOError(text)
    error.filename = name
    return error


class _Blocks:
    """The file's framing: ``BlockReader`` of reader.rs."""

    def __init__(self, f: BinaryIO, name: str, start: int, end: int | None, limit: int) -> None:
        self.f = f
        self.name = name
        self.pos = start
        self.end = end
        self.limit = limit
        self.next_index = 0
        self.done = False
        self.metadata: list[tuple[str, bytes]] = []
        self.codec = "null"
        self.sync = b""
        self.header_end = start
        self.start = start

    def read(self, n: int, what: str, block: int | None) -> bytes:
        at = self.pos
        parts: list[bytes] = []
        got = 0
        while got < n:
            try:
                chunk = self.f.read(min(n - got, _CHUNK))
            except Exception as exc:
                raise io_error(exc, f"cannot read {what}: {exc}", self.name, at) from exc
            if not chunk:
                self.pos += got
                raise _truncated(what, n - got, at, block)
            parts.append(chunk)
            got += len(chunk)
        self.pos += n
        return parts[0] if len(parts) == 1 else b"".join(parts)

    def read_long(self, what: str, block: int | None) -> int | None:
        at = self.pos
        value = shift = 0
        while True:
            try:
                byte = self.f.read(1)
            except Exception as exc:
                raise io_error(exc, f"cannot read {what}: {exc}", self.name, at) from exc
            if not byte:
                if shift == 0:
                    return None
                raise _truncated(what, 1, at, block)
            self.pos += 1
            b = byte[0]
            if shift == 63 and b > 1:
                raise _Fail(f"{what} is a varint longer than 10 bytes", at, block)
            value |= (b & 0x7F) << shift
            if b & 0x80 == 0:
                return (value >> 1) ^ -(value & 1)
            shift += 7

    def require_long(self, what: str, block: int | None) -> int:
        at = self.pos
        value = self.read_long(what, block)
        if value is None:
            raise _truncated(what, 1, at, block)
        return value

    def checked_len(self, n: int, what: str, limit: int | None, at: int, block: int | None) -> int:
        if n < 0:
            raise _Fail(f"{what} has a negative size {n}", at, block)
        if limit is not None and n > limit:
            raise _Fail(
                f"{what} of {n} bytes exceeds the limit of {self.limit} bytes (max_block_bytes)",
                at,
                block,
            )
        if self.end is not None:
            left = max(self.end - self.pos, 0)
            if n > left:
                raise _Fail(
                    f"{what} of {n} bytes exceeds the {left} bytes left in the file", at, block
                )
        return n

    def read_header(self) -> None:
        start = self.pos
        try:
            magic = self.read(4, "the 4-byte magic", None)
        except _Fail:
            raise _Fail(
                "not an Avro object container file: shorter than its 4-byte magic", start
            ) from None
        if magic != MAGIC:
            raise _Fail(
                "not an Avro object container file: it starts with "
                f'{magic.hex()}, not 4f626a01 ("Obj\\x01")',
                start,
            )
        budget = self.limit
        entries = 0
        while True:
            at = self.pos
            count = self.require_long("the header's metadata count", None)
            if count == 0:
                break
            if count < 0:
                if count == -(1 << 63):
                    raise _Fail(f"invalid metadata count {count}", at)
                count = -count
                self.require_long("the header's metadata block size", None)
            for _ in range(count):
                entries += 1
                if entries > _MAX_METADATA_ENTRIES:
                    raise _Fail(
                        f"the header has more than {_MAX_METADATA_ENTRIES} metadata entries", at
                    )
                raw_key, budget = self.header_bytes(budget, "a metadata key")
                try:
                    key = raw_key.decode("utf-8")
                except UnicodeDecodeError:
                    raise _Fail("a metadata key is not UTF-8", self.pos) from None
                value, budget = self.header_bytes(budget, "a metadata value")
                self.metadata.append((key, value))
        self.sync = self.read(SYNC_SIZE, "the header's sync marker", None)
        self.header_end = self.pos
        codec = self.get("avro.codec")
        if codec is not None:
            self.codec = codec.decode("utf-8", "replace")
            if self.codec not in codecs.CODECS:
                raise _Fail(
                    f"unknown codec '{self.codec}' (avro.codec); avrobridge reads "
                    + ", ".join(codecs.CODECS),
                    start,
                )

    def header_bytes(self, budget: int, what: str) -> tuple[bytes, int]:
        at = self.pos
        n = self.require_long(what, None)
        if n > budget:
            raise _Fail(f"the header exceeds the limit of {self.limit} bytes (max_block_bytes)", at)
        n = self.checked_len(n, what, None, at, None)
        return self.read(n, what, None), budget - n

    def get(self, key: str) -> bytes | None:
        for k, v in reversed(self.metadata):
            if k == key:
                return v
        return None

    def next_block(self) -> tuple[int, int, int, bytes] | None:
        """(index, offset, record count, decompressed data) of the next block, or None."""
        if self.done:
            return None
        offset, index = self.pos, self.next_index
        count = self.read_long("the block's record count", index)
        if count is None:
            self.done = True
            return None
        if count < 0:
            raise _Fail(f"negative block record count {count}", offset, index)
        size_at = self.pos
        size = self.require_long("the block's size", index)
        stored_limit = self.limit + self.limit // 8 + 1024
        size = self.checked_len(size, "the block", stored_limit, size_at, index)
        data_at = self.pos
        stored = self.read(size, "the block's data", index)
        sync_at = self.pos
        if self.read(SYNC_SIZE, "the block's sync marker", index) != self.sync:
            raise _Fail(
                "the sync marker after the block does not match the header's", sync_at, index
            )
        try:
            data = codecs.decompress(self.codec, stored, self.limit)
        except codecs.TooLarge:
            raise _Fail(
                f"the block decompresses to more than the limit of {self.limit} bytes "
                "(max_block_bytes)",
                data_at,
                index,
            ) from None
        except codecs.Corrupt as exc:
            message = f"cannot decompress the {self.codec} block: {exc}"
            raise _Fail(message, data_at, index) from None
        self.next_index += 1
        return index, offset, count, data

    def seek_block(self, offset: int, index: int) -> None:
        if offset < self.header_end:
            raise ConfigError(
                f"{self.name}: offset {offset} is inside the header, which ends at byte "
                f"{self.header_end}"
            )
        try:
            self.f.seek(offset)
        except Exception as exc:
            raise io_error(exc, f"cannot seek: {exc}", self.name, offset) from exc
        self.pos, self.next_index, self.done = offset, index, False


def _check_count(least: int, index: int, offset: int, count: int, size: int) -> None:
    fits = count <= size // least if least > 0 else count <= _MAX_ITEMS_WITHOUT_BYTES
    if not fits:
        message = f"block count {count} exceeds what its {size} bytes of data can hold"
        raise _Fail(message, offset, index)


def _check_consumed(index: int, offset: int, count: int, used: int, size: int) -> None:
    if used != size:
        message = f"{size - min(used, size)} bytes follow the block's {count} records"
        raise _Fail(message, offset, index)


def _record_fail(index: int, offset: int, record: int, error: DecodeError) -> _Fail:
    fail = _Fail(error.message, offset, index)
    fail.record = record
    fail.path = error.path
    return fail


class ContainerReader:
    """Reads an Avro object container file: its header at once, then block by block."""

    def __init__(
        self,
        source: Any,
        reader_schema: Any = None,
        *,
        max_block_bytes: int = DEFAULT_MAX_BLOCK_BYTES,
        name: str | None = None,
    ) -> None:
        if max_block_bytes < 1:
            raise ConfigError("max_block_bytes must be at least 1")
        reader = None if reader_schema is None else _schema(reader_schema)
        f, shown, start, end, owned = _open(source, name)
        self._owned = owned
        self._blocks: _Blocks | None = _Blocks(f, shown, start, end, max_block_bytes)
        self._name = shown
        self._lock = threading.Lock()
        self._queue: deque[Any] = deque()
        blocks = self._blocks
        with self._failures(closing=True):
            blocks.read_header()
            text = blocks.get("avro.schema")
            if text is None:
                raise _Fail("the header has no avro.schema entry", 0)
            try:
                schema_text = text.decode("utf-8")
            except UnicodeDecodeError:
                raise _Fail("the header's avro.schema is not UTF-8", 0) from None
        try:
            self._writer = Schema(schema_text, validate_defaults=False)
        except SchemaError as exc:
            self._close_file()
            message = f"the header's avro.schema does not parse: {exc}"
            error = ContainerError(
                _describe(shown, message, start + 4, None, None),
                start + 4,
                None,
                None,
                shown,
                None,
            )
            raise error from exc
        self._reader = reader
        self._least = min_size(self._writer._parsed.root)
        self._plan = (
            None if reader is None else build_plan(self._writer._parsed.root, reader._parsed.root)
        )
        self._metadata = list(blocks.metadata)
        self._codec = blocks.codec
        self._sync = blocks.sync

    @contextlib.contextmanager
    def _failures(self, closing: bool = False) -> Iterator[None]:
        try:
            yield
        except _Fail as fail:
            if closing:
                self._close_file()
            error = ContainerError(
                _describe(self._name, fail.message, fail.offset, fail.block, fail.record),
                fail.offset,
                fail.path,
                fail.record,
                self._name,
                fail.block,
            )
            raise error from fail.cause
        except ContainerIOError:
            if closing:
                self._close_file()
            raise

    def _close_file(self) -> None:
        if self._blocks is not None and self._owned:
            self._blocks.f.close()
        self._blocks = None

    def _open_blocks(self) -> _Blocks:
        if self._blocks is None:
            raise ContainerIOError("I/O operation on a closed ContainerReader")
        return self._blocks

    @contextlib.contextmanager
    def _using(self) -> Iterator[_Blocks]:
        if not self._lock.acquire(blocking=False):
            raise ContainerIOError("the ContainerReader is being used by another thread")
        try:
            with self._failures():
                if self._writer._parsed.recursive or (
                    self._reader is not None and self._reader._parsed.recursive
                ):
                    with deep_recursion():
                        yield self._open_blocks()
                else:
                    yield self._open_blocks()
        finally:
            self._lock.release()

    @property
    def name(self) -> str:
        return self._name

    @property
    def schema(self) -> Schema:
        return self._writer

    @property
    def reader_schema(self) -> Schema | None:
        return self._reader

    @property
    def codec(self) -> str:
        return self._codec

    @property
    def metadata(self) -> dict[str, bytes]:
        return dict(self._metadata)

    @property
    def sync_marker(self) -> bytes:
        return self._sync

    @property
    def position(self) -> int:
        return self._open_blocks().pos

    @property
    def block_index(self) -> int:
        return self._open_blocks().next_index

    @property
    def closed(self) -> bool:
        return self._blocks is None

    def _split(self, index: int, offset: int, count: int, data: bytes) -> list[bytes]:
        """Each record's bytes, validated as the transcoder validates (``record_ends``)."""
        root = self._writer._parsed.root
        _check_count(self._least, index, offset, count, len(data))
        out: list[bytes] = []
        pos = 0
        for record in range(count):
            try:
                end = transcode.skip_datum(root, data, pos)
            except wirecheck.WireError as exc:
                exc.offset -= pos
                raise _record_fail(index, offset, record, decode_error(exc, None)) from None
            out.append(data[pos:end])
            pos = end
        _check_consumed(index, offset, count, pos, len(data))
        return out

    def _resolve(self, index: int, offset: int, datums: list[bytes]) -> list[bytes]:
        plan = self._plan
        assert plan is not None
        out: list[bytes] = []
        for record, datum in enumerate(datums):
            try:
                out.append(transcode.transcode(plan, datum))
            except wirecheck.WireError as exc:
                raise _record_fail(index, offset, record, decode_error(exc, None)) from None
        return out

    def _records(self, index: int, offset: int, count: int, data: bytes) -> list[Any]:
        if self._reader is not None:
            resolved = self._resolve(index, offset, self._split(index, offset, count, data))
            return [
                self._decode(self._reader, index, offset, record, datum)
                for record, datum in enumerate(resolved)
            ]
        writer = self._writer
        root = writer._parsed.root
        _check_count(self._least, index, offset, count, len(data))
        out: list[Any] = []
        pos = 0
        for record in range(count):
            try:
                end = wirecheck.datum_end(root, data, pos)
            except wirecheck.WireError as exc:
                exc.offset -= pos
                raise _record_fail(index, offset, record, decode_error(exc, None)) from None
            except wirecheck.PythonFailure as exc:
                raise self._python_failure(index, offset, record, exc.cause) from None
            out.append(self._read(writer, index, offset, record, data[pos:end]))
            pos = end
        _check_consumed(index, offset, count, pos, len(data))
        return out

    def _decode(self, schema: Schema, index: int, offset: int, record: int, datum: bytes) -> Any:
        try:
            wirecheck.check(schema._parsed.root, datum)
        except wirecheck.WireError as exc:
            raise _record_fail(index, offset, record, decode_error(exc, None)) from None
        except wirecheck.PythonFailure as exc:
            raise self._python_failure(index, offset, record, exc.cause) from None
        return self._read(schema, index, offset, record, datum)

    def _read(self, schema: Schema, index: int, offset: int, record: int, datum: bytes) -> Any:
        try:
            return schema._read(datum)
        except Exception as exc:
            raise self._python_failure(index, offset, record, exc) from None

    def _python_failure(self, index: int, offset: int, record: int, cause: BaseException) -> _Fail:
        fail = _Fail(f"cannot decode: {cause}", offset, index)
        fail.record = record
        fail.cause = cause
        return fail

    def _next_records(self) -> list[Any] | None:
        with self._using() as blocks:
            block = blocks.next_block()
            if block is None:
                return None
            return self._records(*block)

    def read_block(self) -> list[Any] | None:
        """The records of the next block (the rest of the current one while iterating), or
        None at the end of the file."""
        if self._queue:
            out = list(self._queue)
            self._queue.clear()
            return out
        return self._next_records()

    def read_block_datums(self) -> tuple[int, int, list[bytes]] | None:
        """``(block index, byte offset of the block, [record bytes])`` for the next block, or
        None at the end of the file."""
        if self._queue:
            raise ConfigError(
                "read_block_datums() in the middle of a block whose records are being iterated"
            )
        with self._using() as blocks:
            block = blocks.next_block()
            if block is None:
                return None
            index, offset, count, data = block
            datums = self._split(index, offset, count, data)
            if self._plan is not None:
                datums = self._resolve(index, offset, datums)
            return index, offset, datums

    def seek_block(self, offset: int, index: int = 0) -> None:
        """Continues at the block at byte ``offset`` (as ``read_block_datums()`` reported),
        which will be numbered ``index``. The source must be seekable."""
        self._queue.clear()
        self._open_blocks().seek_block(offset, index)

    def close(self) -> None:
        """Releases the file (a file object given by the caller stays open)."""
        self._queue.clear()
        self._close_file()

    def __enter__(self) -> ContainerReader:
        return self

    def __exit__(self, *_args: object) -> Literal[False]:
        self.close()
        return False

    def __iter__(self) -> ContainerReader:
        return self

    def __next__(self) -> Any:
        while not self._queue:
            records = self._next_records()
            if records is None:
                raise StopIteration
            self._queue.extend(records)
        return self._queue.popleft()

    def __repr__(self) -> str:
        root = self._writer._parsed.root
        shown = root.name.fullname if root.name is not None else root.kind
        return f"ContainerReader({self._name!r}, codec={self._codec!r}, schema={shown})"


def _schema(obj: Any) -> Schema:
    return obj if isinstance(obj, Schema) else Schema(obj)


ContainerReader.__module__ = "avrobridge._fallback"
