"""Basic auth (401 without credentials, 403 for read-only writers, nothing changes) and TLS."""

from __future__ import annotations

import logging
import ssl
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient, SchemaRegistryError

from avrobridge.errors import ConfigError
from avrobridge.registry import BackgroundServer, ServerSettings
from avrobridge.registry.auth import hash_password, is_read, load_users, verify_password

from .helpers import field, make_self_signed, record

A1 = record("A", field("x"))
ALICE = ("alice", "alice-secret")
BOB = ("bob", "bob-secret")


@pytest.fixture
def secured(users_file: Path) -> Iterator[BackgroundServer]:
    settings = ServerSettings(port=0, auth_file=users_file, log_level="warning", access_log=True)
    with BackgroundServer(settings) as srv:
        yield srv


def test_without_valid_credentials_everything_is_401(secured: BackgroundServer) -> None:
    bad_auths: list[tuple[str, str] | None] = [None, ("alice", "wrong"), ("mallory", "x"), ("", "")]
    with httpx.Client(base_url=secured.url) as anon:
        for auth in bad_auths:
            for method, path in (
                ("GET", "/subjects"),
                ("POST", "/subjects/s/versions"),
                ("GET", "/schemas/ids/1"),
                ("PUT", "/config"),
                ("DELETE", "/subjects/s"),
            ):
                r = anon.request(method, path, auth=auth, json={"schema": A1})
                assert r.status_code == 401
                assert r.json() == {"error_code": 401, "message": "Unauthorized"}
                assert r.headers["www-authenticate"].startswith("Basic realm=")
        r = anon.get("/subjects", headers={"Authorization": "Bearer abc"})
        assert r.status_code == 401
        r = anon.get("/subjects", headers={"Authorization": "Basic !!!notbase64"})
        assert r.status_code == 401
        assert anon.get("/health").json() == {"status": "UP"}  # probes need no password
    with httpx.Client(base_url=secured.url, auth=ALICE) as alice:
        assert alice.get("/subjects").json() == []  # nothing was written


def test_read_only_user_gets_403_for_writes(secured: BackgroundServer) -> None:
    with httpx.Client(base_url=secured.url, auth=ALICE) as alice:
        assert alice.post("/subjects/s/versions", json={"schema": A1}).json() == {"id": 1}
    with httpx.Client(base_url=secured.url, auth=BOB) as bob:
        assert bob.get("/subjects").json() == ["s"]
        assert bob.get("/schemas/ids/1").status_code == 200
        assert bob.post("/subjects/s", json={"schema": A1}).json()["id"] == 1  # lookup = read
        r = bob.post("/compatibility/subjects/s/versions/latest", json={"schema": A1})
        assert r.json() == {"is_compatible": True}
        for method, path, body in (
            ("POST", "/subjects/s/versions", {"schema": record("B", field("y"))}),
            ("DELETE", "/subjects/s", None),
            ("DELETE", "/subjects/s/versions/1", None),
            ("PUT", "/config", {"compatibility": "NONE"}),
            ("PUT", "/mode/s", {"mode": "READONLY"}),
            ("DELETE", "/config", None),
        ):
            r = bob.request(method, path, json=body)
            assert r.status_code == 403, (method, path)
            assert r.json()["error_code"] == 403
        assert bob.get("/subjects/s/versions").json() == [1]
        assert bob.get("/config").json() == {"compatibilityLevel": "BACKWARD"}
        assert bob.get("/mode").json() == {"mode": "READWRITE"}


def test_confluent_client_with_basic_auth(secured: BackgroundServer) -> None:
    conf = {"url": secured.url, "basic.auth.user.info": "alice:alice-secret"}
    with SchemaRegistryClient(conf) as sr:
        assert sr.register_schema("s", Schema(A1, "AVRO")) == 1
    with SchemaRegistryClient({"url": secured.url, "max.retries": 0}) as anonymous:
        with pytest.raises(SchemaRegistryError) as info:
            anonymous.get_subjects()
        assert info.value.http_status_code == 401


def test_passwords_never_reach_the_logs(
    secured: BackgroundServer, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    with caplog.at_level(logging.DEBUG), httpx.Client(base_url=secured.url) as c:
        c.get("/subjects", auth=ALICE)
        c.get("/subjects", auth=("alice", "wrong-password-xyz"))
    out, err = capfd.readouterr()
    text = caplog.text + out + err
    assert "alice-secret" not in text and "wrong-password-xyz" not in text
    assert "YWxpY2U6" not in text  # nor the base64 of "alice:..."


def test_password_file_format_and_errors(tmp_path: Path) -> None:
    encoded = hash_password("pw", iterations=1000, salt=b"0123456789abcdef")
    assert encoded.startswith("pbkdf2_sha256$1000$")
    assert verify_password("pw", encoded) and not verify_password("pW", encoded)
    assert not verify_password("pw", "md5$1$x$y")
    path = tmp_path / "u"
    for content, problem in (
        ("", "no users"),
        ("alice:admin:" + encoded, "role"),
        ("alice:readwrite:plaintext", "hash"),
        ("alice", "NAME:ROLE:HASH"),
        (f"a:readonly:{encoded}\na:readonly:{encoded}", "twice"),
    ):
        path.write_text(content)
        with pytest.raises(ConfigError, match=problem) as info:
            load_users(path)
        assert "plaintext" not in str(info.value)
    with pytest.raises(ConfigError, match="cannot read"):
        load_users(tmp_path / "missing")


@pytest.mark.parametrize(
    ("method", "path", "read"),
    [
        ("GET", "/subjects", True),
        ("POST", "/subjects/s", True),
        ("POST", "/compatibility/subjects/s/versions", True),
        ("POST", "/subjects/s/versions", False),
        ("PUT", "/config", False),
        ("DELETE", "/subjects/s", False),
    ],
)
def test_what_counts_as_a_read(method: str, path: str, read: bool) -> None:
    assert is_read(method, path) is read


def test_tls(tmp_path: Path, users_file: Path) -> None:
    cert, key = make_self_signed(tmp_path)
    settings = ServerSettings(
        port=0, tls_cert=cert, tls_key=key, auth_file=users_file, log_level="warning"
    )
    with BackgroundServer(settings) as srv:
        assert srv.url.startswith("https://")
        trusted = ssl.create_default_context(cafile=str(cert))
        with httpx.Client(base_url=srv.url, verify=trusted, auth=ALICE) as c:
            assert c.post("/subjects/s/versions", json={"schema": A1}).json() == {"id": 1}
        conf = {
            "url": srv.url,
            "ssl.ca.location": str(cert),
            "basic.auth.user.info": "bob:bob-secret",
        }
        with SchemaRegistryClient(conf) as sr:
            assert sr.get_subjects() == ["s"]
        with pytest.raises(httpx.ConnectError):  # an untrusted certificate is refused
            httpx.get(f"{srv.url}/subjects")
        with pytest.raises(httpx.RemoteProtocolError):  # plain HTTP to a TLS port
            httpx.get(srv.url.replace("https", "http") + "/health")


def test_tls_settings_are_checked(tmp_path: Path) -> None:
    cert, _ = make_self_signed(tmp_path)
    with pytest.raises(ConfigError, match="go together"):
        BackgroundServer(ServerSettings(port=0, tls_cert=cert))
    with pytest.raises(ConfigError, match="does not exist"):
        BackgroundServer(ServerSettings(port=0, tls_cert=cert, tls_key=tmp_path / "nope.pem"))
