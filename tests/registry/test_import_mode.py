"""IMPORT mode and explicit ids/versions, as Confluent's KafkaSchemaRegistry handles them
(``registerOrForward``, ``register``, ``checkRegisterMode``, ``checkIfSchemaWithIdExist``,
``setMode``); docs/registry.md ("Modes") lists the rules these tests pin."""

from __future__ import annotations

import json
from typing import Any

import httpx
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient, SchemaRegistryError

from avrobridge.registry import BackgroundServer

from .helpers import V1_JSON, field, record

A1 = record("A", field("x"))
A2 = record("A", field("x"), field("y", "int", default=0))
A_BAD = record("A", field("x"), field("z"))  # not backward compatible with A1
B1 = record("B", field("x"))
ADDRESS = record("Address", field("street"), namespace="acme")
USER = record("User", field("home", "acme.Address"), namespace="acme")


def post(client: httpx.Client, url: str, body: Any, **params: Any) -> httpx.Response:
    return client.post(
        url, params=params, content=json.dumps(body), headers={"Content-Type": V1_JSON}
    )


def register(client: httpx.Client, subject: str, **body: Any) -> httpx.Response:
    return post(client, f"/subjects/{subject}/versions", body)


def error(response: httpx.Response) -> tuple[int, int, str]:
    body = response.json()
    return response.status_code, body["error_code"], body["message"]


def set_mode(client: httpx.Client, mode: str, subject: str | None = None, **params: Any) -> Any:
    url = "/mode" if subject is None else f"/mode/{subject}"
    return client.put(url, params=params, json={"mode": mode})


def keys_and_values(server: BackgroundServer) -> list[tuple[dict[str, Any], Any]]:
    """The store's log, decoded."""
    return [
        (json.loads(key), None if value is None else json.loads(value))
        for _, key, value in server.service.store.read()
    ]


# -- switching to IMPORT ---------------------------------------------------------------------


def test_import_needs_an_empty_scope_unless_forced(client: httpx.Client) -> None:
    register(client, "s", schema=A1)
    assert error(set_mode(client, "IMPORT")) == (
        422,
        42205,
        "Cannot import since found existing subjects",
    )
    assert error(set_mode(client, "IMPORT", "s"))[:2] == (422, 42205)
    # Another subject is empty: it may import; force skips the check.
    assert set_mode(client, "IMPORT", "t").json() == {"mode": "IMPORT"}
    assert set_mode(client, "IMPORT", "s", force="true").json() == {"mode": "IMPORT"}
    # Already in IMPORT: no check again.
    assert set_mode(client, "IMPORT", "s").json() == {"mode": "IMPORT"}
    assert client.get("/subjects/s/versions").json() == [1]


def test_import_hard_deletes_the_soft_deleted_versions_first(
    server: BackgroundServer, client: httpx.Client
) -> None:
    register(client, "s", schema=A1)
    register(client, "s", schema=A2)
    client.delete("/subjects/s")
    assert client.get("/subjects/s/versions", params={"deleted": "true"}).json() == [1, 2]
    assert set_mode(client, "IMPORT", "s").json() == {"mode": "IMPORT"}
    assert error(client.get("/subjects/s/versions", params={"deleted": "true"}))[:2] == (
        404,
        40401,
    )
    # As Confluent writes it: a SCHEMA tombstone per version, CLEAR_SUBJECT, then the MODE.
    tail = keys_and_values(server)[-4:]
    assert tail == [
        ({"keytype": "SCHEMA", "subject": "s", "version": 1, "magic": 1}, None),
        ({"keytype": "SCHEMA", "subject": "s", "version": 2, "magic": 1}, None),
        ({"keytype": "CLEAR_SUBJECT", "subject": "s", "magic": 0}, {"subject": "s"}),
        ({"keytype": "MODE", "subject": "s", "magic": 0}, {"mode": "IMPORT"}),
    ]
    # The ids stay taken: ids are never reused.
    set_mode(client, "READWRITE", "s")
    assert register(client, "u", schema=B1).json() == {"id": 3}


def test_import_refuses_while_a_live_schema_references_a_soft_deleted_version(
    client: httpx.Client,
) -> None:
    register(client, "address", schema=ADDRESS)
    ref = {"name": "acme.Address", "subject": "address", "version": 1}
    register(client, "user", schema=USER, references=[ref])
    # Soft-deleting a referenced version is refused, so reference it from a version that
    # only exists soft-deleted: delete the referrer, then the address, then re-register.
    client.delete("/subjects/user")
    client.delete("/subjects/address")
    assert register(client, "user2", schema=USER, references=[ref]).status_code == 200
    status, code, _ = error(set_mode(client, "IMPORT", "address"))
    assert (status, code) == (422, 42206)
    assert client.get("/mode/address").status_code == 404


