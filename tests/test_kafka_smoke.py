"""Smoke tests of the real-Kafka harness: records round-trip, transactions work, and the
second cluster is independent of the first."""

from __future__ import annotations

import time
import uuid
from collections import Counter
from collections.abc import Callable

import pytest
from confluent_kafka import Consumer, KafkaError, Message, Producer, TopicPartition
from confluent_kafka.admin import AdminClient

from avrobridge.kafkalog import kafka_logger
from kafka_harness.plugin import NewTopicFactory

pytestmark = pytest.mark.kafka

RECORDS = 10_000
PARTITIONS = 3


def _consume_until(
    consumer: Consumer,
    done: Callable[[], bool],
    on_message: Callable[[Message], None],
    timeout: float,
) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        assert time.monotonic() < deadline, "timed out waiting for records"
        for msg in consumer.consume(num_messages=1000, timeout=0.5):
            err = msg.error()
            assert err is None, f"consumer error: {err}"
            on_message(msg)


def test_produce_and_consume_10k_records(kafka_bootstrap: str, new_topic: NewTopicFactory) -> None:
    topic = new_topic("smoke", partitions=PARTITIONS)

    # Produce distinct keys and values; each delivery report tells where the record went.
    expected: dict[bytes, tuple[bytes, int, int]] = {}  # key -> (value, partition, offset)
    delivery_errors: list[KafkaError] = []

    def on_delivery(err: KafkaError | None, msg: Message) -> None:
        if err is not None:
            delivery_errors.append(err)
            return
        key, value, partition, offset = msg.key(), msg.value(), msg.partition(), msg.offset()
        assert key is not None and value is not None and partition is not None
        assert offset is not None
        expected[key] = (value, partition, offset)

    producer = Producer(
        {
            "bootstrap.servers": kafka_bootstrap,
            "logger": kafka_logger("tests.kafka"),
            "enable.idempotence": True,
            "linger.ms": 5,
        }
    )
    for i in range(RECORDS):
        key = f"key-{i:05d}".encode()
        value = f"value-{i}-{uuid.uuid4().hex}".encode()
        while True:
            try:
                producer.produce(topic, key=key, value=value, on_delivery=on_delivery)
                break
            except BufferError:  # local queue full: let deliveries drain
                producer.poll(0.1)
        producer.poll(0)
    assert producer.flush(60) == 0, "records still undelivered after 60 s"
    assert delivery_errors == []
    assert len(expected) == RECORDS

    # Every partition got a fair share (keys are hashed; a third each, give or take).
    per_partition = Counter(partition for _, partition, _ in expected.values())
    assert sorted(per_partition) == list(range(PARTITIONS))
    assert min(per_partition.values()) > RECORDS // PARTITIONS // 2, per_partition

    # Read everything back from the start with a fresh group.
    consumer = Consumer(
        {
            "bootstrap.servers": kafka_bootstrap,
            "logger": kafka_logger("tests.kafka"),
            "group.id": f"smoke-{uuid.uuid4().hex}",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        }
    )
    seen: Counter[bytes] = Counter()
    mismatches: list[str] = []

    def on_message(msg: Message) -> None:
        key = msg.key()
        assert key is not None
        seen[key] += 1
        got = (msg.value(), msg.partition(), msg.offset())
        if expected.get(key) != got:
            mismatches.append(f"{key!r}: expected {expected.get(key)}, got {got}")

    try:
        consumer.subscribe([topic])
        _consume_until(consumer, lambda: len(seen) == RECORDS, on_message, timeout=120)
        # The log holds exactly what we produced (no duplicates written by retries).
        high = [
            consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1]
            for p in range(PARTITIONS)
        ]
    finally:
        consumer.close()

    assert mismatches == []
    assert [k for k, n in seen.items() if n != 1] == [], "records delivered more than once"
    assert set(seen) == set(expected)
    assert high == [per_partition[p] for p in range(PARTITIONS)]


def test_transactions_commit_and_abort(kafka_bootstrap: str, new_topic: NewTopicFactory) -> None:
    topic = new_topic("smoke-txn")
    producer = Producer(
        {
            "bootstrap.servers": kafka_bootstrap,
            "logger": kafka_logger("tests.kafka"),
            "transactional.id": f"smoke-{uuid.uuid4().hex}",
        }
    )
    # Fails unless the transaction coordinator works (__transaction_state on one replica).
    producer.init_transactions(60)

    producer.begin_transaction()
    for i in range(5):
        producer.produce(topic, key=b"aborted", value=f"aborted-{i}".encode())
    producer.abort_transaction(30)

    producer.begin_transaction()
    for i in range(5):
        producer.produce(topic, key=b"committed", value=f"committed-{i}".encode())
    producer.commit_transaction(30)

    consumer = Consumer(
        {
            "bootstrap.servers": kafka_bootstrap,
            "logger": kafka_logger("tests.kafka"),
            "group.id": f"smoke-txn-{uuid.uuid4().hex}",
            "auto.offset.reset": "earliest",
            "isolation.level": "read_committed",
        }
    )
    values: list[bytes] = []

    def on_message(msg: Message) -> None:
        value = msg.value()
        assert value is not None
        values.append(value)

    try:
        consumer.subscribe([topic])
        # The aborted records come first in the log, so once the committed ones are in,
        # any aborted record that leaked through would have been seen too.
        _consume_until(consumer, lambda: len(values) >= 5, on_message, timeout=60)
    finally:
        consumer.close()
    assert values == [f"committed-{i}".encode() for i in range(5)]


def test_two_independent_clusters(
    kafka_bootstrap: str,
    kafka_bootstrap_b: str,
    kafka_admin: AdminClient,
    kafka_admin_b: AdminClient,
    new_topic: NewTopicFactory,
    new_topic_b: NewTopicFactory,
) -> None:
    """Cluster B is its own cluster: another id, its own topics, its own records."""
    assert kafka_bootstrap != kafka_bootstrap_b
    meta_a, meta_b = kafka_admin.list_topics(timeout=10), kafka_admin_b.list_topics(timeout=10)
    assert meta_a.cluster_id != meta_b.cluster_id
    topic_a, topic_b = new_topic("only-on-a"), new_topic_b("only-on-b")
    assert topic_a not in kafka_admin_b.list_topics(timeout=10).topics
    assert topic_b not in kafka_admin.list_topics(timeout=10).topics
    for bootstrap, topic, value in (
        (kafka_bootstrap, topic_a, b"to a"),
        (kafka_bootstrap_b, topic_b, b"to b"),
    ):
        producer = Producer({"bootstrap.servers": bootstrap})
        producer.produce(topic, value=value)
        assert producer.flush(30) == 0
        consumer = Consumer(
            {
                "bootstrap.servers": bootstrap,
                "group.id": f"two-clusters-{uuid.uuid4().hex}",
                "auto.offset.reset": "earliest",
            }
        )
        consumer.assign([TopicPartition(topic, 0, 0)])
        got: list[bytes | None] = []
        _consume_until(consumer, got.__len__, lambda m, into=got: into.append(m.value()), 30)
        consumer.close()
        assert got == [value]
