"""The bridge's Kafka loop: consume a batch, convert it, produce it in order, commit.

Delivery:
- at-least-once: each batch is produced, flushed (every record acknowledged by the sink)
  and only then are its offsets committed; a crash at any point re-reads at most the batch.
- exactly-once: each batch is one producer transaction holding the sink records, the
  dead-letter records and the consumer offsets (`send_offsets_to_transaction`); the consumer
  reads `read_committed`. After `kill -9` the next run resumes from the last committed
  transaction.
Order within a source partition is kept: records are produced in consumed order to the sink
partition of the same number, by an idempotent producer.
"""

from __future__ import annotations

import functools
import logging
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from types import FrameType
from typing import Any

from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition

from ..errors import AvroBridgeError, RegistryError
from ..kafkalog import kafka_logger
from .config import BridgeSettings, reveal
from .convert import Converter
from .deadletter import TRANSFORMATION, Failure, context_headers
from .metrics import BridgeMetrics
from .plan import check_source_versions
from .progress import Reporter, snapshot
from .retry import Backoff, KafkaGaveUp, retry_kafka
from .schemas import RegistryUnavailable, SchemaSource
from .startup import check_kafka_settings, wait_until_reachable

log = logging.getLogger("avrobridge.bridge")


class BridgeError(AvroBridgeError):
    """The bridge stopped because of a record it may not skip or a failure it cannot fix."""


@dataclass
class Summary:
    records_in: int
    records_out: int
    dead_lettered: int
    filtered: int
    tombstones: int
    elapsed_s: float
    per_writer_schema: dict[str, int] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return self.records_in / self.elapsed_s if self.elapsed_s > 0 else 0.0

    def lines(self) -> list[str]:
        out = [
            f"records in:    {self.records_in:,}",
            f"records out:   {self.records_out:,}",
            f"dead-lettered: {self.dead_lettered:,}",
            f"filtered:      {self.filtered:,}",
            f"tombstones:    {self.tombstones:,}",
            f"elapsed:       {self.elapsed_s:,.2f} s ({self.rate:,.0f} records/s)",
        ]
        for writer, n in sorted(self.per_writer_schema.items()):
            out.append(f"  writer schema {writer}: {n:,}")
        return out


