"""The framing of object container files for the fastavro backend, as
``rust/src/container/reader.rs`` does it: the header, then each block's record count, stored
size, data and sync marker, every length checked against the bytes left and the limit
before it is read, and the block decompressed within the limit (``container_codecs``)."""

from __future__ import annotations

import io
import os
from typing import Any, BinaryIO, Final

from .._avro_rules import DEFAULT_MAX_BLOCK_BYTES, SYNC_SIZE
from .._avro_rules import MAX_METADATA_ENTRIES as _MAX_METADATA_ENTRIES
from .._avro_rules import STREAM_CHUNK as _CHUNK
from ..errors import ConfigError, ContainerIOError
from . import container_codecs as codecs

__all__ = [
    "DEFAULT_MAX_BLOCK_BYTES",
    "MAGIC",
    "SYNC_SIZE",
    "Blocks",
    "Fail",
    "describe",
    "io_error",
    "open_source",
]

MAGIC: Final = b"Obj\x01"


class Fail(Exception):
    """A container error before the file name is added (``ContainerError`` in Rust)."""

    def __init__(self, message: str, offset: int, block: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset
        self.block = block
        self.record: int | None = None
        self.path: str | None = None
        self.cause: BaseException | None = None


def describe(name: str, message: str, offset: int, block: int | None, record: int | None) -> str:
    where = f"block {block} at byte {offset}: " if block is not None else f"byte {offset}: "
    what = f"record {record}: " if record is not None else ""
    return f"{name}: {where}{what}{message}"


def _truncated(what: str, needed: int, at: int, block: int | None) -> Fail:
    return Fail(f"truncated file: {what} needs {needed} more bytes than the file has", at, block)


def open_source(source: Any, name: str | None) -> tuple[BinaryIO, str, int, int | None, bool]:
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


class Blocks:
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
                raise Fail(f"{what} is a varint longer than 10 bytes", at, block)
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
            raise Fail(f"{what} has a negative size {n}", at, block)
        if limit is not None and n > limit:
            raise Fail(
                f"{what} of {n} bytes exceeds the limit of {self.limit} bytes (max_block_bytes)",
                at,
                block,
            )
        if self.end is not None:
            left = max(self.end - self.pos, 0)
            if n > left:
                raise Fail(
                    f"{what} of {n} bytes exceeds the {left} bytes left in the file", at, block
                )
        return n

    def read_header(self) -> None:
        start = self.pos
        try:
            magic = self.read(4, "the 4-byte magic", None)
        except Fail:
            raise Fail(
                "not an Avro object container file: shorter than its 4-byte magic", start
            ) from None
        if magic != MAGIC:
            raise Fail(
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
                    raise Fail(f"invalid metadata count {count}", at)
                count = -count
                self.require_long("the header's metadata block size", None)
            for _ in range(count):
                entries += 1
                if entries > _MAX_METADATA_ENTRIES:
                    raise Fail(
                        f"the header has more than {_MAX_METADATA_ENTRIES} metadata entries", at
                    )
                raw_key, budget = self.header_bytes(budget, "a metadata key")
                try:
                    key = raw_key.decode("utf-8")
                except UnicodeDecodeError:
                    raise Fail("a metadata key is not UTF-8", self.pos) from None
                value, budget = self.header_bytes(budget, "a metadata value")
                self.metadata.append((key, value))
        self.sync = self.read(SYNC_SIZE, "the header's sync marker", None)
        self.header_end = self.pos
        codec = self.get("avro.codec")
        if codec is not None:
            self.codec = codec.decode("utf-8", "replace")
            if self.codec not in codecs.CODECS:
                raise Fail(
                    f"unknown codec '{self.codec}' (avro.codec); avrobridge reads "
                    + ", ".join(codecs.CODECS),
                    start,
                )

    def header_bytes(self, budget: int, what: str) -> tuple[bytes, int]:
        at = self.pos
        n = self.require_long(what, None)
        if n > budget:
            raise Fail(f"the header exceeds the limit of {self.limit} bytes (max_block_bytes)", at)
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
            raise Fail(f"negative block record count {count}", offset, index)
        size_at = self.pos
        size = self.require_long("the block's size", index)
        stored_limit = self.limit + self.limit // 8 + 1024
        size = self.checked_len(size, "the block", stored_limit, size_at, index)
        data_at = self.pos
        stored = self.read(size, "the block's data", index)
        sync_at = self.pos
        if self.read(SYNC_SIZE, "the block's sync marker", index) != self.sync:
            raise Fail(
                "the sync marker after the block does not match the header's", sync_at, index
            )
        try:
            data = codecs.decompress(self.codec, stored, self.limit)
        except codecs.TooLarge:
            raise Fail(
                f"the block decompresses to more than the limit of {self.limit} bytes "
                "(max_block_bytes)",
                data_at,
                index,
            ) from None
        except codecs.Corrupt as exc:
            message = f"cannot decompress the {self.codec} block: {exc}"
            raise Fail(message, data_at, index) from None
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
