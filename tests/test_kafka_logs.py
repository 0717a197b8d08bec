"""librdkafka's lines through Python logging, collapsed (kafkalog.py), and the retry loop
whose log says what it really waits (bridge/retry.py). The commands' own output is checked
in tests/test_cli.py and tests/bridge/test_bridge_cli.py."""

from __future__ import annotations

import logging
import re
import time

import pytest
from confluent_kafka import KafkaError, KafkaException, Producer

from avrobridge.bridge.retry import Backoff, KafkaGaveUp, retry_kafka
from avrobridge.kafkalog import KafkaLogger, kafka_logger

FAIL = (
    "[thrd:127.0.0.1:1/bootstrap]: 127.0.0.1:1/bootstrap: Connect to ipv4#127.0.0.1:1 failed: "
    "Connection refused (after {ms}ms in state CONNECT)"
)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_repeats_of_a_line_are_counted_and_reported_with_its_next_line(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = Clock()
    logger = KafkaLogger(logging.getLogger("t.kafkalog"), interval=10, clock=clock)
    with caplog.at_level(logging.DEBUG, "t.kafkalog"):
        # confluent-kafka's call: logger.log(level, "%s [%s] %s", facility, client, text)
        for i in range(500):
            logger.log(
                logging.ERROR, "%s [%s] %s", "FAIL", f"rdkafka#producer-{i % 3}", FAIL.format(ms=i)
            )
            clock.now += 0.001
        logger.log(
            logging.WARNING, "%s [%s] %s", "GETPID", "rdkafka#producer-1", "coordinator load"
        )
        clock.now += 10
        logger.log(logging.ERROR, "%s [%s] %s", "FAIL", "rdkafka#producer-1", FAIL.format(ms=3))
    records = [(r.levelno, r.getMessage()) for r in caplog.records]
    assert [level for level, _ in records] == [logging.ERROR, logging.WARNING, logging.ERROR]
    first, other, again = (message for _, message in records)
    assert first.startswith("librdkafka FAIL (rdkafka#producer-0): 127.0.0.1:1/bootstrap: Connect")
    assert "[thrd:" not in first
    assert other == "librdkafka GETPID (rdkafka#producer-1): coordinator load"
    assert again.endswith("(and 499 more like it in the last 10 s)")


def test_levels_are_librdkafkas_own_and_flush_reports_what_is_left(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = Clock()
    logger = KafkaLogger(logging.getLogger("t.kafkalog2"), interval=10, clock=clock)
    with caplog.at_level(logging.DEBUG, "t.kafkalog2"):
        for level in (logging.CRITICAL, logging.ERROR, logging.WARNING, logging.INFO):
            logger.log(level, "%s [%s] %s", "X", "c", "same text")
            logger.log(level, "%s [%s] %s", "X", "c", "same text")
        logger.flush()
    levels = [r.levelno for r in caplog.records]
    assert levels[:4] == [logging.CRITICAL, logging.ERROR, logging.WARNING, logging.INFO]
    assert sorted(levels[4:]) == sorted(levels[:4])
    assert all(r.getMessage().endswith("(and 1 more like it)") for r in caplog.records[4:])


def test_a_real_client_logs_through_python_logging_collapsed(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A producer whose broker is a closed port: librdkafka retries the connection over and
    over; its lines arrive as log records, a few, not one per attempt."""
    producer = Producer(
        {
            "bootstrap.servers": "127.0.0.1:1",
            "reconnect.backoff.ms": 1,
            "reconnect.backoff.max.ms": 10,
            "logger": kafka_logger("t.kafkalog.client"),
        }
    )
    with caplog.at_level(logging.INFO, "t.kafkalog.client"):
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline:
            producer.poll(0.1)
    fails = [r for r in caplog.records if "Connection refused" in r.getMessage()]
    assert fails, [r.getMessage() for r in caplog.records]
    assert all(r.levelno == logging.ERROR for r in fails)
    assert len(fails) <= 2  # one per 10 s interval (librdkafka tried far more often)


def _transport_error() -> KafkaException:
    return KafkaException(KafkaError(KafkaError._TRANSPORT, "Broker transport failure"))


def test_retry_kafka_waits_what_it_logs(caplog: pytest.LogCaptureFixture) -> None:
    calls: list[float] = []

    def flaky() -> str:
        calls.append(time.monotonic())
        if len(calls) < 4:
            raise _transport_error()
        return "ok"

    with caplog.at_level(logging.WARNING, "avrobridge.bridge"):
        assert retry_kafka("listing topics", flaky, Backoff(0.1, 0.4, 30)) == "ok"
    waits = [
        float(m.group(1))
        for r in caplog.records
        if (m := re.search(r"retrying in ([\d.]+) s", r.getMessage()))
    ]
    assert len(waits) == 3
    for wait, before, after in zip(waits, calls[:-1], calls[1:], strict=True):
        assert wait - 0.01 <= after - before <= wait + 0.25, (wait, after - before)
    assert all("the attempt took" in r.getMessage() for r in caplog.records)


def test_retry_kafka_gives_up_stating_the_real_time() -> None:
    def down() -> None:
        raise _transport_error()

    started = time.monotonic()
    with pytest.raises(KafkaGaveUp) as info:
        retry_kafka("listing topics", down, Backoff(0.05, 0.1, 0.5), brokers="127.0.0.1:1")
    spent = time.monotonic() - started
    found = re.search(r"gave up after ([\d.]+) s of retries", str(info.value))
    assert found is not None, str(info.value)
    assert abs(float(found.group(1)) - spent) < 0.15
    assert "brokers 127.0.0.1:1" in str(info.value)


def test_retry_kafka_does_not_retry_what_is_not_transient() -> None:
    calls = []

    def unknown() -> None:
        calls.append(1)
        raise KafkaException(KafkaError(KafkaError.TOPIC_AUTHORIZATION_FAILED, "not allowed"))

    with pytest.raises(KafkaGaveUp, match=r"not allowed$"):
        retry_kafka("listing topics", unknown, Backoff(0.05, 0.1, 5))
    assert calls == [1]


def test_registry_retries_log_the_pause_and_a_stop_states_the_real_time(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A registry on a closed port: each retry says its pause; stopped after about a second,
    the error says so (not "gave up after" the whole budget)."""
    import socket
    import threading

    from avrobridge.bridge.config import ErrorSettings, RegistrySettings
    from avrobridge.bridge.schemas import RegistryUnavailable, SchemaSource

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{s.getsockname()[1]}"
    stopping = threading.Event()
    source = SchemaSource(
        RegistrySettings(url=url),
        ErrorSettings(retry_backoff_initial_ms=100, retry_timeout_s=300),
        stopping=stopping,
    )
    timer = threading.Timer(1.0, stopping.set)
    timer.start()
    started = time.monotonic()
    with (
        caplog.at_level(logging.WARNING, "avrobridge.bridge"),
        pytest.raises(RegistryUnavailable) as info,
    ):
        source.by_id(1)
    timer.cancel()
    spent = time.monotonic() - started
    found = re.search(r"; stopped after ([\d.]+) s of retries$", str(info.value))
    assert found is not None, str(info.value)
    assert abs(float(found.group(1)) - spent) < 0.3 and spent < 5
    assert f"(registry {url})" in str(info.value)
    assert caplog.records and all(
        re.search(r"the attempt took [\d.]+ s\); retrying in [\d.]+ s$", r.getMessage())
        for r in caplog.records
    )
