"""When produced records count as delivered and their source progress is committed.

The loop produces batch after batch without waiting; a strategy here is told which offsets
each batch reached (`track`) and makes them durable on the commit interval
(`delivery.commit_interval_ms`, like Kafka Connect's `offset.flush.interval.ms` and Kafka
Streams' `commit.interval.ms`), before partitions are given up, and at shutdown. Where the
progress goes is the offset store's business (`offsets.py`):

- `AtLeastOnce`: flush the producer (every record produced so far acknowledged by the sink, or
  failed), then commit the offsets reached. An offset is never committed ahead of an
  acknowledgement; a delivery failure raises before anything past the last commit is
  committed, so a restart re-reads what may not have arrived.
- `ExactlyOnce`: one producer transaction per interval holds the sink records, the dead-letter
  records and the progress; committing it is the commit. A transaction that must abort
  raises; the next run resumes from the last committed one (the consumer reads
  `read_committed`).
"""

from __future__ import annotations

import logging
import time
from abc import ABC, abstractmethod
from collections.abc import Iterable
from typing import Any

from confluent_kafka import KafkaError, KafkaException, Producer

from ..errors import BridgeError
from .offsets import OffsetStore, Partition

log = logging.getLogger("avrobridge.bridge")


class Durability(ABC):
    def __init__(
        self, store: OffsetStore, producer: Producer, interval_s: float, timeout_s: float
    ) -> None:
        self.store = store
        self.producer = producer
        self.interval_s = interval_s
        self.timeout_s = timeout_s
        #: Offsets reached by produced records, not committed yet.
        self.pending: dict[Partition, int] = {}
        #: The last committed offset of every partition (what a restart resumes from).
        self.committed: dict[Partition, int] = {}
        self._due = time.monotonic() + interval_s
        self.commits = 0

    def before_produce(self) -> None:  # noqa: B027 - a hook; only exactly-once needs it
        """Called before a batch's records are produced."""

    def track(self, offsets: Iterable[tuple[str, int, int]]) -> None:
        """The batch whose records reached these (topic, partition, next offset)s has been
        produced (not necessarily acknowledged yet)."""
        pending = self.pending
        for topic, partition, offset in offsets:
            pending[(topic, partition)] = offset

    def due(self) -> bool:
        return time.monotonic() >= self._due

    def seconds_to_due(self) -> float:
        return self._due - time.monotonic()

    def commit(self, *, final: bool = False) -> None:
        """Makes everything produced so far durable and commits the offsets it reached.
        `final` (shutdown, revocation) waits for the commit itself to finish."""
        self._due = time.monotonic() + self.interval_s
        self._commit(final)
        self.commits += 1

    @abstractmethod
    def _commit(self, final: bool) -> None: ...

    def revoke(self, partitions: Iterable[Partition]) -> None:
        """Before partitions go to another instance: commit everything done so far."""
        self.commit(final=True)
        self._forget(partitions)

    def lost(self, partitions: Iterable[Partition]) -> list[Partition]:
        """The partitions already belong to someone else: nothing of them may be committed.
        Returns the partitions still owned that must be read again from their last commit
        (records of them were given up with the lost ones)."""
        self._forget(partitions)
        return []

    def abandon(self) -> None:  # noqa: B027 - a hook; only exactly-once needs it
        """The loop failed: give up what is not committed (it is re-read on restart)."""

    def _forget(self, partitions: Iterable[Partition]) -> None:
        for p in partitions:
            self.pending.pop(p, None)
            self.committed.pop(p, None)


class AtLeastOnce(Durability):
    def __init__(
        self, store: OffsetStore, producer: Producer, interval_s: float, timeout_s: float
    ) -> None:
        super().__init__(store, producer, interval_s, timeout_s)
        self.delivery_errors: list[str] = []

    def on_delivery(self, err: KafkaError | None, msg: Any) -> None:
        """The producer's delivery report callback (errors only are reported)."""
        if err is not None:
            self.delivery_errors.append(
                f"delivery to {msg.topic()} [{msg.partition()}] failed: {err.str()}"
            )

    def _commit(self, final: bool) -> None:
        remaining = self.producer.flush(self.timeout_s)
        if remaining or self.delivery_errors:
            errors = self.delivery_errors[:3]
            self.delivery_errors.clear()
            raise BridgeError(
                "the sink did not acknowledge every record "
                f"({remaining} still queued; {'; '.join(errors) or 'timed out'}); "
                "no offset past the last acknowledged commit was committed"
            )
        if self.pending and self.store.commit(self.pending, final=final):
            self.committed.update(self.pending)
            self.pending.clear()


class ExactlyOnce(Durability):
    def __init__(
        self, store: OffsetStore, producer: Producer, interval_s: float, timeout_s: float
    ) -> None:
        super().__init__(store, producer, interval_s, timeout_s)
        self.open = False

    def before_produce(self) -> None:
        if not self.open:
            self.producer.begin_transaction()
            self.open = True

    def _commit(self, final: bool) -> None:
        if not self.open:
            return
        try:
            if self.pending:
                self.store.send_in_transaction(self.producer, self.pending, self.timeout_s)
            self.producer.commit_transaction(self.timeout_s)
        except KafkaException as exc:
            err: KafkaError = exc.args[0]
            if err.txn_requires_abort():
                self._abort()
                raise BridgeError(
                    f"transaction aborted: {err.str()} (the next run resumes from the last "
                    "committed transaction)"
                ) from None
            raise BridgeError(f"transaction failed: {err.str()}") from None
        self.open = False
        self.committed.update(self.pending)
        self.pending.clear()

    def lost(self, partitions: Iterable[Partition]) -> list[Partition]:
        # Offsets of lost partitions would be fenced by the group coordinator: abort what
        # the transaction holds (the new owner re-reads the lost partitions); the partitions
        # still ours are read again from their last committed transaction.
        gone = set(partitions)
        kept = [p for p in self.pending if p not in gone]
        self._abort()
        self._forget(gone)
        return kept

    def abandon(self) -> None:
        self._abort()

    def _abort(self) -> None:
        if self.open:
            try:
                self.producer.abort_transaction(self.timeout_s)
            except KafkaException as exc:
                log.warning("aborting the transaction failed: %s", exc.args[0].str())
            self.open = False
        self.pending.clear()
