"""Benchmark fixtures: the implementations compared side by side."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

# The end-to-end benchmarks use the test harness's real Kafka broker.
pytest_plugins = ["kafka_harness.plugin"]
