"""Bad input gets Confluent's exact codes, and the server keeps serving, its store intact."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from avrobridge.registry import BackgroundServer, ServerSettings

from .helpers import V1_JSON, field, record

GOOD = record("Good", field("x"))


@pytest.fixture
def small_server() -> Iterator[BackgroundServer]:
    """A registry with small caps, so the oversize cases stay cheap."""
    settings = ServerSettings(
        port=0, max_body_bytes=64 * 1024, max_schema_bytes=16 * 1024, log_level="warning"
    )
    with BackgroundServer(settings) as srv:
        yield srv


@pytest.fixture
def c(small_server: BackgroundServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=small_server.url, timeout=30) as client:
        r = client.post("/subjects/keep/versions", json={"schema": GOOD})
        assert r.json() == {"id": 1}
        yield client
        # After every case: still serving, and nothing changed that should not have.
        assert client.get("/health").json() == {"status": "UP"}
        assert client.get("/subjects/keep/versions").json() == [1]
        assert client.get("/schemas/ids/1").status_code == 200


def send(c: httpx.Client, body: bytes, path: str = "/subjects/s/versions") -> httpx.Response:
    return c.post(path, content=body, headers={"Content-Type": V1_JSON})


def code(r: httpx.Response) -> tuple[int, int]:
    return r.status_code, r.json()["error_code"]


@pytest.mark.parametrize(
    "body",
    [
        b"{",
        b"not json",
        b'{"schema": }',
        b"\xff\xfe\x00",
        b'{"schema": NaN}',
        b"[1, 2",
        b'{"schema": "x"} trailing',
        b'{"schema": 1e999}',
    ],
)
def test_malformed_json_is_400(c: httpx.Client, body: bytes) -> None:
    assert code(send(c, body)) == (400, 400)


@pytest.mark.parametrize(
    "body",
    [
        [],
        "text",
        5,
        {"schema": {"type": "record"}},
        {"schema": ["x"]},
        {"references": "x"},
        {"schema": GOOD, "version": "two"},
        {"schema": GOOD, "id": True},
        {"schema": GOOD, "references": [5]},
        {"schema": GOOD, "id": 2**40},
    ],
)
def test_json_of_the_wrong_shape_is_400(c: httpx.Client, body: Any) -> None:
    assert code(send(c, json.dumps(body).encode())) == (400, 400)


def test_missing_body_is_422(c: httpx.Client) -> None:
    assert code(send(c, b"")) == (422, 422)
    assert code(send(c, b"null")) == (422, 422)


@pytest.mark.parametrize(
    "schema",
    [
        '{"type": "record", "name": "X"}',
        '{"type": "int", "logicalType": 5',
        "nonsense",
        '{"type": "record", "name": "1bad", "fields": []}',
        '{"type": "enum", "name": "E", "symbols": ["A", "A"]}',
        '"Unknown"',
        '["int", "int"]',
        '{"type": "fixed", "name": "F", "size": -1}',
        '"\\ud800"',
        "{}",
        "123",
        '{"type": "map"}',
    ],
)
def test_invalid_avro_is_42201(c: httpx.Client, schema: str) -> None:
    assert code(send(c, json.dumps({"schema": schema}).encode())) == (422, 42201)
    # Lookups and compatibility tests refuse it the same way.
    assert code(send(c, json.dumps({"schema": schema}).encode(), "/subjects/keep")) == (422, 42201)


def test_an_invalid_default_is_refused_on_registration_only(c: httpx.Client) -> None:
    # Confluent parses lookups as not new, so Avro does not validate defaults there: the
    # lookup just misses (an imported schema with such a default is found, see IMPORT mode).
    schema = '{"type":"record","name":"R","fields":[{"name":"f","type":"int","default":"x"}]}'
    assert code(send(c, json.dumps({"schema": schema}).encode())) == (422, 42201)
    assert code(send(c, json.dumps({"schema": schema}).encode(), "/subjects/keep")) == (404, 40403)


def test_lone_surrogate_inside_a_valid_looking_schema(c: httpx.Client) -> None:
    schema = '{"type":"record","name":"R","fields":[{"name":"f","type":"string","doc":"\\ud800"}]}'
    r = send(c, json.dumps({"schema": schema}).encode())
    assert r.status_code in (200, 422)
    assert c.get("/schemas").status_code == 200


def test_deep_nesting_is_refused_not_crashing(c: httpx.Client) -> None:
    deep_schema = '"int"'
    for _ in range(500):
        deep_schema = '{"type":"array","items":' + deep_schema + "}"
    assert code(send(c, json.dumps({"schema": deep_schema}).encode())) == (422, 42201)
    deep_body = b'{"schema":' + b"[" * 5000 + b"]" * 5000 + b"}"
    assert code(send(c, deep_body)) == (400, 400)


def test_oversized_body_is_413(c: httpx.Client) -> None:
    big = json.dumps({"schema": GOOD, "padding": "x" * 100_000}).encode()
    r = send(c, big)
    assert code(r) == (413, 413)
    assert "limit of 65536 bytes" in r.json()["message"]


def test_oversized_chunked_body_is_413(c: httpx.Client) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"schema": "'
        for _ in range(100):
            yield b"x" * 1024
        yield b'"}'

    r = c.post("/subjects/s/versions", content=chunks(), headers={"Content-Type": V1_JSON})
    assert code(r) == (413, 413)


def test_oversized_schema_is_42209(c: httpx.Client) -> None:
    wide = record("Wide", *(field(f"f{i:05d}") for i in range(1000)))
    assert len(wide) > 16 * 1024
    assert code(send(c, json.dumps({"schema": wide}).encode())) == (422, 42209)


def test_unknown_subject_version_and_schema(c: httpx.Client) -> None:
    assert code(c.get("/subjects/nobody/versions")) == (404, 40401)
    assert code(c.get("/subjects/keep/versions/2")) == (404, 40402)
    assert code(c.get("/schemas/ids/2")) == (404, 40403)
    assert code(c.get("/subjects/keep/versions/0")) == (422, 42202)
    assert code(c.get("/subjects/keep/versions/abc")) == (422, 42202)


@pytest.mark.parametrize(
    "subject", ["ünïcødé", "with space", "a" * 2000, "emoji-🚀", "dots.and-dashes_1"]
)
def test_unusual_subject_names_round_trip(c: httpx.Client, subject: str) -> None:
    r = c.post(f"/subjects/{subject}/versions", json={"schema": GOOD})
    assert r.json() == {"id": 1}
    assert c.get(f"/subjects/{subject}/versions").json() == [1]


def test_garbage_on_the_socket(small_server: BackgroundServer, c: httpx.Client) -> None:
    for junk in (
        b"\x00\x01\x02\r\n\r\n",
        b"GET / HTTP/9.9\r\n\r\n",
        b"POST /x HTTP/1.1\r\nContent-Length: -5\r\n\r\n",
    ):
        with socket.create_connection(("127.0.0.1", small_server.port), timeout=5) as s:
            s.sendall(junk)
            s.recv(4096)  # an error answer or a close; either is fine


def test_reference_cycles_and_self_references(c: httpx.Client) -> None:
    ref_to_self = {"name": "X", "subject": "keep", "version": 1}
    body = {"schema": record("Y", field("g", "Good")), "references": [ref_to_self]}
    assert c.post("/subjects/y/versions", json=body).json() == {"id": 2}
    loop = {"name": "Y", "subject": "y", "version": 1}
    body = {"schema": record("Z", field("y", "Y")), "references": [loop, ref_to_self]}
    assert c.post("/subjects/z/versions", json=body).json() == {"id": 3}
