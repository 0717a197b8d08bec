"""Shared fixtures. Every codec test takes the ``backend`` fixture and so runs on both the
Rust extension and the fastavro fallback; a backend that cannot be imported fails the run."""

from __future__ import annotations

import importlib
import os
from collections.abc import Iterator
from dataclasses import dataclass, replace
from importlib.resources import files
from pathlib import Path
from types import ModuleType

import httpx
import pytest
from hypothesis import HealthCheck, settings

from avrobridge.registry import BackgroundServer, ServerSettings

pytest_plugins = ["kafka_harness.plugin", "java_oracle.oracle"]

#: The schemas the package ships (avrobridge/data: the tutorial's Employee versions).
SEED_DIR = Path(str(files("avrobridge.data")))

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


# -- two registries (cross-cluster tests, `schemas copy`) ------------------------------------

#: Source ids start here, target ids at 1: the same schema never has the same id on both.
SOURCE_FIRST_ID = 1001


@dataclass(frozen=True)
class RegistryPair:
    """Two independent registries of ours over HTTP, with different stores."""

    source: BackgroundServer  # memory store; its next id is SOURCE_FIRST_ID
    target: BackgroundServer  # SQLite store (in the test's tmp_path); its next id is 1


def _burn_ids_below(url: str, first_id: int) -> None:
    """Makes ``first_id`` the registry's next id, leaving no subject behind: a decoy imported
    with id ``first_id - 1`` and then deleted permanently (ids are never reused)."""
    decoy = '{"type":"record","name":"Decoy","fields":[]}'
    with httpx.Client(base_url=url, timeout=30) as http:
        for method, path, body in (
            ("PUT", "/mode/decoy", {"mode": "IMPORT"}),
            ("POST", "/subjects/decoy/versions", {"schema": decoy, "id": first_id - 1}),
            ("DELETE", "/subjects/decoy", None),  # also drops the subject's mode
            ("DELETE", "/subjects/decoy?permanent=true", None),
        ):
            http.request(method, path, json=body).raise_for_status()


@pytest.fixture
def registry_pair(tmp_path: Path) -> Iterator[RegistryPair]:
    settings = ServerSettings(port=0, log_level="warning")
    target_store = f"sqlite://{tmp_path / 'target-registry.db'}"
    with (
        BackgroundServer(settings) as source,
        BackgroundServer(replace(settings, store=target_store)) as target,
    ):
        _burn_ids_below(source.url, SOURCE_FIRST_ID)
        yield RegistryPair(source=source, target=target)
