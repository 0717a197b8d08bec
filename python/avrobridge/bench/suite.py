"""Runs the benchmark: generates the records, computes fastavro's results, checks every
implementation against them and times what passed."""

from __future__ import annotations

import contextlib
import io
import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .. import framing
from .._backend import Schema, Transcoder
from ..errors import AvroBridgeError
from . import sources
from .compare import difference, same, short
from .impls import (
    BASELINE,
    FILE_OPERATIONS,
    IMPLEMENTATIONS,
    MODES,
    OPERATIONS,
    FastavroImpl,
    Implementation,
    Op,
    Unsupported,
    Workload,
    build,
)
from .machine import machine_info
from .options import BenchError, BenchFailed, BenchOptions, Progress
from .results import (
    BenchReport,
    Measurement,
    WorkloadInfo,
)
from .timing import Timing, frozen_heap, time_batch, time_one


class CheckFailed(AvroBridgeError):
    """An implementation's output differs from fastavro's: it is not timed."""


# -- the run ----------------------------------------------------------------------------


@contextlib.contextmanager
def _registry(options: BenchOptions, needed: bool) -> Iterator[tuple[str | None, str | None]]:
    """(registry URL or None, why there is none)."""
    if not needed:
        yield None, "not requested"
        return
    if options.registry:
        yield options.registry.rstrip("/"), None
        return
    try:
        from ..registry import BackgroundServer, ServerSettings

        server = BackgroundServer(ServerSettings(port=0, log_level="warning"))
        server.start()
    except Exception as exc:  # the bench goes on without the registry-based rows
        yield None, f"no registry: could not start the in-process one ({exc})"
        return
    try:
        yield server.url, None
    finally:
        server.stop()


def _register(url: str, subject: str, text: str) -> int:
    from confluent_kafka.schema_registry import Schema as RegistrySchema
    from confluent_kafka.schema_registry import SchemaRegistryClient

    client = SchemaRegistryClient({"url": url})
    return int(client.register_schema(subject, RegistrySchema(text, "AVRO")))


def _read_schema(path: Path) -> tuple[str, str]:
    try:
        return sources.read_schema_file(path)
    except sources.SourceError as exc:
        raise BenchError(str(exc)) from None


def _records(options: BenchOptions, say: Progress) -> sources.Records:
    """The records to run on: generated, read from --data or sampled from --data-topic."""
    if options.records < 1:
        raise BenchError("--records must be at least 1")
    if options.data is not None and options.data_topic is not None:
        raise BenchError("--data and --data-topic exclude each other")
    if (options.data or options.data_topic) and options.schema is not None:
        raise BenchError("--schema does not go with --data or --data-topic: the data has one")
    try:
        if options.data is not None:
            say(f"reading up to {options.records:,} records from {options.data}")
            return sources.from_file(options.data, options.records)
        if options.data_topic is not None:
            bootstrap = options.bootstrap_servers or options.kafka
            if bootstrap is None:
                raise BenchError("--data-topic needs --bootstrap-servers (or --kafka)")
            if options.registry is None:
                raise BenchError("--data-topic needs --registry, where its schemas are")
            sample = options.sample or options.records
            say(f"sampling {sample:,} records from {options.data_topic}")
            return sources.from_topic(bootstrap, options.data_topic, sample, options.registry)
        say(f"generating {options.records:,} records")
        return sources.generated(options.schema, options.records, options.seed)
    except sources.SourceError as exc:
        raise BenchError(str(exc)) from None


