"""Bad container files: each is refused with a ContainerError that names the file, the byte
offset and the block (and, for a bad record, its index and data path), with the same
message on both backends; a decompression bomb costs at most the limit."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from avrobridge import _fallback, _native
from avrobridge._fallback.container_codecs import compress
from avrobridge.errors import ContainerError, SchemaError
from avrobridge.wire import long_bytes
from ocf_helpers import SYNC, Stream, block, container, header

SCHEMA = json.dumps(
    {
        "type": "record",
        "name": "R",
        "fields": [{"name": "a", "type": "long"}, {"name": "s", "type": "string"}],
    }
)
GOOD = b"\x02\x02x"  # {"a": 1, "s": "x"}
H = len(header(SCHEMA))  # the first block's offset


@dataclass
class Case:
    data: bytes
    message: str
    offset: int
    block: int | None = None
    record: int | None = None
    path: str | None = None
    options: dict[str, Any] = field(default_factory=dict)
    stream: bool = False  # read through a non-seekable file object (length unknown)


def bomb(codec: str) -> Case:
    stored = compress(codec, None, b"\x00" * (2 << 20))
    return Case(
        container('"null"', [(1, stored)], codec),
        "the block decompresses to more than the limit of 1048576 bytes (max_block_bytes)",
        len(header('"null"', codec)) + len(long_bytes(1)) + len(long_bytes(len(stored))),
        block=0,
        options={"max_block_bytes": 1 << 20},
    )


def bad_crc() -> Case:
    stored = bytearray(compress("snappy", None, GOOD))
    stored[-1] ^= 0xFF
    return Case(
        container(SCHEMA, [(1, bytes(stored))], "snappy"),
        "cannot decompress the snappy block: snappy: CRC-32 of the decompressed data is",
        len(header(SCHEMA, "snappy")) + 2,
        block=0,
    )


def many_entries() -> bytes:
    out = bytearray(b"Obj\x01") + long_bytes(5000) + b"\x00\x00" * 5000 + b"\x00" + SYNC
    return bytes(out)


CASES: dict[str, Callable[[], Case]] = {
    "empty": lambda: Case(
        b"", "not an Avro object container file: shorter than its 4-byte magic", 0
    ),
    "wrong magic": lambda: Case(
        b"Obj\x02" + header(SCHEMA)[4:],
        'not an Avro object container file: it starts with 4f626a02, not 4f626a01 ("Obj\\x01")',
        0,
    ),
    "header cut short": lambda: Case(
        header(SCHEMA)[:40],
        "a metadata value of 107 bytes exceeds the 21 bytes left in the file",
        17,
    ),
    "header cut short, unknown length": lambda: Case(
        header(SCHEMA)[:40],
        "truncated file: a metadata value needs 86 more bytes than the file has",
        19,
        stream=True,
    ),
    "no sync marker after the header": lambda: Case(
        header(SCHEMA)[:-5],
        "truncated file: the header's sync marker needs 5 more bytes than the file has",
        H - 16,
    ),
    "unknown codec": lambda: Case(
        header(SCHEMA, "lz4"),
        "unknown codec 'lz4' (avro.codec); avrobridge reads null, deflate, snappy, zstandard, "
        "bzip2, xz",
        0,
    ),
    "no schema": lambda: Case(header(None), "the header has no avro.schema entry", 0),
    "schema does not parse": lambda: Case(
        header('{"type": "nope"}'), "the header's avro.schema does not parse: ", 4
    ),
    "header above the limit": lambda: Case(
        header(SCHEMA),
        "the header exceeds the limit of 50 bytes (max_block_bytes)",
        17,
        options={"max_block_bytes": 50},
    ),
    "too many metadata entries": lambda: Case(
        many_entries(), "the header has more than 4096 metadata entries", 4
    ),
    "wrong sync marker": lambda: Case(
        header(SCHEMA) + block(1, GOOD, sync=b"\xff" * 16),
        "the sync marker after the block does not match the header's",
        H + 5,
        block=0,
    ),
    "second block's sync marker": lambda: Case(
        header(SCHEMA) + block(1, GOOD) + block(1, GOOD, sync=SYNC[::-1]),
        "the sync marker after the block does not match the header's",
        H + 21 + 5,
        block=1,
    ),
    "block beyond the file": lambda: Case(
        header(SCHEMA) + long_bytes(1) + long_bytes(1000) + GOOD,
        "the block of 1000 bytes exceeds the 3 bytes left in the file",
        H + 1,
        block=0,
    ),
    "block cut short, unknown length": lambda: Case(
        header(SCHEMA) + long_bytes(1) + long_bytes(1000) + GOOD,
        "truncated file: the block's data needs 997 more bytes than the file has",
        H + 3,
        block=0,
        stream=True,
    ),
    "no sync after the last block": lambda: Case(
        header(SCHEMA) + block(1, GOOD)[:-3],
        "truncated file: the block's sync marker needs 3 more bytes than the file has",
        H + 5,
        block=0,
    ),
    "count beyond the block's data": lambda: Case(
        container(SCHEMA, [(1000, GOOD)]),
        "block count 1000 exceeds what its 3 bytes of data can hold",
        H,
        block=0,
    ),
    "count of zero-byte records": lambda: Case(
        container('"null"', [(5_000_000, b"")]),
        "block count 5000000 exceeds what its 0 bytes of data can hold",
        len(header('"null"')),
        block=0,
    ),
    "negative count": lambda: Case(
        header(SCHEMA) + long_bytes(-1) + long_bytes(3) + GOOD + SYNC,
        "negative block record count -1",
        H,
        block=0,
    ),
    "negative size": lambda: Case(
        header(SCHEMA) + long_bytes(1) + long_bytes(-5) + GOOD + SYNC,
        "the block has a negative size -5",
        H + 1,
        block=0,
    ),
    "endless varint": lambda: Case(
        header(SCHEMA) + b"\xff" * 11,
        "the block's record count is a varint longer than 10 bytes",
        H,
        block=0,
    ),
    "bad record": lambda: Case(
        container(SCHEMA, [(1, GOOD), (2, GOOD + b"\x02\x0ax")]),
        "cannot decode /s at byte 1: length 5 exceeds the 1 bytes that remain",
        H + 21,
        block=1,
        record=1,
        path="/s",
    ),
    "bytes after the records": lambda: Case(
        container(SCHEMA, [(1, GOOD + b"\x00")]),
        "1 bytes follow the block's 1 records",
        H,
        block=0,
    ),
    "null block above the limit": lambda: Case(
        container('"long"', [(50, b"\x02" * 50)]),
        "the block decompresses to more than the limit of 40 bytes (max_block_bytes)",
        len(header('"long"')) + 2,
        block=0,
        options={"max_block_bytes": 40},
    ),
    "corrupt deflate": lambda: Case(
        container(SCHEMA, [(1, b"\xff\xff\xff")], "deflate"),
        "cannot decompress the deflate block: ",
        len(header(SCHEMA, "deflate")) + 2,
        block=0,
    ),
    "bad snappy crc": bad_crc,
    **{
        f"{codec} bomb": (lambda c=codec: bomb(c))
        for codec in ("deflate", "snappy", "zstandard", "bzip2", "xz")
    },
}


def read_all(backend: ModuleType, case: Case, datums: bool) -> None:
    source: Any = Stream(case.data) if case.stream else case.data
    with backend.ContainerReader(source, name="bad.avro", **case.options) as r:
        if datums:
            while r.read_block_datums() is not None:
                pass
        else:
            list(r)


def failure(backend: ModuleType, case: Case, datums: bool = False) -> ContainerError:
    with pytest.raises(ContainerError) as info:
        read_all(backend, case, datums)
    return info.value


@pytest.mark.parametrize("name", list(CASES))
def test_bad_file_is_refused_with_its_location(backend: ModuleType, name: str) -> None:
    case = CASES[name]()
    for datums in (False, True):
        e = failure(backend, case, datums)
        assert e.message.startswith("bad.avro: "), e.message
        assert case.message in e.message
        assert (e.file, e.offset, e.block, e.index, e.path) == (
            "bad.avro",
            case.offset,
            case.block,
            case.record,
            case.path,
        )
        assert isinstance(e, ValueError)
    if name == "schema does not parse":
        assert isinstance(e.__cause__, SchemaError)


@pytest.mark.parametrize("name", list(CASES))
def test_both_backends_give_the_same_message(name: str) -> None:
    case = CASES[name]()
    native, fallback = failure(_native, case), failure(_fallback, case)
    if "cannot decompress" in case.message:  # the libraries word their errors differently
        assert native.message.split(case.message)[0] == fallback.message.split(case.message)[0]
    else:
        assert native.message == fallback.message


def test_a_valid_file_before_the_damage_still_reads(backend: ModuleType) -> None:
    case = CASES["second block's sync marker"]()
    r = backend.ContainerReader(case.data)
    assert r.read_block() == [{"a": 1, "s": "x"}]
    with pytest.raises(ContainerError):
        r.read_block()


BOMB_READER = """
import resource, sys
from avrobridge import _native, _fallback
backend = {"native": _native, "fastavro": _fallback}[sys.argv[2]]
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
try:
    list(backend.ContainerReader(sys.argv[1], max_block_bytes=1 << 20))
except Exception as e:
    assert "more than the limit" in str(e), e
print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) // 1024)
"""


@pytest.mark.parametrize("codec", ["deflate", "zstandard"])
def test_a_decompression_bomb_costs_at_most_the_limit(
    backend: ModuleType, codec: str, tmp_path: Path
) -> None:
    # 256 MiB of zeros in a few hundred kB, read with a 1 MiB limit in a fresh process.
    if codec == "deflate":
        c = zlib.compressobj(9, zlib.DEFLATED, -15)
        chunk = b"\x00" * (1 << 20)
        stored = b"".join(c.compress(chunk) for _ in range(256)) + c.flush()
    else:
        if sys.version_info >= (3, 14):
            from compression import zstd
        else:
            from backports import zstd
        z = zstd.ZstdCompressor()
        stored = b"".join(z.compress(b"\x00" * (1 << 20)) for _ in range(256)) + z.flush()
    path = tmp_path / "bomb.avro"
    path.write_bytes(container('"null"', [(1, stored)], codec))
    out = subprocess.run(
        [sys.executable, "-c", BOMB_READER, str(path), backend.NAME],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ},
    )
    grown_mib = int(out.stdout.strip())
    assert grown_mib < 64, f"reading the bomb grew the process by {grown_mib} MiB"
