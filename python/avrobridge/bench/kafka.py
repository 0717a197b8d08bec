"""``avrobridge bench --kafka``: the bridge end to end against a real broker, in three modes
over the same records: (a) ``passthrough``, the bridge's loop with the bytes unchanged (what
Kafka and the loop cost), (b) ``avrobridge``, the bridge as it ships, and (c) ``fastavro``, the
same loop converting each record with fastavro (decode with writer + reader schema, encode,
re-frame). The modes swap ``Converter.convert`` for the run (:func:`bridge_mode`). Each mode's
records/s and CPU time per record (the whole process, every thread) are reported."""

from __future__ import annotations

import contextlib
import io
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from .. import framing
from ..kafkalog import kafka_logger
from .impls import Workload
from .options import BenchFailed, BenchOptions, Progress
from .results import BridgeMeasurement

MODES = ("passthrough", "avrobridge", "fastavro")
TIMEOUT_S = 30.0


def _produce_args(sink: str, m: Any, value: Any) -> tuple[Any, ...]:
    kind, ts = m.timestamp()
    return (sink, value, m.key(), m.partition(), None, None, ts if kind else 0, m.headers())


#: (converter, sink topic, value) -> the sink value.
ValueConverter = Callable[[Any, str, bytes], bytes]


def _python_convert(convert_value: ValueConverter) -> Any:
    """A `Converter.convert` that converts each value in Python (per record, as a hand-written
    loop would) and builds the same batch result the backend returns."""
    from .._fallback.batch import ConvertedBatch

    def convert(self: Any, messages: list[Any]) -> Any:
        produce: list[tuple[Any, ...]] = []
        events: list[tuple[int, Any]] = []
        offsets: dict[tuple[str, int], int] = {}
        by_topic: dict[str, int] = {}
        for i, m in enumerate(messages):
            if m.error() is not None:
                events.append((i, m.error()))
                continue
            topic = m.topic()
            sink = self.sink_topic(topic)
            produce.append(_produce_args(sink, m, convert_value(self, sink, m.value())))
            offsets[(topic, m.partition())] = m.offset() + 1
            by_topic[topic] = by_topic.get(topic, 0) + 1
        return ConvertedBatch(
            produce=produce,
            events=events,
            offsets=[(t, p, o) for (t, p), o in offsets.items()],
            records=len(produce),
            records_by_topic=by_topic,
            out_by_topic={self.sink_topic(t): n for t, n in by_topic.items()},
        )

    return convert


def _unchanged(converter: Any, sink: str, data: bytes) -> bytes:
    return data


def _fastavro_value(writer: Any, reader: Any) -> ValueConverter:
    import fastavro

    w, r = fastavro.parse_schema(writer), fastavro.parse_schema(reader)
    read, write = fastavro.schemaless_reader, fastavro.schemaless_writer

    def convert(self: Any, sink: str, data: bytes) -> bytes:
        if data[0] != 0 or len(data) < 5:
            raise BenchFailed("a record is not Confluent-framed")
        prefix = framing.prefix(int(self.target_id(self.value, sink)))
        out = io.BytesIO()
        out.write(prefix)
        write(out, r, read(io.BytesIO(data[5:]), w, r))
        return out.getvalue()

    return convert


@contextlib.contextmanager
def _convert(replacement: Any) -> Iterator[None]:
    from ..bridge.convert import Converter

    if replacement is None:
        yield
        return
    original = Converter.__dict__["convert"]
    Converter.convert = replacement  # type: ignore[method-assign]
    try:
        yield
    finally:
        Converter.convert = original  # type: ignore[method-assign]


def _replacement(mode: str, writer: Any, reader: Any) -> Any:
    if mode in ("passthrough", "warm-up"):
        return _python_convert(_unchanged)
    if mode == "fastavro":
        return _python_convert(_fastavro_value(writer, reader))
    if mode == "avrobridge":
        return None
    raise ValueError(f"unknown bridge bench mode {mode!r}")


@contextlib.contextmanager
def bridge_mode(mode: str, writer: Any, reader: Any) -> Iterator[None]:
    """Bridges run inside the block convert as ``mode`` says (one of MODES, or ``warm-up``,
    which is passthrough); ``writer`` and ``reader`` are the schemas' JSON, for fastavro."""
    with _convert(_replacement(mode, writer, reader)):
        yield


def _create_topics(admin: Any, names: list[str], partitions: int) -> None:
    from confluent_kafka.cimpl import NewTopic  # confluent_kafka.admin re-exports it untyped

    futures = admin.create_topics(
        [NewTopic(n, num_partitions=partitions, replication_factor=-1) for n in names],
        operation_timeout=TIMEOUT_S,
        request_timeout=TIMEOUT_S,
    )
    for name, future in futures.items():
        try:
            future.result(timeout=TIMEOUT_S)
        except Exception as exc:
            raise BenchFailed(f"cannot create topic {name}: {exc}") from None
    deadline = time.monotonic() + TIMEOUT_S
    for name in names:
        while True:
            topic = admin.list_topics(topic=name, timeout=TIMEOUT_S).topics.get(name)
            if (
                topic is not None
                and topic.error is None
                and len(topic.partitions) == partitions
                and all(p.leader >= 0 for p in topic.partitions.values())
            ):
                break
            if time.monotonic() > deadline:
                raise BenchFailed(f"topic {name} did not become ready in {TIMEOUT_S:.0f} s")
            time.sleep(0.05)


