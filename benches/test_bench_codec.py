"""Decode and encode, per record and per batch, native vs fastavro (and the `avro` package per
record). Decode also times the object-building floor (marshal/pickle loading the same values),
the cost no decoder returning Python objects can go below. Ratios are read from the medians of
one run (see benches/report.py). Every benchmark checks its result against fastavro before it
is timed."""

from __future__ import annotations

from typing import Any

import pytest

from codecs_ import FACTORIES, FastavroCodec
from workloads import WORKLOADS, Workload

BATCH = {"employee": 100_000, "mixed30": 100_000, "doubles1000": 10_000}


def _batch_size(workload: Workload, benchmark: Any) -> int:
    # A smoke run (--benchmark-disable) only proves the benchmark works.
    return 1_000 if benchmark.disabled else BATCH[workload.name]


@pytest.mark.parametrize("impl", ["native", "fastavro", "avro", "floor"])
@pytest.mark.parametrize("workload", WORKLOADS, ids=lambda w: w.name)
def test_decode_one(benchmark: Any, workload: Workload, impl: str) -> None:
    benchmark.group = f"decode-one:{workload.name}"
    codec = FACTORIES[impl](workload.schema)
    reference = FastavroCodec(workload.schema)
    datum = workload.make(1)
    data = reference.encode(datum)
    if impl == "floor":
        data = codec.encode(reference.decode(data))
    if impl != "avro":  # the avro package has its own logical-type representation
        assert codec.decode(data) == reference.decode(reference.encode(datum))
    benchmark(codec.decode, data)


@pytest.mark.parametrize("impl", ["native", "fastavro", "avro"])
@pytest.mark.parametrize("workload", WORKLOADS, ids=lambda w: w.name)
def test_encode_one(benchmark: Any, workload: Workload, impl: str) -> None:
    benchmark.group = f"encode-one:{workload.name}"
    codec = FACTORIES[impl](workload.schema)
    reference = FastavroCodec(workload.schema)
    datum = workload.make(1)
    if impl != "avro":
        assert codec.encode(datum) == reference.encode(datum)
    else:
        datum = codec.decode(reference.encode(datum))
    benchmark(codec.encode, datum)


@pytest.mark.parametrize("impl", ["native", "fastavro", "floor"])
@pytest.mark.parametrize("workload", WORKLOADS, ids=lambda w: w.name)
def test_decode_batch(benchmark: Any, workload: Workload, impl: str) -> None:
    benchmark.group = f"decode-batch:{workload.name}"
    codec = FACTORIES[impl](workload.schema)
    reference = FastavroCodec(workload.schema)
    data = [reference.encode(workload.make(i)) for i in range(_batch_size(workload, benchmark))]
    expected = reference.decode_many(data[:100])
    if impl == "floor":
        data = [codec.encode(d) for d in reference.decode_many(data)]
    assert codec.decode_many(data[:100]) == expected
    benchmark.extra_info["records"] = len(data)
    benchmark.pedantic(codec.decode_many, args=(data,), rounds=5, warmup_rounds=1)


@pytest.mark.parametrize("impl", ["native", "fastavro"])
@pytest.mark.parametrize("workload", WORKLOADS, ids=lambda w: w.name)
def test_encode_batch(benchmark: Any, workload: Workload, impl: str) -> None:
    benchmark.group = f"encode-batch:{workload.name}"
    codec = FACTORIES[impl](workload.schema)
    reference = FastavroCodec(workload.schema)
    data = [workload.make(i) for i in range(_batch_size(workload, benchmark))]
    assert codec.encode_many(data[:100]) == reference.encode_many(data[:100])
    benchmark.extra_info["records"] = len(data)
    benchmark.pedantic(codec.encode_many, args=(data,), rounds=5, warmup_rounds=1)