# -- registering in IMPORT mode --------------------------------------------------------------


def test_import_takes_the_given_id_and_version(client: httpx.Client) -> None:
    set_mode(client, "IMPORT")
    assert register(client, "s", schema=A1, id=42, version=7).json() == {"id": 42}
    entity = client.get("/subjects/s/versions/7").json()
    assert (entity["id"], entity["version"]) == (42, 7)
    # An id without a version takes the next version; compatibility is not checked.
    assert register(client, "s", schema=A_BAD, id=43).json() == {"id": 43}
    assert client.get("/subjects/s/versions").json() == [7, 8]
    assert client.get("/schemas/ids/43").json()["schema"] == json.dumps(
        json.loads(A_BAD), separators=(",", ":")
    )
    # Back in READWRITE, new ids continue above the highest imported one.
    set_mode(client, "READWRITE")
    assert register(client, "u", schema=B1).json() == {"id": 44}


def test_import_needs_an_id(client: httpx.Client) -> None:
    set_mode(client, "IMPORT")
    # A version alone, or nothing: IMPORT is not READWRITE.
    for body in ({"schema": A1, "version": 1}, {"schema": A1}):
        assert error(register(client, "s", **body)) == (
            422,
            42205,
            "Subject s is not in read-write mode",
        )
    # A negative id is no id.
    assert error(register(client, "s", schema=A1, id=-1))[:2] == (422, 42205)


def test_import_answers_the_id_of_a_schema_the_subject_holds(client: httpx.Client) -> None:
    set_mode(client, "IMPORT")
    register(client, "s", schema=A1, id=5, version=1)
    # Without a version, the subject's copy answers (no id needed, none written).
    assert register(client, "s", schema=A1).json() == {"id": 5}
    assert register(client, "s", schema=A1, id=5).json() == {"id": 5}
    assert client.get("/subjects/s/versions").json() == [1]


def test_a_conflicting_id_is_refused(client: httpx.Client) -> None:
    set_mode(client, "IMPORT")
    register(client, "s", schema=A1, id=5, version=1)
    r = register(client, "t", schema=B1, id=5, version=1)
    assert error(r) == (422, 42205, "Overwrite new schema with id 5 is not permitted.")
    # The same schema under the same id in another subject is fine: ids are per schema.
    assert register(client, "t", schema=A1, id=5, version=1).json() == {"id": 5}
    assert client.get("/schemas/ids/5/versions").json() == [
        {"subject": "s", "version": 1},
        {"subject": "t", "version": 1},
    ]


def test_an_id_with_other_references_is_a_conflict(client: httpx.Client) -> None:
    set_mode(client, "IMPORT")
    register(client, "address", schema=ADDRESS, id=1, version=1)
    register(client, "address", schema=record("Address", namespace="acme"), id=2, version=2)
    ref1 = {"name": "acme.Address", "subject": "address", "version": 1}
    ref2 = dict(ref1, version=2)
    assert register(client, "user", schema=USER, references=[ref1], id=10).json() == {"id": 10}
    r = register(client, "other", schema=USER, references=[ref2], id=10)
    assert error(r)[:2] == (422, 42205)


def test_one_schema_may_be_imported_under_two_ids(client: httpx.Client) -> None:
    register(client, "s", schema=A1)  # id 1
    set_mode(client, "IMPORT", "t")
    assert register(client, "t", schema=A1, id=9, version=1).json() == {"id": 9}
    assert client.get("/schemas/ids/1").status_code == 200
    assert client.get("/schemas/ids/9").status_code == 200
    # The newest import names the schema from now on, as Confluent's hash -> id map.
    assert register(client, "u", schema=A1).json() == {"id": 9}


def test_import_overwrites_a_version(client: httpx.Client) -> None:
    # Confluent does not protect a version number in IMPORT mode: the new record replaces it
    # (`schemas copy --keep-ids` checks first and refuses instead).
    set_mode(client, "IMPORT")
    register(client, "s", schema=A1, id=1, version=1)
    assert register(client, "s", schema=B1, id=2, version=1).json() == {"id": 2}
    assert client.get("/subjects/s/versions/1").json()["id"] == 2


