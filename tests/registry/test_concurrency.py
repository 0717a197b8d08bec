"""Parallel registrations: distinct schemas get distinct ids, one schema gets one id/version."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx
import pytest

from avrobridge.registry import BackgroundServer, ServerSettings

from .helpers import V1_JSON, field, record

N = 50


async def _register_all(url: str, jobs: list[tuple[str, str]]) -> list[httpx.Response]:
    limits = httpx.Limits(max_connections=N)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=60) as client:
        return await asyncio.gather(
            *(
                client.post(
                    f"/subjects/{subject}/versions",
                    content=json.dumps({"schema": schema}),
                    headers={"Content-Type": V1_JSON},
                )
                for subject, schema in jobs
            )
        )


def run(url: str, jobs: list[tuple[str, str]]) -> list[int]:
    responses = asyncio.run(_register_all(url, jobs))
    assert all(r.status_code == 200 for r in responses), [r.text for r in responses]
    return [int(r.json()["id"]) for r in responses]


@pytest.fixture(params=["memory", "sqlite"])
def any_store(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return "memory://" if request.param == "memory" else f"sqlite://{tmp_path / 'r.db'}"


def test_parallel_distinct_schemas_get_distinct_ids(any_store: str) -> None:
    schemas = [record(f"R{i}", field("x")) for i in range(N)]
    with BackgroundServer(ServerSettings(port=0, store=any_store, log_level="warning")) as srv:
        ids = run(srv.url, [(f"subject-{i}", s) for i, s in enumerate(schemas)])
        assert sorted(ids) == list(range(1, N + 1))
        with httpx.Client(base_url=srv.url) as c:
            for schema_id, schema in zip(ids, schemas, strict=True):
                got = json.loads(c.get(f"/schemas/ids/{schema_id}").json()["schema"])
                assert got == json.loads(schema)


def test_parallel_same_schema_gets_one_id_and_one_version(any_store: str) -> None:
    schema = record("Same", field("x"))
    with BackgroundServer(ServerSettings(port=0, store=any_store, log_level="warning")) as srv:
        ids = run(srv.url, [("same", schema)] * N)
        assert set(ids) == {1}
        with httpx.Client(base_url=srv.url) as c:
            assert c.get("/subjects/same/versions").json() == [1]


def test_parallel_versions_of_one_subject_are_dense(server: BackgroundServer) -> None:
    with httpx.Client(base_url=server.url) as c:
        c.put("/config/evolving", json={"compatibility": "NONE"})
    schemas = [record("E", field(f"f{i}")) for i in range(N)]
    ids = run(server.url, [("evolving", s) for s in schemas])
    assert sorted(ids) == list(range(1, N + 1))
    with httpx.Client(base_url=server.url) as c:
        assert c.get("/subjects/evolving/versions").json() == list(range(1, N + 1))
