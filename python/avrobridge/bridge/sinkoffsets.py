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
from collections.abc import Iterable, Mapping
from typing import Any

from confluent_kafka import Producer

from . import progress_topic
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
        """Creates the offsets topic (compacted, one partition) when it does not exist."""
        progress_topic.ensure_topic(self.conf, self.topic, "the offsets topic", timeout_s)

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
        progress_topic.read_to_end(
            self.conf,
            self.topic,
            f"{self.group}-offsets-reader",
            "the offsets topic",
            timeout_s,
            lambda key, value: self._fold(key, value, found),
        )
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
