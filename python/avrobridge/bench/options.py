"""What a benchmark run is asked to do, and how it fails (shared by the runner and the
file and Kafka measurements)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..errors import AvroBridgeError
from .impls import IMPLEMENTATIONS, MODES, OPERATIONS

__all__ = ["BenchError", "BenchFailed", "BenchOptions", "Progress"]

Progress = Callable[[str], None]


class BenchError(AvroBridgeError):
    """The benchmark cannot run as asked (bad schema file, bad option): exit status 2."""


class BenchFailed(BenchError):
    """The benchmark failed at run time (an unreachable broker or registry): exit status 1."""


@dataclass
class BenchOptions:
    schema: Path | None = None
    reader_schema: Path | None = None
    records: int = 20_000
    seed: int = 1
    repetitions: int = 5
    #: Seconds one repetition of a single-record loop should take (calibrated).
    one_target_s: float = 0.03
    #: After this many seconds, batch timings stop at the minimum of 3 repetitions (or at
    #: one, when that one took longer).
    batch_budget_s: float = 0.8
    implementations: Sequence[str] = IMPLEMENTATIONS
    operations: Sequence[str] = OPERATIONS
    modes: Sequence[str] = MODES
    registry: str | None = None
    kafka: str | None = None
    kafka_records: int = 100_000
    kafka_partitions: int = 3
    #: Real records instead of generated ones: a container file, or a topic sample.
    data: Path | None = None
    data_topic: str | None = None
    sample: int | None = None
    bootstrap_servers: str | None = None
    #: Codecs of the container-file read/write operations.
    codecs: Sequence[str] = ("null", "deflate", "snappy", "zstandard")
