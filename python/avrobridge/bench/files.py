"""``avrobridge bench`` on Avro container files, per codec: ``read`` (a whole file into
records) and ``write`` (records into a file) for avrobridge's native and fastavro backends
and fastavro's ``reader``/``writer`` (the baseline of every ratio).

Every reader reads the same file (written by fastavro with Java's 64,000-byte block size)
and must give fastavro's records; every writer's file must read back, with fastavro, as the
records it was given; both are checked before anything is timed."""

from __future__ import annotations

import io
from collections.abc import Callable
from types import ModuleType
from typing import Any

from .._avro_rules import DEFAULT_BLOCK_SIZE
from .compare import difference
from .impls import BASELINE, FILE_IMPLEMENTATIONS, FILE_OPERATIONS, Workload
from .options import BenchOptions, Progress
from .results import FileMeasurement
from .timing import time_batch

#: The block size every writer uses: the default (Apache Avro Java's sync interval).
BLOCK_SIZE = DEFAULT_BLOCK_SIZE


def _backend(key: str) -> ModuleType:
    if key == "native":
        from .. import _native

        return _native
    from .. import _fallback

    return _fallback


def _reader(key: str, fastavro: Any) -> Callable[[bytes], list[Any]]:
    if key == "fastavro":
        return lambda data: list(fastavro.reader(io.BytesIO(data)))
    reader = _backend(key).ContainerReader
    return lambda data: list(reader(data))


def _writer(key: str, fastavro: Any, w: Workload, codec: str) -> Callable[[list[Any]], bytes]:
    if key == "fastavro":
        parsed = fastavro.parse_schema(w.writer_json)

        def write_fastavro(values: list[Any]) -> bytes:
            out = io.BytesIO()
            fastavro.writer(out, parsed, values, codec=codec, sync_interval=BLOCK_SIZE)
            return out.getvalue()

        return write_fastavro
    backend = _backend(key)
    schema = backend.Schema(w.writer_text, validate_defaults=False)

    def write_avrobridge(values: list[Any]) -> bytes:
        out = io.BytesIO()
        with backend.ContainerWriter(out, schema, codec=codec, block_size=BLOCK_SIZE) as writer:
            writer.write_many(values)
        return out.getvalue()

    return write_avrobridge


def _short(text: str, limit: int = 160) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def measure_files(options: BenchOptions, w: Workload, say: Progress) -> list[FileMeasurement]:
    import fastavro

    results: list[FileMeasurement] = []
    keys = [k for k in FILE_IMPLEMENTATIONS if k in options.implementations or k == BASELINE]
    for codec in options.codecs:
        data = _writer("fastavro", fastavro, w, codec)(w.values)
        expected = list(fastavro.reader(io.BytesIO(data)))
        for operation in FILE_OPERATIONS:
            if operation not in options.operations:
                continue
            group: list[FileMeasurement] = []
            for key in keys:
                m = FileMeasurement(operation, codec, key, file_bytes=len(data))
                group.append(m)
                try:
                    if operation == "read":
                        read = _reader(key, fastavro)
                        fn: Callable[[Any], Any] = read
                        inputs: Any = data
                        found = difference(read(data), expected)
                    else:
                        write = _writer(key, fastavro, w, codec)
                        fn, inputs = write, w.values
                        written = io.BytesIO(write(inputs))
                        found = difference(list(fastavro.reader(written)), expected)
                except ImportError as exc:
                    m.note = f"not installed ({exc.name or exc})"
                    continue
                except Exception as exc:
                    m.note = f"fails: {type(exc).__name__}: {_short(str(exc))}"
                    continue
                if found is not None:
                    what = "reads" if operation == "read" else "writes"
                    m.note = f"{what} other records than fastavro: {_short(found)}"
                    continue
                say(f"timing {operation} of a {codec} file with {m.label}")
                m.timing = time_batch(
                    fn,
                    inputs,
                    repetitions=options.repetitions,
                    min_repetitions=min(3, options.repetitions),
                    budget_s=options.batch_budget_s,
                    records=len(w.values),
                )
            base = next((m for m in group if m.implementation == BASELINE and m.timing), None)
            for m in group:
                if base is not None and base.records_per_s and m.records_per_s:
                    m.ratio = m.records_per_s / base.records_per_s
            results.extend(group)
    return results
