"""An export's sink: rolling Avro container files, one open file per source partition.

Records are consumed (`KafkaSource`) and converted to the target schema like a topic sink's
(`convert.py`, one native call per chunk; the records come out unframed), then appended to
the partition's open file as encoded datums. A file is named `TOPIC+PARTITION+FIRSTOFFSET.avro`
and written under a temporary name (`.NAME.tmp`); it is closed at `files.roll_records`
records or `files.roll_bytes` bytes, at the end of a bounded run, at shutdown and before its
partition is revoked: flushed, fsync'd, renamed to its final name, the directory fsync'd,
and only then the partition's offset after its last record is committed. A crash leaves at
most temporary files and one file per partition whose offsets were not committed yet; the
restart resumes from the committed offset, so it writes that file again under the same name
(its first offset is the committed one) and nothing is duplicated.

Records that cannot be converted go to the dead-letter topic (errors.tolerance "all", flushed
before the offsets are committed) or stop the export.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, cast

from confluent_kafka import Producer

from .._backend import impl
from ..errors import BridgeError, FramingError, SchemaResolutionError
from ..ocf import ContainerWriter
from .config import BridgeSettings
from .convert import Converter
from .deadletter import VALUE_CONVERTER
from .durability import Durability
from .emitter import Emitter
from .metrics import BridgeMetrics
from .offsets import Partition
from .schemas import SchemaNotFound, SchemaSource
from .source import KafkaSource

log = logging.getLogger("avrobridge.bridge")

#: File names carry the first offset zero-padded to this width (Kafka Connect's default), so
#: a directory listing sorts a partition's files in order.
OFFSET_WIDTH = 10


def file_name(topic: str, partition: int, first_offset: int) -> str:
    return f"{topic}+{partition}+{first_offset:0{OFFSET_WIDTH}d}.avro"


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class _OpenFile:
    def __init__(self, directory: Path, key: Partition, first: int, writer: Any) -> None:
        self.final = directory / file_name(key[0], key[1], first)
        self.temp = directory / f".{self.final.name}.tmp"
        self.writer = writer
        #: The offset after the last record written (what a close commits).
        self.next_offset = first


class FileFiles:
    """The open files, their rolling and the offset commits that follow a close."""

    def __init__(
        self,
        settings: BridgeSettings,
        commit: Callable[[dict[Partition, int]], None],
        before_commit: Callable[[], None],
    ) -> None:
        files = settings.files
        assert settings.sink.directory is not None
        self.directory = settings.sink.directory
        self.codec = files.codec
        self.roll_records = files.roll_records
        self.roll_bytes = files.roll_bytes
        self._commit = commit
        self._before_commit = before_commit
        self.open: dict[Partition, _OpenFile] = {}
        self.closed = 0

    def room(self, key: Partition) -> int:
        f = self.open.get(key)
        return self.roll_records - (f.writer.records if f is not None else 0)

    def write(
        self, key: Partition, schema: Any, first: int, datums: list[bytes], next_offset: int
    ) -> None:
        """Appends `datums` (records in `schema`; the file is rolled first when it holds
        another schema) to the partition's file; `next_offset` is the offset after them."""
        f = self.open.get(key)
        if f is not None and f.writer.schema != schema:
            self.roll([key])
            f = None
        if f is None:
            if not datums:
                return  # no file for records that were all dead-lettered or filtered
            self.directory.mkdir(parents=True, exist_ok=True)
            f = _OpenFile(self.directory, key, first, None)
            meta = {"avrobridge.topic": key[0], "avrobridge.partition": str(key[1])}
            f.writer = ContainerWriter(str(f.temp), schema, codec=self.codec, metadata=meta)
            self.open[key] = f
        if datums:
            f.writer.write_datums(datums)
        f.next_offset = max(f.next_offset, next_offset)
        if f.writer.records >= self.roll_records or f.writer.bytes_written >= self.roll_bytes:
            self.roll([key])

    def roll(self, keys: Iterable[Partition]) -> None:
        """Closes these partitions' files (durably, under their final names), then commits
        the offsets after their last records."""
        offsets: dict[Partition, int] = {}
        for key in list(keys):
            f = self.open.pop(key, None)
            if f is None:
                continue
            records = f.writer.records
            f.writer.flush()
            f.writer.fsync()
            f.writer.close()
            os.replace(f.temp, f.final)
            offsets[key] = f.next_offset
            self.closed += 1
            log.info("closed %s (%d records)", f.final.name, records)
        if offsets:
            _fsync_dir(self.directory)
            self._before_commit()
            self._commit(offsets)

    def discard(self, keys: Iterable[Partition]) -> None:
        """The partitions are gone without a commit: their temporary files are removed."""
        for key in list(keys):
            f = self.open.pop(key, None)
            if f is not None:
                f.writer.close()
                f.temp.unlink(missing_ok=True)


