"""Progress while the bridge runs: a rich progress bar (records, rate, ETA) on a terminal in
bounded mode, plain periodic log lines otherwise."""

from __future__ import annotations

import contextlib
import logging
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

from .config import BridgeSettings
from .metrics import BridgeMetrics

log = logging.getLogger("avrobridge.bridge")

Reporter = Callable[[BridgeMetrics, dict[tuple[str, int], int] | None], None]


@contextlib.contextmanager
def progress_reporter(settings: BridgeSettings) -> Iterator[Reporter]:
    wanted = settings.observability.progress
    tty = sys.stderr.isatty()
    if (wanted if wanted is not None else tty) and tty and settings.until_end:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeRemainingColumn,
        )

        with Progress(
            TextColumn("[bold]bridging"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rate]:>10} rec/s"),
            TimeRemainingColumn(),
            transient=False,
        ) as progress:
            task = progress.add_task("bridge", total=None, rate="-")

            def bar(metrics: BridgeMetrics, ends: dict[tuple[str, int], int] | None) -> None:
                t = metrics.totals
                total = sum(ends.values()) if ends else None
                progress.update(task, completed=t.records_in, total=total, rate=f"{t.rate:,.0f}")

            yield bar
        return
    last = [time.monotonic()]

    def line(metrics: BridgeMetrics, ends: Any) -> None:
        now = time.monotonic()
        if now - last[0] >= 10:
            last[0] = now
            t = metrics.totals
            log.info(
                "progress: %d records in, %d out, %.0f rec/s", t.records_in, t.records_out, t.rate
            )

    yield line