def test_imported_schemas_skip_default_validation(client: httpx.Client) -> None:
    # Confluent parses a schema with an explicit id as not new: defaults are not validated.
    bad_default = record("D", field("n", "int", default="not a number"))
    assert error(register(client, "s", schema=bad_default))[:2] == (422, 42201)
    set_mode(client, "IMPORT")
    assert register(client, "s", schema=bad_default, id=3).json() == {"id": 3}
    # Lookups parse as not new too, so clients find the imported schema.
    assert post(client, "/subjects/s", {"schema": bad_default}).json()["id"] == 3


# -- ids and versions outside IMPORT ---------------------------------------------------------


def test_an_id_outside_import_mode(client: httpx.Client) -> None:
    assert error(register(client, "s", schema=A1, id=42)) == (
        422,
        42205,
        "Subject s is not in import mode",
    )
    register(client, "s", schema=A1)  # id 1
    # The subject already holds the schema under that id: its id, as Confluent's shortcut.
    assert register(client, "s", schema=A1, id=1).json() == {"id": 1}
    assert error(register(client, "s", schema=A1, id=2))[:2] == (422, 42205)


def test_a_version_outside_import_mode(client: httpx.Client) -> None:
    # The next version may be named; any other is 42201.
    assert register(client, "s", schema=A1, version=1).json() == {"id": 1}
    r = register(client, "s", schema=A2, version=5)
    assert error(r) == (422, 42201, "Version is not one more than previous version")
    assert register(client, "s", schema=A2, version=2).json() == {"id": 2}
    # With a version, Confluent skips the "already registered" shortcut: same schema, v3.
    assert register(client, "s", schema=A1, version=3).json() == {"id": 1}
    assert client.get("/subjects/s/versions").json() == [1, 2, 3]
    assert error(register(client, "s", schema=A1, version=3))[:2] == (422, 42201)


def test_read_only_checks_come_first_with_a_version(client: httpx.Client) -> None:
    register(client, "s", schema=A1)
    set_mode(client, "READONLY", "s")
    assert register(client, "s", schema=A1).json() == {"id": 1}  # the shortcut, no write
    assert error(register(client, "s", schema=A1, version=2))[:2] == (422, 42205)
    # With a version the mode is checked before the schema is parsed.
    assert error(register(client, "s", schema="{not json", version=2))[:2] == (422, 42205)
    assert error(register(client, "s", schema="{not json"))[:2] == (422, 42201)


def test_global_readonly_override_beats_subject_modes(client: httpx.Client) -> None:
    set_mode(client, "READWRITE", "s")
    set_mode(client, "READONLY_OVERRIDE")
    assert client.get("/mode/s").json() == {"mode": "READONLY_OVERRIDE"}
    assert client.get("/mode/t", params={"defaultToGlobal": "true"}).json() == {
        "mode": "READONLY_OVERRIDE"
    }
    assert error(register(client, "s", schema=A1)) == (
        422,
        42205,
        "Subject s is in read-only mode",
    )
    set_mode(client, "READWRITE")
    assert client.get("/mode/s").json() == {"mode": "READWRITE"}
    assert register(client, "s", schema=A1).json() == {"id": 1}


# -- the same through confluent-kafka's client -----------------------------------------------


def test_import_through_confluent_client(sr: SchemaRegistryClient, client: httpx.Client) -> None:
    assert sr.update_mode("s", "IMPORT") == "IMPORT"
    assert sr.get_mode("s") == "IMPORT"
    # The client cannot send an id: in IMPORT mode its registration is refused.
    try:
        sr.register_schema("s", Schema(A1, "AVRO"))
    except SchemaRegistryError as exc:
        assert (exc.http_status_code, exc.error_code) == (422, 42205)
        assert exc.error_message == "Subject s is not in read-write mode"
    else:
        raise AssertionError("registration without an id was accepted in IMPORT mode")
    register(client, "s", schema=A1, id=100, version=3)
    assert sr.get_schema(100).schema_str == json.dumps(json.loads(A1), separators=(",", ":"))
    found = sr.get_version("s", 3)
    assert (found.schema_id, found.version) == (100, 3)
    assert sr.lookup_schema("s", Schema(A1, "AVRO")).schema_id == 100
    assert sr.delete_mode("s") == "IMPORT"
    assert sr.register_schema("s", Schema(A2, "AVRO")) == 101
    assert sr.get_versions("s") == [3, 4]
