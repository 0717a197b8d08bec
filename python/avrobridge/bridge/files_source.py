"""A backfill's source: Avro container files, block by block, in place of Kafka topics.

`FileSource` has the `KafkaSource` interface the loop uses (`start`, `poll`, `advance`,
`finished`, `starts`/`positions`/`ends`, `store`, `close`) plus `convert`: a block's records
carry no frame, so one `Transcoder.transcode_many` call per block (GIL released) resolves
them from the file's writer schema (its header's) to the target and prefixes the sink's
frame. Each file is a "partition" `(path, 0)` whose offsets are byte offsets of blocks;
progress goes to the sink cluster (`file_progress.py`), so a restart resumes at the first
block not committed. A file always ends, so a file source is bounded.
"""

from __future__ import annotations

import glob
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from confluent_kafka import Producer

from ..errors import AvroBridgeError, BridgeError
from ..ocf import ContainerReader
from .config import BridgeSettings
from .convert import Converter
from .deadletter import VALUE_CONVERTER
from .durability import Durability
from .file_progress import FilePosition, FileProgress
from .offsets import Partition

log = logging.getLogger("avrobridge.bridge")

#: Dead-letter headers naming where a record came from (beside Connect's context headers).
FILE_HEADER = "avrobridge.file"
BLOCK_HEADER = "avrobridge.block"


def expand(patterns: list[str]) -> list[str]:
    """The files the patterns name, in name order, each once (absolute paths); a pattern
    that matches no file is an error naming it."""
    found: dict[str, None] = {}
    for pattern in patterns:
        matched = sorted(glob.glob(os.path.expanduser(pattern)))
        if not matched and os.path.isfile(pattern):
            matched = [pattern]
        files = [m for m in matched if os.path.isfile(m)]
        if not files:
            raise BridgeError(f"source files {pattern!r}: no file matches")
        for m in files:
            found[os.path.abspath(m)] = None
    return list(found)


class FileRecord:
    """A record of a block, seen as a consumed message (the emitter's dead-letter path)."""

    __slots__ = ("_block", "_index")

    def __init__(self, block: FileBlock, index: int) -> None:
        self._block, self._index = block, index

    def topic(self) -> str:
        return self._block.path

    def partition(self) -> int:
        return 0

    def offset(self) -> int:
        """The record's index in the file."""
        return self._block.first_record + self._index

    def value(self) -> bytes:
        return self._block.datums[self._index]

    def key(self) -> None:
        return None

    def headers(self) -> list[tuple[str, bytes]]:
        b = self._block
        return [(FILE_HEADER, b.path.encode()), (BLOCK_HEADER, str(b.index).encode())]

    def timestamp(self) -> tuple[int, int]:
        return (0, 0)


@dataclass
class FileBlock:
    """One block read: the records' Avro bytes in the file's writer schema."""

    path: str
    index: int
    offset: int
    next_offset: int
    first_record: int
    datums: list[bytes]

    def __len__(self) -> int:
        return len(self.datums)

    def __bool__(self) -> bool:
        return True  # an empty block still moves the file's progress

    def __getitem__(self, index: int) -> FileRecord:
        return FileRecord(self, index)


@dataclass
class FileBatch:
    """A converted block, with the attributes of the backend's ConvertedBatch."""

    produce: list[tuple[Any, ...]]
    failures: list[tuple[int, str, BaseException]]
    offsets: list[tuple[str, int, int]]
    records: int
    by_writer: dict[str, int]
    records_by_topic: dict[str, int]
    out_by_topic: dict[str, int]
    events: list[tuple[int, Any]] = field(default_factory=list)
    filtered: int = 0
    tombstones: int = 0


@dataclass
class _File:
    path: str
    size: int
    start: FilePosition | None
    plan: Any = None  # Transcoder, or the exception its records fail with
    writer: str = ""


