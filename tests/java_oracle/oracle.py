"""Apache Avro Java as a test oracle: one JVM per pytest session answering resolution and
compatibility questions (``AvroOracle.java``, see its header for the protocol).

The jars come from Maven Central through Maven (``pom.xml`` beside this file) and are cached in
``~/.cache/avrobridge/avro-java/libs`` (``AVROBRIDGE_KAFKA_CACHE`` moves ``~/.cache/avrobridge``,
as for the Kafka harness). When Java or Maven is missing the fixture fails the test with the
reason; it never skips.

Command line, for developers::

    python tests/java_oracle/oracle.py fetch    # only download the jars
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

if not __package__:  # run as a script: the tests folder holds kafka_harness
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from kafka_harness.broker import ENV_CACHE, file_lock, java_executable, text_tail

HERE = Path(__file__).resolve().parent
POM_PATH = HERE / "pom.xml"
SOURCE_PATH = HERE / "AvroOracle.java"
_MARKER_NAME = "fetched.ok"


def cache_dir() -> Path:
    root = os.environ.get(ENV_CACHE)
    base = Path(root).expanduser() if root else Path.home() / ".cache" / "avrobridge"
    return base / "avro-java"


def fetch_jars() -> Path:
    """Make sure the jars of ``pom.xml`` are cached; return the ``libs`` directory. Raises
    RuntimeError with the tail of Maven's output when the download fails."""
    root = cache_dir()
    libs = root / "libs"
    marker = root / _MARKER_NAME
    fingerprint = f"pom-sha256={hashlib.sha256(POM_PATH.read_bytes()).hexdigest()}\n"

    def cached() -> bool:
        return marker.is_file() and marker.read_text() == fingerprint

    if cached():
        return libs
    mvn = shutil.which("mvn")
    if mvn is None:
        raise RuntimeError("cannot fetch Apache Avro Java: 'mvn' (Apache Maven) is not on PATH")
    with file_lock(root / ".lock"):
        if cached():
            return libs
        staging = root / "libs.tmp"
        shutil.rmtree(staging, ignore_errors=True)
        cmd = [mvn, "-B", "-q", "-f", str(POM_PATH), "dependency:copy-dependencies"]
        cmd.append(f"-DoutputDirectory={staging}")
        proc = subprocess.run(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=900,
            check=False,
        )
        if proc.returncode != 0 or not any(staging.glob("avro-*.jar")):
            shutil.rmtree(staging, ignore_errors=True)
            raise RuntimeError(
                f"fetching Apache Avro Java with Maven failed (exit code {proc.returncode}):\n"
                f"{text_tail(proc.stdout)}"
            )
        shutil.rmtree(libs, ignore_errors=True)
        staging.rename(libs)
        marker.write_text(fingerprint)
    return libs


class SchemaRefused(ValueError):
    """Java's ``Schema.Parser`` refused a schema (say, a default of a record still being
    defined: "Schema fields not set yet")."""


@dataclass(frozen=True)
class Compat:
    compatible: bool
    incompatibilities: list[tuple[str, str, str]]


class JavaAvro:
    """A running ``AvroOracle``; calls are serialized (one request line, one answer line)."""

    def __init__(self, libs: Path) -> None:
        self._lock = threading.Lock()
        self._proc = subprocess.Popen(
            [java_executable(), "-cp", f"{libs}/*", str(SOURCE_PATH)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
        )

    def _ask(self, request: dict[str, Any]) -> dict[str, Any]:
        assert self._proc.stdin is not None and self._proc.stdout is not None
        with self._lock:
            self._proc.stdin.write(json.dumps(request) + "\n")
            self._proc.stdin.flush()
            line = self._proc.stdout.readline()
        if not line:
            err = self._proc.stderr.read() if self._proc.stderr else ""
            raise RuntimeError(f"the Java Avro oracle stopped:\n{text_tail(err)}")
        answer: dict[str, Any] = json.loads(line)
        if "schema_error" in answer:
            raise SchemaRefused(answer["schema_error"])
        if "error" in answer:
            raise ValueError(f"Java refused the request: {answer['error']}")
        return answer

    def resolve(self, writer: str, reader: str, data: Sequence[bytes]) -> list[bytes | str]:
        """Per datum: the reader encoding Java's resolving decoder produces (bytes), or Java's
        error as ``"Class: message"`` (str). SchemaRefused when Java cannot parse a schema."""
        answer = self._ask(
            {
                "op": "resolve",
                "writer": writer,
                "reader": reader,
                "data": [base64.b64encode(d).decode() for d in data],
            }
        )
        return [
            base64.b64decode(r["ok"]) if "ok" in r else str(r["error"]) for r in answer["results"]
        ]

    def compat(self, reader: str, writer: str) -> Compat:
        """``SchemaCompatibility.checkReaderWriterCompatibility(reader, writer)``."""
        answer = self._ask({"op": "compat", "writer": writer, "reader": reader})
        found = [(str(a), str(b), str(c)) for a, b, c in answer["incompatibilities"]]
        return Compat(bool(answer["compatible"]), found)

    def close(self) -> None:
        if self._proc.stdin is not None:
            self._proc.stdin.close()
        try:
            self._proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()


@pytest.fixture(scope="session")
def java_avro() -> Iterator[JavaAvro]:
    """Apache Avro Java (see the module docstring); fails, never skips, when unavailable."""
    try:
        oracle = JavaAvro(fetch_jars())
    except (RuntimeError, OSError) as exc:
        pytest.fail(f"the Java Avro oracle is unavailable: {exc}", pytrace=False)
    try:
        yield oracle
    finally:
        oracle.close()


if __name__ == "__main__":
    if sys.argv[1:] != ["fetch"]:
        sys.exit("usage: python tests/java_oracle/oracle.py fetch")
    print(fetch_jars())
