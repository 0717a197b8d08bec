"""Prometheus metrics of one bridge, plus the plain counters the summary and the periodic
stats line read. Updated once per batch, not per record."""

from __future__ import annotations

import time
from collections import Counter as Tally
from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server


@dataclass
class Totals:
    """Plain counters for the summary and the stats line."""

    records_in: int = 0
    records_out: int = 0
    dead_lettered: int = 0
    filtered: int = 0
    tombstones: int = 0
    retries: int = 0
    batches: int = 0
    started: float = field(default_factory=time.monotonic)
    per_writer_schema: Tally[str] = field(default_factory=Tally)
    dead_letter_reasons: Tally[str] = field(default_factory=Tally)

    @property
    def elapsed(self) -> float:
        return max(time.monotonic() - self.started, 1e-9)

    @property
    def rate(self) -> float:
        return self.records_in / self.elapsed


class BridgeMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.records_in = Counter(
            "avrobridge_records_in", "Records consumed", ["topic"], registry=r
        )
        self.records_out = Counter(
            "avrobridge_records_out", "Records produced to the sink", ["topic"], registry=r
        )
        self.dead_lettered = Counter(
            "avrobridge_records_dead_lettered",
            "Records sent to the dead-letter topic",
            ["error_class"],
            registry=r,
        )
        self.filtered = Counter(
            "avrobridge_records_filtered", "Records dropped by filters", registry=r
        )
        self.retries = Counter(
            "avrobridge_retries", "Retried infrastructure operations", ["component"], registry=r
        )
        self.batch_seconds = Histogram(
            "avrobridge_batch_seconds",
            "Time to convert, produce and commit one batch",
            buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=r,
        )
        self.lag = Gauge(
            "avrobridge_consumer_lag",
            "High watermark minus position",
            ["topic", "partition"],
            registry=r,
        )
        self.plans = Gauge("avrobridge_plans_cached", "Transcoding plans cached", registry=r)
        self.ids_translated = Counter(
            "avrobridge_ids_translated_records",
            "Records produced with the sink registry's id for their source schema id",
            ["source_id", "sink_id"],
            registry=r,
        )
        self.totals = Totals()
        #: (source id, sink id) -> records
        self._translations: Tally[tuple[str, int]] = Tally()

    def serve(self, port: int, host: str) -> None:
        start_http_server(port, addr=host, registry=self.registry)

    def translated(self, source_id: str, sink_id: int, records: int) -> None:
        self.ids_translated.labels(source_id, str(sink_id)).inc(records)
        self._translations[(source_id, sink_id)] += records

    def translations(self) -> list[dict[str, int | str]]:
        """[{"source_id", "sink_id", "records"}] in source id order."""
        return [
            {"source_id": source, "sink_id": sink, "records": n}
            for (source, sink), n in sorted(self._translations.items())
        ]

    def retried(self, component: str) -> None:
        self.retries.labels(component).inc()
        self.totals.retries += 1
