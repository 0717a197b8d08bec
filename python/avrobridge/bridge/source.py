"""The source of the bridge: Kafka topics, read by one consumer.

It subscribes (the group spreads the partitions over the instances; rebalances make the
durability strategy commit first) or, for a bounded run (`until_end`), assigns every partition
from its committed offset up to the end offset seen at start. `poll` hands the loop what is
ready; `advance` records how far each partition got, which the progress, the lag and the end
of a bounded run read.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Callable
from typing import Any

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, KafkaException, TopicPartition

from ..errors import BridgeError
from .config import BridgeSettings
from .convert import ConvertedBatch
from .durability import Durability
from .metrics import BridgeMetrics
from .offsets import GroupOffsets, OffsetStore, Partition

log = logging.getLogger("avrobridge.bridge")


class KafkaSource:
    def __init__(
        self,
        settings: BridgeSettings,
        consumer_conf: dict[str, Any],
        retrying: Callable[[str, Callable[[], Any]], Any],
        metrics: BridgeMetrics,
        store: OffsetStore | None = None,
    ) -> None:
        self.settings = settings
        self.consumer = Consumer(consumer_conf)
        #: Where progress is committed and resumed from: the group's offsets, unless another
        #: store (the sink cluster's offsets topic) is given.
        self.store: OffsetStore = store or GroupOffsets(self.consumer)
        self._retrying = retrying
        self._metrics = metrics
        self._durability: Durability | None = None
        #: Where each partition started (bounded runs), how far it got (the next offset to
        #: handle), and where it ends (bounded runs).
        self.starts: dict[Partition, int] = {}
        self.positions: dict[Partition, int] = {}
        self.ends: dict[Partition, int] | None = None
        self._done: set[Partition] = set()

    # -- start ----------------------------------------------------------------------------

    def start(self, durability: Durability) -> None:
        self._durability = durability
        s = self.settings
        if s.until_end:
            self._assign_until_end()
            return
        topics = list(s.source.topics)
        if s.source.pattern is not None:
            topics.append("^" + s.source.pattern)
        callbacks: dict[str, Any] = {"on_revoke": self._on_revoke, "on_lost": self._on_lost}
        if not isinstance(self.store, GroupOffsets):
            callbacks["on_assign"] = self._on_assign
        self.consumer.subscribe(topics, **callbacks)

    def _topics_now(self) -> list[str]:
        s = self.settings.source
        if s.pattern is None:
            return list(s.topics)
        names = self.consumer.list_topics(timeout=10).topics
        return sorted(t for t in names if re.fullmatch(s.pattern, t))

    def _assign_until_end(self) -> None:
        """Every partition of the source topics, from the committed offsets, up to the end
        offsets seen now."""
        consumer = self.consumer
        partitions = []
        ends: dict[Partition, int] = {}
        lows: dict[Partition, int] = {}
        for topic in self._topics_now():
            listing = self._retrying(
                "listing topics", functools.partial(consumer.list_topics, topic, timeout=10)
            )
            meta = listing.topics.get(topic)
            if meta is None or meta.error is not None:
                raise BridgeError(f"source topic {topic!r} does not exist")
            for p in sorted(meta.partitions):
                tp = TopicPartition(topic, p)
                low, high = self._retrying(
                    "reading end offsets",
                    functools.partial(consumer.get_watermark_offsets, tp, timeout=10),
                )
                ends[(topic, p)] = high
                lows[(topic, p)] = low
                partitions.append((topic, p))
        committed = self._retrying(
            "reading committed offsets", lambda: self.store.committed(partitions, 10)
        )
        assign = []
        for key in partitions:
            offset = committed.get(key, -1)
            assign.append(TopicPartition(*key, offset if offset >= 0 else OFFSET_BEGINNING))
            self.starts[key] = offset if offset >= 0 else lows[key]
            if offset >= 0:
                self.positions[key] = offset
            if offset >= ends[key] or ends[key] == 0:
                self._done.add(key)
        self.ends = ends
        consumer.assign(assign)

    # -- rebalances -----------------------------------------------------------------------

    def _on_assign(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        """With progress kept outside the group (the sink cluster's offsets topic): start
        each partition where the store says (else where the group's offsets say)."""
        keys = [(tp.topic, tp.partition) for tp in partitions]
        committed = self._retrying(
            "reading committed offsets",
            lambda: self.store.committed(keys, self.settings.delivery.shutdown_timeout_s),
        )
        for tp in partitions:
            offset = committed.get((tp.topic, tp.partition), -1)
            if offset >= 0:
                tp.offset = offset
        consumer.assign(partitions)

    def _on_revoke(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        """Before partitions go to another instance: everything produced is made durable and
        committed (flush + commit, or the open transaction committed)."""
        keys = [(tp.topic, tp.partition) for tp in partitions]
        if self._durability is not None:
            self._durability.revoke(keys)
        for key in keys:
            self.positions.pop(key, None)

    def _on_lost(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        keys = [(tp.topic, tp.partition) for tp in partitions]
        if self._durability is not None:
            self.rewind(self._durability.lost(keys))
        for key in keys:
            self.positions.pop(key, None)

    def rewind(self, partitions: list[Partition]) -> None:
        """Reads `partitions` again from their last committed offsets."""
        if not partitions:
            return
        try:
            committed = self.store.committed(partitions, self.settings.delivery.shutdown_timeout_s)
            for key, offset in committed.items():
                self.consumer.seek(
                    TopicPartition(*key, offset if offset >= 0 else OFFSET_BEGINNING)
                )
        except KafkaException as exc:
            raise BridgeError(f"cannot rewind: {exc.args[0].str()}") from None

    # -- the loop -------------------------------------------------------------------------

    @property
    def finished(self) -> bool:
        return self.ends is not None and len(self._done) >= len(self.ends)

    def poll(self, wait_s: float) -> list[Any]:
        """What is ready now, up to a batch; when nothing is, wait for the first record (at
        most `wait_s`) and take what came with it: a quiet topic costs milliseconds of
        latency, not a batch timeout."""
        consumer = self.consumer
        size = self.settings.delivery.batch_size
        try:
            msgs = consumer.consume(size, 0)
            if not msgs:
                msgs = consumer.consume(1, wait_s)
                if msgs and size > 1:
                    msgs.extend(consumer.consume(size - 1, 0))
        except KafkaException as exc:
            self._kafka_error(exc.args[0], "consume")
            return []
        return msgs

    def advance(self, batch: ConvertedBatch, msgs: list[Any]) -> None:
        """Records how far each partition got (and which partitions reached their end)."""
        positions, ends = self.positions, self.ends
        for topic, partition, offset in batch.offsets:
            positions[(topic, partition)] = offset
            if ends is not None and offset >= ends.get((topic, partition), 0):
                self._done.add((topic, partition))
        for index, err in batch.events:
            if err.code() != KafkaError._PARTITION_EOF:
                self._kafka_error(err, "consume")
            elif ends is not None:
                m = msgs[index]
                key = (m.topic(), m.partition())
                end = ends.get(key)
                if end is not None and m.offset() >= end:
                    self._done.add(key)

    def _kafka_error(self, err: KafkaError, where: str) -> None:
        if err.fatal():
            raise BridgeError(f"fatal Kafka error in {where}: {err.str()}")
        if err.code() in (KafkaError.UNKNOWN_TOPIC_OR_PART, KafkaError._UNKNOWN_TOPIC):
            log.warning("%s: %s", where, err.str())
            return
        self._metrics.retried("kafka")
        log.warning("%s: %s (retrying)", where, err.str())

    def close(self) -> None:
        self.consumer.close()