def _produce(bootstrap: str, topic: str, frames: list[bytes], n: int, partitions: int) -> None:
    from confluent_kafka import Producer

    producer = Producer(
        {
            "bootstrap.servers": bootstrap,
            "linger.ms": 20,
            "logger": kafka_logger("avrobridge.bench.kafka"),
        }
    )
    for i in range(n):
        while True:
            try:
                producer.produce(
                    topic, frames[i % len(frames)], str(i).encode(), partition=i % partitions
                )
                break
            except BufferError:
                producer.poll(0.1)
    if producer.flush(60) != 0:
        raise BenchFailed(f"could not produce {n:,} records to {topic}")


def check_broker(bootstrap: str) -> None:
    """Raises BenchFailed unless a broker answers at ``bootstrap``."""
    from confluent_kafka.admin import AdminClient

    admin = AdminClient({"bootstrap.servers": bootstrap, "log_level": 0})  # we say it
    try:
        admin.list_topics(timeout=10)
    except Exception as exc:
        raise BenchFailed(f"cannot reach Kafka at {bootstrap}: {exc}") from None


def run_bridge_bench(
    options: BenchOptions, w: Workload, say: Progress
) -> tuple[str, list[BridgeMeasurement]]:
    """(a description of the setup, one measurement per mode)."""
    from confluent_kafka.admin import AdminClient

    from ..bridge import Bridge, load_settings

    assert options.kafka is not None and w.registry_url is not None
    bootstrap, n, partitions = options.kafka, options.kafka_records, options.kafka_partitions
    conf: dict[str, Any] = {
        "bootstrap.servers": bootstrap,
        "logger": kafka_logger("avrobridge.bench.kafka"),
    }
    admin = AdminClient(conf)
    token = uuid.uuid4().hex[:10]
    source = f"avrobridge-bench-{token}-source"
    sinks = {mode: f"avrobridge-bench-{token}-{mode}" for mode in ("warm-up", *MODES)}
    topics = [source, *sinks.values()]
    say(f"creating topics avrobridge-bench-{token}-* on {bootstrap}")
    _create_topics(admin, topics, partitions)
    results: list[BridgeMeasurement] = []
    try:
        say(f"producing {n:,} records to {source}")
        _produce(bootstrap, source, w.frames, n, partitions)
        with tempfile.TemporaryDirectory() as tmp:
            target = Path(tmp) / "reader.avsc"
            target.write_text(w.reader_text, encoding="utf-8")
            # The first run in a process pays for start-up (imports, connections, caches):
            # an unmeasured passthrough run takes it, so that the modes compare fairly.
            for mode in ("warm-up", *MODES):
                say(f"bridging {n:,} records ({mode})")
                settings = load_settings(
                    None,
                    kafka={"bootstrap_servers": bootstrap, "group_id": f"{sinks[mode]}-group"},
                    registry={"url": w.registry_url},
                    source={"topics": [source]},
                    sink={"topic": sinks[mode]},
                    value={"schema_file": target},
                    delivery={"batch_size": 10_000},
                    until_end=True,
                )
                if mode == "warm-up":
                    with bridge_mode(mode, w.writer_json, w.reader_json):
                        Bridge(settings).run()
                    continue
                m = BridgeMeasurement(mode, n)
                with bridge_mode(mode, w.writer_json, w.reader_json):
                    started, cpu_started = time.perf_counter(), time.process_time()
                    try:
                        summary = Bridge(settings).run()
                    except Exception as exc:
                        m.note = f"failed: {type(exc).__name__}: {exc}"
                        results.append(m)
                        continue
                    elapsed = time.perf_counter() - started
                    # Every thread of the process: librdkafka's work counts too.
                    m.cpu_seconds = time.process_time() - cpu_started
                if summary.records_out != n or summary.dead_lettered:
                    m.note = (
                        f"{summary.records_out:,} of {n:,} records out, "
                        f"{summary.dead_lettered:,} dead-lettered"
                    )
                else:
                    m.seconds = elapsed
                results.append(m)
    finally:
        futures = admin.delete_topics(topics, operation_timeout=5, request_timeout=5)
        for future in futures.values():
            with contextlib.suppress(Exception):  # best effort: the names are unique
                future.result(timeout=5)
    base = next((m for m in results if m.mode == "fastavro" and m.records_per_s), None)
    for m in results:
        if base is not None and base.records_per_s and m.records_per_s:
            m.ratio = m.records_per_s / base.records_per_s
    setup = (
        f"Kafka {bootstrap}, registry {w.registry_url}: {n:,} records over {partitions} "
        f"partitions, source -> sink with the reader schema, wall time of `avrobridge run "
        f"--until-end` in-process"
    )
    return setup, results
