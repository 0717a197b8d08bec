"""Backoff between retries of an infrastructure call, within a time budget.

One rule for every retry loop of the bridge (the registry, Kafka calls, start-up probes), so
that what a log line says is what happens: `next_wait()` returns the exact pause (jitter
included) that the caller then waits, and `elapsed` is the real time spent so far.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from typing import TypeVar

from confluent_kafka import KafkaError, KafkaException

__all__ = ["TRANSIENT", "Backoff", "KafkaGaveUp", "retry_kafka"]

log = logging.getLogger("avrobridge.bridge")

T = TypeVar("T")

#: Errors a broker answers while it (or a coordinator) is starting or moving: worth retrying
#: even where librdkafka does not flag them retriable.
TRANSIENT = frozenset(
    {
        KafkaError.NOT_COORDINATOR,
        KafkaError.COORDINATOR_LOAD_IN_PROGRESS,
        KafkaError.COORDINATOR_NOT_AVAILABLE,
        KafkaError.LEADER_NOT_AVAILABLE,
        KafkaError.NOT_LEADER_FOR_PARTITION,
        KafkaError.REQUEST_TIMED_OUT,
        KafkaError._TIMED_OUT,
        KafkaError._TRANSPORT,
        KafkaError._ALL_BROKERS_DOWN,
        KafkaError._WAIT_COORD,
    }
)


class Backoff:
    """Exponential backoff: `initial_s`, doubling up to `max_s`, with optional jitter (a
    pause between half and all of the current delay), for at most `budget_s` seconds."""

    def __init__(
        self,
        initial_s: float,
        max_s: float,
        budget_s: float,
        *,
        jitter: bool = True,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.delay = initial_s
        self.max_s = max(max_s, initial_s)
        self.budget_s = budget_s
        self.jitter = jitter
        self.attempts = 0
        self._clock = clock
        self.started = clock()

    @property
    def elapsed(self) -> float:
        return self._clock() - self.started

    @property
    def remaining(self) -> float:
        return max(self.budget_s - self.elapsed, 0.0)

    def next_wait(self) -> float | None:
        """The pause before the next attempt, or None when waiting it would overrun the
        budget (the caller gives up). Counts a failed attempt."""
        self.attempts += 1
        wait = self.delay * (0.5 + random.random() / 2) if self.jitter else self.delay
        if self.elapsed + wait > self.budget_s:
            return None
        self.delay = min(self.delay * 2, self.max_s)
        return wait


class KafkaGaveUp(Exception):
    """A Kafka call failed for good (`message` says what, why and after how long)."""


def retry_kafka(
    what: str,
    fn: Callable[[], T],
    backoff: Backoff,
    stopping: threading.Event | None = None,
    *,
    brokers: str = "",
    on_retry: Callable[[], None] | None = None,
) -> T:
    """`fn()`, retried while it fails with a transient Kafka error and `backoff` allows;
    each retry is logged with the attempt's duration and the exact pause. Raises
    KafkaGaveUp naming the `brokers` and the real time spent retrying."""
    while True:
        attempt = time.monotonic()
        try:
            return fn()
        except KafkaException as exc:
            err: KafkaError = exc.args[0]
            transient = (err.retriable() or err.code() in TRANSIENT) and not err.fatal()
            wait = backoff.next_wait() if transient else None
            stopped = stopping is not None and stopping.is_set()
            if wait is None or stopped:
                how = "stopped" if stopped else "gave up"
                detail = (
                    f" (brokers {brokers}; {how} after {backoff.elapsed:.1f} s of retries)"
                    if transient
                    else ""
                )
                raise KafkaGaveUp(f"{what}: {err.str()}{detail}") from None
            log.warning(
                "%s: %s (the attempt took %.1f s); retrying in %.2f s",
                what,
                err.str(),
                time.monotonic() - attempt,
                wait,
            )
            if on_retry is not None:
                on_retry()
        if stopping is not None:
            stopping.wait(wait)
        else:
            time.sleep(wait)
