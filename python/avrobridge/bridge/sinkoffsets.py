"""Progress kept in the sink cluster: exactly-once when the source is another cluster.

A Kafka transaction spans one cluster, so the source group's offsets (on the source cluster)
cannot be committed in the sink's transaction. As MirrorMaker 2 and Kafka Connect's
exactly-once source tasks do, the progress goes to a compacted topic of the sink cluster
(`delivery.offsets_topic`) inside the same transaction as the records: one progress record per
source partition, key `["group", "topic", partition]`, value `{"offset": next offset}` (JSON).
The records and their progress become visible together or not at all; on start (and when
partitions are assigned) the topic is read `read_committed` to its end and the source consumer
seeks there. Zombie instances are fenced by their `transactional.id` (one per instance), not by
the consumer group.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterable, Mapping
from typing import Any

from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient
from confluent_kafka.cimpl import NewTopic  # confluent_kafka.admin re-exports it untyped

from ..errors import BridgeError
from .offsets import OffsetStore, Partition

log = logging.getLogger("avrobridge.bridge")


class SinkTopicOffsets(OffsetStore):
    """The progress of one consumer group, in a compacted topic of the sink cluster."""

    def __init__(self, client_conf: dict[str, Any], topic: str, group: str) -> None:
        #: The sink cluster's common client settings (bootstrap servers, security).
        self.conf = client_conf
        self.topic = topic
        self.group = group
        self._producer: Producer | None = None

    def key(self, partition: Partition) -> bytes:
        return json.dumps([self.group, partition[0], partition[1]]).encode()

    def ensure_topic(self, timeout_s: float) -> None:
        """Creates the offsets topic (compacted, one partition, hourly segments) when it does
        not exist."""
        admin = AdminClient(self.conf)
        if self.topic in admin.list_topics(timeout=timeout_s).topics:
            return
        # Compaction cleans closed segments only: hourly segments keep what a restart reads
        # to about an hour of progress records (the default would keep a week's).
        config = {"cleanup.policy": "compact", "segment.ms": "3600000"}
        futures = admin.create_topics(
            [NewTopic(self.topic, 1, config=config)], operation_timeout=timeout_s
        )
        try:
            futures[self.topic].result(timeout_s)
            log.info("created the offsets topic %s (compacted) in the sink cluster", self.topic)
        except KafkaException as exc:
            err: KafkaError = exc.args[0]
            if err.code() != KafkaError.TOPIC_ALREADY_EXISTS:
                raise BridgeError(
                    f"cannot create the offsets topic {self.topic} in the sink cluster: {err.str()}"
                ) from None

    def _produce(self, producer: Producer, offsets: Mapping[Partition, int]) -> None:
        for partition, offset in offsets.items():
            producer.produce(
                self.topic, json.dumps({"offset": offset}).encode(), self.key(partition)
            )

    def send_in_transaction(
        self, producer: Producer, offsets: Mapping[Partition, int], timeout_s: float
    ) -> None:
        self._produce(producer, offsets)

    def commit(self, offsets: Mapping[Partition, int], *, final: bool) -> bool:
        """At-least-once with this store: progress produced after the records were
        acknowledged (by an idempotent producer of its own)."""
        if self._producer is None:
            self._producer = Producer({**self.conf, "enable.idempotence": True})
        self._produce(self._producer, offsets)
        if final:
            return self._producer.flush(30) == 0
        self._producer.poll(0)
        return True

    def committed(self, partitions: Iterable[Partition], timeout_s: float) -> dict[Partition, int]:
        """Reads the offsets topic to its end (committed transactions only)."""
        wanted = list(partitions)
        found: dict[Partition, int] = {}
        consumer = Consumer(
            {
                **self.conf,
                "group.id": f"{self.group}-offsets-reader",  # never joined, never committed
                "enable.auto.commit": False,
                "isolation.level": "read_committed",
                "enable.partition.eof": True,
            }
        )
        try:
            meta = consumer.list_topics(self.topic, timeout=timeout_s).topics.get(self.topic)
            if meta is None or meta.error is not None:
                return {p: -1 for p in wanted}
            left = set()
            assign = []
            for number in meta.partitions:
                tp = TopicPartition(self.topic, number)
                low, high = consumer.get_watermark_offsets(tp, timeout=timeout_s)
                if high > low:
                    left.add(number)
                    assign.append(TopicPartition(self.topic, number, low))
            consumer.assign(assign)
            deadline = time.monotonic() + timeout_s
            while left:
                if time.monotonic() > deadline:
                    raise BridgeError(
                        f"reading the offsets topic {self.topic} in the sink cluster did not "
                        f"reach its end within {timeout_s:g} s"
                    )
                for m in consumer.consume(10_000, 0.5):
                    err = m.error()
                    if err is not None:
                        if err.code() == KafkaError._PARTITION_EOF:
                            left.discard(m.partition())
                        elif err.fatal():
                            raise BridgeError(f"reading the offsets topic: {err.str()}")
                        continue
                    self._fold(m.key(), m.value(), found)
        except KafkaException as exc:
            raise BridgeError(f"reading the offsets topic: {exc.args[0].str()}") from None
        finally:
            consumer.close()
        log.info(
            "progress read from the offsets topic %s: %s",
            self.topic,
            ", ".join(f"{t} [{p}] @ {o}" for (t, p), o in sorted(found.items())) or "none",
        )
        return {p: found.get(p, -1) for p in wanted}

    def _fold(self, key: bytes | None, value: bytes | None, into: dict[Partition, int]) -> None:
        """One progress record into `into` (records of other groups, or not ours, skipped)."""
        try:
            group, topic, partition = json.loads(key or b"null")
            if group != self.group:
                return
            if value is None:
                into.pop((str(topic), int(partition)), None)
            else:
                into[(str(topic), int(partition))] = int(json.loads(value)["offset"])
        except (ValueError, TypeError, KeyError):
            log.warning("skipped a record of the offsets topic %s that is not ours", self.topic)

    def close(self) -> None:
        if self._producer is not None:
            self._producer.flush(30)
