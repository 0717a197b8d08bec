"""Progress of a bounded run (``--until-end``), shown while it runs.

The runner calls `snapshot(...)` after each batch with its counters, the offsets each
partition started at, the end offsets seen at start and the offsets done so far; the
reporter shows the `Snapshot`:

- on a terminal: a rich progress bar with records done / total, records/s, ETA and the
  partition with the most records still to read (the slowest);
- otherwise: a plain log line every `observability.progress_interval_s` (a JSON log line
  with ``--log-format json``, its numbers as fields).

The final summary is printed by the command once the run ends.
"""

from __future__ import annotations

import contextlib
import logging
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from .config import BridgeSettings
from .metrics import Totals

__all__ = ["PartitionLag", "Reporter", "Snapshot", "progress_reporter", "snapshot"]

log = logging.getLogger("avrobridge.bridge")

TopicPartitionKey = tuple[str, int]


@dataclass(frozen=True)
class PartitionLag:
    topic: str
    partition: int
    #: Records between the next offset to read and the end offset seen at start.
    lag: int


@dataclass(frozen=True)
class Snapshot:
    """Where a run stands. `total` and `lags` are known in a bounded run only."""

    records_in: int
    records_out: int
    dead_lettered: int
    elapsed_s: float
    #: Records to read in this run (from each partition's start to its end offset).
    total: int | None
    #: Of those, records read so far (every offset done counts, filtered ones too).
    done: int
    lags: tuple[PartitionLag, ...] = ()

    @property
    def rate(self) -> float:
        """Records read per second since the start."""
        return self.records_in / self.elapsed_s if self.elapsed_s > 0 else 0.0

    @property
    def slowest(self) -> PartitionLag | None:
        """The partition with the most records still to read."""
        behind = [p for p in self.lags if p.lag > 0]
        return max(behind, key=lambda p: p.lag) if behind else None

    @property
    def eta_s(self) -> float | None:
        if self.total is None or self.rate <= 0:
            return None
        return max(self.total - self.done, 0) / self.rate

    def fields(self) -> dict[str, Any]:
        """The numbers as a JSON object."""
        slowest = self.slowest
        return {
            "records_in": self.records_in,
            "records_out": self.records_out,
            "dead_lettered": self.dead_lettered,
            "done": self.done,
            "total": self.total,
            "rate": round(self.rate, 1),
            "eta_s": None if self.eta_s is None else round(self.eta_s, 1),
            "slowest": None
            if slowest is None
            else {"topic": slowest.topic, "partition": slowest.partition, "lag": slowest.lag},
        }

    def line(self) -> str:
        """One human line: "1,000/5,000 records (20%), 2,000 records/s, ETA 2 s, ..."."""
        if self.total is None:
            parts = [f"{self.records_in:,} records"]
        else:
            share = 100 * self.done / self.total if self.total else 100.0
            parts = [f"{self.done:,}/{self.total:,} records ({share:.0f}%)"]
        parts.append(f"{self.rate:,.0f} records/s")
        if self.eta_s is not None:
            parts.append(f"ETA {_duration(self.eta_s)}")
        slowest = self.slowest
        if slowest is not None:
            parts.append(f"slowest {slowest.topic} [{slowest.partition}] lag {slowest.lag:,}")
        return ", ".join(parts)


def _duration(seconds: float) -> str:
    s = round(seconds)
    if s < 60:
        return f"{s} s"
    m, s = divmod(s, 60)
    if m < 60:
        return f"{m} min {s:02d} s"
    h, m = divmod(m, 60)
    return f"{h} h {m:02d} min"


def snapshot(
    totals: Totals,
    starts: Mapping[TopicPartitionKey, int] | None,
    ends: Mapping[TopicPartitionKey, int] | None,
    positions: Mapping[TopicPartitionKey, int],
) -> Snapshot:
    """The snapshot after a batch. `starts` and `ends` are each partition's first offset
    and end offset of a bounded run (None otherwise); `positions` the next offset to read
    of the partitions done so far (what the runner has committed or will commit)."""
    total: int | None = None
    done = totals.records_in
    lags: list[PartitionLag] = []
    if ends is not None:
        starts = starts or {}
        total = done = 0
        for key, end in ends.items():
            start = min(starts.get(key, 0), end)
            position = min(max(positions.get(key, start), start), end)
            total += end - start
            done += position - start
            lags.append(PartitionLag(key[0], key[1], end - position))
    return Snapshot(
        records_in=totals.records_in,
        records_out=totals.records_out,
        dead_lettered=totals.dead_lettered,
        elapsed_s=totals.elapsed,
        total=total,
        done=done,
        lags=tuple(lags),
    )


Reporter = Callable[[Snapshot], None]


@contextlib.contextmanager
def progress_reporter(settings: BridgeSettings) -> Iterator[Reporter]:
    """The reporter for this run (a no-op unless it is bounded)."""
    obs = settings.observability
    tty = sys.stderr.isatty()
    if not settings.bounded or obs.progress is False:
        yield lambda snap: None
        return
    if tty:
        with _bar() as bar:
            yield bar
        return
    yield _periodic(obs.progress_interval_s, json_fields=obs.log_format == "json")


@contextlib.contextmanager
def _bar() -> Iterator[Reporter]:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    with Progress(
        TextColumn("[bold]bridging"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("records"),
        TextColumn("{task.fields[rate]} records/s"),
        TextColumn("ETA {task.fields[eta]}"),
        TextColumn("{task.fields[slowest]}"),
        console=Console(stderr=True),
        transient=False,
    ) as progress:
        task = progress.add_task("bridge", total=None, rate="-", eta="-", slowest="")
        # Log lines go above the bar: through rich's stand-in for stderr while it is shown.
        handlers = [
            h
            for h in logging.getLogger("avrobridge").handlers
            if isinstance(h, logging.StreamHandler) and h.stream is sys.__stderr__
        ]
        for h in handlers:
            h.setStream(sys.stderr)

        def bar(snap: Snapshot) -> None:
            slowest = snap.slowest
            progress.update(
                task,
                completed=snap.done,
                total=snap.total,
                rate=f"{snap.rate:,.0f}",
                eta="-" if snap.eta_s is None else _duration(snap.eta_s),
                slowest=""
                if slowest is None
                else f"slowest {slowest.topic} [{slowest.partition}] lag {slowest.lag:,}",
            )

        try:
            yield bar
        finally:
            for h in handlers:
                h.setStream(sys.__stderr__)


def _periodic(interval: float, *, json_fields: bool) -> Reporter:
    last = [time.monotonic()]

    def line(snap: Snapshot) -> None:
        now = time.monotonic()
        if now - last[0] < interval:
            return
        last[0] = now
        if json_fields:
            log.info("progress", extra={"fields": snap.fields()})
        else:
            log.info("progress: %s", snap.line())

    return line
