"""The bridge's Kafka clients: their librdkafka settings (checked before anything connects by
`startup.check_kafka_settings`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..kafkalog import kafka_logger
from .config import BridgeSettings, KafkaSettings, reveal


def common_config(kafka: KafkaSettings) -> dict[str, Any]:
    """What every client of one cluster gets."""
    return {
        "bootstrap.servers": kafka.bootstrap_servers,
        # librdkafka's own log lines go through Python logging (and so the JSON format),
        # each distinct line at most once per interval (kafkalog.py).
        "logger": kafka_logger("avrobridge.kafka"),
        **reveal(kafka.common),
    }


def client_configs(
    settings: BridgeSettings, on_delivery: Callable[[Any, Any], None] | None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(consumer, producer) settings for librdkafka: the consumer on the source cluster
    ([kafka]), the producer on the sink cluster ([sink.kafka], else the same)."""
    s = settings
    exactly_once = s.delivery.guarantee == "exactly-once"
    consumer: dict[str, Any] = {
        **common_config(s.kafka),
        "group.id": s.kafka.group_id,
        "enable.auto.commit": False,
        "enable.auto.offset.store": False,
        "auto.offset.reset": "earliest",
        **reveal(s.kafka.consumer),
    }
    if exactly_once:
        consumer["isolation.level"] = "read_committed"
    if s.until_end:
        consumer["enable.partition.eof"] = True
    sink = s.sink_kafka
    producer: dict[str, Any] = {
        **common_config(sink),
        "enable.idempotence": True,
        "linger.ms": 5,
        "compression.type": "lz4",
        # The records in flight are bounded: a full queue makes the loop wait for acks.
        "queue.buffering.max.messages": s.delivery.max_in_flight,
        # librdkafka retries a failed produce within this time; past it the record fails
        # and the bridge stops without committing it (errors.retry_timeout_s).
        "message.timeout.ms": int(s.errors.retry_timeout_s * 1000),
        "delivery.report.only.error": True,
        **reveal(sink.producer),
    }
    if on_delivery is not None:
        producer["on_delivery"] = on_delivery
    if exactly_once:
        producer["transactional.id"] = (
            s.delivery.transactional_id or f"avrobridge-{s.kafka.group_id}"
        )
        # A transaction's records must time out before the transaction does.
        timeout_ms = int(producer.get("transaction.timeout.ms", 60_000))
        producer["message.timeout.ms"] = min(int(producer["message.timeout.ms"]), timeout_ms)
    return consumer, producer
