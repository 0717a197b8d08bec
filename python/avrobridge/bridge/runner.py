"""The bridge: consume, convert, produce — pipelined — and commit on an interval.

Each step of the loop takes the records consumed so far (up to `delivery.batch_size`),
converts them in one call (`convert.py`), produces the results without waiting for them
(`emitter.py`) and tells the durability strategy how far each partition got
(`durability.py`). Every `delivery.commit_interval_ms`, before partitions are revoked and at
shutdown, the strategy makes what was produced durable and commits the source offsets it
reached: flush + offset commit (at-least-once) or one transaction per interval
(exactly-once). Order within a source partition is kept: records go out in consumed order to
the sink partition of the same number, by an idempotent producer.
"""

from __future__ import annotations

import functools
import gc
import logging
import resource
import signal
import threading
import time
from collections.abc import Callable
from types import FrameType
from typing import Any

from confluent_kafka import KafkaError, Producer

from ..errors import BridgeError, RegistryError
from . import clients
from .config import BridgeSettings
from .convert import Converter
from .durability import AtLeastOnce, Durability, ExactlyOnce
from .emitter import Emitter
from .files_source import FileSource
from .metrics import BridgeMetrics
from .offsets import OffsetStore
from .plan import check_source_versions
from .progress import Reporter, snapshot
from .retry import Backoff, KafkaGaveUp, retry_kafka
from .schemas import RegistryUnavailable, SchemaSource
from .sinkoffsets import SinkTopicOffsets
from .source import KafkaSource
from .startup import check_kafka_settings, wait_until_reachable
from .summary import Summary