def prepare_workload(
    options: BenchOptions, registry_url: str | None, progress: Progress
) -> tuple[Workload, WorkloadInfo, str | None]:
    """The generated records and fastavro's results (and why the registry is unusable)."""
    import fastavro

    records = _records(options, say=progress)
    schema_label, writer_text = records.label, records.writer_text
    reader_label, reader_text = (
        _read_schema(options.reader_schema) if options.reader_schema else (None, writer_text)
    )
    try:
        writer = Schema(writer_text, validate_defaults=records.origin == "generated")
    except AvroBridgeError as exc:
        raise BenchError(f"{schema_label}: {exc}") from None
    try:
        reader = Schema(reader_text)
        Transcoder(writer, reader)
    except AvroBridgeError as exc:
        raise BenchError(f"{reader_label}: {exc}") from None

    token = uuid.uuid4().hex[:8]
    writer_topic = f"avrobridge-bench-{token}-writer"
    reader_topic = f"avrobridge-bench-{token}-reader"
    writer_id, reader_id, registry_problem = 1, 2, None
    if registry_url is not None:
        try:
            writer_id = _register(registry_url, f"{writer_topic}-value", writer_text)
            reader_id = _register(registry_url, f"{reader_topic}-value", reader_text)
        except Exception as exc:
            registry_problem = f"registry {registry_url}: {exc}"
            registry_url = None

    values = records.values
    w_json, r_json = json.loads(writer_text), json.loads(reader_text)
    fw = fastavro.parse_schema(w_json)
    bodies = []
    for v in values:
        out = io.BytesIO()
        fastavro.schemaless_writer(out, fw, v)
        bodies.append(out.getvalue())
    prefix = framing.prefix(writer_id)
    w = Workload(
        writer_text=writer_text,
        reader_text=reader_text,
        writer_json=w_json,
        reader_json=r_json,
        writer_id=writer_id,
        reader_id=reader_id,
        values=values,
        bodies=bodies,
        frames=[prefix + b for b in bodies],
        registry_url=registry_url,
        writer_topic=writer_topic,
        reader_topic=reader_topic,
    )
    info = WorkloadInfo(
        schema=schema_label,
        schema_name=writer.name,
        schema_type=writer.type,
        reader_schema=reader_label,
        reader_name=reader.name if options.reader_schema else None,
        records=len(values),
        seed=options.seed,
        bytes_per_record=sum(map(len, bodies)) / len(bodies),
        origin=records.origin,
        note=records.note,
    )
    return w, info, registry_problem


def _expected(w: Workload, reference: FastavroImpl, operation: str, n: int) -> list[Any]:
    """fastavro's results for the first ``n`` inputs (computed once, on demand)."""
    if operation == "decode":
        if len(w.decoded) < n:
            w.decoded = [reference.decode(b) for b in w.bodies[:n]]
        return w.decoded[:n]
    if operation == "encode":
        return w.bodies[:n]
    if operation == "resolve":
        if len(w.resolved) < n:
            w.resolved = [reference.resolve(b) for b in w.bodies[:n]]
        return w.resolved[:n]
    if len(w.transcoded) < n:
        w.transcoded = [reference.transcode(f) for f in w.frames[:n]]
    return w.transcoded[:n]


def check(
    op: Op, operation: str, w: Workload, reference: FastavroImpl, sample_size: int = 200
) -> str | None:
    """Raises CheckFailed unless ``op`` gives fastavro's results on a sample; returns a note
    when they are equivalent rather than identical."""
    n = min(len(op.inputs), sample_size)
    expected = _expected(w, reference, operation, n)
    try:
        actual = op.collect(op.inputs[:n])
    except Exception as exc:
        raise CheckFailed(f"fails: {type(exc).__name__}: {short(str(exc), 160)}") from None
    if len(actual) != n:
        raise CheckFailed(f"gave {len(actual)} results for {n} inputs")
    note = None
    for i, (a, e) in enumerate(zip(actual, expected, strict=True)):
        if same(a, e):
            continue
        if operation in ("decode", "resolve"):
            # Another representation of the same data (the avro package's str UUIDs, ...)?
            encode = reference.encode if operation == "decode" else reference.encode_reader
            try:
                if encode(a) == encode(e):
                    note = "logical types in its own representation"
                    continue
            except Exception:
                pass
            raise CheckFailed(f"reads other values than fastavro: record {i} {difference(a, e)}")
        if not isinstance(a, bytes):
            raise CheckFailed(f"gives {type(a).__name__}, not bytes")
        # Other bytes: for the same values (another union branch, say)?
        try:
            if operation == "encode":
                found = difference(reference.decode(a), reference.decode(e))
            else:
                found = None if a[:5] == e[:5] else f"schema id {a[1:5].hex()} != {e[1:5].hex()}"
                found = found or difference(
                    reference.read_reader(a[5:]), reference.read_reader(e[5:])
                )
        except Exception as exc:
            at = next(
                (j for j, (x, y) in enumerate(zip(a, e, strict=False)) if x != y),
                min(len(a), len(e)),
            )
            raise CheckFailed(
                f"writes other bytes than fastavro: record {i} from byte {at} "
                f"(fastavro cannot read them: {type(exc).__name__})"
            ) from None
        if found is None:
            note = "other bytes than fastavro, same values"
            continue
        raise CheckFailed(f"writes other values than fastavro: record {i} {found}")
    return note


