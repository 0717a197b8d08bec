"""Avro container files, per codec: reading a whole file into records and writing records
into one, native against fastavro.reader/fastavro.writer, on 1,000,000 Employee records and
200,000 30-field records (500 in the smoke run). Beside them, in each group:

* ``decompress`` / ``compress``: the native codec alone on the same blocks (the share of a
  read or write that (de)compression takes, where it is the bound);
* ``datums``: the native reader giving each record's bytes (framing, decompression and the
  validating split, no Python records).

Every reader must give fastavro's records and every file written must read back, with
fastavro, as the records given, before anything is timed."""

from __future__ import annotations

import io
from functools import cache
from typing import Any

import fastavro
import pytest

from avrobridge import _native
from workloads import WORKLOADS, Workload

RECORDS = {"employee": 1_000_000, "mixed30": 200_000}
CODECS = ("null", "deflate", "snappy", "zstandard")
BLOCK_SIZE = 64_000  # Apache Avro Java's default sync interval, for every writer
ROUNDS = 3
FILE_WORKLOADS = [w for w in WORKLOADS if w.name in RECORDS]


def _count(workload: Workload, benchmark: Any) -> int:
    return 500 if benchmark.disabled else RECORDS[workload.name]


@cache
def _values(name: str, n: int) -> list[Any]:
    make = next(w for w in WORKLOADS if w.name == name).make
    return [make(i) for i in range(n)]


@cache
def _file(name: str, n: int, codec: str) -> bytes:
    """The file every reader reads: fastavro's, with Java's block size."""
    schema = next(w for w in WORKLOADS if w.name == name).schema
    out = io.BytesIO()
    fastavro.writer(
        out, fastavro.parse_schema(schema), _values(name, n), codec=codec, sync_interval=BLOCK_SIZE
    )
    return out.getvalue()


def _long(data: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        b = data[pos]
        pos += 1
        value |= (b & 0x7F) << shift
        if b < 0x80:
            return (value >> 1) ^ -(value & 1), pos
        shift += 7


def _stored_blocks(data: bytes) -> list[bytes]:
    """Each block's stored (compressed) bytes."""
    pos = _native.ContainerReader(data).position  # where the header ends
    blocks = []
    while pos < len(data):
        _, pos = _long(data, pos)
        size, pos = _long(data, pos)
        blocks.append(data[pos : pos + size])
        pos += size + 16
    return blocks


def _read(impl: str, codec: str) -> Any:
    if impl == "native":
        return lambda data: list(_native.ContainerReader(data))
    if impl == "fastavro":
        return lambda data: list(fastavro.reader(io.BytesIO(data)))
    if impl == "datums":

        def datums(data: bytes) -> int:
            with _native.ContainerReader(data) as r:
                return sum(len(d) for _, _, d in iter(r.read_block_datums, None))

        return datums

    def decompress_all(data: bytes) -> int:
        return sum(len(_native._decompress(codec, b, 1 << 30)) for b in _stored_blocks(data))

    return decompress_all


def _pairs(impls: list[str], alone: str) -> list[tuple[str, str]]:
    """(codec, impl) for every impl, but the codec alone where there is no codec."""
    return [(c, i) for c in CODECS for i in impls if not (i == alone and c == "null")]


@pytest.mark.parametrize(
    ("codec", "impl"), _pairs(["native", "fastavro", "datums", "decompress"], "decompress")
)
@pytest.mark.parametrize("workload", FILE_WORKLOADS, ids=lambda w: w.name)
def test_read_file(benchmark: Any, workload: Workload, codec: str, impl: str) -> None:
    benchmark.group = f"ocf-read:{workload.name}:{codec}"
    n = _count(workload, benchmark)
    data = _file(workload.name, n, codec)
    run = _read(impl, codec)
    if impl in ("native", "fastavro"):
        assert run(data) == list(fastavro.reader(io.BytesIO(data)))
    else:
        assert run(data) > 0
    benchmark.extra_info["records"] = n
    benchmark.extra_info["file_bytes"] = len(data)
    benchmark.pedantic(run, args=(data,), rounds=ROUNDS)


def _write(impl: str, workload: Workload, codec: str) -> Any:
    if impl == "native":
        schema = _native.Schema(workload.schema)

        def write_native(values: list[Any]) -> bytes:
            out = io.BytesIO()
            with _native.ContainerWriter(out, schema, codec=codec, block_size=BLOCK_SIZE) as w:
                w.write_many(values)
            return out.getvalue()

        return write_native
    if impl == "fastavro":
        parsed = fastavro.parse_schema(workload.schema)

        def write_fastavro(values: list[Any]) -> bytes:
            out = io.BytesIO()
            fastavro.writer(out, parsed, values, codec=codec, sync_interval=BLOCK_SIZE)
            return out.getvalue()

        return write_fastavro

    def compress_all(raw_blocks: list[bytes]) -> int:
        return sum(len(_native._compress(codec, b)) for b in raw_blocks)

    return compress_all


@pytest.mark.parametrize(("codec", "impl"), _pairs(["native", "fastavro", "compress"], "compress"))
@pytest.mark.parametrize("workload", FILE_WORKLOADS, ids=lambda w: w.name)
def test_write_file(benchmark: Any, workload: Workload, codec: str, impl: str) -> None:
    benchmark.group = f"ocf-write:{workload.name}:{codec}"
    n = _count(workload, benchmark)
    values = _values(workload.name, n)
    run = _write(impl, workload, codec)
    expected = list(fastavro.reader(io.BytesIO(_file(workload.name, n, codec))))
    if impl == "compress":
        data = _file(workload.name, n, codec)
        arg: Any = [_native._decompress(codec, b, 1 << 30) for b in _stored_blocks(data)]
        assert run(arg) > 0
    else:
        arg = values
        assert list(fastavro.reader(io.BytesIO(run(values)))) == expected
    benchmark.extra_info["records"] = n
    benchmark.pedantic(run, args=(arg,), rounds=ROUNDS)
