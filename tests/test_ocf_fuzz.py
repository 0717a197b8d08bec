"""Container files under hypothesis: generated schemas and values round trip through every
codec on both backends (fastavro reading the result), and damaged files (bytes flipped,
cut, inserted, removed, overwritten) are either read or refused with an avrobridge error,
never anything else, with the same outcome on both backends."""

from __future__ import annotations

import io
import json
from functools import cache
from types import ModuleType
from typing import Any

import fastavro
from hypothesis import event, given, note, settings
from hypothesis import strategies as st

from avrobridge import _fallback, _native
from avrobridge.errors import AvroBridgeError, ContainerError
from ocf_helpers import CODECS, WORKLOADS, records
from strategies import Draw, assert_same, schema_and_data

BACKENDS = {"native": _native, "fastavro": _fallback}
#: Codecs whose Rust and Python decompressors are the same algorithm with the same checks,
#: so a damaged block fails (or not) at the same place on both backends.
SAME_DECOMPRESSION = ("null", "deflate", "snappy", "zstandard")


@settings(max_examples=100)
@given(case=schema_and_data(n=4), codec=st.sampled_from(CODECS), block_size=st.integers(1, 200))
def test_generated_values_round_trip(
    backend: ModuleType, case: tuple[Any, list[Any]], codec: str, block_size: int
) -> None:
    schema, values = case
    note(f"schema: {json.dumps(schema)}")
    s = backend.Schema(json.dumps(schema))
    out = io.BytesIO()
    with backend.ContainerWriter(out, s, codec=codec, block_size=block_size) as w:
        w.write_many(values)
    data = out.getvalue()
    want = backend.decode_many(s, backend.encode_many(s, values))
    assert_same(list(backend.ContainerReader(data)), want)
    got = [d for _, _, ds in iter_datums(backend, data) for d in ds]
    assert got == backend.encode_many(s, values)
    assert len(list(fastavro.reader(io.BytesIO(data)))) == len(values)


def iter_datums(backend: ModuleType, data: bytes) -> list[tuple[int, int, list[bytes]]]:
    with backend.ContainerReader(data) as r:
        return list(iter(r.read_block_datums, None))


@cache
def valid_file(codec: str, workload: str) -> bytes:
    schema, _ = WORKLOADS[workload]
    out = io.BytesIO()
    with _native.ContainerWriter(
        out, _native.Schema(schema), codec=codec, block_size=300, sync_marker=b"\x5a" * 16
    ) as w:
        w.write_many(records(workload, 12))
    return out.getvalue()


@st.composite
def damaged(draw: Draw) -> tuple[str, bytes]:
    codec = draw(st.sampled_from(CODECS))
    data = bytearray(valid_file(codec, draw(st.sampled_from(list(WORKLOADS)))))
    for _ in range(draw(st.integers(1, 3))):
        at = draw(st.integers(0, len(data)))
        kind = draw(st.sampled_from(["flip", "cut", "insert", "remove", "overwrite"]))
        if kind == "flip" and at < len(data):
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif kind == "cut":
            del data[at:]
        elif kind == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=16))
        elif kind == "remove":
            del data[at : at + draw(st.integers(1, 16))]
        else:
            junk = draw(st.binary(min_size=1, max_size=16))
            data[at : at + len(junk)] = junk
    return codec, bytes(data)


def outcome(backend: ModuleType, data: bytes, datums: bool) -> tuple[Any, ...]:
    """("ok", what was read) or (error class, block, offset, record)."""
    try:
        with backend.ContainerReader(data, max_block_bytes=1 << 20) as r:
            if datums:
                return ("ok", list(iter(r.read_block_datums, None)))
            return ("ok", list(r))
    except ContainerError as e:
        return (type(e).__name__, e.block, e.offset, e.index)
    except AvroBridgeError as e:
        return (type(e).__name__,)


@settings(max_examples=400)
@given(case=damaged(), datums=st.booleans())
def test_damaged_files_are_read_or_refused_alike(case: tuple[str, bytes], datums: bool) -> None:
    codec, data = case
    results = {name: outcome(module, data, datums) for name, module in BACKENDS.items()}
    note(repr(results))
    event(f"{codec}: {results['native'][0]}")
    native, fallback = results["native"], results["fastavro"]
    if codec in SAME_DECOMPRESSION:
        assert native[0] == fallback[0]
        if native[0] != "ok":
            assert native == fallback
    if native[0] == fallback[0] == "ok":
        assert_same(native[1], fallback[1])