log = logging.getLogger("avrobridge.bridge")


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


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
        #: The sink registry ([sink.registry]); the source's when there is one registry.
        self.sink_schemas = (
            SchemaSource(
                settings.sink_registry,
                settings.errors,
                on_retry=self.metrics.retried,
                stopping=self._stopping,
            )
            if settings.two_registries
            else self.schemas
        )
        self._install_signals = install_signal_handlers
        self.on_progress = on_progress
        self.exactly_once = settings.delivery.guarantee == "exactly-once"
        self._consumer_conf, self._producer_conf = clients.client_configs(
            settings, self._on_delivery
        )
        self.converter: Converter | None = None
        self._source: KafkaSource | FileSource | None = None
        self._producer: Producer | None = None
        self._durability: Durability | None = None
        self._last_stats = time.monotonic()

    def validate(self) -> None:
        """Checks every setting before anything connects; raises ConfigError."""
        check_kafka_settings(self._consumer_conf, self._producer_conf)

    def stop(self) -> None:
        """Asks the loop to finish its batch, commit and return (safe from any thread)."""
        self._stopping.set()

    def _on_delivery(self, err: KafkaError | None, msg: Any) -> None:
        if isinstance(self._durability, AtLeastOnce):
            self._durability.on_delivery(err, msg)
        elif err is not None:
            # Exactly-once: the transaction's commit fails for this record; say which.
            log.error("delivery to %s [%s] failed: %s", msg.topic(), msg.partition(), err.str())

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

    # -- start-up -------------------------------------------------------------------------

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

    def _store(self) -> OffsetStore | None:
        """Exactly-once across two clusters keeps progress in the sink cluster (the
        source group's offsets cannot join the sink's transaction); else the group's."""
        s = self.settings
        if not (self.exactly_once and s.sink_topic_offsets):
            return None
        store = SinkTopicOffsets(
            clients.common_config(s.sink_kafka), s.delivery.offsets_topic, s.kafka.group_id
        )
        self._retrying("creating the offsets topic", lambda: store.ensure_topic(30))
        return store

    def _partition_count(self, side: str, topic: str) -> int | None:
        """Partitions of a source or sink topic (preserve_partitions "auto")."""
        client: Any = self._producer if side == "sink" else None
        if client is None:
            client = getattr(self._source, "consumer", None)
        if client is None:
            return None
        listing = self._retrying(
            "listing topics", functools.partial(client.list_topics, topic, timeout=10)
        )
        meta = listing.topics.get(topic)
        return None if meta is None or meta.error is not None else len(meta.partitions)

    # -- the loop -------------------------------------------------------------------------

    def run(self) -> Summary:
        self.validate()
        previous = self._signals() if self._install_signals else None
        cpu = 0.0
        try:
            # The broker and the registry answer, or StartupError within the start-up timeout.
            wait_until_reachable(
                self.settings, self.schemas.client, self._stopping, self.sink_schemas.client
            )
            if self.settings.sink.directory is not None:
                cpu_started = _cpu_seconds()
                self._export()
                return self._summary(_cpu_seconds() - cpu_started)
            self.converter = Converter(
                self.settings, self.schemas, self.sink_schemas, self._partition_count
            )
            self._producer = producer = Producer(self._producer_conf)
            source: KafkaSource | FileSource
            if self.settings.source.files:
                source = FileSource(
                    self.settings, self.converter, producer, self._producer_conf, self._retrying
                )
            else:
                if self.settings.value.mode != "copy":
                    self._check_source_versions()
                source = KafkaSource(
                    self.settings, self._consumer_conf, self._retrying, self.metrics, self._store()
                )
            self._source = source
            interval = self.settings.delivery.commit_interval_ms / 1000
            timeout = self.settings.delivery.shutdown_timeout_s
            if self.exactly_once:
                self._retrying("init_transactions", lambda: producer.init_transactions(30))
                self._durability = ExactlyOnce(source.store, producer, interval, timeout)
            else:
                self._durability = AtLeastOnce(source.store, producer, interval, timeout)
            source.start(self._durability)
            cpu_started = _cpu_seconds()
            with _collector_paused() as collector:
                self._loop(collector)
            self._durability.commit(final=True)
            cpu = _cpu_seconds() - cpu_started
        except BaseException:
            if self._durability is not None:
                self._durability.abandon()
            raise
        finally:
            self._close()
            if previous is not None:
                for sig, handler in previous.items():
                    signal.signal(sig, handler)
        return self._summary(cpu)

    def _export(self) -> None:
        """Topic -> rolling container files (`files_sink.py`)."""
        from .files_sink import FileExport

        if self.settings.value.configured:
            self.converter = Converter(self.settings, self.schemas)
            self._check_source_versions()
        export = FileExport(
            self.settings,
            self.converter,
            self.schemas,
            self._consumer_conf,
            self._producer_conf,
            self._retrying,
            self.metrics,
            self._stopping,
            self._tick,
        )
        self._source = export.source  # progress, and closed by `_close`
        export.run()

    def _summary(self, cpu: float) -> Summary:
        t = self.metrics.totals
        return Summary(
            records_in=t.records_in,
            records_out=t.records_out,
            dead_lettered=t.dead_lettered,
            filtered=t.filtered,
            tombstones=t.tombstones,
            elapsed_s=t.elapsed,
            per_writer_schema=dict(t.per_writer_schema),
            cpu_s=cpu,
            ids_translated=self.metrics.translations(),
        )

    def _signals(self) -> dict[int, Any]:
        def handler(signum: int, frame: FrameType | None) -> None:
            log.info("signal %d: finishing the current batch, then stopping", signum)
            self.stop()

        previous: dict[int, Any] = {}
        for sig in (signal.SIGINT, signal.SIGTERM):
            previous[sig] = signal.signal(sig, handler)
        return previous

    def _loop(self, collector: _collector_paused) -> None:
        assert self._source is not None and self._producer is not None
        assert self._durability is not None and self.converter is not None
        source, producer, durability = self._source, self._producer, self._durability
        convert: Callable[[Any], Any] = (
            source.convert if isinstance(source, FileSource) else self.converter.convert
        )
        emitter = Emitter(producer, self.settings, self.metrics)
        batch_seconds, plans = self.metrics.batch_seconds, self.metrics.plans
        wait_s = self.settings.delivery.batch_timeout_ms / 1000
        while not self._stopping.is_set() and not source.finished:
            # Wait for records at most until the next commit is due.
            msgs: Any = source.poll(min(wait_s, max(durability.seconds_to_due(), 0.0)))
            if msgs:
                started = time.perf_counter()
                batch = self._retrying("converting", functools.partial(convert, msgs))
                plans.set(self.converter.plans_cached)
                source.advance(batch, msgs)
                if batch.records or batch.failures:
                    durability.before_produce()
                    stop = emitter.emit(batch, msgs, self.converter.set_aside)
                    durability.track(batch.offsets)
                    self._count_translations(batch.by_writer)
                    if stop is not None:
                        durability.commit(final=True)
                        raise stop
                batch_seconds.observe(time.perf_counter() - started)
            producer.poll(0)
            if durability.due():
                durability.commit()
                collector.collect()
            self._tick()

    def _count_translations(self, by_writer: dict[Any, int]) -> None:
        """Records per (source id -> sink id) of the values, for the summary and metrics."""
        converter = self.converter
        assert converter is not None
        for ref, n in by_writer.items():
            sink_id = converter.sink_id(converter.value, ref)
            if sink_id is not None:
                self.metrics.translated(str(ref), sink_id, n)

    def _tick(self) -> None:
        source = self._source
        if self.on_progress is not None and source is not None:
            self.on_progress(
                snapshot(self.metrics.totals, source.starts, source.ends, source.positions)
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

    def _close(self) -> None:
        source, producer = self._source, self._producer
        if producer is not None:
            # Whatever is still queued is delivered (a failure path committed nothing of it).
            producer.flush(self.settings.delivery.shutdown_timeout_s)
        if source is not None:
            source.close()  # leaving the group revokes: the durability strategy commits
        if producer is not None:
            # Closed now, not when the last reference goes: a failed run's traceback keeps
            # the loop's frames (and this producer) alive, retrying brokers long after.
            close = getattr(producer, "close", None)  # confluent-kafka >= 2.14
            if close is not None:
                close()
        self._source = None
        self._producer = None


class _collector_paused:
    """The loop allocates and frees tens of thousands of short-lived, acyclic objects per
    batch (messages, produce arguments), and CPython's cyclic collector would walk them (and,
    in full collections, every imported module's objects) over and over for nothing: a few
    per cent of the loop's time. During the loop the start-up heap is frozen out of its way
    and automatic collection is off; `collect` runs it once per commit interval instead
    (young generations; everything every 64th time), so cyclic garbage is still freed."""

    def __enter__(self) -> _collector_paused:
        self._enabled = gc.isenabled()
        self._rounds = 0
        gc.collect()
        gc.freeze()
        gc.disable()
        return self

    def collect(self) -> None:
        self._rounds += 1
        gc.collect(2 if self._rounds % 64 == 0 else 1)

    def __exit__(self, *exc: object) -> None:
        gc.unfreeze()
        if self._enabled:
            gc.enable()