class _Rebalance:
    """What `KafkaSource` calls on rebalances (the part of a `Durability` it uses)."""

    def __init__(self, files: FileFiles) -> None:
        self.files = files

    def revoke(self, partitions: Iterable[Partition]) -> None:
        self.files.roll(partitions)

    def lost(self, partitions: Iterable[Partition]) -> list[Partition]:
        self.files.discard(partitions)
        return []


class _Failures:
    """A converted chunk as the emitter sees it for an export: nothing to produce but its
    failures (dead letters), and its counts."""

    def __init__(self, batch: Any, written: int) -> None:
        self._batch = batch
        self.produce: list[tuple[Any, ...]] = []
        self.out_by_topic = {"files": written} if written else {}

    def __getattr__(self, name: str) -> Any:
        return getattr(self._batch, name)


class FileExport:
    def __init__(
        self,
        settings: BridgeSettings,
        converter: Converter | None,
        schemas: SchemaSource,
        consumer_conf: dict[str, Any],
        producer_conf: dict[str, Any],
        retrying: Callable[[str, Callable[[], Any]], Any],
        metrics: BridgeMetrics,
        stopping: Any,
        tick: Callable[[], None],
    ) -> None:
        self.settings = settings
        self.converter = converter
        self.schemas = schemas
        #: The files' schema: the target's (after the transforms), or None for each writer's.
        self.target = (
            impl.Schema(converter.value.sink_schema_text) if converter is not None else None
        )
        #: Without a target: writer id -> (its schema, the Transcoder that checks and unframes
        #: its records), or the exception its records fail with.
        self._writers: dict[int, Any] = {}
        self.metrics = metrics
        self._stopping = stopping
        self._tick = tick
        self.source = KafkaSource(settings, consumer_conf, retrying, metrics)
        conf = {k: v for k, v in producer_conf.items() if k != "transactional.id"}
        self.producer = Producer(conf)
        self.emitter = Emitter(self.producer, settings, metrics)
        self.files = FileFiles(settings, self._commit, self._flush_dead_letters)

    def _commit(self, offsets: dict[Partition, int]) -> None:
        if not self.source.store.commit(offsets, final=True):
            raise BridgeError(
                f"committing the offsets of closed files failed ({offsets}); the files are "
                "complete and a restart writes them again under the same names"
            )

    def _flush_dead_letters(self) -> None:
        if self.producer.flush(self.settings.delivery.shutdown_timeout_s):
            raise BridgeError("the dead-letter topic did not acknowledge every record")

    def run(self) -> None:
        source = self.source
        source.start(cast(Durability, _Rebalance(self.files)))
        wait_s = self.settings.delivery.batch_timeout_ms / 1000
        try:
            while not self._stopping.is_set() and not source.finished:
                msgs = source.poll(wait_s)
                if msgs:
                    started = time.perf_counter()
                    self._write(msgs)
                    self.metrics.batch_seconds.observe(time.perf_counter() - started)
                self.producer.poll(0)
                self._tick()
            self.files.roll(list(self.files.open))
        except BaseException:
            # Nothing past the last closed file is committed: its records are read again.
            self.files.discard(list(self.files.open))
            raise
        finally:
            self.producer.flush(self.settings.delivery.shutdown_timeout_s)

    def _write(self, msgs: list[Any]) -> None:
        """Each partition's records, in chunks that fit its open file (a file never holds
        more than files.roll_records), one conversion per chunk."""
        groups: dict[Partition, list[Any]] = {}
        for m in msgs:
            groups.setdefault((m.topic(), m.partition()), []).append(m)
        for key, group in groups.items():
            i = 0
            while i < len(group):
                chunk = group[i : i + self.files.room(key)]
                i += len(chunk)
                self._chunk(key, chunk)

    def _chunk(self, key: Partition, chunk: list[Any]) -> None:
        if self.converter is None:
            self._chunk_as_written(key, chunk)
            return
        batch = self.converter.convert(chunk)
        self.source.advance(batch, chunk)
        reached = [o for t, p, o in batch.offsets if (t, p) == key]
        datums = [args[1] for args in batch.produce if args[1] is not None]  # no tombstones
        stop = self.emitter.emit(_Failures(batch, len(datums)), chunk)
        if reached:
            first = next((m.offset() for m in chunk if m.error() is None), reached[0])
            self.files.write(key, self.target, first, datums, reached[0])
        if stop is not None:
            raise stop

    # -- without a target: each writer's schema ------------------------------------------

    def _writer(self, writer_id: int) -> Any:
        found = self._writers.get(writer_id)
        if found is None:
            try:
                schema = self.schemas.by_id(writer_id)
                found = (schema, impl.Transcoder(schema, schema))
            except (SchemaNotFound, SchemaResolutionError) as exc:
                found = exc
            self._writers[writer_id] = found
        return found

    def _chunk_as_written(self, key: Partition, chunk: list[Any]) -> None:
        """Records in their writer's schema: each run of one writer id is checked and
        unframed in one native call (`transcode_framed_many` without an output frame) and
        goes to a file of that schema (a new writer rolls the file)."""
        batch = ExportBatch()
        tolerate = self.settings.errors.tolerance == "all"
        run: list[bytes] = []
        at: list[int] = []
        current = -1

        def flush_run() -> None:
            if not run:
                return
            found = self._writer(current)
            if isinstance(found, BaseException):
                batch.failures.extend((i, VALUE_CONVERTER, found) for i in at)
            else:
                schema, check = found
                outputs, errors = check.transcode_framed_many(run, None, current)
                batch.failures.extend((at[i], VALUE_CONVERTER, exc) for i, exc in errors)
                datums = [o for o in outputs if o is not None]
                first, after = chunk[at[0]].offset(), chunk[at[-1]].offset() + 1
                self.files.write(key, schema, first, datums, after)
                batch.written += len(datums)
                batch.by_writer[current] = batch.by_writer.get(current, 0) + len(run)
            run.clear()
            at.clear()

        next_offset = -1
        for i, m in enumerate(chunk):
            err = m.error()
            if err is not None:
                batch.events.append((i, err))
                continue
            value = m.value()
            writer_id = _framed_id(value)
            if value is not None and writer_id is None:
                flush_run()
                batch.failures.append((i, VALUE_CONVERTER, _not_framed(m)))
            elif writer_id is not None and writer_id != current:
                flush_run()
                current = writer_id
            if batch.failures and not tolerate:
                break  # what follows the first failure stays to do
            batch.records += 1
            next_offset = m.offset() + 1
            if value is None:
                batch.tombstones += 1
            elif writer_id is not None:
                run.append(value)
                at.append(i)
        flush_run()
        if batch.failures and not tolerate:
            first = batch.failures[0][0]
            next_offset = chunk[first].offset()
        if next_offset >= 0:
            batch.offsets.append((key[0], key[1], next_offset))
        batch.records_by_topic[key[0]] = batch.records
        self.source.advance(batch, chunk)
        stop = self.emitter.emit(batch, chunk)
        if key in self.files.open and next_offset >= 0:
            self.files.open[key].next_offset = next_offset
        if stop is not None:
            raise stop


