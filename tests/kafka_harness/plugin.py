"""pytest plugin: a real Kafka broker for the tests that ask for one.

Fixtures:

* ``kafka_bootstrap`` (session): ``"127.0.0.1:PORT"`` of a running broker.  With
  ``AVROBRIDGE_TEST_BOOTSTRAP`` set, that broker is used (and must answer); otherwise one
  :class:`~kafka_harness.broker.KafkaBroker` is started on first use and stopped at session end.
* ``kafka_admin`` (function): an ``AdminClient`` for that broker.
* ``new_topic`` (function): ``new_topic(prefix, partitions=1, config=None) -> name`` creates a
  uniquely named topic, waits until it is usable, and deletes it after the test.
* ``kafka_bootstrap_b``, ``kafka_admin_b``, ``new_topic_b``: the same for a second, independent
  cluster (its own broker, cluster id and topics), for cross-cluster tests.  It is started
  only when a test asks for it, once per session, with a smaller heap;
  ``AVROBRIDGE_TEST_BOOTSTRAP_B`` points it at a running broker instead.

When Kafka cannot be fetched or started the fixtures fail the test with the reason: they never
skip, so a broken harness cannot pass silently.  Tests using the broker get the ``kafka`` marker.
``AVROBRIDGE_KAFKA_KEEP_LOGS=1`` keeps the broker's directory (with its log) after the session;
it is kept anyway when a test failed.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

import pytest
from confluent_kafka.admin import AdminClient

from avrobridge.kafkalog import kafka_logger

from .broker import KafkaBroker, create_topic, install_sigterm_cleanup, tail, wait_for_broker

ENV_BOOTSTRAP = "AVROBRIDGE_TEST_BOOTSTRAP"
ENV_BOOTSTRAP_B = "AVROBRIDGE_TEST_BOOTSTRAP_B"
ENV_KEEP_LOGS = "AVROBRIDGE_KAFKA_KEEP_LOGS"


class NewTopicFactory(Protocol):
    """Type of the ``new_topic`` fixture."""

    def __call__(
        self, prefix: str, partitions: int = 1, config: dict[str, str] | None = None
    ) -> str: ...


# Where the brokers' logs were kept at session end, for the terminal summary.
_kept_logs: list[Path] = []


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "kafka: needs the real Kafka broker of the test harness")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Everything that uses the broker gets the `kafka` marker, so `-m "not kafka"` deselects it.
    for item in items:
        names = getattr(item, "fixturenames", ())
        if "kafka_bootstrap" in names or "kafka_bootstrap_b" in names:
            item.add_marker(pytest.mark.kafka)


def _session_broker(
    request: pytest.FixtureRequest, env: str, label: str, heap: tuple[str, str]
) -> Iterator[str]:
    """One broker for the session: the one ``env`` names, else our own."""
    external = os.environ.get(env)
    error: str | None = None  # pytest.fail outside `except`, so no chained traceback shows
    if external:
        try:
            wait_for_broker(external, timeout=30)
        except RuntimeError as exc:
            error = f"{env}={external} is set, but: {exc}"
        if error:
            pytest.fail(error, pytrace=False)
        yield external
        return

    # A SIGTERM (say, from a CI timeout) would otherwise kill pytest without running this
    # fixture's teardown; broker.py also stops brokers at exit and asks the kernel to SIGTERM
    # the JVM should pytest die outright.
    install_sigterm_cleanup()
    broker = KafkaBroker(heap=heap)
    try:
        broker.start()
    except RuntimeError as exc:
        # start() already stopped the JVM and kept its directory.
        error = f"could not start the {label}: {exc}"
    if error:
        pytest.fail(error, pytrace=False)
    try:
        yield broker.bootstrap
    finally:
        keep = request.session.testsfailed > 0 or os.environ.get(ENV_KEEP_LOGS, "") not in ("", "0")
        if keep:
            _kept_logs.append(broker.log_path)
        broker.stop(keep_logs=keep)


@pytest.fixture(scope="session")
def kafka_bootstrap(request: pytest.FixtureRequest) -> Iterator[str]:
    yield from _session_broker(request, ENV_BOOTSTRAP, "test Kafka broker", ("256m", "1g"))


@pytest.fixture(scope="session")
def kafka_bootstrap_b(request: pytest.FixtureRequest) -> Iterator[str]:
    """A second cluster. Cross-cluster tests move little data: a smaller heap is plenty."""
    yield from _session_broker(
        request, ENV_BOOTSTRAP_B, "second test Kafka broker (cluster B)", ("128m", "512m")
    )


@pytest.fixture
def kafka_admin(kafka_bootstrap: str) -> AdminClient:
    return AdminClient(
        {"bootstrap.servers": kafka_bootstrap, "logger": kafka_logger("tests.kafka")}
    )


@pytest.fixture
def kafka_admin_b(kafka_bootstrap_b: str) -> AdminClient:
    return AdminClient({"bootstrap.servers": kafka_bootstrap_b})


def _topic_factory(admin: AdminClient) -> Iterator[NewTopicFactory]:
    created: list[str] = []

    def factory(prefix: str, partitions: int = 1, config: dict[str, str] | None = None) -> str:
        name = create_topic(admin, prefix, partitions, config)
        created.append(name)
        return name

    yield factory
    if created:
        # Best effort: names are unique, so a leftover topic harms nobody.
        futures = admin.delete_topics(created, operation_timeout=5, request_timeout=5)
        for future in futures.values():
            # A failed deletion must not turn a passed test into an error.
            with contextlib.suppress(Exception):
                future.result(timeout=5)


@pytest.fixture
def new_topic(kafka_admin: AdminClient) -> Iterator[NewTopicFactory]:
    yield from _topic_factory(kafka_admin)


@pytest.fixture
def new_topic_b(kafka_admin_b: AdminClient) -> Iterator[NewTopicFactory]:
    yield from _topic_factory(kafka_admin_b)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not _kept_logs:
        return
    terminalreporter.section("test Kafka broker")
    for kept in _kept_logs:
        terminalreporter.write_line(f"broker log kept at {kept}")
        # The log's tail is only the shutdown by now; its warnings and errors say more.
        problems = [
            line
            for line in tail(kept, 100_000).splitlines()
            if line.startswith("[")
            and (" WARN " in line or " ERROR " in line)
            and "Performing controller activation" not in line  # every fresh start says this
        ]
        if problems:
            terminalreporter.write_line("its last warnings and errors:")
            for line in problems[-30:]:
                terminalreporter.write_line(line)
