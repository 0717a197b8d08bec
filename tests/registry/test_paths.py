"""Paths and path numbers as Confluent's Jersey reads them, and an ``id`` in a registration
body outside IMPORT mode as Confluent's ``KafkaSchemaRegistry`` handles it.

- One trailing slash is optional on every route (JAX-RS): ``/config/`` is ``/config``, for
  every method, and nothing answers a redirect.
- A schema id in a path is ``Integer.valueOf`` of the segment as sent (``" 1"`` is 404); a
  version is Confluent's ``VersionId``, which trims first; a blank integer query parameter is
  its default, any other text must parse as sent.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from avrobridge.registry import BackgroundServer, ServerSettings
from avrobridge.registry.api import create_app

from .helpers import V1_JSON, field, record

A1 = record("A", field("x"))
A2 = record("A", field("x"), field("y", "int", default=0))
B1 = record("B", field("x"))
SELF = json.dumps(
    {
        "type": "record",
        "name": "Self",
        "fields": [{"name": "next", "type": ["null", "Self"]}, {"name": "x", "type": "int"}],
    }
)

#: Every route, in an order that keeps both registries busy to the end: (method, path with
#: its parameters filled in, body). The route's template is looked up from the app.
CALLS: list[tuple[str, str, str, Any]] = [
    ("GET", "/", "/", None),
    ("GET", "/health", "/health", None),
    ("GET", "/subjects", "/subjects", None),
    ("GET", "/schemas", "/schemas", None),
    ("GET", "/schemas/types", "/schemas/types", None),
    ("GET", "/schemas/ids/{schema_id}", "/schemas/ids/1", None),
    ("GET", "/schemas/ids/{schema_id}/schema", "/schemas/ids/1/schema", None),
    ("GET", "/schemas/ids/{schema_id}/subjects", "/schemas/ids/1/subjects", None),
    ("GET", "/schemas/ids/{schema_id}/versions", "/schemas/ids/1/versions", None),
    ("POST", "/subjects/{subject}", "/subjects/s", {"schema": A1}),
    ("POST", "/subjects/{subject}/versions", "/subjects/s/versions", {"schema": A2}),
    ("GET", "/subjects/{subject}/versions", "/subjects/s/versions", None),
    ("GET", "/subjects/{subject}/versions/{version}", "/subjects/s/versions/2", None),
    (
        "GET",
        "/subjects/{subject}/versions/{version}/schema",
        "/subjects/s/versions/latest/schema",
        None,
    ),
    (
        "GET",
        "/subjects/{subject}/versions/{version}/referencedby",
        "/subjects/s/versions/1/referencedby",
        None,
    ),
    (
        "POST",
        "/compatibility/subjects/{subject}/versions/{version}",
        "/compatibility/subjects/s/versions/1",
        {"schema": A2},
    ),
    (
        "POST",
        "/compatibility/subjects/{subject}/versions",
        "/compatibility/subjects/s/versions",
        {"schema": B1},
    ),
    ("GET", "/config", "/config", None),
    ("PUT", "/config", "/config", {"compatibility": "FULL"}),
    ("PUT", "/config/{subject}", "/config/s", {"compatibility": "NONE"}),
    ("GET", "/config/{subject}", "/config/s", None),
    ("DELETE", "/config/{subject}", "/config/s", None),
    ("DELETE", "/config", "/config", None),
    ("GET", "/mode", "/mode", None),
    ("PUT", "/mode", "/mode", {"mode": "READWRITE"}),
    ("PUT", "/mode/{subject}", "/mode/s", {"mode": "READONLY"}),
    ("GET", "/mode/{subject}", "/mode/s", None),
    ("DELETE", "/mode/{subject}", "/mode/s", None),
    ("DELETE", "/subjects/{subject}/versions/{version}", "/subjects/s/versions/2", None),
    ("DELETE", "/subjects/{subject}", "/subjects/s", None),
    ("GET", "/openapi.json", "/openapi.json", None),
    ("GET", "/docs", "/docs", None),
    ("GET", "/docs/oauth2-redirect", "/docs/oauth2-redirect", None),
    ("GET", "/redoc", "/redoc", None),
]


@pytest.fixture
def twins() -> Iterator[tuple[httpx.Client, httpx.Client]]:
    """Two registries with the same history: one is asked without slashes, one with."""
    settings = ServerSettings(port=0, log_level="warning")
    with (
        BackgroundServer(settings) as a,
        BackgroundServer(settings) as b,
        httpx.Client(base_url=a.url) as ca,
        httpx.Client(base_url=b.url) as cb,
    ):
        for c in (ca, cb):
            assert c.post("/subjects/s/versions", json={"schema": A1}).json() == {"id": 1}
        yield ca, cb


def send(client: httpx.Client, method: str, path: str, body: Any) -> httpx.Response:
    content = None if body is None else json.dumps(body)
    headers = {"Content-Type": V1_JSON} if body is not None else {}
    return client.request(method, path, content=content, headers=headers)


def test_the_call_list_covers_every_route() -> None:
    routes = {
        (method, route.path)
        for route in create_app(None).routes  # type: ignore[arg-type]
        for method in getattr(route, "methods", None) or ()
        if method != "HEAD"
    }
    assert routes == {(method, template) for method, template, _, _ in CALLS}


def test_a_trailing_slash_is_served_exactly_like_the_path_without(
    twins: tuple[httpx.Client, httpx.Client],
) -> None:
    plain, slashed = twins
    for method, _, path, body in CALLS:
        a = send(plain, method, path, body)
        b = send(slashed, method, path.rstrip("/") + "/", body)
        assert b.status_code != 307 and a.status_code != 307, (method, path)
        assert a.status_code not in (404, 405) or a.json()["error_code"] != a.status_code, (
            f"{method} {path} did not reach its route: {a.text}"
        )
        assert (a.status_code, a.content) == (b.status_code, b.content), (method, path)


def test_no_route_redirects(client: httpx.Client) -> None:
    for method, _, path, body in CALLS:
        for variant in (path + "//", path + "/?x=1"):
            r = send(client, method, variant, body)
            assert r.status_code != 307, (method, variant)


@pytest.mark.parametrize(
    ("text", "status", "error_code"),
    [
        ("1", 200, None),
        ("+1", 200, None),
        ("01", 200, None),
        ("%D9%A1", 200, None),  # ARABIC-INDIC DIGIT ONE: Java's Character.digit reads it
        ("%201", 404, 404),
        ("1%20", 404, 404),
        ("%091", 404, 404),
        ("%20", 404, 404),
        ("1.0", 404, 404),
        ("2147483648", 404, 404),
        ("0x1", 404, 404),
    ],
)
def test_schema_ids_in_paths_parse_as_integer_value_of(
    client: httpx.Client, text: str, status: int, error_code: int | None
) -> None:
    client.post("/subjects/s/versions", json={"schema": A1})
    for suffix in ("", "/schema", "/subjects", "/versions"):
        r = client.get(f"/schemas/ids/{text}{suffix}")
        assert r.status_code == status, (text, suffix, r.text)
        if error_code is not None:
            assert r.json() == {"error_code": 404, "message": "HTTP 404 Not Found"}


@pytest.mark.parametrize(
    ("text", "status", "error_code", "version"),
    [
        ("1", 200, None, 1),
        ("%201", 200, None, 1),  # VersionId trims
        ("1%20", 200, None, 1),
        ("%20latest%09", 200, None, 2),
        ("LATEST", 200, None, 2),
        ("-1", 200, None, 2),
        ("+2", 200, None, 2),
        ("%20", 422, 42202, None),
        ("0", 422, 42202, None),
        ("-2", 422, 42202, None),
        ("1.0", 422, 42202, None),
        ("2147483648", 422, 42202, None),
    ],
)
def test_versions_in_paths_parse_as_version_id(
    client: httpx.Client, text: str, status: int, error_code: int | None, version: int | None
) -> None:
    client.post("/subjects/s/versions", json={"schema": A1})
    client.post("/subjects/s/versions", json={"schema": A2})
    r = client.get(f"/subjects/s/versions/{text}")
    assert r.status_code == status, r.text
    if error_code is None:
        assert r.json()["version"] == version
    else:
        assert r.json()["error_code"] == error_code


def test_integer_query_parameters_parse_as_sent(client: httpx.Client) -> None:
    for subject in ("a", "b", "c"):
        client.post(f"/subjects/{subject}/versions", json={"schema": A1})
    assert client.get("/subjects", params={"offset": "1"}).json() == ["b", "c"]
    assert client.get("/subjects", params={"offset": " "}).json() == ["a", "b", "c"]  # default
    assert client.get("/subjects", params={"limit": "+1"}).json() == ["a"]
    for bad in (" 1", "1 ", "x", "1.0"):
        r = client.get("/subjects", params={"offset": bad})
        assert (r.status_code, r.json()["error_code"]) == (404, 404), bad


# -- an id in a registration body outside IMPORT mode ------------------------------------


def test_an_id_outside_import_mode_is_refused_as_confluent_refuses_it(
    client: httpx.Client,
) -> None:
    def register(subject: str, schema: str, **extra: Any) -> httpx.Response:
        return client.post(f"/subjects/{subject}/versions", json={"schema": schema, **extra})

    # A new schema with an id: KafkaSchemaRegistry.checkRegisterMode, 42205.
    for wanted in (5, 0):
        r = register("s", A1, id=wanted)
        assert (r.status_code, r.json()) == (
            422,
            {"error_code": 42205, "message": "Subject s is not in import mode"},
        )
    assert client.get("/subjects").json() == []
    # A negative id means none (Schema.getId() < 0).
    assert register("s", A1, id=-1).json() == {"id": 1}
    # The schema already in the subject, with its own id: registerOrForward answers it.
    assert register("s", A1, id=1).json() == {"id": 1}
    # ... with another id it goes on to register(), whose mode check refuses it.
    assert register("s", A1, id=7).json()["error_code"] == 42205
    # Known in another subject, asked for under a new one with its id: refused too.
    assert register("t", A1, id=1).json()["error_code"] == 42205
    assert client.get("/subjects").json() == ["s"]
    # READONLY is reported first.
    client.put("/mode", json={"mode": "READONLY"})
    r = register("u", B1, id=9)
    assert r.json() == {"error_code": 42205, "message": "Subject u is in read-only mode"}


def test_recursive_types_inside_unions_register(client: httpx.Client) -> None:
    assert client.post("/subjects/self/versions", json={"schema": SELF}).json() == {"id": 1}
    assert json.loads(client.get("/schemas/ids/1").json()["schema"]) == json.loads(SELF)
