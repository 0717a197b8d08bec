"""The command line as an operator meets it, without Kafka: help (every option explained with
its default, not wrapped off a terminal), usage errors (the subcommand's usage, the option
named), missing settings named by option and TOML key, local files checked before anything
connects, and one exit-status scheme for every command: 0 done, 1 failed at run time, 2 bad
usage or settings. Each runs the real command; brokers and registries that must not answer
are closed local ports. tests/bridge/test_bridge_cli.py has what needs the broker."""

from __future__ import annotations

import argparse
import json
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from avrobridge.cli import _build_parser
from avrobridge.cliparser import HelpFormatter
from avrobridge.data import schema_text

RAW_LIBRDKAFKA = re.compile(r"^%\d\|", re.MULTILINE)
BAD_SCHEMA = '{"type": "record", "name": "E", "fields": [{"name": "a", "type": "itn"}]}'


def avrobridge(
    *args: str, env: dict[str, str] | None = None, timeout: float = 120, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """The real command, its output captured (so not a terminal), COLUMNS narrow."""
    return subprocess.run(
        [sys.executable, "-m", "avrobridge.cli", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=cwd,
        env={**os.environ, "COLUMNS": "40", **(env or {})},
    )


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    bad = tmp_path / "employee.avsc"
    bad.write_text(BAD_SCHEMA)
    good = tmp_path / "employee_v1.avsc"
    good.write_text(schema_text("employee_v1"))
    return {"bad": bad, "good": good, "missing": tmp_path / "nope.avsc"}


# -- help --------------------------------------------------------------------------------------


def _parsers(
    parser: argparse.ArgumentParser, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _parsers(sub, (*path, name))


def test_every_option_of_every_command_has_help_showing_its_default() -> None:
    seen = 0
    for path, parser in _parsers(_build_parser()):
        formatter = parser._get_formatter()
        assert isinstance(formatter, HelpFormatter), path
        text = parser.format_help()
        assert parser.description, f"avrobridge {' '.join(path)} does not describe itself"
        for action in parser._actions:
            if isinstance(
                action, (argparse._HelpAction, argparse._VersionAction, argparse._SubParsersAction)
            ):
                continue
            shown = formatter._get_help_string(action)
            name = "/".join(action.option_strings) or action.dest
            assert action.help, f"avrobridge {' '.join(path)} {name}: no help"
            if action.option_strings:
                assert "default" in shown or "required" in shown, (path, name, shown)
            # Off a terminal nothing is wrapped: the whole help text is on one line.
            assert (shown % vars(action) if "%(" in shown else shown) in text, (path, name)
            seen += 1
    assert seen > 100


def test_help_is_not_wrapped_off_a_terminal_and_shows_the_settings_defaults() -> None:
    proc = avrobridge("run", "--help")
    assert proc.returncode == 0 and proc.stderr == ""
    lines = proc.stdout.splitlines()

    def help_of(option: str) -> str:
        """The option's help: after its invocation, or alone on the next line."""
        (at,) = [i for i, line in enumerate(lines) if line.startswith(f"  {option} ")]
        rest = lines[at].split("  ", 2)[-1].strip()
        return rest if rest.split()[0] != option else lines[at + 1].strip()

    assert help_of("--bootstrap-servers") == (
        "Kafka brokers (TOML kafka.bootstrap_servers; default: 127.0.0.1:9092)"
    )
    for option, default in (
        ("--registry-url", "http://127.0.0.1:8081"),
        ("--group-id", "avrobridge"),
        ("--startup-timeout", "30"),
        ("--retry-timeout", "300"),
        ("--log-level", "INFO"),
    ):
        assert help_of(option).endswith(f"default: {default})") or help_of(option).endswith(
            f"default: {default}"
        ), help_of(option)
    description = [line for line in lines if line.startswith("Consume Confluent-framed")]
    assert len(description) == 1 and description[0].endswith("(see avrobridge plan).")
    top = avrobridge("--help")
    assert "exit status (the same for every command):" in top.stdout
    assert "  2  bad usage or settings" in top.stdout


def test_registry_serve_and_schemas_describe_themselves() -> None:
    serve = avrobridge("registry", "serve", "--help")
    assert serve.returncode == 0
    assert "Run a Confluent-compatible Schema Registry over HTTP(S)" in serve.stdout
    assert "--port PORT" in serve.stdout and "(default: 8081)" in serve.stdout
    assert "--store STORE" in serve.stdout and "(default: memory://)" in serve.stdout
    schemas = avrobridge("schemas", "--help")
    assert schemas.returncode == 0
    assert "Work with any Confluent-compatible Schema Registry" in schemas.stdout
    assert "(default: $AVROBRIDGE_REGISTRY_URL, else http://127.0.0.1:8081)" in schemas.stdout


# -- usage errors and settings ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "usage", "hint"),
    [
        (["run", "--form", "a", "--to", "b"], "usage: avrobridge run ", "(did you mean --from?)"),
        (["registry", "serve", "--prot", "1"], "usage: avrobridge registry serve ", "--port?"),
        (["schemas", "get", "s", "--deleetd"], "usage: avrobridge schemas get ", "--deleted?"),
    ],
)
def test_a_typo_prints_the_subcommands_usage_and_names_the_option(
    argv: list[str], usage: str, hint: str
) -> None:
    proc = avrobridge(*argv)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.startswith(usage), proc.stderr
    last = proc.stderr.splitlines()[-1]
    assert last.startswith(f"{usage.split()[1]} {' '.join(usage.split()[2:])}: error: ")
    assert "unrecognized arguments" in last and hint in last


def test_missing_settings_are_named_by_option_and_toml_key() -> None:
    proc = avrobridge("run")
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.splitlines() == [
        "avrobridge run: missing settings (options, AVROBRIDGE_* variables or --config TOML):",
        "  --from TOPIC..., --from-pattern REGEX or --from-files GLOB... (TOML source.topics, "
        "source.pattern or source.files): missing",
        "  --to TOPIC or --to-files DIR (TOML sink.topic, sink.mapping, sink.rename or "
        "sink.directory): missing",
        "  --reader-schema FILE or --reader-subject SUBJECT (TOML value.schema_file or "
        "value.subject): missing",
    ]
    plan = avrobridge("plan", "--from", "a", "--to", "b")
    assert plan.returncode == 2
    assert plan.stderr.splitlines()[1:] == [
        "  --reader-schema FILE or --reader-subject SUBJECT (TOML value.schema_file or "
        "value.subject): missing"
    ]
    zero = avrobridge("plan", "--startup-timeout", "0")
    assert zero.returncode == 2
    assert zero.stderr.splitlines()[-1] == (
        "avrobridge plan: error: argument --startup-timeout: '0': give a positive number of seconds"
    )


def test_invalid_settings_from_a_toml_file_name_the_key(
    tmp_path: Path, files: dict[str, Path]
) -> None:
    config = tmp_path / "bridge.toml"
    config.write_text(
        f'[source]\ntopics = ["a"]\n[value]\nschema_file = "{files["good"]}"\n'
        "[delivery]\nbatch_size = 0\n"
    )
    proc = avrobridge("run", "--config", str(config))
    assert proc.returncode == 2
    assert proc.stderr.splitlines()[1:] == [
        "  --to TOPIC or --to-files DIR (TOML sink.topic, sink.mapping, sink.rename or "
        "sink.directory): missing",
        "  TOML delivery.batch_size (or AVROBRIDGE_DELIVERY__BATCH_SIZE): Input should be "
        "greater than or equal to 1",
    ]


def test_local_files_and_settings_are_checked_before_anything_connects(
    tmp_path: Path, files: dict[str, Path]
) -> None:
    broker, registry = f"127.0.0.1:{closed_port()}", f"http://127.0.0.1:{closed_port()}"
    common = ["--from", "a", "--to", "b", "--bootstrap-servers", broker, "--registry-url", registry]
    cases = [
        (
            ["--reader-schema", "nope.avsc"],
            "avrobridge run: --reader-schema nope.avsc: no such file",
        ),
        (
            ["--reader-schema", "employee.avsc"],
            "avrobridge run: --reader-schema employee.avsc: invalid schema at /fields/0/type: "
            "unknown type 'itn'",
        ),
        (
            ["--reader-schema", "employee_v1.avsc", "-X", "no.such.property=1"],
            "avrobridge run: invalid Kafka consumer setting: No such configuration property: "
            '"no.such.property"',
        ),
    ]
    config = tmp_path / "bridge.toml"
    config.write_text(
        '[source]\ntopics = ["a"]\n[sink]\ntopic = "b"\n[value]\nschema_file = "employee.avsc"\n'
        f'[kafka]\nbootstrap_servers = "{broker}"\n'
    )
    for argv, message in cases:
        started = time.monotonic()
        proc = avrobridge("run", *common, *argv, cwd=tmp_path)
        assert proc.returncode == 2, proc.stderr
        assert proc.stderr.splitlines() == [message]  # once, and nothing tried to connect
        assert proc.stdout == ""
        assert time.monotonic() - started < 30
    from_toml = avrobridge("plan", "--config", str(config), cwd=tmp_path)
    assert from_toml.returncode == 2
    assert from_toml.stderr.splitlines() == [
        "avrobridge plan: value.schema_file employee.avsc: invalid schema at /fields/0/type: "
        "unknown type 'itn'"
    ]


def test_a_bad_schema_file_is_a_usage_error_naming_the_file_in_every_command(
    files: dict[str, Path],
) -> None:
    codegen = avrobridge("codegen", str(files["bad"]))
    assert codegen.returncode == 2
    assert codegen.stderr == (
        "avrobridge codegen: employee.avsc: invalid schema at /fields/0/type: unknown type 'itn'\n"
    )
    bench = avrobridge("bench", "--schema", str(files["bad"]), "--records", "10")
    assert bench.returncode == 2
    # One line, though COLUMNS is 40 and the message is longer: not wrapped.
    assert bench.stderr.count("\n") == 1 and len(bench.stderr) > 80
    assert bench.stderr.startswith(f"avrobridge bench: {files['bad']}: invalid schema")


def test_one_exit_status_scheme_for_every_command(files: dict[str, Path]) -> None:
    registry = f"http://127.0.0.1:{closed_port()}"
    broker = f"127.0.0.1:{closed_port()}"
    bridge = ["--from", "a", "--to", "b", "--reader-schema", str(files["good"])]
    bridge += ["--bootstrap-servers", broker, "--registry-url", registry, "--startup-timeout", "1"]
    # run: test_a_run_time_failure_is_reported_once; codegen and bench: the test above.
    cases: list[tuple[list[str], int]] = [
        (["--version"], 0),
        ([], 2),
        (["demo", "--records", "many"], 2),
        (["codegen", str(files["good"])], 0),
        (["plan", *bridge], 1),
        (["schemas", "subjects", "--url", registry], 1),
        (["schemas", "register", "s", str(files["missing"]), "--url", registry], 2),
        (["registry", "hash-password", "a:b"], 2),
        (["registry", "loadgen", "--host", "example.com"], 2),
        (["registry", "serve", "--port", "0", "--tls-cert", str(files["good"])], 2),
        (
            [
                "registry",
                "serve",
                "--port",
                "0",
                "--store",
                f"kafka://{broker}/_schemas?timeout=1",
            ],
            1,
        ),
    ]
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda case: avrobridge(*case[0]), cases))
    for (argv, status), proc in zip(cases, results, strict=True):
        assert proc.returncode == status, (argv, proc.returncode, proc.stderr[-2000:])
        assert not RAW_LIBRDKAFKA.search(proc.stderr), (argv, proc.stderr[-2000:])
        if status:
            assert proc.stderr, argv  # a failure always says why, on stderr


