"""Object container files on both backends: every codec round trip with the Employee and
30-field workloads, fastavro reading ours and we reading fastavro's, metadata, block size,
raw record bytes, resolution to a reader schema, resuming at a block, the writer's
accounting, flush/fsync, and the API's argument errors."""

from __future__ import annotations

import io
import os
from pathlib import Path
from types import ModuleType
from typing import Any

import fastavro
import pytest

import avrobridge
from avrobridge import ocf
from avrobridge.datagen import DataGenerator
from avrobridge.errors import (
    AvroBridgeError,
    ConfigError,
    ContainerIOError,
    DecodeError,
    EncodeError,
)
from ocf_helpers import CODECS, EMPLOYEE, MIXED_30, WORKLOADS, Stream, records

N = 120


def expected(backend: ModuleType, schema: Any, values: list[Any]) -> list[Any]:
    """The values as the backend decodes them (logical types normalised)."""
    s = backend.Schema(schema)
    return backend.decode_many(s, backend.encode_many(s, values))


def write(backend: ModuleType, schema: Any, values: list[Any], **options: Any) -> bytes:
    out = io.BytesIO()
    with backend.ContainerWriter(out, backend.Schema(schema), **options) as w:
        w.write_many(values)
    return out.getvalue()


@pytest.mark.parametrize("workload", list(WORKLOADS))
@pytest.mark.parametrize("codec", CODECS)
def test_every_codec_round_trips(backend: ModuleType, workload: str, codec: str) -> None:
    schema, _ = WORKLOADS[workload]
    values = records(workload, N)
    data = write(backend, schema, values, codec=codec, block_size=2_000)
    with backend.ContainerReader(data) as r:
        assert r.codec == codec
        assert r.schema == backend.Schema(schema)
        got = list(r)
        assert r.block_index > 2  # several blocks
    assert got == expected(backend, schema, values)


@pytest.mark.parametrize("workload", list(WORKLOADS))
@pytest.mark.parametrize("codec", CODECS)
def test_fastavro_reads_ours_and_we_read_fastavros(
    backend: ModuleType, workload: str, codec: str
) -> None:
    schema, _ = WORKLOADS[workload]
    values = records(workload, N)
    ours = write(backend, schema, values, codec=codec, metadata={"app": "x"})
    theirs = list(fastavro.reader(io.BytesIO(ours)))
    want = expected(backend, schema, values)
    assert theirs == want
    assert fastavro.reader(io.BytesIO(ours)).metadata["app"] == "x"
    out = io.BytesIO()
    fastavro.writer(out, fastavro.parse_schema(schema), values, codec=codec, sync_interval=3000)
    assert list(backend.ContainerReader(out.getvalue())) == want


def test_metadata_is_read_and_written(backend: ModuleType) -> None:
    values = records("employee", 3)
    binary = bytes(range(256))
    data = write(
        backend,
        EMPLOYEE,
        values,
        codec="deflate",
        metadata={"text": "é", "binary": binary},
        sync_marker=b"S" * 16,
    )
    r = backend.ContainerReader(data)
    assert r.metadata["text"] == "é".encode()
    assert r.metadata["binary"] == binary
    assert r.metadata["avro.codec"] == b"deflate"
    assert backend.Schema(r.metadata["avro.schema"].decode()) == backend.Schema(EMPLOYEE)
    assert r.sync_marker == b"S" * 16
    assert data.count(b"S" * 16) == 2  # after the header and after the one block


def test_block_size_and_writer_accounting(backend: ModuleType, tmp_path: Path) -> None:
    values = records("employee", 10)
    path = tmp_path / "one-per-block.avro"
    w = backend.ContainerWriter(path, backend.Schema(EMPLOYEE), block_size=1)
    header_size = w.bytes_written
    assert header_size == path.stat().st_size > 0
    w.write(values[0])
    w.write_many(values[1:])
    assert (w.records, w.blocks_written, w.pending_bytes) == (10, 10, 0)
    w.flush()
    assert w.bytes_written == path.stat().st_size
    w.close()
    w.close()  # twice is fine
    with backend.ContainerReader(path) as r:
        blocks = [b for b in iter(r.read_block, None)]
    assert [len(b) for b in blocks] == [1] * 10

    big = backend.ContainerWriter(io.BytesIO(), backend.Schema(EMPLOYEE), block_size=1 << 20)
    big.write_many(values)
    assert (big.records, big.blocks_written) == (10, 0)
    assert big.pending_bytes > 0


