"""``ContainerReader`` of the fastavro backend: ``rust/src/container/reader.rs`` and
``rust/src/py/container_reader.rs`` in Python, with the same checks, messages and offsets.

fastavro's ``reader``/``block_reader`` cannot serve here as they are: they decompress without
a bound, read lengths from the file without checking them, report no offsets and give no raw
record bytes. So the framing is done here and fastavro reads the records (through the
backend's ``Schema``, after the same validation as the Rust decoder)."""

from __future__ import annotations

import contextlib
import threading
from collections import deque
from collections.abc import Iterator
from typing import Any, Final, Literal

from ..errors import ConfigError, ContainerError, ContainerIOError, DecodeError, SchemaError
from ..schema import min_size
from . import transcode, wirecheck
from .container_blocks import (
    DEFAULT_MAX_BLOCK_BYTES,
    Blocks,
    Fail,
    describe,
    open_source,
)
from .exceptions import decode_error
from .resolve import build_plan
from .schema_api import Schema, deep_recursion

__all__ = ["ContainerReader"]

#: Most zero-byte records a block may claim (``wire::DEFAULT_MAX_ZERO_BYTE_ITEMS``).
_MAX_ITEMS_WITHOUT_BYTES: Final = wirecheck.DEFAULT_MAX_ZERO_BYTE_ITEMS


def _check_count(least: int, index: int, offset: int, count: int, size: int) -> None:
    fits = count <= size // least if least > 0 else count <= _MAX_ITEMS_WITHOUT_BYTES
    if not fits:
        message = f"block count {count} exceeds what its {size} bytes of data can hold"
        raise Fail(message, offset, index)


def _check_consumed(index: int, offset: int, count: int, used: int, size: int) -> None:
    if used != size:
        message = f"{size - min(used, size)} bytes follow the block's {count} records"
        raise Fail(message, offset, index)


def _record_fail(index: int, offset: int, record: int, error: DecodeError) -> Fail:
    fail = Fail(error.message, offset, index)
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
        f, shown, start, end, owned = open_source(source, name)
        self._owned = owned
        self._blocks: Blocks | None = Blocks(f, shown, start, end, max_block_bytes)
        self._name = shown
        self._lock = threading.Lock()
        self._queue: deque[Any] = deque()
        blocks = self._blocks
        with self._failures(closing=True):
            blocks.read_header()
            text = blocks.get("avro.schema")
            if text is None:
                raise Fail("the header has no avro.schema entry", 0)
            try:
                schema_text = text.decode("utf-8")
            except UnicodeDecodeError:
                raise Fail("the header's avro.schema is not UTF-8", 0) from None
        try:
            self._writer = Schema(schema_text, validate_defaults=False)
        except SchemaError as exc:
            self._close_file()
            message = f"the header's avro.schema does not parse: {exc}"
            error = ContainerError(
                describe(shown, message, start + 4, None, None),
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
        except Fail as fail:
            if closing:
                self._close_file()
            error = ContainerError(
                describe(self._name, fail.message, fail.offset, fail.block, fail.record),
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

    def _open_blocks(self) -> Blocks:
        if self._blocks is None:
            raise ContainerIOError("I/O operation on a closed ContainerReader")
        return self._blocks

    @contextlib.contextmanager
    def _using(self) -> Iterator[Blocks]:
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
        # The block is one call: its records share one budget of zero-byte items.
        budget = wirecheck.ItemBudget()
        for record in range(count):
            try:
                end = transcode.skip_datum(root, data, pos, budget)
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
        budget = wirecheck.ItemBudget()
        for record, datum in enumerate(datums):
            try:
                out.append(transcode.transcode(plan, datum, budget))
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

    def _python_failure(self, index: int, offset: int, record: int, cause: BaseException) -> Fail:
        fail = Fail(f"cannot decode: {cause}", offset, index)
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
