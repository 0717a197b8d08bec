"""Producing a converted batch: the sink records, then the dead-letter records, with the
metrics counted once per batch."""

from __future__ import annotations

from typing import Any

from confluent_kafka import KafkaError, KafkaException, Producer

from ..errors import BridgeError
from .config import BridgeSettings
from .convert import ConvertedBatch
from .deadletter import Failure, context_headers
from .metrics import BridgeMetrics


class Emitter:
    def __init__(
        self, producer: Producer, settings: BridgeSettings, metrics: BridgeMetrics
    ) -> None:
        self.producer = producer
        self.metrics = metrics
        self.group_id = settings.kafka.group_id
        errors = settings.errors
        self.tolerate = errors.tolerance == "all"
        self.dead_letter_topic = errors.dead_letter_topic or ""  # set whenever tolerance is "all"
        self.context_headers = errors.context_headers

    def emit(
        self, batch: ConvertedBatch, messages: list[Any], set_aside: int = 0
    ) -> BridgeError | None:
        """Produces the batch's records; returns the error to stop with when a record may not
        be skipped (errors.tolerance "none"): the batch then ends just before that record.
        `set_aside`: failures the batch also counted as filtered (a refused sink topic)."""
        self._produce_all(batch.produce)
        stop = None
        dead: dict[str, int] = {}
        for index, stage, exc in batch.failures:
            m = messages[index]
            failure = Failure.from_exception(stage, exc)
            where = f"{m.topic()} [{m.partition()}] @ {m.offset()}"
            if not self.tolerate:
                stop = BridgeError(
                    f"record {where} cannot be converted ({failure.stage}: "
                    f"{failure.short_class}: {failure.message}); errors.tolerance is 'none', "
                    "so the bridge stops here"
                )
                break
            headers = list(m.headers() or [])
            if self.context_headers:
                headers += context_headers(
                    failure, m.topic(), m.partition(), m.offset(), self.group_id
                )
            kind, ts = m.timestamp()
            self._produce_all(
                [
                    (
                        self.dead_letter_topic,
                        m.value(),
                        m.key(),
                        -1,
                        None,
                        None,
                        ts if kind else 0,
                        headers,
                    )
                ]
            )
            dead[failure.short_class] = dead.get(failure.short_class, 0) + 1
        self._count(batch, dead, set_aside)
        return stop

    def _produce_all(self, items: list[tuple[Any, ...]]) -> None:
        """`produce(*args)` for every item, in order; a full producer queue is drained, never
        dropped (this bounds the records in flight)."""
        produce = self.producer.produce
        i, n = 0, len(items)
        while i < n:
            try:
                for i in range(i, n):  # noqa: B020 - resumes at the record that did not fit
                    produce(*items[i])
                return
            except BufferError:
                self.metrics.retried("producer-queue")
                self.producer.poll(0.05)
            except KafkaException as exc:
                err: KafkaError = exc.args[0]
                topic, partition = items[i][0], items[i][3]
                where = f"{topic} [{partition}]" if partition >= 0 else topic
                raise BridgeError(f"producing to {where} failed: {err.str()}") from None

    def _count(self, batch: ConvertedBatch, dead: dict[str, int], set_aside: int) -> None:
        m = self.metrics
        t = m.totals
        t.batches += 1
        t.records_in += batch.records
        filtered = batch.filtered - set_aside
        t.filtered += filtered
        t.tombstones += batch.tombstones
        for topic, n in batch.records_by_topic.items():
            m.records_in.labels(topic).inc(n)
        for topic, n in batch.out_by_topic.items():
            t.records_out += n
            m.records_out.labels(topic).inc(n)
        for ref, n in batch.by_writer.items():
            t.per_writer_schema[str(ref)] += n
        if filtered:
            m.filtered.inc(filtered)
        for cls, n in dead.items():
            t.dead_lettered += n
            t.dead_letter_reasons[cls] += n
            m.dead_lettered.labels(cls).inc(n)