def test_datum_blocks_are_the_encoded_records(backend: ModuleType) -> None:
    values = records("mixed30", 50)
    schema = backend.Schema(WORKLOADS["mixed30"][0])
    data = write(backend, schema, values, codec="snappy", block_size=4_000)
    encoded = backend.encode_many(schema, values)
    with backend.ContainerReader(data) as r:
        blocks = list(ocf.datum_blocks(r))
    assert [d for _, _, datums in blocks for d in datums] == encoded
    assert [i for i, _, _ in blocks] == list(range(len(blocks)))
    offsets = [o for _, o, _ in blocks]
    assert offsets[0] > 0 and offsets == sorted(set(offsets))


def test_resolution_to_a_reader_schema(backend: ModuleType, seed_dir: Path) -> None:
    v2 = backend.Schema((seed_dir / "employee_v2.avsc").read_text())
    v1 = backend.Schema((seed_dir / "employee_v1.avsc").read_text())
    values = expected(backend, v2, _fill(v2, 30))
    data = write(backend, v2, values, codec="zstandard", block_size=500)
    want = [backend.decode(v2, backend.encode(v2, v), reader=v1) for v in values]
    assert list(backend.ContainerReader(data, v1)) == want
    t = backend.Transcoder(v2, v1)
    with backend.ContainerReader(data, reader_schema=v1) as r:
        assert r.reader_schema == v1
        datums = [d for _, _, ds in ocf.datum_blocks(r) for d in ds]
    assert datums == [t.transcode(backend.encode(v2, v)) for v in values]


def _fill(schema: Any, n: int) -> list[Any]:
    return DataGenerator(avrobridge.Schema(schema.text), seed=3).generate_many(n)


def test_seek_block_resumes_at_a_reported_offset(backend: ModuleType, tmp_path: Path) -> None:
    values = records("employee", 200)
    path = tmp_path / "resume.avro"
    ocf_write(backend, path, values)
    with backend.ContainerReader(path) as r:
        blocks = list(ocf.datum_blocks(r))
    assert len(blocks) > 3
    index, offset, _ = blocks[2]
    with backend.ContainerReader(path) as r:
        r.seek_block(offset, index)
        assert (r.position, r.block_index) == (offset, index)
        rest = list(ocf.datum_blocks(r))
    assert rest == blocks[2:]
    with backend.ContainerReader(path) as r, pytest.raises(ConfigError):
        r.seek_block(3)


def ocf_write(backend: ModuleType, path: Path, values: list[Any]) -> None:
    with backend.ContainerWriter(path, backend.Schema(EMPLOYEE), block_size=2_000) as w:
        w.write_many(values)


def test_write_datums_validates_and_appends_all_or_nothing(backend: ModuleType) -> None:
    schema = backend.Schema(EMPLOYEE)
    values = records("employee", 20)
    encoded = backend.encode_many(schema, values)
    out = io.BytesIO()
    w = backend.ContainerWriter(out, schema)
    w.write_datums(encoded[:10])
    with pytest.raises(DecodeError) as info:
        w.write_datums([*encoded[10:15], b"\x02\x01", encoded[15]])
    assert info.value.index == 5
    with pytest.raises(DecodeError, match="trailing"):
        w.write_datums([encoded[10] + b"\x00"])
    with pytest.raises(EncodeError) as bad:
        w.write_many([*values[10:13], {"firstName": 1}])
    assert bad.value.index == 3
    assert w.records == 10
    w.write_datums(encoded[10:])
    w.close()
    assert list(backend.ContainerReader(out.getvalue())) == expected(backend, schema, values)


