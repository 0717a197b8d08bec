"""Fixtures for bridge tests: our registry over HTTP (in-process server) and Kafka."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from avrobridge.registry import BackgroundServer, ServerSettings


@pytest.fixture
def registry() -> Iterator[BackgroundServer]:
    with BackgroundServer(ServerSettings(port=0, log_level="warning")) as srv:
        yield srv