def test_a_run_time_failure_is_reported_once(files: dict[str, Path]) -> None:
    broker = f"127.0.0.1:{closed_port()}"
    argv = ["run", "--from", "a", "--to", "b", "--reader-schema", str(files["good"])]
    argv += ["--bootstrap-servers", broker, "--registry-url", f"http://127.0.0.1:{closed_port()}"]
    argv += ["--startup-timeout", "1"]
    text = avrobridge(*argv)
    assert text.returncode == 1
    reports = [line for line in text.stderr.splitlines() if "start-up gave up" in line]
    assert len(reports) == 1 and reports[0].startswith("avrobridge run: start-up gave up after")
    as_json = avrobridge(*argv, "--log-format", "json")
    assert as_json.returncode == 1
    lines = [json.loads(line) for line in as_json.stderr.splitlines()]  # every line is JSON
    errors = [line for line in lines if "start-up gave up" in line["message"]]
    assert len(errors) == 1 and errors[0]["level"] == "ERROR"


def test_the_readme_lists_every_command_with_an_example() -> None:
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    section = readme.split("\nCOMMANDS\n", 1)[1].split("\nEXIT STATUS", 1)[0]
    examples = [line.strip() for line in section.splitlines() if line.startswith("    avrobridge ")]
    leaves = [
        path
        for path, parser in _parsers(_build_parser())
        if path and not any(isinstance(a, argparse._SubParsersAction) for a in parser._actions)
    ]
    for path in leaves:
        command = "avrobridge " + " ".join(path)
        assert any(e == command or e.startswith(command + " ") for e in examples), command
    assert len(examples) == len(leaves)
