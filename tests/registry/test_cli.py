"""``avrobridge registry ...`` commands: serve, hash-password, loadgen."""

from __future__ import annotations

import argparse
import io
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from avrobridge.registry import BackgroundServer
from avrobridge.registry.auth import load_users
from avrobridge.registry.cli import add_registry_commands, main

from .helpers import field, record


def test_commands_plug_into_a_parent_parser() -> None:
    parser = argparse.ArgumentParser(prog="avrobridge")
    add_registry_commands(parser.add_subparsers(dest="command"))
    args = parser.parse_args(
        ["registry", "serve", "--port", "9999", "--store", "sqlite:///tmp/x.db"]
    )
    assert (args.port, args.store, args.host) == (9999, "sqlite:///tmp/x.db", "127.0.0.1")
    assert callable(args.handler)
    assert parser.parse_args(["registry"]).handler(args) == 2


def test_hash_password_prints_a_users_file_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("s3cret\n"))
    assert main(["hash-password", "carol", "--role", "readonly", "--iterations", "1000"]) == 0
    line = capsys.readouterr().out.strip()
    assert line.startswith("carol:readonly:pbkdf2_sha256$1000$") and "s3cret" not in line
    users_file = tmp_path / "users"
    users_file.write_text(line + "\n")
    assert load_users(users_file)["carol"].role == "readonly"
    monkeypatch.setattr(sys, "stdin", io.StringIO("x\n"))
    assert main(["hash-password", "bad:name"]) == 2


@pytest.mark.parametrize(
    "argv",
    [
        ["serve", "--store", "kafka://broker:9092"],
        ["serve", "--tls-cert", "/nonexistent.pem"],
        ["serve", "--auth-file", "/nonexistent-users"],
    ],
)
def test_serve_refuses_bad_settings(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    assert "avrobridge registry serve:" in capsys.readouterr().err


def test_loadgen_measures_a_local_server(
    server: BackgroundServer, capsys: pytest.CaptureFixture[str]
) -> None:
    with httpx.Client(base_url=server.url) as c:
        c.post("/subjects/s/versions", json={"schema": record("A", field("x"))})
    argv = ["loadgen", "--port", str(server.port), "--requests", "300", "--connections", "4"]
    assert main(argv) == 0
    assert "300 requests" in capsys.readouterr().out
    assert main(["loadgen", "--host", "10.0.0.1"]) == 2


def test_serve_process_starts_serves_and_stops_on_sigterm(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    db = tmp_path / "registry.db"
    argv = [
        sys.executable,
        "-m",
        "avrobridge.registry",
        "serve",
        "--port",
        str(port),
        "--store",
        f"sqlite://{db}",
        "--log-level",
        "warning",
    ]
    url = f"http://127.0.0.1:{port}"
    for expected_id in (1, 1):  # the second run finds the first run's schema
        proc = subprocess.Popen(argv)
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    httpx.get(f"{url}/health")
                    break
                except httpx.TransportError:
                    assert proc.poll() is None and time.monotonic() < deadline
                    time.sleep(0.05)
            r = httpx.post(f"{url}/subjects/s/versions", json={"schema": record("A", field("x"))})
            assert r.json() == {"id": expected_id}
        finally:
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=30) == 0
