"""librdkafka's log lines through Python logging, collapsed.

Every Kafka client avrobridge makes gets ``"logger": kafka_logger(name)``: confluent-kafka then
hands librdkafka's lines to ``kafka_logger(name).log(level, "%s [%s] %s", facility, client,
text)`` (on the thread that polls the client) instead of writing raw ``%3|…|FAIL|…`` lines to
stderr. The level is librdkafka's own (syslog error -> ERROR, warning -> WARNING, notice and
info -> INFO, debug -> DEBUG). A client that cannot reach its broker repeats the same line many
times a second; here each distinct line is logged once per interval, and the next time it is
logged it says how many times it came in between.
"""

from __future__ import annotations

import functools
import logging
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

__all__ = ["CollapsedLog", "KafkaLogger", "kafka_logger"]

#: How long a distinct line stays quiet after it was logged.
DEFAULT_INTERVAL_S = 10.0
#: Distinct lines remembered at once (the oldest is forgotten first).
_MAX_KEYS = 512

# librdkafka appends the attempt's timing and its own suppression count to connection
# failures; they differ on every repeat and must not make lines distinct.
_VARYING = re.compile(
    r"\s*\(after \d+ms in state [A-Z_]+(?:, \d+ identical error\(s\) suppressed)?\)"
    r"|\s*\(\d+ identical error\(s\) suppressed\)"
)
_THREAD = re.compile(r"^\[thrd:[^\]]*\]:\s*")


class _Seen:
    __slots__ = ("last", "message", "suppressed")

    def __init__(self, last: float, message: str) -> None:
        self.last = last
        self.message = message
        self.suppressed = 0


class CollapsedLog:
    """Logs each distinct message at most once per `interval` seconds; the repeats in between
    are counted and reported with the next line of that message (or by `flush`)."""

    def __init__(
        self,
        logger: logging.Logger,
        interval: float = DEFAULT_INTERVAL_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.logger = logger
        self.interval = interval
        self._clock = clock
        self._seen: OrderedDict[tuple[int, str], _Seen] = OrderedDict()
        self._lock = threading.Lock()

    def emit(self, level: int, message: str, key: str | None = None) -> None:
        """Logs `message` at `level` unless the same `key` (default: the message) was logged
        less than `interval` seconds ago."""
        if not self.logger.isEnabledFor(level):
            return
        now = self._clock()
        k = (level, key if key is not None else message)
        with self._lock:
            seen = self._seen.get(k)
            if seen is not None and now - seen.last < self.interval:
                seen.suppressed += 1
                seen.message = message
                return
            repeats = seen.suppressed if seen is not None else 0
            if seen is None:
                seen = self._seen[k] = _Seen(now, message)
                while len(self._seen) > _MAX_KEYS:
                    self._seen.popitem(last=False)
            seen.last, seen.message, seen.suppressed = now, message, 0
            self._seen.move_to_end(k)
        if repeats:
            message = f"{message} (and {repeats} more like it in the last {self.interval:g} s)"
        self.logger.log(level, "%s", message)

    def warning(self, message: str, *args: object) -> None:
        self.emit(logging.WARNING, message % args if args else message)

    def flush(self) -> None:
        """Reports the repeats not reported yet."""
        with self._lock:
            pending = [
                (k[0], v.message, v.suppressed) for k, v in self._seen.items() if v.suppressed
            ]
            for seen in self._seen.values():
                seen.suppressed = 0
        for level, message, count in pending:
            self.logger.log(level, "%s (and %d more like it)", message, count)


class KafkaLogger(CollapsedLog):
    """The ``logger`` a confluent-kafka client takes: librdkafka's lines, collapsed."""

    def log(self, level: int, fmt: str, *args: Any) -> None:
        if len(args) == 3:
            facility, client, text = (str(a) for a in args)
            text = _THREAD.sub("", text)
            key = f"{facility}: {_VARYING.sub('', text)}"
            self.emit(level, f"librdkafka {facility} ({client}): {text}", key=key)
        else:  # not confluent-kafka's call shape: pass it on as it is
            self.emit(level, fmt % args if args else fmt)


@functools.cache
def kafka_logger(name: str = "avrobridge.kafka") -> KafkaLogger:
    """The collapsing logger for librdkafka lines under the Python logger `name` (one per
    name, shared by every client using it, so their repeats collapse together)."""
    return KafkaLogger(logging.getLogger(name))
