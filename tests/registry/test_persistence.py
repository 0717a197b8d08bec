"""SQLite store: stop the server, start it again on the same file, and everything is there."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import httpx

from avrobridge.registry import BackgroundServer, ServerSettings

from .helpers import V1_JSON, field, record

A1 = record("A", field("x"))
A2 = record("A", field("x"), field("y", "int", default=0))
A3 = record("A", field("x"), field("y", "int", default=0), field("z", default=""))
B1 = record("B", field("x"))


def settings(db: Path) -> ServerSettings:
    return ServerSettings(port=0, store=f"sqlite://{db}", log_level="warning")


def register(client: httpx.Client, subject: str, schema: str) -> int:
    r = client.post(
        f"/subjects/{subject}/versions",
        content=json.dumps({"schema": schema}),
        headers={"Content-Type": V1_JSON},
    )
    assert r.status_code == 200, r.text
    return int(r.json()["id"])


def snapshot(client: httpx.Client) -> dict[str, object]:
    """Everything a client can observe about the registry's state."""
    return {
        "subjects": client.get("/subjects", params={"deleted": "true"}).json(),
        "live": client.get("/subjects").json(),
        "schemas": client.get("/schemas", params={"deleted": "true"}).json(),
        "ids": [client.get(f"/schemas/ids/{i}").status_code for i in range(1, 7)],
        "config": client.get("/config").json(),
        "config_a": client.get("/config/a").json(),
        "mode": client.get("/mode").json(),
        "mode_b": client.get("/mode/b").json(),
    }


def test_restart_keeps_ids_versions_deletes_config_and_mode(tmp_path: Path) -> None:
    db = tmp_path / "registry.db"
    with BackgroundServer(settings(db)) as srv, httpx.Client(base_url=srv.url) as c:
        assert register(c, "a", A1) == 1
        assert register(c, "a", A2) == 2
        assert register(c, "b", B1) == 3
        assert register(c, "c", A3) == 4
        assert c.delete("/subjects/a/versions/2").json() == 2  # soft
        assert c.delete("/subjects/c").json() == [1]
        assert c.delete("/subjects/c", params={"permanent": "true"}).json() == [1]  # hard: id 4
        c.put("/config", json={"compatibility": "FULL"})
        c.put("/config/a", json={"compatibility": "NONE"})
        c.put("/mode/b", json={"mode": "READONLY"})
        before = snapshot(c)

    with BackgroundServer(settings(db)) as srv, httpx.Client(base_url=srv.url) as c:
        assert snapshot(c) == before
        assert c.get("/subjects/a/versions").json() == [1]
        assert c.get("/subjects/a/versions", params={"deleted": "true"}).json() == [1, 2]
        assert c.get("/schemas/ids/2").status_code == 200  # soft-deleted, still served
        assert c.get("/schemas/ids/4").status_code == 404  # hard-deleted
        # The highest id ever used survives the hard delete: the next one is 5, not 4.
        assert register(c, "d", A3) == 5
        r = c.post(
            "/subjects/b/versions",
            content=json.dumps({"schema": record("B", field("x"), field("q", default=""))}),
            headers={"Content-Type": V1_JSON},
        )
        assert r.json()["error_code"] == 42205  # b is still read-only

    with BackgroundServer(settings(db)) as srv, httpx.Client(base_url=srv.url) as c:
        assert c.get("/subjects/d/versions/1").json()["id"] == 5


def test_file_holds_confluent_records_in_wal_mode(tmp_path: Path) -> None:
    db = tmp_path / "registry.db"
    with BackgroundServer(settings(db)) as srv, httpx.Client(base_url=srv.url) as c:
        register(c, "a", A1)
        c.put("/config", json={"compatibility": "NONE"})
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        rows = conn.execute("SELECT offset, key, value FROM schemas_log ORDER BY offset").fetchall()
    assert [(o, bytes(k)) for o, k, _ in rows] == [
        (0, b'{"keytype":"SCHEMA","subject":"a","version":1,"magic":1}'),
        (1, b'{"keytype":"CONFIG","subject":null,"magic":0}'),
    ]
    assert json.loads(rows[0][2]) == {
        "subject": "a",
        "version": 1,
        "id": 1,
        "schema": '{"type":"record","name":"A","fields":[{"name":"x","type":"string"}]}',
        "deleted": False,
    }
    assert bytes(rows[1][2]) == b'{"compatibilityLevel":"NONE"}'