def _framed_id(value: bytes | None) -> int | None:
    """The schema id of a Confluent-framed value (magic byte 0), else None. Read here to
    pick the record's file; the record's bytes are checked and unframed in Rust."""
    if value is None or len(value) < 5 or value[0] != 0:
        return None
    return int.from_bytes(value[1:5], "big")


def _not_framed(m: Any) -> FramingError:
    return FramingError(
        f"record {m.topic()} [{m.partition()}] @ {m.offset()} is not Confluent-framed (magic "
        "byte 0 + schema id): an export without a target schema takes its writer schema from "
        "that frame; give a target schema (value.schema_file or value.subject)"
    )


class ExportBatch:
    """A chunk exported in its writers' schemas, with what the emitter and the source read
    of a ConvertedBatch (nothing to produce: the records went to files)."""

    def __init__(self) -> None:
        self.produce: list[tuple[Any, ...]] = []
        self.failures: list[tuple[int, str, BaseException]] = []
        self.events: list[tuple[int, Any]] = []
        self.offsets: list[tuple[str, int, int]] = []
        self.records = 0
        self.tombstones = 0
        self.filtered = 0
        self.written = 0
        self.by_writer: dict[int, int] = {}
        self.records_by_topic: dict[str, int] = {}

    @property
    def out_by_topic(self) -> dict[str, int]:
        return {"files": self.written} if self.written else {}