def _join(*notes: str | None) -> str | None:
    return "; ".join(n for n in notes if n) or None


def run_bench(options: BenchOptions, progress: Progress | None = None) -> BenchReport:
    """Runs everything ``options`` asks for and returns the report (nothing is printed)."""
    say: Progress = progress or (lambda _message: None)
    started = time.perf_counter()
    unknown = set(options.implementations) - set(IMPLEMENTATIONS)
    if unknown:
        raise BenchError(f"unknown implementations: {', '.join(sorted(unknown))}")
    needs_registry = "confluent-kafka" in options.implementations or options.kafka is not None
    if options.kafka is not None:
        from .kafka import check_broker

        check_broker(options.kafka)  # before minutes of measurements, not after
    with frozen_heap(), _registry(options, needs_registry) as (registry_url, why_not):
        if options.kafka is not None and registry_url is None:
            raise BenchFailed(f"--kafka needs a schema registry: {why_not}")
        w, info, registry_problem = prepare_workload(options, registry_url, say)
        if registry_problem and options.kafka is not None:
            raise BenchFailed(registry_problem)
        results = measure_codecs(options, w, say, registry_problem or why_not)
        report = BenchReport(machine_info(), info, results)
        if set(options.operations) & set(FILE_OPERATIONS):
            from .files import measure_files

            report.files = measure_files(options, w, say)
        if options.kafka is not None:
            assert w.registry_url is not None
            from .kafka import run_bridge_bench

            report.bridge_setup, report.bridge = run_bridge_bench(options, w, say)
    report.elapsed_s = time.perf_counter() - started
    return report


def _time(op: Op, mode: str, one_n: int, options: BenchOptions) -> Timing:
    if mode == "one":
        return time_one(
            op.fn,
            op.inputs[:one_n],
            target_s=options.one_target_s,
            repetitions=options.repetitions,
        )
    return time_batch(
        op.fn,
        op.inputs,
        repetitions=options.repetitions,
        min_repetitions=min(3, options.repetitions),
        budget_s=options.batch_budget_s,
    )


def measure_codecs(
    options: BenchOptions, w: Workload, say: Progress, registry_problem: str | None
) -> list[Measurement]:
    impls: dict[str, Implementation | str] = {}
    # The baseline is always measured: every ratio is against it.
    for key in {*options.implementations, BASELINE}:
        try:
            impls[key] = build(key, w)
        except Unsupported as exc:
            impls[key] = _join(str(exc), registry_problem) or str(exc)
        except ImportError as exc:
            impls[key] = f"not installed ({exc.name or exc})"
        except Exception as exc:
            impls[key] = f"cannot set up: {type(exc).__name__}: {short(str(exc), 160)}"

    reference = FastavroImpl(w)
    one_n = min(len(w.bodies), 1000)
    sizes = [len(b) for b in w.bodies]
    one_bytes = sum(sizes[:one_n]) / one_n
    batch_bytes = sum(sizes) / len(sizes)
    results: list[Measurement] = []
    for operation in OPERATIONS:
        if operation not in options.operations:
            continue
        for mode in MODES:
            if mode not in options.modes:
                continue
            group: list[Measurement] = []
            for key in IMPLEMENTATIONS:
                if key not in impls:
                    continue
                m = Measurement(operation, mode, key)
                m.bytes_per_record = one_bytes if mode == "one" else batch_bytes
                group.append(m)
                impl = impls[key]
                if isinstance(impl, str):
                    m.note = impl
                    continue
                try:
                    op = impl.op(operation, mode)
                    note = check(op, operation, w, reference)
                except (Unsupported, CheckFailed) as exc:
                    m.note = str(exc)
                    continue
                say(f"timing {operation} ({mode}) with {m.label}")
                try:
                    m.timing = _time(op, mode, one_n, options)
                except Exception as exc:  # on a record past the checked sample, say
                    m.note = f"failed while timed: {type(exc).__name__}: {short(str(exc), 160)}"
                    continue
                m.note = _join(op.note, note)
            base = next((m for m in group if m.implementation == BASELINE and m.timing), None)
            for m in group:
                if base is not None and base.timing is not None and m.timing is not None:
                    m.ratio = m.timing.records_per_s / base.timing.records_per_s
            results.extend(group)
    return results
