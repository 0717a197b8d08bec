"""Fixtures: a real registry over HTTP on a free port, and clients for it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from confluent_kafka.schema_registry import SchemaRegistryClient

from avrobridge.registry import BackgroundServer, ServerSettings
from avrobridge.registry.auth import hash_password


@pytest.fixture
def server() -> Iterator[BackgroundServer]:
    """A registry with an in-memory store, fresh for each test."""
    with BackgroundServer(ServerSettings(port=0, log_level="warning")) as srv:
        yield srv


@pytest.fixture
def client(server: BackgroundServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=30) as c:
        yield c


@pytest.fixture
def sr(server: BackgroundServer) -> Iterator[SchemaRegistryClient]:
    """Confluent's own client, pointed at the registry."""
    with SchemaRegistryClient({"url": server.url}) as c:
        yield c


@pytest.fixture
def employee_simple(seed_dir: Path) -> str:
    return (seed_dir / "employee_simple.avsc").read_text()


@pytest.fixture
def users_file(tmp_path: Path) -> Path:
    """alice may write, bob may only read (cheap PBKDF2 iterations keep tests fast)."""
    path = tmp_path / "users.txt"
    path.write_text(
        "# test users\n"
        f"alice:readwrite:{hash_password('alice-secret', iterations=1000)}\n"
        f"bob:readonly:{hash_password('bob-secret', iterations=1000)}\n"
    )
    return path
