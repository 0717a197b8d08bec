"""The Schema Registry tutorial's REST walk-through, answer by answer as Confluent gives them,
then what each compatibility level accepts when fields are added or removed."""

from __future__ import annotations

import json

import httpx
import pytest

from .helpers import V1_JSON, field, record

# What Confluent stores for employee_simple.avsc: Avro's Schema.toString().
EMPLOYEE_V1 = (
    '{"type":"record","name":"Employee","namespace":"com.cloudurable.phonebook","fields":['
    '{"name":"fName","type":"string"},{"name":"lName","type":"string"},'
    '{"name":"age","type":"int"},{"name":"phoneNumber","type":"string"}]}'
)


def evolve(base: str, *fields: dict[str, object]) -> str:
    schema = json.loads(base)
    schema["fields"].extend(fields)
    return json.dumps(schema, indent=2)


def post(client: httpx.Client, url: str, body: object) -> httpx.Response:
    return client.post(url, content=json.dumps(body), headers={"Content-Type": V1_JSON})


def test_tutorial_walk_through(client: httpx.Client, employee_simple: str) -> None:
    # Register the simple Employee schema.
    r = post(client, "/subjects/Employee/versions", {"schema": employee_simple})
    assert (r.status_code, r.json()) == (200, {"id": 1})
    assert r.headers["content-type"] == V1_JSON

    assert client.get("/subjects").json() == ["Employee"]
    assert client.get("/subjects/Employee/versions").json() == [1]

    # Register evolved versions: each adds a field with a default (BACKWARD compatible).
    v2 = evolve(employee_simple, field("email", "string", default=""))
    v3 = evolve(v2, field("nickName", ["null", "string"], default=None))
    assert post(client, "/subjects/Employee/versions", {"schema": v2}).json() == {"id": 2}
    assert post(client, "/subjects/Employee/versions", {"schema": v3}).json() == {"id": 3}
    assert client.get("/subjects/Employee/versions").json() == [1, 2, 3]

    v2_text = EMPLOYEE_V1[:-2] + ',{"name":"email","type":"string","default":""}]}'
    v3_text = v2_text[:-2] + ',{"name":"nickName","type":["null","string"],"default":null}]}'
    assert client.get("/subjects/Employee/versions/2").json() == {
        "subject": "Employee",
        "version": 2,
        "id": 2,
        "schema": v2_text,
    }
    assert client.get("/schemas/ids/3").json() == {"schema": v3_text}
    assert client.get("/subjects/Employee/versions/latest").json() == {
        "subject": "Employee",
        "version": 3,
        "id": 3,
        "schema": v3_text,
    }

    # Is the schema registered? (POST /subjects/{subject})
    r = post(client, "/subjects/Employee", {"schema": employee_simple})
    assert r.json() == {"subject": "Employee", "version": 1, "id": 1, "schema": EMPLOYEE_V1}

    # Test compatibility against the latest version.
    r = post(
        client,
        "/compatibility/subjects/Employee/versions/latest",
        {"schema": evolve(v3, field("zip", "string", default=""))},
    )
    assert r.json() == {"is_compatible": True}

    # Read the global level, set it to NONE, and the Employee level to BACKWARD.
    assert client.get("/config").json() == {"compatibilityLevel": "BACKWARD"}
    r = client.put("/config", json={"compatibility": "NONE"})
    assert r.json() == {"compatibility": "NONE"}
    assert client.get("/config").json() == {"compatibilityLevel": "NONE"}
    r = client.put("/config/Employee", json={"compatibility": "BACKWARD"})
    assert r.json() == {"compatibility": "BACKWARD"}
    assert client.get("/config/Employee").json() == {"compatibilityLevel": "BACKWARD"}

    # Registering v1 again creates nothing; the id is the one it always had.
    assert post(client, "/subjects/Employee/versions", {"schema": employee_simple}).json() == {
        "id": 1
    }
    assert client.get("/subjects/Employee/versions").json() == [1, 2, 3]


BASE = record("Rec", field("a"), field("b", "int", default=0))
ADD_WITH_DEFAULT = record("Rec", field("a"), field("b", "int", default=0), field("c", default="x"))
ADD_WITHOUT_DEFAULT = record("Rec", field("a"), field("b", "int", default=0), field("c"))
REMOVE_WITH_DEFAULT = record("Rec", field("a"))
REMOVE_WITHOUT_DEFAULT = record("Rec", field("b", "int", default=0))

ACCEPTS = {
    # level: (add with default, add without, remove with default, remove without)
    "NONE": (True, True, True, True),
    "BACKWARD": (True, False, True, True),
    "FORWARD": (True, True, True, False),
    "FULL": (True, False, True, False),
    "BACKWARD_TRANSITIVE": (True, False, True, True),
    "FORWARD_TRANSITIVE": (True, True, True, False),
    "FULL_TRANSITIVE": (True, False, True, False),
}


@pytest.mark.parametrize("level", list(ACCEPTS))
def test_each_level_accepts_what_confluent_accepts(client: httpx.Client, level: str) -> None:
    changes = [ADD_WITH_DEFAULT, ADD_WITHOUT_DEFAULT, REMOVE_WITH_DEFAULT, REMOVE_WITHOUT_DEFAULT]
    for change, expected in zip(changes, ACCEPTS[level], strict=True):
        subject = f"levels-{level}-{changes.index(change)}"
        assert client.put(f"/config/{subject}", json={"compatibility": level}).status_code == 200
        assert post(client, f"/subjects/{subject}/versions", {"schema": BASE}).status_code == 200
        check = post(
            client, f"/compatibility/subjects/{subject}/versions/latest", {"schema": change}
        )
        assert check.json()["is_compatible"] is expected, (level, change)
        r = post(client, f"/subjects/{subject}/versions", {"schema": change})
        if expected:
            assert r.status_code == 200
        else:
            assert r.status_code == 409
            assert r.json()["error_code"] == 409
            assert f"compatibility: '{level}'" in r.json()["message"]


def test_transitive_levels_check_every_version(client: httpx.Client) -> None:
    v1 = record("T", field("a"))
    v2 = record("T", field("a"), field("b", "int", default=1))
    v3 = record("T", field("a"), field("b", "int"))  # b loses its default
    for level, accepted in (("BACKWARD", True), ("BACKWARD_TRANSITIVE", False)):
        subject = f"chain-{level}"
        client.put(f"/config/{subject}", json={"compatibility": level})
        for schema in (v1, v2):
            assert (
                post(client, f"/subjects/{subject}/versions", {"schema": schema}).status_code == 200
            )
        r = post(client, f"/subjects/{subject}/versions", {"schema": v3})
        assert (r.status_code == 200) is accepted
        if not accepted:
            assert "{oldSchemaVersion: 1}" in r.json()["message"]
