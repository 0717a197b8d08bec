"""Where the bridge's progress is committed: the offset store.

The durability strategies (`durability.py`) decide *when* progress becomes durable; a store
says *where* it goes. `GroupOffsets` is Kafka's own: the source consumer group's committed
offsets (`commit`), or the producer's transaction (`send_offsets_to_transaction`) when the
source and the sink are one cluster. A store that keeps progress in the sink cluster (for a
source on another cluster, or files) implements the same three calls.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping

from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition

log = logging.getLogger("avrobridge.bridge")

#: (topic, partition) of a Kafka source; other sources name their units the same way.
Partition = tuple[str, int]


class OffsetStore(ABC):
    @abstractmethod
    def commit(self, offsets: Mapping[Partition, int], *, final: bool) -> bool:
        """At-least-once: records these next offsets as done (every record before them was
        acknowledged by the sink). `final` waits for the commit to finish. False when the
        commit failed in a way the next commit repairs."""

    @abstractmethod
    def send_in_transaction(
        self, producer: Producer, offsets: Mapping[Partition, int], timeout_s: float
    ) -> None:
        """Exactly-once: adds the offsets to the producer's open transaction."""

    @abstractmethod
    def committed(self, partitions: Iterable[Partition], timeout_s: float) -> dict[Partition, int]:
        """The last committed next offset of each partition (-1 when none)."""


class GroupOffsets(OffsetStore):
    """The source consumer group's offsets, on the source cluster."""

    def __init__(self, consumer: Consumer) -> None:
        self.consumer = consumer

    def commit(self, offsets: Mapping[Partition, int], *, final: bool) -> bool:
        listed = [TopicPartition(t, p, o) for (t, p), o in offsets.items()]
        try:
            if final:
                self.consumer.commit(offsets=listed, asynchronous=False)
            else:
                self.consumer.commit(offsets=listed, asynchronous=True)
        except KafkaException as exc:
            err: KafkaError = exc.args[0]
            if err.code() != KafkaError._NO_OFFSET:
                # The records are delivered; the next commit covers these offsets again.
                log.warning("offset commit failed: %s", err.str())
                return False
        return True

    def send_in_transaction(
        self, producer: Producer, offsets: Mapping[Partition, int], timeout_s: float
    ) -> None:
        listed = [TopicPartition(t, p, o) for (t, p), o in offsets.items()]
        producer.send_offsets_to_transaction(
            listed, self.consumer.consumer_group_metadata(), timeout_s
        )

    def committed(self, partitions: Iterable[Partition], timeout_s: float) -> dict[Partition, int]:
        asked = [TopicPartition(t, p) for t, p in partitions]
        if not asked:
            return {}
        found = self.consumer.committed(asked, timeout=timeout_s)
        return {(tp.topic, tp.partition): tp.offset for tp in found}
