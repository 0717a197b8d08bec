"""Transcoding: native `transcode_framed_many` vs the fastavro path (read with writer and
reader schema, write with the reader schema, re-frame), per record and per batch."""

from __future__ import annotations

import copy
import io
import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import fastavro
import pytest

import avrobridge._native as native
from avrobridge.data import schema_text
from workloads import DOUBLES_1000, MIXED_30, Workload, doubles, employee, mixed


def _mixed_reader() -> dict[str, Any]:
    """Drops two fields, adds two with defaults, promotes int->long and float->double."""
    reader = copy.deepcopy(MIXED_30)
    fields = [f for f in reader["fields"] if f["name"] not in ("payload", "s2")]
    for f in fields:
        if f["name"] == "count":
            f["type"] = "long"
        if f["name"] == "ratio":
            f["type"] = "double"
    fields.append({"name": "added_flag", "type": "boolean", "default": False})
    fields.append({"name": "added_note", "type": ["null", "string"], "default": None})
    reader["fields"] = fields
    return reader


def _doubles_reader() -> dict[str, Any]:
    reader = copy.deepcopy(DOUBLES_1000)
    reader["fields"].append({"name": "unit", "type": "string", "default": "m/s"})
    return reader


PAIRS = [
    (
        Workload("employee_v2_to_v1", json.loads(schema_text("employee_v2")), employee),
        json.loads(schema_text("employee_v1")),
    ),
    (Workload("mixed30", MIXED_30, mixed), _mixed_reader()),
    (Workload("doubles1000", DOUBLES_1000, doubles), _doubles_reader()),
]
BATCH = {"employee_v2_to_v1": 100_000, "mixed30": 100_000, "doubles1000": 10_000}
HEADER = b"\x00\x00\x00\x00\x07"


class FastavroPath:
    def __init__(self, writer: dict[str, Any], reader: dict[str, Any]) -> None:
        self.writer = fastavro.parse_schema(writer)
        self.reader = fastavro.parse_schema(reader)

    def one(self, framed: bytes) -> bytes:
        value = fastavro.schemaless_reader(io.BytesIO(framed[5:]), self.writer, self.reader)
        out = io.BytesIO()
        out.write(b"\x00\x00\x00\x00\x09")
        fastavro.schemaless_writer(out, self.reader, value)
        return out.getvalue()

    def many(self, items: list[bytes]) -> list[bytes]:
        return [self.one(b) for b in items]


def _frames(workload: Workload, n: int) -> list[bytes]:
    schema = native.Schema(workload.schema)
    return [HEADER + native.encode(schema, workload.make(i)) for i in range(n)]


@pytest.mark.parametrize("impl", ["native", "fastavro"])
@pytest.mark.parametrize("pair", PAIRS, ids=lambda p: p[0].name)
def test_transcode_one(benchmark: Any, pair: tuple[Workload, dict[str, Any]], impl: str) -> None:
    workload, reader = pair
    benchmark.group = f"transcode-one:{workload.name}"
    frame = _frames(workload, 2)[1]
    path = FastavroPath(workload.schema, reader)
    t = native.Transcoder(workload.schema, reader)
    expected = path.one(frame)
    assert t.transcode_framed_many([frame], 9)[0] == [expected]
    if impl == "native":
        benchmark(t.transcode_framed_many, [frame], 9)
    else:
        benchmark(path.one, frame)


@pytest.mark.parametrize("impl", ["native", "fastavro"])
@pytest.mark.parametrize("pair", PAIRS, ids=lambda p: p[0].name)
def test_transcode_batch(benchmark: Any, pair: tuple[Workload, dict[str, Any]], impl: str) -> None:
    workload, reader = pair
    benchmark.group = f"transcode-batch:{workload.name}"
    n = 1_000 if benchmark.disabled else BATCH[workload.name]
    frames = _frames(workload, n)
    path = FastavroPath(workload.schema, reader)
    t = native.Transcoder(workload.schema, reader)
    outputs, errors = t.transcode_framed_many(frames[:200], 9)
    assert not errors and outputs == path.many(frames[:200])
    benchmark.extra_info["records"] = n
    if impl == "native":
        benchmark.pedantic(t.transcode_framed_many, args=(frames, 9), rounds=5, warmup_rounds=1)
    else:
        benchmark.pedantic(path.many, args=(frames,), rounds=3, warmup_rounds=0)


@pytest.mark.parametrize("impl", ["1-thread", "2-threads"])
@pytest.mark.parametrize("batch", [10_000, 100_000])
def test_transcode_threads(benchmark: Any, batch: int, impl: str) -> None:
    """Steady state of threads each converting their own batches of Employee records
    (outputs dropped in the thread that made them, as a worker would): one thread converting
    1,000,000 records, against two threads converting 500,000 each, with no barrier between
    batches. transcode_framed_many releases the GIL while it converts; the Python objects in
    and out need it (docs/benchmarks.md has the split)."""
    workload, reader = PAIRS[0]
    benchmark.group = f"transcode-threads:employee_v2_to_v1:batch={batch}"
    n = 1_000 if benchmark.disabled else batch
    repeats = 500_000 // batch
    batches = [_frames(workload, n), _frames(workload, n)]
    t = native.Transcoder(workload.schema, reader)
    benchmark.extra_info["records"] = 2 * repeats * n

    def worker(items: list[bytes], times: int) -> None:
        for _ in range(times):
            outputs, errors = t.transcode_framed_many(items, 9)
            assert not errors and len(outputs) == n
            del outputs

    with ThreadPoolExecutor(max_workers=2) as pool:

        def one_thread() -> None:
            worker(batches[0], 2 * repeats)

        def two_threads() -> None:
            for done in [pool.submit(worker, items, repeats) for items in batches]:
                done.result()

        run = one_thread if impl == "1-thread" else two_threads
        benchmark.pedantic(run, rounds=15, warmup_rounds=1)
