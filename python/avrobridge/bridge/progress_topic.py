"""A compacted topic of the sink cluster that holds progress records (the exactly-once
offsets of a source on another cluster, the blocks of a backfill): created when missing, and
read to its end (committed transactions only) when a run starts."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

from confluent_kafka import Consumer, KafkaError, KafkaException, TopicPartition
from confluent_kafka.admin import AdminClient
from confluent_kafka.cimpl import NewTopic  # confluent_kafka.admin re-exports it untyped

from ..errors import BridgeError

log = logging.getLogger("avrobridge.bridge")

#: Compaction cleans closed segments only: hourly segments keep what a restart reads to about
#: an hour of progress records (the default would keep a week's).
TOPIC_CONFIG = {"cleanup.policy": "compact", "segment.ms": "3600000"}


def ensure_topic(conf: Mapping[str, Any], topic: str, what: str, timeout_s: float) -> None:
    """Creates `topic` (compacted, one partition) when it does not exist; `what` names it in
    messages ("the offsets topic")."""
    admin = AdminClient(dict(conf))
    if topic in admin.list_topics(timeout=timeout_s).topics:
        return
    futures = admin.create_topics(
        [NewTopic(topic, 1, config=TOPIC_CONFIG)], operation_timeout=timeout_s
    )
    try:
        futures[topic].result(timeout_s)
        log.info("created %s %s (compacted) in the sink cluster", what, topic)
    except KafkaException as exc:
        err: KafkaError = exc.args[0]
        if err.code() != KafkaError.TOPIC_ALREADY_EXISTS:
            raise BridgeError(
                f"cannot create {what} {topic!r} in the sink cluster: {err.str()}"
            ) from None


def read_to_end(
    conf: Mapping[str, Any],
    topic: str,
    reader_group: str,
    what: str,
    timeout_s: float,
    fold: Callable[[bytes | None, bytes | None], None],
) -> None:
    """Every committed record of `topic` up to its end, key and value, to `fold` in order.
    `reader_group` is never joined and never commits. A missing topic holds nothing."""
    consumer = Consumer(
        {
            **conf,
            "group.id": reader_group,
            "enable.auto.commit": False,
            "isolation.level": "read_committed",
            "enable.partition.eof": True,
        }
    )
    try:
        meta = consumer.list_topics(topic, timeout=timeout_s).topics.get(topic)
        if meta is None or meta.error is not None:
            return
        left = set()
        assign = []
        for number in meta.partitions:
            tp = TopicPartition(topic, number)
            low, high = consumer.get_watermark_offsets(tp, timeout=timeout_s)
            if high > low:  # an empty partition has no end to wait for
                left.add(number)
                assign.append(TopicPartition(topic, number, low))
        consumer.assign(assign)
        deadline = time.monotonic() + timeout_s
        while left:
            if time.monotonic() > deadline:
                raise BridgeError(
                    f"reading {what} {topic!r} in the sink cluster did not reach its end "
                    f"within {timeout_s:g} s"
                )
            for m in consumer.consume(10_000, 0.5):
                err = m.error()
                if err is not None:
                    if err.code() == KafkaError._PARTITION_EOF:
                        left.discard(m.partition())
                    elif err.fatal():
                        raise BridgeError(f"reading {what} {topic!r}: {err.str()}")
                    continue
                fold(m.key(), m.value())
    except KafkaException as exc:
        raise BridgeError(f"reading {what} {topic!r}: {exc.args[0].str()}") from None
    finally:
        consumer.close()