class Bridge:
    """One bridge instance. `run()` blocks until stopped (or, with `until_end`, done)."""

    def __init__(
        self,
        settings: BridgeSettings,
        *,
        schemas: SchemaSource | None = None,
        install_signal_handlers: bool = False,
        on_progress: Reporter | None = None,
    ) -> None:
        self.settings = settings
        self.metrics = BridgeMetrics()
        self._stopping = threading.Event()
        self.schemas = schemas or SchemaSource(
            settings.registry,
            settings.errors,
            on_retry=self.metrics.retried,
            stopping=self._stopping,
        )
        self._install_signals = install_signal_handlers
        self.on_progress = on_progress
        self.exactly_once = settings.delivery.guarantee == "exactly-once"
        self._consumer_conf, self._producer_conf = self._client_configs()
        self.converter: Converter | None = None
        self._consumer: Consumer | None = None
        self._producer: Producer | None = None
        self._delivery_errors: list[str] = []
        self._end_offsets: dict[tuple[str, int], int] | None = None
        self._start_offsets: dict[tuple[str, int], int] = {}
        self._done_partitions: set[tuple[str, int]] = set()
        self._last_stats = time.monotonic()
        self._committed: dict[tuple[str, int], int] = {}

    # -- configuration --------------------------------------------------------------------

    def _client_configs(self) -> tuple[dict[str, Any], dict[str, Any]]:
        s = self.settings
        common = {
            "bootstrap.servers": s.kafka.bootstrap_servers,
            # librdkafka's own log lines go through Python logging (and so the JSON format),
            # each distinct line at most once per interval (kafkalog.py).
            "logger": kafka_logger("avrobridge.kafka"),
            **reveal(s.kafka.common),
        }
        consumer = {
            **common,
            "group.id": s.kafka.group_id,
            "enable.auto.commit": False,
            "enable.auto.offset.store": False,
            "auto.offset.reset": "earliest",
            **reveal(s.kafka.consumer),
        }
        if self.exactly_once:
            consumer["isolation.level"] = "read_committed"
        if s.until_end:
            consumer["enable.partition.eof"] = True
        producer = {
            **common,
            "enable.idempotence": True,
            "linger.ms": 5,
            "compression.type": "lz4",
            "delivery.report.only.error": True,
            "on_delivery": self._on_delivery_error,
            **reveal(s.kafka.producer),
        }
        if self.exactly_once:
            producer["transactional.id"] = (
                s.delivery.transactional_id or f"avrobridge-{s.kafka.group_id}"
            )
        return consumer, producer

    def validate(self) -> None:
        """Checks every setting before anything connects; raises ConfigError."""
        check_kafka_settings(self._consumer_conf, self._producer_conf)

    # -- delivery bookkeeping -------------------------------------------------------------

    def _on_delivery_error(self, err: KafkaError | None, msg: Any) -> None:
        if err is not None:
            self._delivery_errors.append(
                f"delivery to {msg.topic()} [{msg.partition()}] failed: {err.str()}"
            )

    def stop(self) -> None:
        """Asks the loop to finish its batch, commit and return (safe from any thread)."""
        self._stopping.set()

    # -- start-up -------------------------------------------------------------------------

    def _prepare(self) -> None:
        s = self.settings
        self.converter = Converter(s, self.schemas)
        self._check_source_versions()

    def _source_topics_now(self) -> list[str]:
        s = self.settings.source
        if s.pattern is None:
            return list(s.topics)
        import re

        assert self._consumer is not None
        names = self._consumer.list_topics(timeout=10).topics
        return sorted(t for t in names if re.fullmatch(s.pattern, t))

    def _check_source_versions(self) -> None:
        """Refuses to start when the target cannot read a live source version (except the
        versions explicitly allowed), listing Confluent's verbose reasons."""
        assert self.converter is not None
        problems = check_source_versions(self.settings, self.converter, self.schemas)
        if problems:
            raise BridgeError(
                "the target schema cannot read every live version of the source "
                "(allow them with value.allow_incompatible_versions):\n" + "\n".join(problems)
            )

    # -- the loop -------------------------------------------------------------------------

    def run(self) -> Summary:
        self.validate()
        previous = self._signals() if self._install_signals else None
        try:
            # The broker and the registry answer, or StartupError within the start-up timeout.
            wait_until_reachable(self.settings, self.schemas.client, self._stopping)
            self._prepare()
            self._consumer = Consumer(self._consumer_conf)
            self._producer = Producer(self._producer_conf)
            if self.exactly_once:
                self._retrying("init_transactions", lambda: self._producer.init_transactions(30))  # type: ignore[union-attr]
            self._subscribe()
            self._loop()
        finally:
            self._shutdown()
            if previous is not None:
                for sig, handler in previous.items():
                    signal.signal(sig, handler)
        t = self.metrics.totals
        return Summary(
            records_in=t.records_in,
            records_out=t.records_out,
            dead_lettered=t.dead_lettered,
            filtered=t.filtered,
            tombstones=t.tombstones,
            elapsed_s=t.elapsed,
            per_writer_schema=dict(t.per_writer_schema),
        )

    def _signals(self) -> dict[int, Any]:
        def handler(signum: int, frame: FrameType | None) -> None:
            log.info("signal %d: finishing the current batch, then stopping", signum)
            self.stop()

        previous: dict[int, Any] = {}
        for sig in (signal.SIGINT, signal.SIGTERM):
            previous[sig] = signal.signal(sig, handler)
        return previous

    def _subscribe(self) -> None:
        assert self._consumer is not None
        s = self.settings
        if s.until_end:
            # A one-off migration reads every partition of the source topics, from the
            # committed offsets, up to the end offsets seen now.
            partitions = []
            ends: dict[tuple[str, int], int] = {}
            consumer = self._consumer
            lows: dict[tuple[str, int], int] = {}
            for topic in self._source_topics_now():
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
                    partitions.append(TopicPartition(topic, p))
            committed = self._retrying(
                "reading committed offsets", lambda: consumer.committed(partitions, timeout=10)
            )
            assign = []
            for tp in committed:
                start = tp.offset if tp.offset >= 0 else -2  # OFFSET_BEGINNING
                assign.append(TopicPartition(tp.topic, tp.partition, start))
                key = (tp.topic, tp.partition)
                self._start_offsets[key] = tp.offset if tp.offset >= 0 else lows[key]
                if (
                    tp.offset >= ends[(tp.topic, tp.partition)]
                    or ends[(tp.topic, tp.partition)] == 0
                ):
                    self._done_partitions.add((tp.topic, tp.partition))
            self._end_offsets = ends
            self._consumer.assign(assign)
            return
        topics = list(s.source.topics)
        if s.source.pattern is not None:
            topics.append("^" + s.source.pattern)
        self._consumer.subscribe(topics, on_revoke=self._on_revoke, on_lost=self._on_revoke)

    def _on_revoke(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        """Before partitions go to another instance: everything processed is already
        flushed and committed per batch; make the last commit synchronous."""
        if not self.exactly_once:
            self._commit(sync=True)

    def _finished(self) -> bool:
        if self._end_offsets is None:
            return False
        return len(self._done_partitions) >= len(self._end_offsets)

    def _loop(self) -> None:
        assert self._consumer is not None and self._producer is not None
        s = self.settings.delivery
        consumer, producer = self._consumer, self._producer
        while not self._stopping.is_set() and not self._finished():
            try:
                msgs = consumer.consume(s.batch_size, s.batch_timeout_ms / 1000)
            except KafkaException as exc:
                self._kafka_error(exc.args[0], "consume")
                continue
            producer.poll(0)
            records = []
            for m in msgs:
                err = m.error()
                if err is None:
                    records.append(m)
                elif err.code() == KafkaError._PARTITION_EOF:
                    self._partition_eof(m)
                else:
                    self._kafka_error(err, "consume")
            if records:
                started = time.perf_counter()
                self._process(records)
                self.metrics.batch_seconds.observe(time.perf_counter() - started)
            self._tick()

    def _partition_eof(self, m: Any) -> None:
        if self._end_offsets is None:
            return
        key = (m.topic(), m.partition())
        end = self._end_offsets.get(key)
        if end is not None and m.offset() >= end:
            self._done_partitions.add(key)

    def _kafka_error(self, err: KafkaError, where: str) -> None:
        if err.fatal():
            raise BridgeError(f"fatal Kafka error in {where}: {err.str()}")
        if err.code() in (KafkaError.UNKNOWN_TOPIC_OR_PART, KafkaError._UNKNOWN_TOPIC):
            log.warning("%s: %s", where, err.str())
            return
        self.metrics.retried("kafka")
        log.warning("%s: %s (retrying)", where, err.str())

    # -- one batch ------------------------------------------------------------------------

    def _process(self, msgs: list[Any]) -> None:
        # Consumed messages without error always carry topic, partition and offset; they
        # are typed Any here because confluent-kafka's stubs make every accessor Optional.
        assert self.converter is not None
        conv = self.converter
        n = len(msgs)
        topics = [m.topic() for m in msgs]
        values = [m.value() for m in msgs]
        headers = [m.headers() for m in msgs]
        sinks = {t: conv.sink_topic(t) for t in set(topics)}
        sink_topics = [sinks[t] for t in topics]
        value_out: list[Any] = [None] * n
        value_headers: list[Any] = [None] * n
        transforms = conv.transforms
        keep = [True] * n
        if transforms.filters:
            keep = [transforms.keep(topics[i], values[i], headers[i] or []) for i in range(n)]
        self._retrying(
            "converting values",
            lambda: conv.convert_side(
                conv.value, values, headers, sink_topics, value_out, value_headers
            ),
        )
        keys = [m.key() for m in msgs]
        key_out: list[Any] = keys
        key_side = conv.key
        if key_side is not None:
            key_out = [None] * n
            key_headers: list[Any] = [None] * n
            self._retrying(
                "converting keys",
                lambda: conv.convert_side(
                    key_side, keys, headers, sink_topics, key_out, key_headers
                ),
            )
            for i in range(n):
                if key_headers[i] is not None:
                    base = value_headers[i] if value_headers[i] is not None else headers[i] or []
                    value_headers[i] = [h for h in base if h[0] != "__key_schema_id"] + [
                        h for h in key_headers[i] if h[0] == "__key_schema_id"
                    ]
        self._emit(
            msgs,
            topics,
            sink_topics,
            keys,
            key_out,
            values,
            value_out,
            headers,
            value_headers,
            keep,
        )

    def _emit(
        self,
        msgs: list[Any],
        topics: list[str],
        sink_topics: list[str],
        keys: list[Any],
        key_out: list[Any],
        values: list[Any],
        value_out: list[Any],
        headers: list[Any],
        value_headers: list[Any],
        keep: list[bool],
    ) -> None:
        assert self._producer is not None and self.converter is not None
        producer = self._producer
        totals = self.metrics.totals
        settings = self.settings
        preserve = settings.sink.preserve_partitions
        tolerance_all = settings.errors.tolerance == "all"
        dlq = settings.errors.dead_letter_topic or ""  # set whenever tolerance is "all"
        transforms = self.converter.transforms
        appends = transforms.appends
        if self.exactly_once:
            self._retrying("begin_transaction", producer.begin_transaction)
        produced_upto: dict[tuple[str, int], int] = {}
        out_counts: dict[str, int] = {}
        dead: dict[str, int] = {}
        stop_error: str | None = None
        simple = (
            preserve
            and not appends
            and self.converter.key is None
            and self.converter.failures == 0
            and all(keep)
            and all(h is None for h in value_headers)
        )
        if simple:
            # The common batch: every record converts and goes out unchanged but for its value.
            self._emit_simple(msgs, topics, sink_topics, keys, values, value_out, headers)
            return
        i = 0
        for i, m in enumerate(msgs):
            partition = m.partition()
            offset = m.offset()
            value = value_out[i]
            key = key_out[i]
            failure = (
                value if isinstance(value, Failure) else key if isinstance(key, Failure) else None
            )
            if failure is None and not keep[i]:
                totals.filtered += 1
                produced_upto[(topics[i], partition)] = offset + 1
                continue
            if failure is None and appends and value is not None:
                try:
                    value = value + transforms.metadata_bytes(
                        topics[i], partition, offset, m.timestamp()[1]
                    )
                except (OverflowError, ValueError) as exc:
                    failure = Failure.from_exception(TRANSFORMATION, exc)
            if failure is not None:
                if not tolerance_all:
                    stop_error = (
                        f"record {topics[i]} [{partition}] @ {offset} cannot be converted "
                        f"({failure.stage}: {failure.short_class}: {failure.message}); "
                        "errors.tolerance is 'none', so the bridge stops here"
                    )
                    break
                extra = (
                    context_headers(failure, topics[i], partition, offset, settings.kafka.group_id)
                    if settings.errors.context_headers
                    else []
                )
                self._produce(
                    producer,
                    dlq,
                    values[i],
                    keys[i],
                    -1,
                    m.timestamp()[1],
                    (headers[i] or []) + extra,
                )
                dead[failure.short_class] = dead.get(failure.short_class, 0) + 1
            else:
                if value is None and values[i] is None:
                    totals.tombstones += 1
                h = value_headers[i] if value_headers[i] is not None else headers[i]
                sink = sink_topics[i]
                self._produce(
                    producer, sink, value, key, partition if preserve else -1, m.timestamp()[1], h
                )
                out_counts[sink] = out_counts.get(sink, 0) + 1
                if values[i] is not None and len(values[i]) >= 5 and values[i][0] == 0:
                    totals.per_writer_schema[str(int.from_bytes(values[i][1:5], "big"))] += 1
            produced_upto[(topics[i], partition)] = offset + 1
        self._finish_batch(produced_upto)
        # Counted once the batch is durable, so a failed batch is not counted twice.
        n_done = len(msgs) if stop_error is None else i
        totals.records_in += n_done
        totals.batches += 1
        for topic in set(topics[:n_done]):
            self.metrics.records_in.labels(topic).inc(topics[:n_done].count(topic))
        for sink, count in out_counts.items():
            totals.records_out += count
            self.metrics.records_out.labels(sink).inc(count)
        for cls, count in dead.items():
            totals.dead_lettered += count
            totals.dead_letter_reasons[cls] += count
            self.metrics.dead_lettered.labels(cls).inc(count)
        if stop_error is not None:
            raise BridgeError(stop_error)

    def _emit_simple(
        self,
        msgs: list[Any],
        topics: list[str],
        sink_topics: list[str],
        keys: list[Any],
        values: list[Any],
        value_out: list[Any],
        headers: list[Any],
    ) -> None:
        """`_emit` for a batch without failures, filters, appends or key conversion: one
        tight loop of produce calls (this is where a bridge spends most of its time)."""
        assert self._producer is not None
        producer = self._producer
        produce = producer.produce
        produced_upto: dict[tuple[str, int], int] = {}
        i, n = 0, len(msgs)
        while i < n:
            try:
                while i < n:
                    m = msgs[i]
                    produce(
                        sink_topics[i],
                        value_out[i],
                        keys[i],
                        m.partition(),
                        timestamp=m.timestamp()[1],
                        headers=headers[i],
                    )
                    i += 1
            except BufferError:
                # The producer queue is full: let it drain (never drop the record).
                self.metrics.retried("producer-queue")
                producer.poll(0.05)
        for m, topic in zip(msgs, topics, strict=True):
            produced_upto[(topic, m.partition())] = m.offset() + 1
        self._finish_batch(produced_upto)
        totals = self.metrics.totals
        totals.records_in += n
        totals.records_out += n
        totals.batches += 1
        totals.tombstones += sum(1 for v in values if v is None)
        for topic in set(topics):
            self.metrics.records_in.labels(topic).inc(topics.count(topic))
        for sink in set(sink_topics):
            self.metrics.records_out.labels(sink).inc(sink_topics.count(sink))
        first = values[0] if values else None
        if first is not None and len(first) >= 5 and first[0] == 0:
            # Per-writer-schema counts by batch, from the grouping the converter already did.
            for v in values:
                if v is not None and len(v) >= 5 and v[0] == 0:
                    totals.per_writer_schema[str(int.from_bytes(v[1:5], "big"))] += 1

    def _produce(
        self,
        producer: Producer,
        topic: str,
        value: bytes | None,
        key: bytes | None,
        partition: int,
        timestamp: int,
        headers: Any,
    ) -> None:
        while True:
            try:
                if partition >= 0:
                    producer.produce(
                        topic, value, key, partition=partition, timestamp=timestamp, headers=headers
                    )
                else:
                    producer.produce(topic, value, key, timestamp=timestamp, headers=headers)
                return
            except BufferError:
                # The producer queue is full: let it drain (never drop the record).
                self.metrics.retried("producer-queue")
                producer.poll(0.05)

    def _finish_batch(self, produced_upto: dict[tuple[str, int], int]) -> None:
        """Makes the batch durable and commits its offsets."""
        assert self._producer is not None and self._consumer is not None
        producer, consumer = self._producer, self._consumer
        offsets = [TopicPartition(t, p, o) for (t, p), o in produced_upto.items()]
        if self.exactly_once:
            meta = consumer.consumer_group_metadata()
            try:
                if offsets:
                    producer.send_offsets_to_transaction(offsets, meta, 30)
                producer.commit_transaction(60)
            except KafkaException as exc:
                err: KafkaError = exc.args[0]
                if err.txn_requires_abort():
                    producer.abort_transaction(60)
                    self._rewind(produced_upto)
                    raise BridgeError(f"transaction aborted: {err.str()}") from None
                raise BridgeError(f"transaction failed: {err.str()}") from None
            self._committed.update(produced_upto)
            return
        remaining = producer.flush(self.settings.delivery.shutdown_timeout_s)
        if remaining or self._delivery_errors:
            errors = self._delivery_errors[:3]
            self._delivery_errors.clear()
            self._rewind(produced_upto)
            raise BridgeError(
                "the sink did not acknowledge the batch "
                f"({remaining} records still queued; {'; '.join(errors) or 'timeout'}); "
                "nothing of it was committed"
            )
        self._committed.update(produced_upto)
        self._commit(sync=False)

    def _rewind(self, produced_upto: dict[tuple[str, int], int]) -> None:
        """After a failed batch, seek back to the last committed offsets so nothing is lost."""
        assert self._consumer is not None
        for t, p in produced_upto:
            committed = self._committed.get((t, p))
            if committed is not None:
                try:
                    self._consumer.seek(TopicPartition(t, p, committed))
                except KafkaException:
                    log.warning("could not rewind %s [%d]", t, p)

    def _commit(self, sync: bool) -> None:
        if not self._committed or self._consumer is None or self.exactly_once:
            return
        offsets = [TopicPartition(t, p, o) for (t, p), o in self._committed.items()]
        try:
            if sync:
                self._consumer.commit(offsets=offsets, asynchronous=False)
            else:
                self._consumer.commit(offsets=offsets, asynchronous=True)
        except KafkaException as exc:
            err: KafkaError = exc.args[0]
            if err.code() != KafkaError._NO_OFFSET:
                log.warning("offset commit failed: %s", err.str())

    def _retrying(self, what: str, fn: Callable[[], Any]) -> Any:
        """Kafka calls that fail retriably are retried with backoff within the budget; the
        log says how long the attempt took and exactly how long the pause is."""
        errors = self.settings.errors
        backoff = Backoff(
            errors.retry_backoff_initial_ms / 1000,
            errors.retry_backoff_max_ms / 1000,
            errors.retry_timeout_s,
        )
        try:
            return retry_kafka(
                what,
                fn,
                backoff,
                self._stopping,
                brokers=self.settings.kafka.bootstrap_servers,
                on_retry=lambda: self.metrics.retried("kafka"),
            )
        except KafkaGaveUp as exc:
            raise BridgeError(str(exc)) from None
        except RegistryUnavailable as exc:
            raise BridgeError(str(exc)) from None
        except RegistryError as exc:
            raise BridgeError(f"{what}: {exc}") from None

    def _tick(self) -> None:
        if self.on_progress is not None:
            self.on_progress(
                snapshot(
                    self.metrics.totals, self._start_offsets, self._end_offsets, self._committed
                )
            )
        interval = self.settings.observability.stats_interval_s
        now = time.monotonic()
        if interval is not None and now - self._last_stats >= interval:
            self._last_stats = now
            t = self.metrics.totals
            log.info(
                "stats: in=%d out=%d dead-lettered=%d filtered=%d rate=%.0f/s",
                t.records_in,
                t.records_out,
                t.dead_lettered,
                t.filtered,
                t.rate,
            )

    def _shutdown(self) -> None:
        consumer, producer = self._consumer, self._producer
        if producer is not None:
            producer.flush(self.settings.delivery.shutdown_timeout_s)
        if consumer is not None:
            self._commit(sync=True)
            consumer.close()
        self._consumer = self._producer = None