class FileSource:
    def __init__(
        self,
        settings: BridgeSettings,
        converter: Converter,
        producer: Producer,
        client_conf: dict[str, Any],
        retrying: Callable[[str, Callable[[], Any]], Any],
    ) -> None:
        self.settings = settings
        self.converter = converter
        self._retrying = retrying
        self.store = FileProgress(
            producer,
            client_conf,
            settings.files.progress_topic,
            settings.kafka.group_id,
            self._describe,
        )
        self.starts: dict[Partition, int] = {}
        self.positions: dict[Partition, int] = {}
        self.ends: dict[Partition, int] | None = None
        self._files: list[_File] = []
        self._by_path: dict[str, _File] = {}
        self._next = 0
        self._reader: Any = None
        self._current: _File | None = None
        #: (file, byte offset of a block) -> its position, until committed past it.
        self._blocks: dict[Partition, dict[int, FilePosition]] = {}
        self._records_done = 0
        self._sink = converter.sink_topic(settings.source.files[0])
        self._prefix: bytes | None = None
        self._headers: list[tuple[str, bytes]] | None = None

    # -- start ----------------------------------------------------------------------------

    def start(self, durability: Durability) -> None:
        """Lists the files, reads their headers (a file that cannot be read, or whose writer
        schema the target cannot read, stops the run before anything is produced) and the
        progress recorded for them."""
        paths = expand(self.settings.source.files)
        timeout = self.settings.errors.startup_timeout_s
        self._retrying("creating the progress topic", lambda: self.store.ensure_topic(timeout))
        self._retrying("reading the progress topic", lambda: self.store.load(timeout))
        problems = []
        ends: dict[Partition, int] = {}
        for path in paths:
            f = _File(path, os.path.getsize(path), self.store.found.get(path))
            with ContainerReader(path) as reader:
                writer = reader.schema
                header_end = reader.position
            f.writer = f"{path} ({writer.name or writer.type})"
            f.plan = self.converter.plan_for_writer(
                self.converter.value, writer, f"writer schema of {path}"
            )
            if isinstance(f.plan, BaseException) and self.settings.errors.tolerance == "none":
                problems.append(f"  {path}: {f.plan}")
            key = (path, 0)
            ends[key] = f.size
            self.starts[key] = header_end
            if f.start is not None:
                self.positions[key] = f.start.offset
            self._files.append(f)
            self._by_path[path] = f
        if problems:
            raise BridgeError(
                "the target schema cannot read the writer schema of these files:\n"
                + "\n".join(problems)
            )
        self.ends = ends
        frame = self.converter.value_frame(self._sink)
        if self.settings.sink.framing == "prefix":
            self._prefix = frame
        else:
            self._headers = [("__value_schema_id", frame)]
        done = sum(1 for f in self._files if f.start is not None and f.start.offset >= f.size)
        log.info("backfill of %d files (%d done before) to %s", len(self._files), done, self._sink)

    def _describe(self, key: Partition, offset: int) -> FilePosition:
        blocks = self._blocks.get(key, {})
        pos = blocks.get(offset)
        if pos is None:
            raise BridgeError(f"internal: no block of {key[0]} at byte {offset}")
        for o in [o for o in blocks if o < offset]:
            del blocks[o]
        return pos

    # -- the loop -------------------------------------------------------------------------

    @property
    def finished(self) -> bool:
        return self._current is None and self._next >= len(self._files)

    def _open_next(self) -> bool:
        while self._next < len(self._files):
            f = self._files[self._next]
            self._next += 1
            if f.start is not None and f.start.offset >= f.size:
                continue  # done by an earlier run
            try:
                reader = ContainerReader(f.path)
                if f.start is not None:
                    reader.seek_block(f.start.offset, f.start.block)
            except OSError as exc:
                raise BridgeError(f"cannot read {f.path}: {exc}") from None
            self._reader, self._current = reader, f
            self._records_done = f.start.records if f.start is not None else 0
            return True
        return False

    def poll(self, wait_s: float) -> FileBlock | None:
        """The next block of the current file (None when every file is done)."""
        while True:
            if self._current is None and not self._open_next():
                return None
            f = self._current
            assert f is not None
            try:
                block = self._reader.read_block_datums()
            except AvroBridgeError:
                raise  # ContainerError names the file, the byte offset and the block
            except OSError as exc:
                raise BridgeError(f"cannot read {f.path}: {exc}") from None
            if block is None:
                self._reader.close()
                self._reader, self._current = None, None
                continue
            index, offset, datums = block
            first = self._records_done
            self._records_done += len(datums)
            next_offset = self._reader.position
            self._blocks.setdefault((f.path, 0), {})[next_offset] = FilePosition(
                next_offset, index + 1, self._records_done
            )
            return FileBlock(f.path, index, offset, next_offset, first, datums)

    def convert(self, block: FileBlock) -> FileBatch:
        """The block's records in the target schema, framed for the sink: one native call."""
        f = self._by_path[block.path]
        n = len(block.datums)
        failures: list[tuple[int, str, BaseException]] = []
        if isinstance(f.plan, BaseException):
            outputs: list[bytes | None] = [None] * n
            failures = [(i, VALUE_CONVERTER, f.plan) for i in range(n)]
        else:
            outputs, errors = f.plan.transcode_many(block.datums, prefix=self._prefix)
            failures = [(i, VALUE_CONVERTER, exc) for i, exc in errors]
        offsets = [(block.path, 0, block.next_offset)]
        if failures and self.settings.errors.tolerance == "none":
            # Nothing of the block goes out, and it stays to do: the error names the record.
            outputs, offsets = [], []
        sink, headers = self._sink, self._headers
        produce = [
            (sink, out, None, -1, None, None, 0, headers) for out in outputs if out is not None
        ]
        return FileBatch(
            produce=produce,
            failures=failures,
            offsets=offsets,
            records=n,
            by_writer={f.writer: n},
            records_by_topic={block.path: n},
            out_by_topic={sink: len(produce)} if produce else {},
        )

    def advance(self, batch: FileBatch, block: FileBlock) -> None:
        for path, partition, offset in batch.offsets:
            self.positions[(path, partition)] = offset

    def close(self) -> None:
        if self._reader is not None:
            self._reader.close()
            self._reader = None
