"""Schema registry: in-process operations, and requests/s with p50/p99 over HTTP.

The HTTP benchmarks run the server in its own process (``python -m avrobridge.registry
serve``) so it and the load generator each get a core of this 2-core machine, and record
rate and latency percentiles in ``extra_info``. Every benchmark checks its answers before it
is timed; with ``--benchmark-disable`` they run a short smoke load only.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from avrobridge.registry import MemoryStore, RegistryService
from avrobridge.registry.loadgen import LoadResult, Request, run_load_sync

EMPLOYEE = json.dumps(
    {
        "type": "record",
        "name": "Employee",
        "namespace": "com.cloudurable.phonebook",
        "fields": [
            {"name": "firstName", "type": "string"},
            {"name": "lastName", "type": "string"},
            {"name": "age", "type": "int", "default": -1},
            {"name": "emails", "type": {"type": "array", "items": "string"}, "default": []},
            {
                "name": "status",
                "type": {"type": "enum", "name": "Status", "symbols": ["RETIRED", "SALARY"]},
                "default": "SALARY",
            },
        ],
    }
)
# The target is >= 5,000 requests/s for GET /schemas/ids/{id} on a 2-core machine: reported
# in docs/benchmarks.md, never asserted (timings are not pass/fail material here).


def distinct_schema(i: int) -> str:
    return json.dumps(
        {"type": "record", "name": f"Rec{i}", "fields": [{"name": "x", "type": "string"}]}
    )


# -- in process ----------------------------------------------------------------------------


@pytest.fixture
def service() -> RegistryService:
    svc = RegistryService(MemoryStore())
    for i in range(100):
        svc.register(f"s{i}", {"schema": distinct_schema(i)}, False)
    return svc


def test_service_schema_by_id(benchmark: Any, service: RegistryService) -> None:
    benchmark.group = "registry-service"
    assert json.loads(service.schema_by_id(7)["schema"])["name"] == "Rec6"
    benchmark(service.schema_by_id, 7)


def test_service_lookup_registered(benchmark: Any, service: RegistryService) -> None:
    benchmark.group = "registry-service"
    body = {"schema": distinct_schema(5)}
    assert service.lookup("s5", body, False, False)["id"] == 6
    benchmark(service.lookup, "s5", body, False, False)


def test_service_register_new_schema(benchmark: Any, service: RegistryService) -> None:
    benchmark.group = "registry-service"
    counter = iter(range(1000, 10**9))

    def register_one() -> None:
        i = next(counter)
        assert service.register(f"new{i}", {"schema": distinct_schema(i)}, False)["id"] > 100

    benchmark(register_one)


# -- over HTTP -----------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def registry_process() -> Iterator[str]:
    port = _free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "avrobridge.registry",
            "serve",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{url}/health").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert proc.poll() is None, "the registry process exited"
            assert time.monotonic() < deadline, "the registry did not start"
            time.sleep(0.1)
        with httpx.Client(base_url=url) as c:
            assert c.post("/subjects/employee/versions", json={"schema": EMPLOYEE}).json() == {
                "id": 1
            }
            for i in range(2, 101):
                c.post(f"/subjects/seed{i}/versions", json={"schema": distinct_schema(i)})
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _record(benchmark: Any, result: LoadResult) -> None:
    benchmark.extra_info.update(
        {
            "requests": result.requests,
            "requests_per_s": round(result.rate),
            "p50_ms": round(result.percentile(50), 3),
            "p99_ms": round(result.percentile(99), 3),
            "errors": result.errors,
        }
    )
    print(f"\n{benchmark.name}: {result.summary()}")


def test_http_lookup_by_id(benchmark: Any, registry_process: str) -> None:
    benchmark.group = "registry-http"
    port = int(registry_process.rsplit(":", 1)[1])
    with httpx.Client(base_url=registry_process) as c:
        assert json.loads(c.get("/schemas/ids/1").json()["schema"])["name"] == "Employee"
    requests = [Request("GET", f"/schemas/ids/{i}") for i in range(1, 101)]
    total = 2_000 if benchmark.disabled else 100_000
    holder: list[LoadResult] = []

    def load() -> None:
        holder.append(
            run_load_sync("127.0.0.1", port, requests, connections=32, total=total, duration=30)
        )

    benchmark.pedantic(load, rounds=1, iterations=1)
    result = holder[-1]
    _record(benchmark, result)
    assert result.errors == 0 and result.statuses == {200: result.requests}


def test_http_register(benchmark: Any, registry_process: str) -> None:
    benchmark.group = "registry-http"
    port = int(registry_process.rsplit(":", 1)[1])
    count = 200 if benchmark.disabled else 5_000
    offset = 10_000 if benchmark.disabled else 100_000  # unique across runs of the module
    requests = [
        Request(
            "POST",
            f"/subjects/load{offset + i}/versions",
            json.dumps({"schema": distinct_schema(offset + i)}).encode(),
        )
        for i in range(count)
    ]
    holder: list[LoadResult] = []

    def load() -> None:
        holder.append(
            run_load_sync("127.0.0.1", port, requests, connections=16, total=count, duration=60)
        )

    benchmark.pedantic(load, rounds=1, iterations=1)
    result = holder[-1]
    _record(benchmark, result)
    assert result.errors == 0 and result.statuses == {200: count}
    with httpx.Client(base_url=registry_process) as c:
        ids = {
            c.get(f"/subjects/load{offset + i}/versions/1").json()["id"]
            for i in range(0, count, 50)
        }
    assert len(ids) == len(range(0, count, 50))
