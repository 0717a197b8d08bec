"""Timing loops: `time.perf_counter_ns`, several repetitions, the median reported.

The garbage collector stays on (users pay for it too), but everything alive before a timing
(the benchmark's generated records and expected results) is frozen out of it first, so that
a collection triggered by the code under test does not also walk tens of thousands of
records that only the benchmark holds. :func:`frozen_heap` around the whole run unfreezes
them at the end."""

from __future__ import annotations

import contextlib
import gc
import statistics
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any


def _freeze() -> None:
    gc.collect()
    gc.freeze()


@contextlib.contextmanager
def frozen_heap() -> Iterator[None]:
    """Objects frozen during the block (by the timings) are unfrozen after it."""
    try:
        yield
    finally:
        gc.unfreeze()


@dataclass(frozen=True)
class Timing:
    """``records`` handled per repetition, in a median of ``median_ns``."""

    records: int
    median_ns: int
    repetitions: int

    @property
    def records_per_s(self) -> float:
        return self.records * 1e9 / max(self.median_ns, 1)

    @property
    def us_per_record(self) -> float:
        return self.median_ns / 1000 / max(self.records, 1)


def time_one(
    fn: Callable[[Any], object],
    items: Sequence[Any],
    *,
    target_s: float = 0.05,
    repetitions: int = 5,
    min_calls: int = 20,
    max_calls: int = 1_000_000,
) -> Timing:
    """One call per record, over ``items`` in turn. The number of calls per repetition is
    calibrated so that a repetition takes about ``target_s``."""
    if not items:
        raise ValueError("nothing to time")
    # Calibration (as timeit's autorange): more calls until a run takes a quarter of the
    # target, then scale to the target.
    calls = 10
    while True:
        started = time.perf_counter_ns()
        for i in range(calls):
            fn(items[i % len(items)])
        elapsed = time.perf_counter_ns() - started
        if elapsed >= target_s * 1e9 / 4 or calls >= max_calls:
            break
        calls *= 4
    calls = int(min(max(calls * target_s * 1e9 / max(elapsed, 1), min_calls), max_calls))
    work = [items[i % len(items)] for i in range(calls)]
    samples = []
    _freeze()
    for _ in range(max(repetitions, 1)):
        started = time.perf_counter_ns()
        for x in work:
            fn(x)
        samples.append(time.perf_counter_ns() - started)
    return Timing(calls, int(statistics.median(samples)), len(samples))


def time_batch(
    fn: Callable[[Any], object],
    items: Sequence[Any],
    *,
    repetitions: int = 5,
    min_repetitions: int = 3,
    budget_s: float = 2.0,
    records: int | None = None,
) -> Timing:
    """One call on the whole batch per repetition: ``repetitions`` of them, or fewer (never
    below ``min_repetitions``) once ``budget_s`` is spent. A repetition that alone takes
    longer than ``budget_s`` is reported by itself: it already averages over the whole batch,
    and repeating it would only multiply the run time of the slowest implementations. A
    repetition handles ``records`` records (default: one per item)."""
    samples: list[int] = []
    spent = 0
    _freeze()
    while len(samples) < max(repetitions, 1):
        started = time.perf_counter_ns()
        result = fn(items)
        elapsed = time.perf_counter_ns() - started
        del result  # freed outside the timing
        samples.append(elapsed)
        spent += elapsed
        if spent > budget_s * 1e9 and (len(samples) >= min_repetitions or len(samples) == 1):
            break
    count = len(items) if records is None else records
    return Timing(count, int(statistics.median(samples)), len(samples))
