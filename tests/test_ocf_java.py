"""Container files against Apache Avro Java (the oracle), every codec, the Employee and
30-field workloads: files Java's DataFileWriter wrote are read exactly, and files each
backend wrote are read by Java's DataFileReader with the same values and metadata.

Java runs once for the module (tests/ocf_interop, built by Maven and cached); without Java
or Maven the tests fail."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from avrobridge import _fallback, _native
from ocf_helpers import CODECS, WORKLOADS, records
from ocf_interop.harness import run_jobs

N = 300
BACKENDS = {"native": _native, "fastavro": _fallback}


@dataclass
class Round:
    work: Path
    values: dict[str, list[Any]]

    def java_file(self, workload: str, codec: str) -> Path:
        return self.work / f"java-{workload}-{codec}.avro"

    def read_back(self, backend: str, workload: str, codec: str) -> tuple[list[bytes], Path]:
        """The records Java read from the backend's file, as Java encoded them, and the
        file's metadata as Java saw it."""
        stem = self.work / f"ours-{backend}-{workload}-{codec}"
        raw = stem.with_suffix(".java-datums").read_bytes()
        out, pos = [], 0
        while pos < len(raw):
            n = int.from_bytes(raw[pos : pos + 4], "big")
            out.append(raw[pos + 4 : pos + 4 + n])
            pos += 4 + n
        return out, stem.with_suffix(".java-meta")


def _datums_file(path: Path, datums: list[bytes]) -> None:
    path.write_bytes(b"".join(len(d).to_bytes(4, "big") + d for d in datums))


@pytest.fixture(scope="module")
def java_round(tmp_path_factory: pytest.TempPathFactory) -> Round:
    work = tmp_path_factory.mktemp("ocf-java")
    jobs: list[list[Any]] = []
    values: dict[str, list[Any]] = {}
    for workload, (schema, _) in WORKLOADS.items():
        values[workload] = records(workload, N)
        schema_path = work / f"{workload}.avsc"
        schema_path.write_text(json.dumps(schema))
        s = _native.Schema(schema)
        datums = work / f"{workload}.datums"
        _datums_file(datums, _native.encode_many(s, values[workload]))
        for codec in CODECS:
            java = work / f"java-{workload}-{codec}.avro"
            jobs.append(["write", schema_path, datums, java, codec, 4000])
            for name, backend in BACKENDS.items():
                stem = work / f"ours-{name}-{workload}-{codec}"
                with backend.ContainerWriter(
                    stem.with_suffix(".avro"),
                    backend.Schema(schema),
                    codec=codec,
                    block_size=4000,
                    metadata={"written.by": "avrobridge", "binary": bytes(range(8))},
                ) as w:
                    w.write_many(values[workload])
                jobs.append(
                    [
                        "read",
                        stem.with_suffix(".avro"),
                        stem.with_suffix(".java-datums"),
                        stem.with_suffix(".java-meta"),
                    ]
                )
    run_jobs(jobs, work)
    return Round(work, values)


def expected(backend: ModuleType, workload: str, values: list[Any]) -> list[Any]:
    s = backend.Schema(WORKLOADS[workload][0])
    return backend.decode_many(s, backend.encode_many(s, values))


@pytest.mark.parametrize("workload", list(WORKLOADS))
@pytest.mark.parametrize("codec", CODECS)
def test_we_read_files_java_wrote(
    backend: ModuleType, java_round: Round, workload: str, codec: str
) -> None:
    with backend.ContainerReader(java_round.java_file(workload, codec)) as r:
        assert r.codec == codec
        assert r.metadata["written.by"] == b"Apache Avro Java"
        assert r.schema == backend.Schema(WORKLOADS[workload][0])
        got = list(r)
        assert r.block_index > 1
    assert got == expected(backend, workload, java_round.values[workload])


@pytest.mark.parametrize("workload", list(WORKLOADS))
@pytest.mark.parametrize("codec", CODECS)
def test_java_reads_files_we_wrote(
    backend: ModuleType, java_round: Round, workload: str, codec: str
) -> None:
    datums, meta_path = java_round.read_back(backend.NAME, workload, codec)
    s = backend.Schema(WORKLOADS[workload][0])
    # Java's maps are HashMaps: compare the values Java read, not its bytes.
    assert backend.decode_many(s, datums) == expected(
        backend, workload, java_round.values[workload]
    )
    meta = {
        key: bytes.fromhex(value)
        for key, value in (line.split("\t") for line in meta_path.read_text().splitlines())
    }
    assert meta["avro.codec"] == codec.encode()
    assert meta["written.by"] == b"avrobridge"
    assert meta["binary"] == bytes(range(8))
    assert backend.Schema(meta["avro.schema"].decode()) == s
