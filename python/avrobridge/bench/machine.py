"""What a benchmark ran on: the machine, Python and the versions of every library compared."""

from __future__ import annotations

import os
import platform
from dataclasses import asdict, dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from .._version import __version__


@dataclass(frozen=True)
class MachineInfo:
    cpu: str
    cores: int
    system: str
    python: str
    versions: dict[str, str | None]

    def describe(self) -> str:
        """One line: ``AMD EPYC 7B13, 2 cores, Linux x86_64, CPython 3.11.7``."""
        plural = "s" if self.cores != 1 else ""
        return f"{self.cpu}, {self.cores} core{plural}, {self.system}, {self.python}"

    def describe_versions(self) -> str:
        return " · ".join(f"{k} {v or 'not installed'}" for k, v in self.versions.items())

    def to_json(self) -> dict[str, object]:
        return asdict(self)


def cpu_model(cpuinfo: Path = Path("/proc/cpuinfo")) -> str:
    """The CPU model from /proc/cpuinfo (Linux), else what `platform` knows."""
    try:
        for line in cpuinfo.read_text(encoding="utf-8", errors="replace").splitlines():
            key, _, value = line.partition(":")
            if key.strip() in ("model name", "Model", "Hardware", "cpu model") and value.strip():
                return " ".join(value.split())
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown CPU"


def usable_cores() -> int:
    """CPUs this process may run on (its affinity where the OS has one)."""
    affinity = getattr(os, "sched_getaffinity", None)
    if affinity is not None:
        return len(affinity(0))
    return os.cpu_count() or 1


def _version(distribution: str) -> str | None:
    try:
        return version(distribution)
    except PackageNotFoundError:
        return None


def library_versions() -> dict[str, str | None]:
    versions: dict[str, str | None] = {
        "avrobridge": __version__,
        "fastavro": _version("fastavro"),
        "avro": _version("avro"),
        "confluent-kafka": _version("confluent-kafka"),
    }
    try:
        import confluent_kafka

        versions["librdkafka"] = str(confluent_kafka.libversion()[0])
    except ImportError:
        pass
    return versions


def machine_info() -> MachineInfo:
    python = f"{platform.python_implementation()} {platform.python_version()}"
    system = f"{platform.system()} {platform.machine()}"
    return MachineInfo(cpu_model(), usable_cores(), system, python, library_versions())
