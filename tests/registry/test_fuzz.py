"""Schemathesis fuzzes every operation of the OpenAPI description against the live server:
no answer may be a 5xx, and the server must keep serving."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from avrobridge.registry import BackgroundServer, MemoryStore, RegistryService, ServerSettings
from avrobridge.registry.api import create_app

from .helpers import field, record

# Small per operation: ~30 operations x this stays well under two minutes on 2 cores.
EXAMPLES = 40


@pytest.fixture(scope="module")
def fuzzed_server() -> Iterator[BackgroundServer]:
    settings_ = ServerSettings(port=0, log_level="error", max_body_bytes=256 * 1024)
    with BackgroundServer(settings_) as srv:
        with httpx.Client(base_url=srv.url) as c:
            # Some state for the fuzzer to hit: subjects, versions, a reference.
            c.post("/subjects/a/versions", json={"schema": record("A", field("x"))})
            a2 = record("A", field("x"), field("y", "int", default=0))
            c.post("/subjects/a/versions", json={"schema": a2})
            ref = {"name": "A", "subject": "a", "version": 1}
            b1 = record("B", field("a", "A"))
            c.post("/subjects/b/versions", json={"schema": b1, "references": [ref]})
        yield srv


def _openapi() -> dict[str, Any]:
    """The server's own OpenAPI description (the same document /openapi.json serves)."""
    return create_app(RegistryService(MemoryStore())).openapi()


# Loaded eagerly: schemathesis' lazy fixture loader does not work with pytest 9 yet.
schema = schemathesis.openapi.from_dict(_openapi())


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_no_server_errors(case: Any, fuzzed_server: BackgroundServer) -> None:
    case.call_and_validate(base_url=fuzzed_server.url, checks=[not_a_server_error], timeout=30)


def test_served_description_is_the_fuzzed_one(fuzzed_server: BackgroundServer) -> None:
    with httpx.Client(base_url=fuzzed_server.url) as c:
        assert c.get("/openapi.json").json() == _openapi()


def test_still_serving_after_the_fuzzing(fuzzed_server: BackgroundServer) -> None:
    with httpx.Client(base_url=fuzzed_server.url) as c:
        assert c.get("/health").json() == {"status": "UP"}
        assert c.get("/schemas/ids/1").status_code == 200
