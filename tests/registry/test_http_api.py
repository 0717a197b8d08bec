"""Every endpoint, parameter and error code over raw HTTP, checked against Confluent's answers."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from .helpers import V1_JSON, field, record

A1 = record("A", field("x"))
A2 = record("A", field("x"), field("y", "int", default=0))
A_BAD = record("A", field("x"), field("z"))
B1 = record("B", field("x"))


def post(client: httpx.Client, url: str, body: Any, **params: Any) -> httpx.Response:
    return client.post(
        url, params=params, content=json.dumps(body), headers={"Content-Type": V1_JSON}
    )


def register(client: httpx.Client, subject: str, schema: str, **params: Any) -> httpx.Response:
    return post(client, f"/subjects/{subject}/versions", {"schema": schema}, **params)


def error(response: httpx.Response) -> tuple[int, int]:
    assert response.headers["content-type"] == V1_JSON
    body = response.json()
    assert set(body) == {"error_code", "message"}
    return response.status_code, body["error_code"]


def canonical(text: str) -> str:
    return json.dumps(json.loads(text), separators=(",", ":"))


# -- root, health, types --------------------------------------------------------------------


def test_root_health_and_types(client: httpx.Client) -> None:
    assert client.get("/").json() == {}
    assert client.get("/health").json() == {"status": "UP"}
    assert client.get("/schemas/types").json() == ["AVRO"]


@pytest.mark.parametrize(
    "content_type",
    [
        V1_JSON,
        "application/vnd.schemaregistry+json",
        "application/json",
        "application/json; charset=utf-8",
        None,
    ],
)
def test_accepts_confluent_content_types(client: httpx.Client, content_type: str | None) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    r = client.post("/subjects/s/versions", content=json.dumps({"schema": A1}), headers=headers)
    assert r.status_code == 200
    assert r.headers["content-type"] == V1_JSON


def test_rejects_other_content_types(client: httpx.Client) -> None:
    r = client.post("/subjects/s/versions", content=b"{}", headers={"Content-Type": "text/plain"})
    assert error(r) == (415, 415)


def test_unknown_routes_and_methods(client: httpx.Client) -> None:
    assert error(client.get("/nothing/here")) == (404, 404)
    assert error(client.put("/subjects")) == (405, 405)


# -- subjects --------------------------------------------------------------------------------


def test_list_subjects_with_prefix_deleted_and_paging(client: httpx.Client) -> None:
    for subject in ("orders-value", "orders-key", "users-value"):
        assert register(client, subject, A1).status_code == 200
    assert client.get("/subjects").json() == ["orders-key", "orders-value", "users-value"]
    assert client.get("/subjects", params={"subjectPrefix": "orders"}).json() == [
        "orders-key",
        "orders-value",
    ]
    assert client.get("/subjects", params={"offset": 1, "limit": 1}).json() == ["orders-value"]
    assert client.delete("/subjects/users-value").json() == [1]
    assert client.get("/subjects").json() == ["orders-key", "orders-value"]
    assert client.get("/subjects", params={"deleted": "true"}).json() == [
        "orders-key",
        "orders-value",
        "users-value",
    ]
    assert client.get("/subjects", params={"deletedOnly": "true"}).json() == ["users-value"]
    # Booleans are true only for "true", in any case (Boolean.valueOf), like Jersey.
    assert client.get("/subjects", params={"deleted": "True"}).json()[-1] == "users-value"
    assert client.get("/subjects", params={"deleted": "1"}).json()[-1] == "orders-value"
    assert error(client.get("/subjects", params={"offset": "x"})) == (404, 404)


def test_lookup_under_subject(client: httpx.Client) -> None:
    register(client, "s", A1)
    register(client, "s", A2)
    spaced = json.dumps(json.loads(A1), indent=4)  # whitespace does not matter
    r = post(client, "/subjects/s", {"schema": spaced})
    assert r.json() == {"subject": "s", "version": 1, "id": 1, "schema": canonical(A1)}
    assert error(post(client, "/subjects/s", {"schema": B1})) == (404, 40403)
    assert error(post(client, "/subjects/nobody", {"schema": A1})) == (404, 40401)
    assert error(post(client, "/subjects/s", {"schema": "{"})) == (422, 42201)
    # Deleted versions are found only with deleted=true.
    client.delete("/subjects/s/versions/1")
    assert error(post(client, "/subjects/s", {"schema": A1})) == (404, 40403)
    r = post(client, "/subjects/s", {"schema": A1}, deleted="true")
    assert r.json()["version"] == 1


def test_lookup_normalized(client: httpx.Client) -> None:
    full_names = json.dumps(
        {"type": "record", "name": "n.R", "fields": [{"name": "x", "type": "string"}]}
    )
    split = json.dumps(
        {
            "type": "record",
            "name": "R",
            "namespace": "n",
            "fields": [{"type": "string", "name": "x"}],
        }
    )
    assert register(client, "norm", full_names, normalize="true").json() == {"id": 1}
    # The other spelling normalizes to the same text, so it is the same schema.
    assert register(client, "norm", split, normalize="true").json() == {"id": 1}
    assert post(client, "/subjects/norm", {"schema": split}).json()["id"] == 1


def test_delete_subject_soft_then_permanent(client: httpx.Client) -> None:
    register(client, "s", A1)
    register(client, "s", A2)
    assert error(client.delete("/subjects/s", params={"permanent": "true"})) == (404, 40405)
    assert client.delete("/subjects/s").json() == [1, 2]
    assert error(client.delete("/subjects/s")) == (404, 40404)
    assert error(client.get("/subjects/s/versions")) == (404, 40401)
    assert client.get("/subjects/s/versions", params={"deleted": "true"}).json() == [1, 2]
    assert client.delete("/subjects/s", params={"permanent": "true"}).json() == [1, 2]
    assert error(client.delete("/subjects/s")) == (404, 40401)
    # The ids still are not reused; the schema gets a new one.
    assert register(client, "s", A1).json() == {"id": 3}


# -- versions --------------------------------------------------------------------------------


def test_versions_get_latest_minus_one_and_schema_only(client: httpx.Client) -> None:
    register(client, "s", A1)
    register(client, "s", A2)
    assert client.get("/subjects/s/versions").json() == [1, 2]
    for version in ("latest", "-1", "2", "LATEST"):
        assert client.get(f"/subjects/s/versions/{version}").json()["version"] == 2
    r = client.get("/subjects/s/versions/1/schema")
    assert r.text == canonical(A1)
    assert r.headers["content-type"] == V1_JSON
    assert error(client.get("/subjects/s/versions/3")) == (404, 40402)
    assert error(client.get("/subjects/nobody/versions/1")) == (404, 40401)
    assert error(client.get("/subjects/nobody/versions")) == (404, 40401)


@pytest.mark.parametrize("version", ["0", "abc", "-2", "2147483648", "1.5"])
def test_invalid_versions(client: httpx.Client, version: str) -> None:
    register(client, "s", A1)
    r = client.get(f"/subjects/s/versions/{version}")
    assert error(r) == (422, 42202)
    assert r.json()["message"] == (
        f"The specified version '{version}' is not a valid version id. "
        'Allowed values are between [1, 2^31-1] and the string "latest"'
    )
    assert error(client.delete(f"/subjects/s/versions/{version}")) == (422, 42202)
    assert error(post(client, f"/compatibility/subjects/s/versions/{version}", {"schema": A1})) == (
        422,
        42202,
    )


def test_version_soft_and_permanent_delete(client: httpx.Client) -> None:
    register(client, "s", A1)
    register(client, "s", A2)
    assert error(client.delete("/subjects/s/versions/2", params={"permanent": "true"})) == (
        404,
        40407,
    )
    assert client.delete("/subjects/s/versions/2").json() == 2
    assert error(client.delete("/subjects/s/versions/2")) == (404, 40406)
    assert client.get("/subjects/s/versions").json() == [1]
    assert client.get("/subjects/s/versions", params={"deleted": "true"}).json() == [1, 2]
    assert client.get("/subjects/s/versions", params={"deletedOnly": "true"}).json() == [2]
    assert error(client.get("/subjects/s/versions/2")) == (404, 40402)
    assert client.get("/subjects/s/versions/2", params={"deleted": "true"}).json()["id"] == 2
    assert client.get("/subjects/s/versions/latest").json()["version"] == 1
    # GET /schemas/ids still serves a soft-deleted schema.
    assert client.get("/schemas/ids/2").json() == {"schema": canonical(A2)}
    assert client.delete("/subjects/s/versions/2", params={"permanent": "true"}).json() == 2
    assert client.get("/subjects/s/versions", params={"deleted": "true"}).json() == [1]
    assert error(client.get("/schemas/ids/2")) == (404, 40403)
    assert error(client.delete("/subjects/s/versions/9")) == (404, 40402)
    assert error(client.delete("/subjects/nobody/versions/1")) == (404, 40401)


def test_reregistering_a_soft_deleted_schema_makes_a_new_version(client: httpx.Client) -> None:
    register(client, "s", A1)
    client.delete("/subjects/s/versions/1")
    assert register(client, "s", A1).json() == {"id": 1}
    # Confluent tombstones the older deleted version carrying the same id.
    assert client.get("/subjects/s/versions", params={"deleted": "true"}).json() == [2]


def test_register_parameters_and_errors(client: httpx.Client) -> None:
    assert register(client, "s", A1).json() == {"id": 1}
    assert register(client, "s", A1).json() == {"id": 1}
    assert client.get("/subjects/s/versions").json() == [1]
    r = register(client, "s", A_BAD)
    assert error(r) == (409, 409)
    message = r.json()["message"]
    assert message.startswith(
        'Schema being registered is incompatible with an earlier schema for subject "s", '
        "details: [{errorType:'READER_FIELD_MISSING_DEFAULT_VALUE'"
    )
    assert "{oldSchemaVersion: 1}" in message
    assert message.endswith("{validateFields: 'false', compatibility: 'BACKWARD'}]")
    assert error(register(client, "s", '{"type": "nope"}')) == (422, 42201)
    assert error(register(client, "s", "")) == (422, 42201)
    assert error(post(client, "/subjects/s/versions", {})) == (422, 42201)
    r = post(client, "/subjects/s/versions", {"schema": A1, "schemaType": "JSON"})
    assert error(r) == (422, 42201)
    assert "AVRO only" in r.json()["message"]
    assert error(
        post(client, "/subjects/s/versions", {"schema": A1, "schemaType": "PROTOBUF"})
    ) == (
        422,
        42201,
    )
    assert error(register(client, "__GLOBAL", A1)) == (422, 42208)
    assert error(register(client, "bad%07subject", A1)) == (422, 42208)


def test_referenced_by_and_reference_errors(client: httpx.Client) -> None:
    address = record("Address", field("street"), namespace="acme")
    person = record("Person", field("home", "acme.Address"), namespace="acme")
    register(client, "address", address)
    ref = {"name": "acme.Address", "subject": "address", "version": 1}
    r = post(client, "/subjects/person/versions", {"schema": person, "references": [ref]})
    assert r.json() == {"id": 2}
    got = client.get("/subjects/person/versions/1").json()
    assert got["references"] == [ref]
    assert got["schema"] == (
        '{"type":"record","name":"Person","namespace":"acme",'
        '"fields":[{"name":"home","type":"Address"}]}'
    )
    assert client.get("/schemas/ids/2").json()["references"] == [ref]
    assert client.get("/subjects/address/versions/1/referencedby").json() == [2]
    assert client.get("/subjects/address/versions/latest/referencedby").json() == [2]
    assert error(client.delete("/subjects/address/versions/1")) == (422, 42206)
    assert error(client.delete("/subjects/address")) == (422, 42206)
    # Without the reference the type is unknown.
    assert error(register(client, "person2", person)) == (422, 42201)
    missing = {"name": "acme.Address", "subject": "address", "version": 7}
    r = post(client, "/subjects/p3/versions", {"schema": person, "references": [missing]})
    assert error(r) == (422, 42201)
    # Once the referrer is deleted, the referenced schema may go.
    client.delete("/subjects/person/versions/1")
    assert client.get("/subjects/address/versions/1/referencedby").json() == []
    assert client.delete("/subjects/address/versions/1").json() == 1


# -- schemas -------------------------------------------------------------------------------


def test_schemas_by_id_and_their_subjects(client: httpx.Client) -> None:
    register(client, "a", A1)
    register(client, "b", A1)
    register(client, "a", A2)
    assert client.get("/schemas/ids/1").json() == {"schema": canonical(A1)}
    assert client.get("/schemas/ids/1", params={"subject": "b"}).json() == {"schema": canonical(A1)}
    assert client.get("/schemas/ids/1", params={"fetchMaxId": "true"}).json() == {
        "schema": canonical(A1),
        "maxId": 2,
    }
    assert client.get("/schemas/ids/1/schema").text == canonical(A1)
    assert client.get("/schemas/ids/1/subjects").json() == ["a", "b"]
    assert client.get("/schemas/ids/1/subjects", params={"subject": "b"}).json() == ["b"]
    assert client.get("/schemas/ids/1/versions").json() == [
        {"subject": "a", "version": 1},
        {"subject": "b", "version": 1},
    ]
    client.delete("/subjects/b/versions/1")
    assert client.get("/schemas/ids/1/subjects").json() == ["a"]
    assert client.get("/schemas/ids/1/subjects", params={"deleted": "true"}).json() == ["a", "b"]
    assert client.get("/schemas/ids/1/versions", params={"deleted": "true"}).json()[1] == {
        "subject": "b",
        "version": 1,
    }
    for path in (
        "/schemas/ids/99",
        "/schemas/ids/99/schema",
        "/schemas/ids/99/subjects",
        "/schemas/ids/99/versions",
        "/schemas/ids/-1",
    ):
        assert error(client.get(path)) == (404, 40403)
    assert error(client.get("/schemas/ids/abc")) == (404, 404)
    assert error(client.get("/schemas/ids/99999999999")) == (404, 404)


def test_list_schemas(client: httpx.Client) -> None:
    register(client, "a", A1)
    register(client, "a", A2)
    register(client, "b", B1)
    every = client.get("/schemas").json()
    assert [(s["subject"], s["version"], s["id"]) for s in every] == [
        ("a", 1, 1),
        ("a", 2, 2),
        ("b", 1, 3),
    ]
    latest = client.get("/schemas", params={"latestOnly": "true"}).json()
    assert [(s["subject"], s["version"]) for s in latest] == [("a", 2), ("b", 1)]
    assert [s["subject"] for s in client.get("/schemas", params={"subjectPrefix": "b"}).json()] == [
        "b"
    ]
    assert len(client.get("/schemas", params={"offset": 1, "limit": 1}).json()) == 1
    client.delete("/subjects/b")
    assert len(client.get("/schemas").json()) == 2
    assert len(client.get("/schemas", params={"deleted": "true"}).json()) == 3


# -- compatibility ---------------------------------------------------------------------------


def test_compatibility_endpoints(client: httpx.Client) -> None:
    register(client, "s", A1)
    url = "/compatibility/subjects/s/versions"
    assert post(client, f"{url}/latest", {"schema": A2}).json() == {"is_compatible": True}
    assert post(client, f"{url}/1", {"schema": A_BAD}).json() == {"is_compatible": False}
    verbose = post(client, f"{url}/1", {"schema": A_BAD}, verbose="true").json()
    assert verbose["is_compatible"] is False
    assert verbose["messages"][1] == "{oldSchemaVersion: 1}"
    assert verbose["messages"][-1] == "{validateFields: 'false', compatibility: 'BACKWARD'}"
    assert post(client, f"{url}/1", {"schema": A2}, verbose="true").json() == {
        "is_compatible": True,
        "messages": [],
    }
    assert post(client, url, {"schema": A2}).json() == {"is_compatible": True}
    assert post(client, url, {"schema": A_BAD}).json() == {"is_compatible": False}
    assert error(post(client, f"{url}/7", {"schema": A2})) == (404, 40402)
    assert error(post(client, url, {"schema": "{bad"})) == (422, 42201)
    bad = post(client, url, {"schema": "{bad"}, verbose="true").json()
    assert bad["is_compatible"] is False and "Invalid schema" in bad["messages"][0]
    # No subject yet: nothing to be incompatible with.
    assert post(client, "/compatibility/subjects/new/versions/latest", {"schema": A1}).json() == {
        "is_compatible": True
    }


# -- config ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "level",
    [
        "NONE",
        "BACKWARD",
        "BACKWARD_TRANSITIVE",
        "FORWARD",
        "FORWARD_TRANSITIVE",
        "FULL",
        "FULL_TRANSITIVE",
    ],
)
def test_all_seven_levels(client: httpx.Client, level: str) -> None:
    assert client.put("/config", json={"compatibility": level}).json() == {"compatibility": level}
    assert client.get("/config").json() == {"compatibilityLevel": level}
    assert client.put("/config/s", json={"compatibility": level}).json() == {"compatibility": level}
    assert client.get("/config/s").json() == {"compatibilityLevel": level}


def test_config_endpoints(client: httpx.Client) -> None:
    assert client.get("/config").json() == {"compatibilityLevel": "BACKWARD"}
    assert error(client.get("/config/s")) == (404, 40408)
    assert client.get("/config/s", params={"defaultToGlobal": "true"}).json() == {
        "compatibilityLevel": "BACKWARD"
    }
    assert error(client.put("/config", json={"compatibility": "SIDEWAYS"})) == (422, 42203)
    assert error(client.put("/config", json={})) == (422, 42203)
    assert error(client.put("/config/s", json={"compatibility": 5})) == (422, 42203)
    assert client.put("/config/s", json={"compatibility": "forward"}).json() == {
        "compatibility": "forward"
    }
    assert client.get("/config/s").json() == {"compatibilityLevel": "FORWARD"}
    assert client.delete("/config/s").json() == {"compatibilityLevel": "FORWARD"}
    assert error(client.delete("/config/s")) == (404, 40401)
    client.put("/config", json={"compatibility": "FULL"})
    assert client.delete("/config").json() == {"compatibilityLevel": "FULL"}
    assert client.get("/config").json() == {"compatibilityLevel": "BACKWARD"}
    assert error(client.put("/config/__GLOBAL", json={"compatibility": "NONE"})) == (422, 42208)


def test_subject_level_overrides_global(client: httpx.Client) -> None:
    register(client, "s", A1)
    client.put("/config", json={"compatibility": "NONE"})
    assert register(client, "t", A1).status_code == 200
    assert register(client, "s", A_BAD).status_code == 200  # NONE accepts anything
    client.put("/config/t", json={"compatibility": "BACKWARD"})
    assert error(register(client, "t", A_BAD)) == (409, 409)


# -- mode ----------------------------------------------------------------------------------


def test_mode_endpoints(client: httpx.Client) -> None:
    assert client.get("/mode").json() == {"mode": "READWRITE"}
    assert error(client.get("/mode/s")) == (404, 40409)
    assert client.get("/mode/s", params={"defaultToGlobal": "true"}).json() == {"mode": "READWRITE"}
    assert error(client.put("/mode/s", json={"mode": "SOMETIMES"})) == (422, 42204)
    assert error(client.put("/mode/s", json={})) == (422, 42204)
    assert client.put("/mode/s", json={"mode": "READONLY"}).json() == {"mode": "READONLY"}
    assert client.get("/mode/s").json() == {"mode": "READONLY"}
    assert client.delete("/mode/s").json() == {"mode": "READONLY"}
    assert error(client.delete("/mode/s")) == (404, 40401)


def test_readonly_rejects_writes(client: httpx.Client) -> None:
    register(client, "s", A1)
    client.put("/mode", json={"mode": "READONLY"})
    r = register(client, "s", A2)
    assert error(r) == (422, 42205)
    assert r.json()["message"] == "Subject s is in read-only mode"
    # Registering an existing schema still answers its id, as in Confluent.
    assert register(client, "s", A1).json() == {"id": 1}
    assert error(client.delete("/subjects/s/versions/1")) == (422, 42205)
    assert error(client.delete("/subjects/s")) == (422, 42205)
    assert error(client.put("/config/s", json={"compatibility": "NONE"})) == (422, 42205)
    # Reads go on.
    assert client.get("/subjects/s/versions").json() == [1]
    client.put("/mode", json={"mode": "READWRITE"})
    assert register(client, "s", A2).json() == {"id": 2}


def test_import_mode_takes_ids_and_versions(client: httpx.Client) -> None:
    body = {"schema": A1, "id": 42, "version": 7}
    assert error(post(client, "/subjects/s/versions", body)) == (422, 42205)  # not in IMPORT
    assert client.put("/mode", json={"mode": "IMPORT"}).json() == {"mode": "IMPORT"}
    assert error(register(client, "s", A1)) == (422, 42205)  # IMPORT needs explicit ids
    assert post(client, "/subjects/s/versions", body).json() == {"id": 42}
    assert client.get("/subjects/s/versions/7").json()["id"] == 42
    # IMPORT skips compatibility checks.
    assert post(client, "/subjects/s/versions", {"schema": A_BAD, "id": 43}).json() == {"id": 43}
    assert client.get("/subjects/s/versions").json() == [7, 8]
    # An id held by another schema cannot be overwritten.
    r = post(client, "/subjects/t/versions", {"schema": B1, "id": 42})
    assert error(r) == (422, 42205)
    client.put("/mode", json={"mode": "READWRITE"})
    # New ids continue above the highest imported one.
    assert register(client, "u", B1).json() == {"id": 44}


def test_import_mode_needs_force_when_subjects_exist(client: httpx.Client) -> None:
    register(client, "s", A1)
    assert error(client.put("/mode/s", json={"mode": "IMPORT"})) == (422, 42205)
    assert client.put("/mode/s", params={"force": "true"}, json={"mode": "IMPORT"}).json() == {
        "mode": "IMPORT"
    }
    assert client.put("/mode/t", json={"mode": "IMPORT"}).json() == {"mode": "IMPORT"}


def test_soft_deleting_last_version_drops_subject_settings(client: httpx.Client) -> None:
    register(client, "s", A1)
    client.put("/config/s", json={"compatibility": "NONE"})
    client.put("/mode/s", json={"mode": "READWRITE"})
    client.delete("/subjects/s/versions/1")
    assert error(client.get("/config/s")) == (404, 40408)
    assert error(client.get("/mode/s")) == (404, 40409)
