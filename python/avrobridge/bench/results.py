"""What a benchmark run measured: one row per (operation, mode, implementation), the bridge's
end-to-end modes, the container-file operations, and the workload and machine they ran on."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .impls import BASELINE, LABELS
from .machine import MachineInfo
from .timing import Timing


class _TimedRow:
    """What the rows of one implementation's timing share (Measurement, FileMeasurement)."""

    implementation: str
    timing: Timing | None

    @property
    def skipped(self) -> bool:
        return self.timing is None

    @property
    def label(self) -> str:
        return LABELS.get(self.implementation, self.implementation)

    @property
    def records_per_s(self) -> float | None:
        return self.timing.records_per_s if self.timing else None


@dataclass
class Measurement(_TimedRow):
    operation: str
    mode: str
    implementation: str
    timing: Timing | None = None
    bytes_per_record: float = 0.0
    ratio: float | None = None
    note: str | None = None

    @property
    def mb_per_s(self) -> float | None:
        if self.timing is None:
            return None
        return self.timing.records_per_s * self.bytes_per_record / 1e6

    @property
    def us_per_record(self) -> float | None:
        return self.timing.us_per_record if self.timing else None

    def to_json(self) -> dict[str, Any]:
        t = self.timing
        return {
            "operation": self.operation,
            "mode": self.mode,
            "implementation": self.implementation,
            "label": self.label,
            "records_per_s": t.records_per_s if t else None,
            "mb_per_s": self.mb_per_s,
            "us_per_record": t.us_per_record if t else None,
            "ratio_to_fastavro": self.ratio,
            "records_per_repetition": t.records if t else None,
            "median_ns": t.median_ns if t else None,
            "repetitions": t.repetitions if t else None,
            "bytes_per_record": self.bytes_per_record,
            "skipped": t is None,
            "note": self.note,
        }


@dataclass
class BridgeMeasurement:
    mode: str  # passthrough | avrobridge | fastavro
    records: int
    seconds: float | None = None
    #: CPU time of the process (every thread) while the mode ran.
    cpu_seconds: float | None = None
    ratio: float | None = None
    note: str | None = None

    @property
    def records_per_s(self) -> float | None:
        return self.records / self.seconds if self.seconds else None

    @property
    def cpu_us_per_record(self) -> float | None:
        if self.cpu_seconds is None or not self.records or self.seconds is None:
            return None
        return self.cpu_seconds / self.records * 1e6

    def to_json(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "records": self.records,
            "seconds": self.seconds,
            "records_per_s": self.records_per_s,
            "cpu_seconds": self.cpu_seconds,
            "cpu_us_per_record": self.cpu_us_per_record,
            "ratio_to_fastavro": self.ratio,
            "skipped": self.seconds is None,
            "note": self.note,
        }


@dataclass
class FileMeasurement(_TimedRow):
    """Reading a whole container file into records, or writing records into one."""

    operation: str  # read | write
    codec: str
    implementation: str
    file_bytes: int = 0
    timing: Timing | None = None
    ratio: float | None = None
    note: str | None = None

    @property
    def mb_per_s(self) -> float | None:
        """File bytes per second."""
        if self.timing is None:
            return None
        return self.file_bytes / (self.timing.median_ns / 1e9) / 1e6

    def to_json(self) -> dict[str, Any]:
        t = self.timing
        return {
            "operation": self.operation,
            "codec": self.codec,
            "implementation": self.implementation,
            "label": self.label,
            "file_bytes": self.file_bytes,
            "records_per_s": t.records_per_s if t else None,
            "file_mb_per_s": self.mb_per_s,
            "ratio_to_fastavro": self.ratio,
            "records_per_repetition": t.records if t else None,
            "median_ns": t.median_ns if t else None,
            "repetitions": t.repetitions if t else None,
            "skipped": t is None,
            "note": self.note,
        }


@dataclass
class WorkloadInfo:
    schema: str
    schema_name: str | None
    schema_type: str
    reader_schema: str | None
    reader_name: str | None
    records: int
    seed: int
    bytes_per_record: float
    origin: str = "generated"
    note: str | None = None

    def describe(self) -> str:
        name = self.schema_name or f"a {self.schema_type} schema"
        reader = (
            f"reader schema {self.reader_schema} ({self.reader_name})"
            if self.reader_schema
            else "reader schema: the same (identity resolution)"
        )
        seed = f" (seed {self.seed})" if self.origin == "generated" else ""
        note = f" ({self.note})" if self.note else ""
        what = (
            f"{self.records:,} generated records"
            if self.origin == "generated"
            else f"{self.records:,} records {self.origin}"
        )
        return (
            f"{name} from {self.schema}: {what}{note} of {self.bytes_per_record:,.0f} bytes "
            f"on average{seed}; {reader}"
        )


@dataclass
class BenchReport:
    machine: MachineInfo
    workload: WorkloadInfo
    results: list[Measurement]
    bridge: list[BridgeMeasurement] = field(default_factory=list)
    bridge_setup: str | None = None
    files: list[FileMeasurement] = field(default_factory=list)
    elapsed_s: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "machine": self.machine.to_json(),
            "workload": vars(self.workload),
            "baseline": BASELINE,
            "results": [m.to_json() for m in self.results],
            "bridge": (
                {"setup": self.bridge_setup, "results": [b.to_json() for b in self.bridge]}
                if self.bridge_setup
                else None
            ),
            "files": [f.to_json() for f in self.files],
            "elapsed_s": self.elapsed_s,
        }
