"""Tailing the Kafka store's topics: the state every instance keeps, applied from the log."""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Iterator, Mapping

from confluent_kafka import (
    Consumer,
    KafkaError,
    KafkaException,
    Message,
    Producer,
    TopicPartition,
)

from ..kafkalog import CollapsedLog
from .kafka_config import LEADER_KEY, MAX_ID_KEY, KafkaClients, KafkaStoreConfig, Leader, describe
from .logstore import AppliedTracker, LogRecord, StoreError
from .records import KeyType, decode_key, decode_value

log = logging.getLogger("avrobridge.registry.kafkastore")


class TailingStore:
    """The state every instance keeps, and the tailing of both topics into it: every record
    of the schemas topic applied in order, the election topic's announcements and max-id."""

    def __init__(self, config: KafkaStoreConfig) -> None:
        self.config = config
        self.instance_id = uuid.uuid4().hex
        self.advertise_url: str | None = None
        self._tracker = AppliedTracker()
        self._cond = threading.Condition()
        # Guarded by _cond:
        self._positions: dict[str, int] = {}  # topic -> offsets below this are consumed
        self._announced: Leader | None = None
        self._coordination_max_id = 0  # the election topic's max-id record
        self._log_max_id = 0  # the highest id in the SCHEMA records consumed
        self._assigned = False  # this instance holds partition 0 of the election topic
        self._term = 0  # bumped on every assignment of partition 0
        self._ready = False  # leader, fenced earlier leaders, caught up, announced
        self._not_before = 0.0  # after being fenced: no new attempt to lead before this
        self._producer: Producer | None = None
        self._produce_lock = threading.Lock()  # one transaction at a time
        self._stop = threading.Event()
        self._tail: Consumer | None = None
        self._tail_thread: threading.Thread | None = None
        self._election_thread: threading.Thread | None = None
        self._meta: Consumer | None = None  # watermark queries
        self._meta_lock = threading.Lock()
        self._clients = KafkaClients(config, self.instance_id)
        # Repeated read errors: once per interval, with a count.
        self._log = CollapsedLog(log)
        self._closed = False

    def id_floor(self) -> int:
        """The highest id ever handed out as far as Kafka shows it: the ``max-id`` record of
        the election topic and the SCHEMA records consumed."""
        with self._cond:
            return max(self._coordination_max_id, self._log_max_id)

    def read(self, from_offset: int = 0) -> Iterator[LogRecord]:
        """The topic's records from ``from_offset`` to its end at the time of the call."""
        end = self._end_offsets()[self.config.topic]
        if from_offset >= end:
            return
        consumer = Consumer(self._clients.consumer_config())
        try:
            consumer.assign([TopicPartition(self.config.topic, 0, max(from_offset, 0))])
            deadline = time.monotonic() + self.config.timeout
            position = from_offset
            while position < end:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"could not read {self.config.topic} to offset {end}")
                for msg in consumer.consume(500, 0.2):
                    err = msg.error()
                    offset = int(msg.offset() or 0)
                    if err is not None:
                        if err.code() == KafkaError._PARTITION_EOF:
                            position = max(position, offset)
                        continue
                    position = offset + 1
                    key = msg.key()
                    if key is not None and offset < end:
                        yield offset, key, msg.value()
        finally:
            consumer.close()

    def wait_applied(self, offset: int, timeout: float = 30.0) -> None:
        self._tracker.wait(offset, timeout)

    def _run_tail(self) -> None:
        consumer = self._tail
        assert consumer is not None
        while not self._stop.is_set():
            try:
                # consume() waits out its timeout unless the batch fills: poll() returns as
                # soon as one record is there, then whatever else arrived is drained.
                first = consumer.poll(0.1)
                messages = [first, *consumer.consume(1000, 0)] if first is not None else []
            except Exception as exc:  # never let the reader die
                self._log.warning("reading %s: %s", self.config.topic, describe(exc))
                time.sleep(0.5)
                continue
            for msg in messages:
                try:
                    self._on_message(msg)
                except Exception:
                    log.exception("skipping a record that could not be applied")

    def _on_message(self, msg: Message) -> None:
        topic = msg.topic() or ""
        offset = int(msg.offset() or 0)
        err = msg.error()
        if err is not None:
            if err.code() == KafkaError._PARTITION_EOF:
                self._advance(topic, offset)
            else:
                self._log.warning("reading %s: %s", topic or self.config.topic, err.str())
            return
        key, value = msg.key(), msg.value()
        if topic == self.config.topic:
            if key is None:
                log.warning("skipping record at offset %d of %s: no key", offset, topic)
            else:
                schema_id = schema_id_of(key, value)
                if schema_id:
                    with self._cond:
                        self._log_max_id = max(self._log_max_id, schema_id)
                self._tracker.apply(offset, key, value)
        elif topic == self.config.election_topic:
            self._on_coordination(key, value)
        self._advance(topic, offset + 1)

    def _on_coordination(self, key: bytes | None, value: bytes | None) -> None:
        data = decode_value(value)
        with self._cond:
            if key == LEADER_KEY:
                url = data.get("url") if data else None
                instance = data.get("instance") if data else None
                if isinstance(url, str) and isinstance(instance, str):
                    self._announced = Leader(url, instance, instance == self.instance_id)
                else:
                    self._announced = None
            elif key == MAX_ID_KEY and data is not None:
                top = data.get("maxId")
                if isinstance(top, int) and not isinstance(top, bool):
                    self._coordination_max_id = max(self._coordination_max_id, top)
            self._cond.notify_all()

    def _advance(self, topic: str, position: int) -> None:
        with self._cond:
            if position > self._positions.get(topic, -1):
                self._positions[topic] = position
                self._cond.notify_all()

    def _end_offsets(self) -> dict[str, int]:
        """The end (high watermark) of partition 0 of both topics, asked of the broker."""
        deadline = time.monotonic() + self.config.timeout
        ends: dict[str, int] = {}
        with self._meta_lock:
            for topic in (self.config.topic, self.config.election_topic):
                while topic not in ends:
                    meta = self._meta
                    if meta is None:
                        raise StoreError("the store is closed")
                    remaining = deadline - time.monotonic()
                    try:
                        _, high = meta.get_watermark_offsets(
                            TopicPartition(topic, 0), timeout=max(remaining, 0.1)
                        )
                        ends[topic] = int(high)
                    except KafkaException as exc:
                        # A just-created topic, a leader moving: retried until the timeout.
                        if time.monotonic() + 0.1 >= deadline:
                            raise TimeoutError(
                                f"could not find the end of {topic}: {describe(exc)}"
                            ) from None
                        time.sleep(0.1)
        return ends

    def _wait_positions(self, ends: Mapping[str, int], timeout: float) -> None:
        def caught_up() -> bool:
            return all(self._positions.get(t, -1) >= end for t, end in ends.items())

        with self._cond:
            if not self._cond.wait_for(caught_up, timeout):
                behind = {t: self._positions.get(t, 0) for t in ends}
                raise TimeoutError(
                    f"could not read the log to its end within {timeout} s "
                    f"(at {behind}, end {dict(ends)})"
                )


def schema_id_of(key: bytes, value: bytes | None) -> int:
    """The id in a SCHEMA record (0 for anything else)."""
    if value is None or b'"SCHEMA"' not in key:
        return 0
    record_key = decode_key(key)
    if record_key is None or record_key.keytype is not KeyType.SCHEMA:
        return 0
    data = decode_value(value)
    schema_id = data.get("id") if data else None
    return schema_id if isinstance(schema_id, int) and not isinstance(schema_id, bool) else 0