def test_sources_and_sinks(backend: ModuleType, tmp_path: Path) -> None:
    values = records("employee", 30)
    want = expected(backend, EMPLOYEE, values)
    path = tmp_path / "f.avro"
    ocf_write(backend, path, values)
    data = path.read_bytes()

    for source in (path, str(path), data, bytearray(data), io.BytesIO(data), Stream(data, 7)):
        with backend.ContainerReader(source) as r:
            assert list(r) == want
    with path.open("rb") as f:
        assert backend.ContainerReader(f).name == str(path)
    assert backend.ContainerReader(data).name == "<bytes>"
    assert backend.ContainerReader(data, name="x.avro").name == "x.avro"

    with path.open("wb") as f:
        w = backend.ContainerWriter(f, backend.Schema(EMPLOYEE))
        w.write_many(values)
        w.fsync()
        w.close()
        assert not f.closed  # the caller's file stays open
    assert list(backend.ContainerReader(path)) == want


def test_a_flushed_file_is_readable_while_it_grows(backend: ModuleType, tmp_path: Path) -> None:
    values = records("employee", 50)
    path = tmp_path / "growing.avro"
    w = backend.ContainerWriter(path, backend.Schema(EMPLOYEE))
    w.write_many(values[:20])
    w.fsync()
    assert list(backend.ContainerReader(path)) == expected(backend, EMPLOYEE, values[:20])
    w.write_many(values[20:])
    w.close()
    assert len(list(backend.ContainerReader(path))) == 50


def test_closed_reader_and_writer(backend: ModuleType) -> None:
    data = write(backend, EMPLOYEE, records("employee", 3))
    r = backend.ContainerReader(data)
    r.close()
    assert r.closed
    with pytest.raises(ContainerIOError):
        r.read_block()
    w = backend.ContainerWriter(io.BytesIO(), backend.Schema(EMPLOYEE))
    w.close()
    assert w.closed
    with pytest.raises(ContainerIOError):
        w.write(records("employee", 1)[0])


def test_missing_file_is_an_os_error(backend: ModuleType, tmp_path: Path) -> None:
    missing = tmp_path / "nope.avro"
    with pytest.raises(ContainerIOError) as info:
        backend.ContainerReader(missing)
    assert isinstance(info.value, OSError) and isinstance(info.value, AvroBridgeError)
    assert info.value.errno == 2 and info.value.filename == str(missing)
    with pytest.raises(ContainerIOError):
        backend.ContainerWriter(tmp_path / "no" / "dir.avro", backend.Schema(EMPLOYEE))


@pytest.mark.parametrize(
    "options",
    [
        {"codec": "lz4"},
        {"codec": "snappy", "compression_level": 3},
        {"codec": "deflate", "compression_level": 10},
        {"codec": "zstandard", "compression_level": 0},
        {"block_size": 0},
        {"metadata": {"avro.codec": b"x"}},
        {"sync_marker": b"short"},
    ],
)
def test_bad_writer_arguments_touch_no_file(
    backend: ModuleType, tmp_path: Path, options: dict[str, Any]
) -> None:
    path = tmp_path / "keep.avro"
    path.write_bytes(b"precious")
    with pytest.raises(ConfigError):
        backend.ContainerWriter(path, backend.Schema(EMPLOYEE), **options)
    assert path.read_bytes() == b"precious"


def test_compression_levels_are_honoured(backend: ModuleType) -> None:
    values = records("mixed30", 100)
    fast = write(backend, MIXED_30, values, codec="deflate", compression_level=1)
    best = write(backend, MIXED_30, values, codec="deflate", compression_level=9)
    assert len(best) < len(fast)
    for codec, level in [("zstandard", 19), ("bzip2", 1), ("xz", 0)]:
        data = write(backend, MIXED_30, values, codec=codec, compression_level=level)
        assert len(list(backend.ContainerReader(data))) == 100


def test_public_api(tmp_path: Path) -> None:
    path = tmp_path / "api.avro"
    values = records("employee", 5)
    assert ocf.write_records(path, EMPLOYEE, values, codec="xz") == 5
    assert ocf.read_records(path) == expected(avrobridge._backend.impl, EMPLOYEE, values)
    assert avrobridge.ContainerReader is ocf.ContainerReader
    assert set(ocf.CODECS) == set(CODECS)
    assert os.path.getsize(path) > 0
