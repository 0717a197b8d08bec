"""Where the log lives: an ordered, append-only sequence of (key, value) records.

A store hands every record, in offset order, to one ``apply`` callback: first the records it
already holds (the replay at start), then each one appended later. Writers append and then
wait until their offset has been applied, so a response never reports a write the state has
not seen. The memory and SQLite stores apply synchronously inside ``append``; a Kafka store
will apply from its consumer thread, and ``wait_applied`` is what makes that transparent.

URLs: ``memory://``, ``sqlite:///absolute/path.db`` (``sqlite://relative.db`` works too) and
``kafka://host:port[,host:port...]/_schemas`` (``kafkastore.py``: a compacted topic shared by
several instances, one of which is the leader that writes).
"""

from __future__ import annotations

import sqlite3
import threading
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import ConfigError
from .logstore import (
    AppliedTracker,
    Apply,
    HasIdFloor,
    LogRecord,
    LogStore,
    NotLeaderError,
    StoreError,
)

if TYPE_CHECKING:
    from .kafkastore import KafkaStore

__all__ = [
    "Apply",
    "HasIdFloor",
    "LogRecord",
    "LogStore",
    "MemoryStore",
    "NotLeaderError",
    "SqliteStore",
    "StoreError",
    "open_store",
]


class _LocalLog(ABC):
    """What the two stores in this process share: the log replayed on start, and writes
    applied through one tracker that `wait_applied` waits on."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tracker = AppliedTracker()

    def start(self, apply: Apply) -> None:
        self._tracker.bind(apply)
        for record in self.read():
            self._tracker.apply(*record)

    def append(self, key: bytes, value: bytes | None) -> int:
        return self.append_all([(key, value)])

    def wait_applied(self, offset: int, timeout: float = 30.0) -> None:
        self._tracker.wait(offset, timeout)

    @abstractmethod
    def append_all(self, records: Sequence[tuple[bytes, bytes | None]]) -> int: ...

    @abstractmethod
    def read(self, from_offset: int = 0) -> Iterator[LogRecord]: ...


class MemoryStore(_LocalLog):
    """The log in a Python list: for tests and throwaway registries."""

    def __init__(self) -> None:
        super().__init__()
        self._records: list[tuple[bytes, bytes | None]] = []

    def append_all(self, records: Sequence[tuple[bytes, bytes | None]]) -> int:
        with self._lock:
            offset = -1
            for key, value in records:
                self._records.append((key, value))
                offset = len(self._records) - 1
                self._tracker.apply(offset, key, value)
            return offset

    def read(self, from_offset: int = 0) -> Iterator[LogRecord]:
        with self._lock:
            snapshot = list(self._records[from_offset:])
        for i, (key, value) in enumerate(snapshot, start=from_offset):
            yield i, key, value

    def close(self) -> None:
        pass


class SqliteStore(_LocalLog):
    """The log in one SQLite table (WAL mode, synchronous=FULL): survives restarts.

    Offsets are 0-based like Kafka's (rowid - 1). The table holds every record ever written,
    so replay sees the highest id even after hard deletes.
    """

    _SCHEMA = (
        "CREATE TABLE IF NOT EXISTS schemas_log ("
        " offset INTEGER PRIMARY KEY,"
        " key BLOB NOT NULL,"
        " value BLOB)"
    )

    def __init__(self, path: str | Path) -> None:
        super().__init__()
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # One connection shared by the threads, serialized by self._lock.
        self._db = sqlite3.connect(str(self.path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute(self._SCHEMA)

    def append_all(self, records: Sequence[tuple[bytes, bytes | None]]) -> int:
        with self._lock:
            cur = self._db.cursor()
            written: list[LogRecord] = []
            cur.execute("BEGIN IMMEDIATE")
            try:
                row = cur.execute("SELECT COALESCE(MAX(offset), -1) FROM schemas_log").fetchone()
                offset = int(row[0])
                for key, value in records:
                    offset += 1
                    cur.execute(
                        "INSERT INTO schemas_log (offset, key, value) VALUES (?, ?, ?)",
                        (offset, key, value),
                    )
                    written.append((offset, key, value))
                cur.execute("COMMIT")
            except BaseException:
                cur.execute("ROLLBACK")
                raise
            # Applied only once durable, so the state never runs ahead of the file.
            for record in written:
                self._tracker.apply(*record)
            return written[-1][0] if written else self._tracker.applied

    def read(self, from_offset: int = 0) -> Iterator[LogRecord]:
        with self._lock:
            rows = self._db.execute(
                "SELECT offset, key, value FROM schemas_log WHERE offset >= ? ORDER BY offset",
                (from_offset,),
            ).fetchall()
        for offset, key, value in rows:
            yield int(offset), bytes(key), None if value is None else bytes(value)

    def close(self) -> None:
        with self._lock:
            self._db.close()


def open_store(url: str) -> MemoryStore | SqliteStore | KafkaStore:
    """``memory://``, ``sqlite:///path`` or ``kafka://host:port/topic`` (ConfigError for
    anything else). A Kafka store connects only in ``start``."""
    if url in ("memory://", "memory"):
        return MemoryStore()
    if url.startswith("sqlite://"):
        path = url[len("sqlite://") :]
        if not path or path == "/":
            raise ConfigError(f"--store {url!r}: give a file, e.g. sqlite:///var/lib/registry.db")
        return SqliteStore(path)
    if url.startswith("kafka://"):
        from .kafkastore import KafkaStore, KafkaStoreConfig

        return KafkaStore(KafkaStoreConfig.from_url(url))
    raise ConfigError(
        f"--store {url!r}: use memory://, sqlite:///path/to/file.db or kafka://host:port/_schemas"
    )
