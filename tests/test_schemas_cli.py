"""``avrobridge schemas ...`` against our registry (in-process, real HTTP): every command,
its table and its --json output, errors, auth and TLS."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from avrobridge.registry import BackgroundServer, ServerSettings
from avrobridge.registry.auth import hash_password
from avrobridge.schemas_cli import add_schemas_commands
from registry.helpers import make_self_signed

ADDRESS = {
    "type": "record",
    "name": "Address",
    "namespace": "com.acme",
    "fields": [{"name": "street", "type": "string"}],
}
USER_V1 = {
    "type": "record",
    "name": "User",
    "namespace": "com.acme",
    "fields": [{"name": "name", "type": "string"}],
}
USER_V2 = {  # backward compatible: the new field has a default
    **USER_V1,
    "fields": [*USER_V1["fields"], {"name": "age", "type": "int", "default": 0}],
}
USER_BAD = {  # not backward compatible: no default
    **USER_V1,
    "fields": [*USER_V1["fields"], {"name": "email", "type": "string"}],
}
CUSTOMER = {
    "type": "record",
    "name": "Customer",
    "namespace": "com.acme",
    "fields": [{"name": "address", "type": "com.acme.Address"}],
}


def run(argv: list[str]) -> int:
    """What ``avrobridge.cli.main`` does once ``schemas`` is wired in."""
    parser = argparse.ArgumentParser(prog="avrobridge")
    add_schemas_commands(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    return int(args.handler(args))


@pytest.fixture(autouse=True)
def _wide_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    # rich reads COLUMNS: wide enough that no cell of these tests wraps.
    monkeypatch.setenv("COLUMNS", "250")
    monkeypatch.delenv("AVROBRIDGE_REGISTRY_URL", raising=False)
    monkeypatch.delenv("AVROBRIDGE_REGISTRY_PASSWORD", raising=False)


@pytest.fixture
def server() -> Iterator[BackgroundServer]:
    with BackgroundServer(ServerSettings(port=0, log_level="warning")) as srv:
        yield srv


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    out = {}
    for name, schema in {
        "address": ADDRESS,
        "user1": USER_V1,
        "user2": USER_V2,
        "bad": USER_BAD,
        "customer": CUSTOMER,
    }.items():
        path = tmp_path / f"{name}.avsc"
        path.write_text(json.dumps(schema, indent=2))
        out[name] = path
    return out


class Cli:
    """Runs ``schemas`` commands against one registry and returns (exit code, out, err)."""

    def __init__(self, url: str, capsys: pytest.CaptureFixture[str]) -> None:
        self.url = url
        self.capsys = capsys

    def __call__(self, *argv: str | Path) -> tuple[int, str, str]:
        self.capsys.readouterr()
        code = run(["schemas", "--url", self.url, *map(str, argv)])
        out, err = self.capsys.readouterr()
        return code, out, err

    def json(self, *argv: str | Path) -> object:
        code, out, err = self(*argv, "--json")
        assert code == 0, err
        return json.loads(out)


@pytest.fixture
def cli(server: BackgroundServer, capsys: pytest.CaptureFixture[str]) -> Cli:
    return Cli(server.url, capsys)


def rows(table: str) -> list[list[str]]:
    """The body rows of a rich table, as lists of cell texts."""
    out = []
    for line in table.splitlines():
        if line.startswith("│"):
            out.append([cell.strip() for cell in line.strip("│").split("│")])
    return out


def test_register_then_list_subjects_and_versions(cli: Cli, files: dict[str, Path]) -> None:
    code, out, err = cli("register", "users-value", files["user1"])
    assert (code, err) == (0, "")
    assert f"Registered {files['user1']}" in out
    assert rows(out) == [["users-value", "1", "1"]]
    assert cli.json("register", "users-value", files["user2"]) == {
        "subject": "users-value",
        "id": 2,
        "version": 2,
    }
    cli("register", "addresses-value", files["address"])

    code, out, _ = cli("subjects")
    assert code == 0 and "2 subject(s) at http://127.0.0.1:" in out
    assert rows(out) == [["addresses-value"], ["users-value"]]
    assert cli.json("subjects") == ["addresses-value", "users-value"]
    assert cli.json("subjects", "--prefix", "users") == ["users-value"]

    code, out, _ = cli("versions", "users-value")
    assert code == 0 and "2 version(s) of users-value" in out
    assert rows(out) == [["1"], ["2"]]
    assert cli.json("versions", "users-value") == [1, 2]

    # Soft-deleted subjects and versions show with --deleted / --deleted-only.
    cli("delete", "users-value", "1")
    assert cli.json("versions", "users-value") == [2]
    assert cli.json("versions", "users-value", "--deleted") == [1, 2]
    assert cli.json("versions", "users-value", "--deleted-only") == [1]
    cli("delete", "addresses-value")
    assert cli.json("subjects") == ["users-value"]
    assert cli.json("subjects", "--deleted") == ["addresses-value", "users-value"]
    assert cli.json("subjects", "--deleted-only") == ["addresses-value"]


def test_get_by_version_latest_and_id(cli: Cli, files: dict[str, Path]) -> None:
    cli("register", "users-value", files["user1"])
    cli("register", "users-value", files["user2"])
    cli("register", "other", files["user1"])  # same schema, same id, another subject

    code, out, _ = cli("get", "users-value")  # latest by default
    assert code == 0
    assert rows(out)[0] == ["users-value", "2", "2", "AVRO", "-"]
    assert json.loads(out[out.index("{") :]) == USER_V2  # the schema, pretty-printed

    latest = cli.json("get", "users-value", "latest")
    assert latest == {
        "subject": "users-value",
        "version": 2,
        "id": 2,
        "schemaType": "AVRO",
        "references": [],
        "schema": json.dumps(USER_V2, separators=(",", ":")),
    }
    first = cli.json("get", "users-value", "1")
    assert isinstance(first, dict) and (first["version"], first["id"]) == (1, 1)
    code, out, _ = cli("get", "users-value", "1", "--schema-only")
    assert json.loads(out) == USER_V1

    code, out, _ = cli("get-id", "1")
    assert code == 0 and "Schema 1 (AVRO), registered as:" in out
    assert rows(out) == [["other", "1"], ["users-value", "1"]]
    by_id = cli.json("get-id", "1")
    assert by_id == {
        "id": 1,
        "schemaType": "AVRO",
        "references": [],
        "versions": [{"subject": "other", "version": 1}, {"subject": "users-value", "version": 1}],
        "schema": json.dumps(USER_V1, separators=(",", ":")),
    }
    code, out, _ = cli("get-id", "2", "--schema-only", "--json")
    assert out == json.dumps(USER_V2, separators=(",", ":")) + "\n"  # the stored text


def test_register_with_references(cli: Cli, files: dict[str, Path]) -> None:
    cli("register", "address", files["address"])
    code, out, err = cli(
        "register", "--references", "com.acme.Address=address:1", "customer", files["customer"]
    )
    assert code == 0, err
    assert rows(out) == [["customer", "1", "2"]]
    code, out, _ = cli("get", "customer")
    assert rows(out)[0] == ["customer", "1", "2", "AVRO", "com.acme.Address=address:1"]
    got = cli.json("get-id", "2")
    assert isinstance(got, dict)
    assert got["references"] == [{"name": "com.acme.Address", "subject": "address", "version": 1}]
    # Without the reference the schema does not parse: the registry's error, one line.
    code, out, err = cli("register", "customer2", files["customer"])
    assert code == 1 and out == ""
    assert err.startswith("avrobridge schemas: error: ") and err.count("\n") == 1
    assert "(error code 42201, HTTP 422)" in err


def test_check_says_whether_a_schema_is_registered(cli: Cli, files: dict[str, Path]) -> None:
    cli("register", "users-value", files["user1"])
    code, out, _ = cli("check", "users-value", files["user1"])
    assert code == 0 and f"{files['user1']} is registered" in out
    assert rows(out) == [["users-value", "1", "1"]]
    assert cli.json("check", "users-value", files["user1"]) == {
        "registered": True,
        "subject": "users-value",
        "version": 1,
        "id": 1,
    }
    code, out, err = cli("check", "users-value", files["user2"])
    assert (code, err) == (1, "")
    assert f"{files['user2']} is not registered under users-value" in out
    code, out, _ = cli("check", "nobody", files["user1"], "--json")
    assert code == 1 and json.loads(out) == {"registered": False, "subject": "nobody"}
    # A soft-deleted version counts only with --deleted.
    cli("delete", "users-value")
    assert cli("check", "users-value", files["user1"])[0] == 1
    assert cli("check", "users-value", files["user1"], "--deleted")[0] == 0


def test_compat_shows_the_verbose_reasons(cli: Cli, files: dict[str, Path]) -> None:
    cli("register", "users-value", files["user1"])
    code, out, _ = cli("compat", "users-value", files["user2"])
    assert code == 0
    assert f"{files['user2']} is compatible with users-value (all versions)" in out

    code, out, _ = cli("compat", "users-value", files["bad"])
    assert code == 1
    assert f"{files['bad']} is NOT compatible with users-value (all versions)" in out
    reasons = rows(out)
    assert reasons[0][0] == "1" and "READER_FIELD_MISSING_DEFAULT_VALUE" in reasons[0][1]
    assert ["2", "{oldSchemaVersion: 1}"] in reasons
    assert ["4", "{validateFields: 'false', compatibility: 'BACKWARD'}"] in reasons

    code, out, _ = cli("compat", "users-value", files["bad"], "--version", "latest", "--json")
    assert code == 1
    verdict = json.loads(out)
    assert verdict["is_compatible"] is False
    assert verdict["messages"][0].startswith("{errorType:'READER_FIELD_MISSING_DEFAULT_VALUE'")
    code, out, _ = cli("compat", "users-value", files["user2"], "--version", "1", "--json")
    assert code == 0 and json.loads(out) == {"is_compatible": True, "messages": []}
    code, _, err = cli("compat", "users-value", files["user2"], "--version", "7")
    assert code == 1 and "Version 7 not found. (error code 40402, HTTP 404)" in err


def test_config_global_and_per_subject(cli: Cli, files: dict[str, Path]) -> None:
    code, out, _ = cli("config")
    assert code == 0 and rows(out) == [["(global)", "BACKWARD"]]
    assert cli.json("config", "--set", "full") == {"subject": None, "compatibilityLevel": "FULL"}
    assert cli.json("config") == {"subject": None, "compatibilityLevel": "FULL"}

    cli("register", "users-value", files["user1"])
    code, _, err = cli("config", "users-value")
    assert code == 1
    assert err == (
        "avrobridge schemas: error: Subject 'users-value' does not have subject-level "
        "compatibility configured (error code 40408, HTTP 404)\n"
    )
    code, out, _ = cli("config", "users-value", "--default-to-global")
    assert code == 0 and rows(out) == [["users-value", "FULL"]]
    code, out, _ = cli("config", "users-value", "--set", "NONE")
    assert code == 0 and rows(out) == [["users-value", "NONE"]]
    assert cli.json("config", "users-value") == {
        "subject": "users-value",
        "compatibilityLevel": "NONE",
    }
    # NONE lets the incompatible schema in.
    assert cli("register", "users-value", files["bad"])[0] == 0


def test_mode_global_and_per_subject(cli: Cli, files: dict[str, Path]) -> None:
    code, out, _ = cli("mode")
    assert code == 0 and rows(out) == [["(global)", "READWRITE"]]
    cli("register", "users-value", files["user1"])
    code, out, _ = cli("mode", "users-value", "--set", "readonly")
    assert code == 0 and rows(out) == [["users-value", "READONLY"]]
    assert cli.json("mode", "users-value") == {"subject": "users-value", "mode": "READONLY"}
    code, _, err = cli("register", "users-value", files["user2"])
    assert code == 1 and "Subject users-value is in read-only mode (error code 42205" in err
    code, _, err = cli("mode", "other")
    assert code == 1 and "(error code 40409, HTTP 404)" in err
    assert cli.json("mode", "other", "--default-to-global") == {
        "subject": "other",
        "mode": "READWRITE",
    }
    # IMPORT on a registry with schemas needs --force.
    code, _, err = cli("mode", "--set", "IMPORT")
    assert code == 1 and "Cannot import since found existing subjects" in err
    assert cli.json("mode", "--set", "IMPORT", "--force") == {"subject": None, "mode": "IMPORT"}
    assert cli.json("mode") == {"subject": None, "mode": "IMPORT"}


def test_delete_soft_and_permanent(cli: Cli, files: dict[str, Path]) -> None:
    cli("register", "users-value", files["user1"])
    cli("register", "users-value", files["user2"])
    cli("register", "addresses-value", files["address"])

    code, out, _ = cli("delete", "users-value", "1")
    assert code == 0 and "Deleted (soft) from users-value:" in out and rows(out) == [["1"]]
    code, _, err = cli("delete", "users-value", "1")
    assert code == 1 and "(error code 40406, HTTP 404)" in err  # already soft-deleted
    assert cli.json("delete", "users-value", "1", "--permanent") == {
        "subject": "users-value",
        "deleted": [1],
        "permanent": True,
    }
    assert cli.json("versions", "users-value", "--deleted") == [2]
    # A permanent delete needs a soft delete first.
    code, _, err = cli("delete", "users-value", "latest", "--permanent")
    assert code == 1 and "(error code 40407, HTTP 404)" in err
    assert cli.json("delete", "users-value", "latest") == {
        "subject": "users-value",
        "deleted": [2],
        "permanent": False,
    }
    assert cli.json("delete", "users-value", "latest", "--permanent")["deleted"] == [2]  # type: ignore[index]

    code, out, _ = cli("delete", "addresses-value")
    assert code == 0 and "Deleted (soft) from addresses-value:" in out and rows(out) == [["1"]]
    code, out, _ = cli("delete", "addresses-value", "--permanent")
    assert code == 0 and "Deleted (permanently) from addresses-value:" in out
    assert cli.json("subjects", "--deleted") == []
    code, _, err = cli("get-id", "3")
    assert code == 1 and "Schema 3 not found (error code 40403, HTTP 404)" in err


def test_errors_are_one_line_with_exit_code_1(
    cli: Cli, files: dict[str, Path], tmp_path: Path
) -> None:
    code, out, err = cli("get", "nobody")
    assert (code, out) == (1, "")
    assert (
        err
        == "avrobridge schemas: error: Subject 'nobody' not found. (error code 40401, HTTP 404)\n"
    )
    # A local file that is missing or not JSON is a usage error: exit status 2.
    code, _, err = cli("register", "s", tmp_path / "missing.avsc")
    assert code == 2 and err.startswith("avrobridge schemas: error: cannot read ")
    broken = tmp_path / "broken.avsc"
    broken.write_text("{not json")
    code, _, err = cli("register", "s", broken)
    assert code == 2 and f"{broken} is not JSON" in err and err.count("\n") == 1


def test_an_unreachable_registry_is_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    with BackgroundServer(ServerSettings(port=0, log_level="warning")) as srv:
        url = srv.url  # a port that was just free, and is closed again below
    code = run(["schemas", "subjects", "--url", url])
    _, err = capsys.readouterr()
    assert code == 1
    assert err.startswith(f"avrobridge schemas: error: cannot reach the schema registry at {url}")
    assert err.count("\n") == 1


def test_url_from_the_environment_and_options_on_either_side(
    server: BackgroundServer,
    files: dict[str, Path],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("AVROBRIDGE_REGISTRY_URL", server.url)
    assert run(["schemas", "register", "s", str(files["user1"])]) == 0
    capsys.readouterr()
    assert run(["schemas", "--json", "subjects"]) == 0
    assert json.loads(capsys.readouterr().out) == ["s"]
    assert run(["schemas", "subjects", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == ["s"]
    # --url beats the environment.
    monkeypatch.setenv("AVROBRIDGE_REGISTRY_URL", "http://127.0.0.1:9")
    assert run(["schemas", "subjects", "--json", "--url", server.url]) == 0
    assert json.loads(capsys.readouterr().out) == ["s"]


def test_stdin_schema(
    cli: Cli, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import io

    monkeypatch.setattr(sys, "stdin", io.StringIO(json.dumps(USER_V1)))
    assert cli.json("register", "s", "-") == {"subject": "s", "id": 1, "version": 1}


def test_references_are_repeatable_and_comma_separated() -> None:
    parser = argparse.ArgumentParser(prog="avrobridge")
    add_schemas_commands(parser.add_subparsers(dest="command"))
    refs = ["--references", "a.A=sa:1,b.B=ns:sb:2", "--references", "C=sc:3"]
    args = parser.parse_args(["schemas", "register", "s", "x.avsc", *refs])
    assert [(r.name, r.subject, r.version) for r in args.references] == [
        ("a.A", "sa", 1),
        ("b.B", "ns:sb", 2),  # the version follows the last colon: subjects may hold colons
        ("C", "sc", 3),
    ]


def test_usage_errors_exit_2(cli: Cli, files: dict[str, Path]) -> None:
    for argv in (
        ["register", "s", str(files["user1"]), "--references", "no-version=subject"],
        ["config", "--set", "SIDEWAYS"],
        ["mode", "--set", "WRITEONLY"],
        ["get", "s", "0"],
        ["get-id", "x"],
    ):
        with pytest.raises(SystemExit) as exit_info:
            cli(*argv)
        assert exit_info.value.code == 2
    assert run(["schemas"]) == 2  # no command: the help


# -- auth and TLS ---------------------------------------------------------------------------

SECRET = "s3cret-Pa55word"


@pytest.fixture
def secured(tmp_path: Path) -> Iterator[tuple[BackgroundServer, Path]]:
    users = tmp_path / "users.txt"
    users.write_text(
        f"alice:readwrite:{hash_password(SECRET, iterations=1000)}\n"
        f"bob:readonly:{hash_password('bob-pw', iterations=1000)}\n"
    )
    cert, key = make_self_signed(tmp_path)
    settings = ServerSettings(
        port=0, auth_file=users, tls_cert=cert, tls_key=key, log_level="warning"
    )
    with BackgroundServer(settings) as srv:
        yield srv, cert


def test_basic_auth_and_tls_ca(
    secured: tuple[BackgroundServer, Path],
    files: dict[str, Path],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    srv, cert = secured
    assert srv.url.startswith("https://")
    base = ["schemas", "--url", srv.url, "--ca-cert", str(cert)]

    monkeypatch.setenv("AVROBRIDGE_REGISTRY_PASSWORD", SECRET)
    assert run([*base, "--user", "alice", "register", "s", str(files["user1"])]) == 0
    assert run([*base, "--user", "alice", "compat", "s", str(files["bad"])]) == 1
    out, err = capsys.readouterr()
    assert "READER_FIELD_MISSING_DEFAULT_VALUE" in out and SECRET not in out + err
    assert run([*base, "--user", "alice", "subjects", "--json"]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out) == ["s"] and SECRET not in out + err

    # Wrong password / no credentials: the registry's 401, one line, no password shown.
    monkeypatch.setenv("AVROBRIDGE_REGISTRY_PASSWORD", "wrong-" + SECRET)
    assert run([*base, "--user", "alice", "subjects"]) == 1
    out, err = capsys.readouterr()
    assert "(error code 401, HTTP 401)" in err and SECRET not in out + err
    assert run([*base, "subjects"]) == 1
    assert "HTTP 401" in capsys.readouterr().err
    # A read-only user may read but not write.
    monkeypatch.setenv("AVROBRIDGE_REGISTRY_PASSWORD", "bob-pw")
    assert run([*base, "--user", "bob", "config", "--set", "NONE"]) == 1
    assert "(error code 403, HTTP 403)" in capsys.readouterr().err

    # No password in the environment: asked without echo when there is a terminal...
    monkeypatch.delenv("AVROBRIDGE_REGISTRY_PASSWORD")
    asked: list[str] = []

    def fake_getpass(prompt: str = "") -> str:
        asked.append(prompt)
        return SECRET

    monkeypatch.setattr("getpass.getpass", fake_getpass)
    monkeypatch.setattr(sys.stdin, "isatty", lambda: True, raising=False)
    assert run([*base, "--user", "alice", "subjects", "--json"]) == 0
    out, err = capsys.readouterr()
    assert asked == ["Password for alice: "] and json.loads(out) == ["s"]
    assert SECRET not in out + err
    # ...and refused clearly without one.
    monkeypatch.setattr(sys.stdin, "isatty", lambda: False, raising=False)
    assert run([*base, "--user", "alice", "subjects"]) == 2
    assert "set AVROBRIDGE_REGISTRY_PASSWORD" in capsys.readouterr().err

    # Without the CA the certificate is not trusted: a clear error, not a traceback.
    monkeypatch.setenv("AVROBRIDGE_REGISTRY_PASSWORD", SECRET)
    assert run(["schemas", "--url", srv.url, "--user", "alice", "subjects"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("avrobridge schemas: error: cannot reach the schema registry at https://")
    assert "CERTIFICATE_VERIFY_FAILED" in err
    assert run([*base[:3], "--ca-cert", "/nonexistent.pem", "subjects"]) == 2
    assert "--ca-cert /nonexistent.pem: no such file" in capsys.readouterr().err
