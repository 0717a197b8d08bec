"""Shared fixtures. Every codec test takes the ``backend`` fixture and so runs on both the
Rust extension and the fastavro fallback; a backend that cannot be imported fails the run."""

from __future__ import annotations

import importlib
import os
from pathlib import Path
from types import ModuleType

import pytest
from hypothesis import HealthCheck, settings

pytest_plugins = ["kafka_harness.plugin", "java_oracle.oracle"]

SEED_DIR = Path(__file__).resolve().parents[1] / "tests" / "data" / "seed"

# CI runs a thorough profile; `HYPOTHESIS_PROFILE=dev` gives quick local runs.
settings.register_profile(
    "ci",
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile("dev", max_examples=50, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

BACKENDS = {"native": "avrobridge._native", "fastavro": "avrobridge._fallback"}


@pytest.fixture(params=list(BACKENDS), scope="session")
def backend(request: pytest.FixtureRequest) -> ModuleType:
    """The codec implementation under test: ``avrobridge._native`` or ``avrobridge._fallback``.

    Both expose the same names as the public API (Schema, encode, decode, ...)."""
    module = importlib.import_module(BACKENDS[request.param])
    module.NAME = request.param  # type: ignore[attr-defined]
    return module


@pytest.fixture(scope="session")
def seed_dir() -> Path:
    return SEED_DIR
