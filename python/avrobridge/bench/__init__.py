"""``avrobridge bench``: serialization throughput the way users want to see it.

Records are generated for any schema (:mod:`avrobridge.datagen`); decode, encode, resolve and
transcode are then timed per record and per batch for avrobridge's native and fastavro
backends, raw fastavro (the baseline), the ``avro`` package and confluent-kafka's serializers,
each checked against fastavro first. ``--kafka`` adds the bridge end to end on a real broker.
Results come as a table, JSON (``--json``) or a bar chart (``--plot``, needs matplotlib).

Use from Python::

    from avrobridge.bench import BenchOptions, run_bench
    report = run_bench(BenchOptions(records=5_000))
    report.to_json()
"""

from __future__ import annotations

from .cli import add_bench_command, bench_command
from .options import BenchError, BenchOptions
from .results import BenchReport, Measurement
from .suite import run_bench

__all__ = [
    "BenchError",
    "BenchOptions",
    "BenchReport",
    "Measurement",
    "add_bench_command",
    "bench_command",
    "run_bench",
]
