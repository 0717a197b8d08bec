"""`avrobridge plan` and `avrobridge run` as an operator meets them, against the real broker
and our registry: the plan of topics holding three writer versions (one the target cannot
read), a start-up that fails fast and tells the truth (which service, its address, the last
error, the real time, retry pauses as logged), librdkafka's lines collapsed into Python
logging, and live progress (a bar on a terminal, plain or JSON lines otherwise) before the
final summary. Each test runs the real command."""

from __future__ import annotations

import json
import os
import pty
import re
import select
import signal
import socket
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import avrobridge as ab

from .helpers import employee, employee_versions, end_offsets, frame, produce, register_versions

RAW_LIBRDKAFKA = re.compile(r"^%\d\|", re.MULTILINE)


def _cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "avrobridge.cli", *args]


def avrobridge(*args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    return subprocess.run(_cmd(*args), capture_output=True, text=True, timeout=timeout)


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _three_versions(bootstrap: str, url: str, topic: str, n: int) -> list[int]:
    """`n` Employee records on 2 partitions, written with v1, v2 and v3 in turn."""
    versions = employee_versions()
    ids = register_versions(url, f"{topic}-value", versions)
    schemas = [ab.Schema(v) for v in versions]
    records = []
    for i in range(n):
        v = i % 3
        value = frame(ids[v], ab.encode(schemas[v], employee(i, v + 1)))
        records.append((i % 2, f"{i}".encode(), value, None))
    produce(bootstrap, topic, records)
    return ids


def _target(tmp_path: Path, *, age_required: bool) -> Path:
    """Employee v2 with age a long: v2 and v3 are promoted (v3's department dropped); with
    `age_required` (no default) v1, which has no age, cannot be read."""
    schema = json.loads(json.dumps(employee_versions()[1]))
    for f in schema["fields"]:
        if f["name"] == "age":
            f["type"] = "long"
            if age_required:
                del f["default"]
    path = tmp_path / ("strict.avsc" if age_required else "target.avsc")
    path.write_text(json.dumps(schema))
    return path


def test_plan_shows_every_live_version_and_fails_on_the_one_the_target_cannot_read(
    kafka_bootstrap: str, new_topic: Any, registry: Any, tmp_path: Path
) -> None:
    source = new_topic("plan-src", partitions=2)
    sink = new_topic("plan-sink", partitions=2)
    ids = _three_versions(kafka_bootstrap, registry.url, source, 30)
    strict = _target(tmp_path, age_required=True)
    common = ["--from", source, "--to", sink, "--bootstrap-servers", kafka_bootstrap]
    common += ["--registry-url", registry.url, "--group-id", f"g-{source}"]

    proc = avrobridge("plan", *common, "--reader-schema", str(strict))
    assert proc.returncode == 1, proc.stderr
    assert not RAW_LIBRDKAFKA.search(proc.stderr)
    out = proc.stdout
    assert (
        f"source topic {source} (2 partitions, subject {source}-value): 30 records to read" in out
    )
    assert "  partition 0: 15 records (offsets 0 to 15)" in out
    assert "  partition 1: 15 records (offsets 0 to 15)" in out
    assert f"  version 1 (id {ids[0]}): the target CANNOT read it" in out
    assert "READER_FIELD_MISSING_DEFAULT_VALUE" in out and "'age'" in out
    assert f"  version 2 (id {ids[1]}): the target reads it\n" in out
    assert "    - TYPE_PROMOTED at /fields/3/type: int is promoted to long" in out
    assert f"  version 3 (id {ids[2]}): the target reads it\n" in out
    assert (
        "    - FIELD_DROPPED at /: writer field 'department' is not in the reader: dropped" in out
    )
    assert f"  sink topic {sink} (2 partitions), subject {sink}-value" in out
    assert "a new subject: the target would be its first version" in out
    verdict = out.rstrip().splitlines()[-2:]
    assert verdict[0] == "the run would fail:"
    assert verdict[1].startswith(
        f"  {source}-value version 1 (id {ids[0]}): the target cannot read it: "
        "{errorType:'READER_FIELD_MISSING_DEFAULT_VALUE'"
    )

    # The same as JSON, and from run --dry-run.
    as_json = avrobridge("run", "--dry-run", "--json", *common, "--reader-schema", str(strict))
    assert as_json.returncode == 1, as_json.stderr
    plan = json.loads(as_json.stdout)
    assert plan["ok"] is False and len(plan["problems"]) == 1
    (topic,) = plan["topics"]
    assert topic["records"] == 30 and [p["records"] for p in topic["partitions"]] == [15, 15]
    v1, v2, v3 = topic["versions"]
    assert (v1["readable"], v2["readable"], v3["readable"]) == (False, True, True)
    assert [v["schema_id"] for v in (v1, v2, v3)] == ids
    assert {
        "kind": "FIELD_DROPPED",
        "location": "/",
        "message": ("writer field 'department' is not in the reader: dropped"),
    } in v3["changes"]
    assert topic["sink"]["subject"] == f"{sink}-value" and topic["sink"]["compatible"] is True

    # A target that reads every version: the run would succeed; v1's age comes from its default.
    ok = avrobridge("plan", *common, "--reader-schema", str(_target(tmp_path, age_required=False)))
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert (
        "    - FIELD_DEFAULTED at /fields/3: field 'age' is not in the writer: its default is used"
        in ok.stdout
    )
    assert ok.stdout.rstrip().endswith("the run would succeed")

    # Nothing was produced, committed or registered.
    assert end_offsets(kafka_bootstrap, sink, 2) == [0, 0]
    from confluent_kafka.schema_registry import SchemaRegistryClient

    assert f"{sink}-value" not in SchemaRegistryClient({"url": registry.url}).get_subjects()


def test_plan_fails_when_the_target_cannot_join_the_sink_subject(
    kafka_bootstrap: str, new_topic: Any, registry: Any, tmp_path: Path
) -> None:
    source = new_topic("plansink-src", partitions=1)
    sink = new_topic("plansink-sink", partitions=1)
    register_versions(registry.url, f"{source}-value", employee_versions()[:1])
    # The sink subject holds an unrelated record at level BACKWARD: the target cannot join.
    other = {"type": "record", "name": "Other", "fields": [{"name": "x", "type": "int"}]}
    from confluent_kafka.schema_registry import Schema as RegistrySchema
    from confluent_kafka.schema_registry import SchemaRegistryClient

    SchemaRegistryClient({"url": registry.url}).register_schema(
        f"{sink}-value", RegistrySchema(json.dumps(other), "AVRO")
    )
    target = tmp_path / "v1.avsc"
    target.write_text(json.dumps(employee_versions()[0]))
    proc = avrobridge(
        "plan",
        "--from",
        source,
        "--to",
        sink,
        "--reader-schema",
        str(target),
        "--bootstrap-servers",
        kafka_bootstrap,
        "--registry-url",
        registry.url,
    )
    assert proc.returncode == 1, proc.stderr
    assert (
        f"subject {sink}-value (compatibility BACKWARD, 1 versions): the target is NOT "
        in proc.stdout
    )
    assert "NAME_MISMATCH" in proc.stdout
    assert (
        f"the target cannot be registered under {sink}-value (compatibility BACKWARD)"
        in proc.stdout
    )


def test_an_unreachable_broker_is_named_with_its_last_error_and_the_real_wait(
    registry: Any, tmp_path: Path
) -> None:
    target = tmp_path / "v1.avsc"
    target.write_text(json.dumps(employee_versions()[0]))
    broker = f"127.0.0.1:{closed_port()}"
    started = time.monotonic()
    proc = avrobridge(
        "run",
        "--from",
        "a",
        "--to",
        "b",
        "--reader-schema",
        str(target),
        "--until-end",
        "--bootstrap-servers",
        broker,
        "--registry-url",
        registry.url,
        "--startup-timeout",
        "4",
    )
    elapsed = time.monotonic() - started
    assert proc.returncode == 1 and proc.stdout == ""
    assert not RAW_LIBRDKAFKA.search(proc.stderr), proc.stderr
    last = proc.stderr.splitlines()[-1]
    found = re.fullmatch(
        rf"avrobridge run: start-up gave up after ([\d.]+) s: the Kafka broker at {broker} did "
        # librdkafka's last word is its log line, or, when its error callback came last (seen
        # under load), the generic transport failure.
        rf"not answer \(last error: .*(?:Connect to ipv4#{broker} failed: Connection refused"
        r"|Broker transport failure).*\) "
        r"\(errors.startup_timeout_s / --startup-timeout is 4 s\)",
        last,
    )
    assert found is not None, last
    assert 4.0 <= float(found.group(1)) <= min(elapsed, 6.0)
    assert "schema registry" not in last  # it answered
    # librdkafka's connection failures: a line per 10 s at most, at its own level (ERROR).
    fails = [line for line in proc.stderr.splitlines() if "librdkafka FAIL" in line]
    assert 1 <= len(fails) <= 2 and all(" ERROR avrobridge.kafka: " in line for line in fails)


def _stamp(line: str) -> float:
    return datetime.strptime(line[:23], "%Y-%m-%d %H:%M:%S,%f").timestamp()


def test_an_unreachable_registry_is_named_and_its_retry_pauses_are_what_the_log_says(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    target = tmp_path / "v1.avsc"
    target.write_text(json.dumps(employee_versions()[0]))
    url = f"http://127.0.0.1:{closed_port()}"
    proc = avrobridge(
        "run",
        "--from",
        "a",
        "--to",
        "b",
        "--reader-schema",
        str(target),
        "--bootstrap-servers",
        kafka_bootstrap,
        "--registry-url",
        url,
        "--startup-timeout",
        "4",
    )
    assert proc.returncode == 1
    last = proc.stderr.splitlines()[-1]
    assert re.fullmatch(
        rf"avrobridge run: start-up gave up after [\d.]+ s: the schema registry at {url} did not "
        r"answer \(last error: ConnectError: .*Connection refused\) .*",
        last,
    ), last
    assert "Kafka broker" not in last
    retries = [
        line for line in proc.stderr.splitlines() if "waiting for the schema registry" in line
    ]
    assert len(retries) >= 3, proc.stderr
    pauses = [
        (float(m.group(1)), float(m.group(2)))
        for m in (
            re.search(r"the attempt took ([\d.]+) s\); retrying in ([\d.]+) s$", r) for r in retries
        )
        if m is not None
    ]
    assert len(pauses) == len(retries)
    for (_, pause), (next_attempt, _), line, next_line in zip(
        pauses, pauses[1:], retries, retries[1:], strict=False
    ):
        between = _stamp(next_line) - _stamp(line)
        # The next line comes after the logged pause and the next attempt: nothing hidden.
        assert abs(between - (pause + next_attempt)) < 0.3, (pause, next_attempt, between)


def test_a_signal_during_start_up_stops_it_stating_the_real_time(
    registry: Any, tmp_path: Path
) -> None:
    target = tmp_path / "v1.avsc"
    target.write_text(json.dumps(employee_versions()[0]))
    proc = subprocess.Popen(
        _cmd(
            "run",
            "--from",
            "a",
            "--to",
            "b",
            "--reader-schema",
            str(target),
            "--bootstrap-servers",
            f"127.0.0.1:{closed_port()}",
            "--registry-url",
            registry.url,
        ),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        assert proc.stderr is not None
        # Wait until the broker probe is underway (its first collapsed librdkafka line).
        while time.monotonic() < deadline:
            line = proc.stderr.readline()
            if not line or "librdkafka" in line or "waiting for the Kafka broker" in line:
                break
        time.sleep(1)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 1
    found = re.search(r"avrobridge run: stopped during start-up after ([\d.]+) s: ", err)
    assert found is not None, err
    assert float(found.group(1)) < 20  # not the 30 s budget: the time it really took


def _bounded_run(tmp_path: Path, bootstrap: str, url: str, source: str, sink: str) -> Path:
    config = tmp_path / f"{source}.toml"
    group = f"g-{source}-{len(list(tmp_path.iterdir()))}"  # a new group: from the start
    config.write_text(
        "until_end = true\n"
        f'[kafka]\nbootstrap_servers = "{bootstrap}"\ngroup_id = "{group}"\n'
        f'[registry]\nurl = "{url}"\n[source]\ntopics = ["{source}"]\n[sink]\ntopic = "{sink}"\n'
        f'[value]\nschema_file = "{_target(tmp_path, age_required=False)}"\n'
        "[delivery]\nbatch_size = 20\n[observability]\nprogress_interval_s = 0.001\n"
    )
    return config


def test_progress_lines_then_the_summary_when_stderr_is_not_a_terminal(
    kafka_bootstrap: str, new_topic: Any, registry: Any, tmp_path: Path
) -> None:
    source = new_topic("prog-src", partitions=2)
    sink = new_topic("prog-sink", partitions=2)
    _three_versions(kafka_bootstrap, registry.url, source, 300)
    config = _bounded_run(tmp_path, kafka_bootstrap, registry.url, source, sink)
    proc = avrobridge("run", "--config", str(config))
    assert proc.returncode == 0, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if " progress: " in line]
    assert lines, proc.stderr
    assert all(
        re.search(r"progress: [\d,]+/300 records \(\d+%\), [\d,]+ records/s", line)
        for line in lines
    )
    assert any("ETA" in line for line in lines)
    assert any(re.search(rf"slowest {source} \[[01]\] lag \d+", line) for line in lines), lines
    assert "records in:    300" in proc.stdout and "records out:   300" in proc.stdout

    # --log-format json: the same as JSON lines; --json: the summary as JSON.
    config = _bounded_run(tmp_path, kafka_bootstrap, registry.url, source, sink)
    proc = avrobridge("run", "--config", str(config), "--log-format", "json", "--json")
    assert proc.returncode == 0, proc.stderr
    records = [json.loads(line) for line in proc.stderr.splitlines()]
    progress = [r for r in records if r["message"] == "progress"]
    assert progress and all(r["total"] == 300 and 0 <= r["done"] <= 300 for r in progress)
    assert {"rate", "eta_s", "slowest", "records_in", "records_out"} <= set(progress[0])
    assert any(r["slowest"] and r["slowest"]["topic"] == source for r in progress)
    summary = json.loads(proc.stdout)
    assert summary["records_in"] == 300 and summary["records_out"] == 300


def test_a_progress_bar_when_stderr_is_a_terminal(
    kafka_bootstrap: str, new_topic: Any, registry: Any, tmp_path: Path
) -> None:
    source = new_topic("bar-src", partitions=2)
    sink = new_topic("bar-sink", partitions=2)
    _three_versions(kafka_bootstrap, registry.url, source, 300)
    config = _bounded_run(tmp_path, kafka_bootstrap, registry.url, source, sink)
    controller, terminal = pty.openpty()
    proc = subprocess.Popen(
        _cmd("run", "--config", str(config)),
        stdout=subprocess.PIPE,
        stderr=terminal,
        env={**os.environ, "TERM": "xterm-256color", "COLUMNS": "200"},
    )
    os.close(terminal)
    shown = b""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        ready, _, _ = select.select([controller], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(controller, 65536)
            except OSError:  # the other end closed
                break
            if not chunk:
                break
            shown += chunk
        elif proc.poll() is not None:
            break
    os.close(controller)
    assert proc.wait(60) == 0
    assert proc.stdout is not None
    summary = proc.stdout.read().decode()
    screen = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", shown.decode(errors="replace"))
    assert "bridging" in screen and "300/300 records" in screen, screen[-2000:]
    assert "records/s" in screen and "ETA" in screen
    assert "records in:    300" in summary  # the final summary stays
