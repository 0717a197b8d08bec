"""Basic auth (401 without credentials, 403 for read-only writers, nothing changes) and TLS."""

from __future__ import annotations

import itertools
import logging
import ssl
import statistics
import threading
import time
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


def _median_lookup_ms(client: httpx.Client, rounds: int) -> float:
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        r = client.post("/subjects/flood/versions", json={"schema": A1})
        times.append((time.perf_counter() - started) * 1000)
        assert r.status_code == 200, r.text
    return statistics.median(times)


def test_a_flood_of_wrong_passwords_does_not_starve_valid_users(tmp_path: Path) -> None:
    # A real PBKDF2 cost (100,000 iterations; hash-password writes 600,000): 40 threads
    # sending distinct wrong passwords used to take every request worker, and a valid user's
    # lookups went from ~2 ms to 270-500 ms median.
    users = tmp_path / "users.txt"
    users.write_text(f"alice:readwrite:{hash_password('alice-secret', iterations=100_000)}\n")
    settings = ServerSettings(port=0, auth_file=users, log_level="warning")
    with (
        BackgroundServer(settings) as srv,
        httpx.Client(base_url=srv.url, auth=ALICE, timeout=60) as alice,
    ):
        assert alice.post("/subjects/flood/versions", json={"schema": A1}).status_code == 200
        baseline = _median_lookup_ms(alice, 30)
        stop = threading.Event()
        refused = [0]

        def flood(n: int) -> None:
            with httpx.Client(base_url=srv.url, timeout=120) as mallory:
                for i in itertools.count():
                    if stop.is_set():
                        return
                    r = mallory.get("/subjects", auth=("alice", f"wrong-{n}-{i}"))
                    assert r.status_code == 401
                    refused[0] += 1

        threads = [threading.Thread(target=flood, args=(n,), daemon=True) for n in range(40)]
        for t in threads:
            t.start()
        try:
            time.sleep(1.0)  # the flood is under way: every thread waits on a hash
            under_flood = _median_lookup_ms(alice, 30)
        finally:
            stop.set()
        for t in threads:
            t.join(timeout=120)
    assert refused[0] > 0
    print(f"lookup median {baseline:.1f} ms before the flood, {under_flood:.1f} ms during it")
    limit = min(10 * max(baseline, 10.0), 200.0)  # generous: a shared 2-core machine
    assert under_flood < limit, (
        f"median {under_flood:.1f} ms under the flood, {baseline:.1f} ms before"
    )
