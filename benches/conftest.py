"""Benchmark fixtures: the implementations compared side by side."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

# The end-to-end benchmarks use the test harness's real Kafka broker.
pytest_plugins = ["kafka_harness.plugin"]


@pytest.fixture(scope="module")
def registry() -> Iterator[Any]:
    """Our registry, in-process, for the benchmarks that bridge through Kafka."""
    from avrobridge.registry import BackgroundServer, ServerSettings

    with BackgroundServer(ServerSettings(port=0, log_level="warning")) as srv:
        yield srv
