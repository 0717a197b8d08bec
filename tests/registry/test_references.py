"""References between subjects: named types resolve through them, transitively."""

from __future__ import annotations

import json
from typing import Any

import httpx

from .helpers import field, record

GEO = record("Geo", field("lat", "double"), field("lon", "double"), namespace="acme")
ADDRESS = record("Address", field("street"), field("geo", "acme.Geo"), namespace="acme")
PERSON = record(
    "Person", field("home", "acme.Address"), field("where", "acme.Geo"), namespace="acme"
)


def ref(name: str, subject: str, version: int = 1) -> dict[str, Any]:
    return {"name": name, "subject": subject, "version": version}


def register(c: httpx.Client, subject: str, schema: str, refs: list[dict[str, Any]]) -> Any:
    return c.post(f"/subjects/{subject}/versions", json={"schema": schema, "references": refs})


def test_transitive_references(client: httpx.Client) -> None:
    assert register(client, "geo", GEO, []).json() == {"id": 1}
    assert register(client, "address", ADDRESS, [ref("acme.Geo", "geo")]).json() == {"id": 2}
    # Person names Geo directly and through Address: both references are needed, and the
    # parser sees Geo defined once.
    refs = [ref("acme.Geo", "geo"), ref("acme.Address", "address")]
    assert register(client, "person", PERSON, refs).json() == {"id": 3}
    assert client.get("/subjects/geo/versions/1/referencedby").json() == [2, 3]
    assert client.get("/subjects/address/versions/1/referencedby").json() == [3]
    found = client.post("/subjects/person", json={"schema": PERSON, "references": refs}).json()
    assert (found["id"], found["references"]) == (3, refs)
    # The same text without its references is a different (and here invalid) schema.
    r = client.post("/subjects/person", json={"schema": PERSON})
    assert r.json()["error_code"] == 42201


def test_evolving_a_schema_with_references_is_checked(client: httpx.Client) -> None:
    register(client, "geo", GEO, [])
    register(client, "address", ADDRESS, [ref("acme.Geo", "geo")])
    refs = [ref("acme.Geo", "geo"), ref("acme.Address", "address")]
    register(client, "person", PERSON, refs)
    person = json.loads(PERSON)
    person["fields"].append({"name": "nick", "type": "string"})  # no default
    r = register(client, "person", json.dumps(person), refs)
    assert r.status_code == 409
    person["fields"][-1]["default"] = ""
    assert register(client, "person", json.dumps(person), refs).json() == {"id": 4}
    r = client.post(
        "/compatibility/subjects/person/versions/1", json={"schema": PERSON, "references": refs}
    )
    assert r.json() == {"is_compatible": True}


def test_same_text_with_other_references_gets_another_id(client: httpx.Client) -> None:
    register(client, "geo", GEO, [])
    geo2 = record(
        "Geo",
        field("lat", "double"),
        field("lon", "double"),
        field("alt", "double", default=0.0),
        namespace="acme",
    )
    register(client, "geo", geo2, [])
    first = register(client, "a", ADDRESS, [ref("acme.Geo", "geo", 1)]).json()["id"]
    second = register(client, "b", ADDRESS, [ref("acme.Geo", "geo", 2)]).json()["id"]
    assert first != second
    again = register(client, "c", ADDRESS, [ref("acme.Geo", "geo", 1)]).json()["id"]
    assert again == first
