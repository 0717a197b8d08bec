"""What every store is: the log's record shape, the store protocol, its errors, and the
tracker that lets a writer wait until its record is applied (shared by ``store.py`` and
``kafkastore.py``)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Protocol, runtime_checkable

from ..errors import AvroBridgeError

__all__ = [
    "AppliedTracker",
    "Apply",
    "HasIdFloor",
    "LogRecord",
    "LogStore",
    "NotLeaderError",
    "StoreError",
]

#: (offset, key, value); value None is a tombstone.
LogRecord = tuple[int, bytes, bytes | None]
Apply = Callable[[int, bytes, "bytes | None"], None]


class StoreError(AvroBridgeError):
    """The store cannot do what was asked (its backend is unreachable or refused)."""


class NotLeaderError(StoreError):
    """This instance may not write: another instance is the leader (or none is known)."""


class LogStore(Protocol):
    def start(self, apply: Apply) -> None:
        """Replays every stored record through ``apply``, then applies each later append."""

    def append(self, key: bytes, value: bytes | None) -> int:
        """Appends one record; returns its offset."""

    def append_all(self, records: Sequence[tuple[bytes, bytes | None]]) -> int:
        """Appends several records (atomically where the store can); the last offset."""

    def read(self, from_offset: int = 0) -> Iterator[LogRecord]:
        """The stored records from ``from_offset`` on, in order."""

    def wait_applied(self, offset: int, timeout: float = 30.0) -> None:
        """Returns once the record at ``offset`` has been applied (TimeoutError after)."""

    def close(self) -> None: ...


@runtime_checkable
class HasIdFloor(Protocol):
    """A store that knows ids the log itself may no longer show (a compacted Kafka topic)."""

    def id_floor(self) -> int:
        """The highest schema id ever handed out as far as the store knows (0 if none)."""
        ...


class AppliedTracker:
    """Applies records under a lock and lets writers wait for an offset."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._apply: Apply | None = None
        self.applied = -1

    def bind(self, apply: Apply) -> None:
        self._apply = apply

    def apply(self, offset: int, key: bytes, value: bytes | None) -> None:
        with self._cond:
            if self._apply is not None:
                self._apply(offset, key, value)
            self.applied = max(self.applied, offset)
            self._cond.notify_all()

    def wait(self, offset: int, timeout: float) -> None:
        with self._cond:
            if not self._cond.wait_for(lambda: self.applied >= offset, timeout):
                raise TimeoutError(f"offset {offset} not applied within {timeout} s")
