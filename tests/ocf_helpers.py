"""Shared by the container-file tests: the two workloads (the seed Employee schema and the
benchmarks' 30-field record) and a builder of container bytes, valid or not, by hand."""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from avrobridge.data import schema_text
from avrobridge.wire import long_bytes

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT / "benches") not in sys.path:
    sys.path.insert(0, str(ROOT / "benches"))

import workloads  # noqa: E402 - the benchmarks' records, shared with them

CODECS = ("null", "deflate", "snappy", "zstandard", "bzip2", "xz")
MAGIC = b"Obj\x01"
SYNC = bytes(range(16))

EMPLOYEE = json.loads(schema_text("employee"))
MIXED_30: dict[str, Any] = workloads.MIXED_30

#: name -> (schema, record factory)
WORKLOADS: dict[str, tuple[Any, Callable[[int], dict[str, Any]]]] = {
    "employee": (EMPLOYEE, workloads.employee),
    "mixed30": (MIXED_30, workloads.mixed),
}


def records(workload: str, n: int) -> list[dict[str, Any]]:
    make = WORKLOADS[workload][1]
    return [make(i) for i in range(n)]


def avro_bytes(data: bytes) -> bytes:
    return long_bytes(len(data)) + data


def header(
    schema: str | None,
    codec: str | None = "null",
    sync: bytes = SYNC,
    extra: Sequence[tuple[bytes, bytes]] = (),
    magic: bytes = MAGIC,
) -> bytes:
    entries: list[tuple[bytes, bytes]] = []
    if schema is not None:
        entries.append((b"avro.schema", schema.encode()))
    if codec is not None:
        entries.append((b"avro.codec", codec.encode()))
    entries.extend(extra)
    out = bytearray(magic)
    out += long_bytes(len(entries))
    for key, value in entries:
        out += avro_bytes(key) + avro_bytes(value)
    out += b"\x00" + sync
    return bytes(out)


def block(count: int, stored: bytes, sync: bytes = SYNC) -> bytes:
    return long_bytes(count) + avro_bytes(stored) + sync


def container(schema: str, blocks: Sequence[tuple[int, bytes]], codec: str = "null") -> bytes:
    """A file of the given (record count, stored bytes) blocks."""
    return header(schema, codec) + b"".join(block(c, s) for c, s in blocks)


class Stream(io.RawIOBase):
    """A file object that cannot seek (its length is unknown to a reader) and gives at most
    ``chunk`` bytes per read."""

    def __init__(self, data: bytes, chunk: int = 1 << 30) -> None:
        self.data, self.pos, self.chunk = data, 0, chunk

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        n = min(len(b), self.chunk, len(self.data) - self.pos)
        b[:n] = self.data[self.pos : self.pos + n]
        self.pos += n
        return n
