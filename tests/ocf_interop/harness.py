"""Apache Avro Java for the container-file interop tests: builds ``OcfInterop.java`` with
Maven (Avro and its codecs from Maven Central) into ``~/.cache/avrobridge/ocf-interop-<fp>``,
where ``<fp>`` fingerprints the pom and the program, so Maven runs only when one of them
changes (``AVROBRIDGE_KAFKA_CACHE`` moves ``~/.cache/avrobridge``, as for the Kafka jars).

Command line::

    python tests/ocf_interop/harness.py build    # build (or find the cached build), print it
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

HERE = Path(__file__).resolve().parent
POM = HERE / "pom.xml"
SOURCES = sorted((HERE / "src").rglob("*.java"))
MAIN_CLASS = "avrobridge.interop.OcfInterop"
_MARKER = "built.ok"


def _fingerprint() -> str:
    digest = hashlib.sha256()
    for path in [POM, *SOURCES]:
        digest.update(path.relative_to(HERE).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def cache_dir() -> Path:
    root = os.environ.get("AVROBRIDGE_KAFKA_CACHE")
    base = Path(root).expanduser() if root else Path.home() / ".cache" / "avrobridge"
    return base / f"ocf-interop-{_fingerprint()}"


def _tool(name: str) -> str:
    if name == "java":
        home = os.environ.get("JAVA_HOME")
        if home and (Path(home) / "bin" / "java").is_file():
            return str(Path(home) / "bin" / "java")
    found = shutil.which(name)
    if found is None:
        raise RuntimeError(
            f"the container-file interop tests need '{name}' on PATH (Java 17 and Maven; "
            "e.g. apt-get install openjdk-17-jdk-headless maven)"
        )
    return found


def _tail(text: str, lines: int = 40) -> str:
    return "\n".join(re.sub(r"\x1b\[[0-9;]*m", "", text).splitlines()[-lines:])


def build() -> Path:
    """The build directory (``classes/`` and ``libs/``), built now if it is not cached."""
    root = cache_dir()
    if (root / _MARKER).is_file():
        return root
    staging = root.with_name(f"{root.name}.tmp-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    cmd = [
        _tool("mvn"),
        "-B",
        "-q",
        "-f",
        str(POM),
        f"-Docf.build={staging / 'build'}",
        "compile",
        "dependency:copy-dependencies",
        f"-DoutputDirectory={staging / 'libs'}",
    ]
    proc = subprocess.run(
        cmd,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    if proc.returncode != 0:
        shutil.rmtree(staging, ignore_errors=True)
        raise RuntimeError(
            f"building the Avro Java interop program failed (exit code {proc.returncode}):\n"
            f"{' '.join(cmd)}\n{_tail(proc.stdout + proc.stderr)}"
        )
    (staging / _MARKER).write_text(" ".join(cmd))
    if not (root / _MARKER).is_file():  # another process may have finished first
        shutil.rmtree(root, ignore_errors=True)
        staging.rename(root)
    else:
        shutil.rmtree(staging, ignore_errors=True)
    return root


def run_jobs(jobs: Sequence[Sequence[str | Path]], work: Path) -> None:
    """Runs the jobs (see OcfInterop.java) in one JVM; raises with Java's output on failure."""
    root = build()
    jobs_file = work / "jobs.tsv"
    jobs_file.write_text("\n".join("\t".join(str(f) for f in job) for job in jobs) + "\n")
    classpath = os.pathsep.join([str(root / "build" / "classes"), str(root / "libs" / "*")])
    cmd = [_tool("java"), "-cp", classpath, MAIN_CLASS, str(jobs_file)]
    proc = subprocess.run(
        cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=600, check=False
    )
    if proc.returncode != 0:
        raise RuntimeError(
            f"Avro Java failed (exit code {proc.returncode}):\n{_tail(proc.stdout + proc.stderr)}"
        )


def main(argv: Sequence[str]) -> int:
    if list(argv) != ["build"]:
        print(__doc__, file=sys.stderr)
        return 2
    print(build())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
