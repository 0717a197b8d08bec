"""Backfill (container files -> topic) and export (topic -> container files) on a real
broker and our registry: every record checked, resumption after kill -9, the dead-letter
topic, a corrupt file."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import fastavro
import pytest
from confluent_kafka import Consumer, TopicPartition

import avrobridge as ab
from avrobridge import ocf
from avrobridge.bridge import Bridge, load_settings
from avrobridge.errors import ContainerError

from .helpers import (
    as_v1,
    employee,
    employee_versions,
    frame,
    produce,
    read_all,
    register_versions,
    write_config,
)

V1 = employee_versions()[0]


def _files(tmp: Path, n_per_file: int, *, block_size: int = 8_000) -> dict[str, Any]:
    """Four files of Employee records: two written by fastavro (v2; deflate, snappy), two by
    avrobridge (v3; zstandard, null). Returns firstName -> the record as v1 reads it."""
    versions = employee_versions()
    expected: dict[str, Any] = {}
    i = 0
    for n, (writer, version, codec) in enumerate(
        [
            ("fastavro", 2, "deflate"),
            ("fastavro", 2, "snappy"),
            ("ours", 3, "zstandard"),
            ("ours", 3, "null"),
        ]
    ):
        records = [employee(i + j, version) for j in range(n_per_file)]
        i += n_per_file
        path = tmp / f"dump-{n}.avro"
        if writer == "fastavro":
            with path.open("wb") as f:
                schema = fastavro.parse_schema(versions[version - 1])
                fastavro.writer(f, schema, records, codec=codec, sync_interval=block_size)
        else:
            schema_ours = ab.Schema(versions[version - 1])
            ocf.write_records(path, schema_ours, records, codec=codec, block_size=block_size)
        for r in records:
            expected[r["firstName"]] = as_v1(r)
    return expected


def _settings(tmp: Path, bootstrap: str, registry: str, sink: str, **extra: Any) -> dict[str, Any]:
    target = tmp / "v1.avsc"
    target.write_text(json.dumps(V1))
    settings: dict[str, Any] = {
        "kafka": {"bootstrap_servers": bootstrap, "group_id": f"backfill-{sink}"},
        "registry": {"url": registry},
        "source": {"files": [str(tmp / "dump-*.avro")]},
        "sink": {"topic": sink},
        "value": {"schema_file": str(target)},
        "files": {"progress_topic": f"progress-{sink}"},
    }
    for k, v in extra.items():
        settings.setdefault(k, {}).update(v)
    return settings


def _check(out: list[Any], expected: dict[str, Any], *, exactly: bool) -> None:
    v1 = ab.Schema(V1)
    got = [ab.decode(v1, m.value()[5:]) for m in out]
    names = Counter(r["firstName"] for r in got)
    assert set(names) == set(expected), f"{len(set(expected) - set(names))} records missing"
    if exactly:
        assert len(got) == len(expected), f"{len(got) - len(expected)} duplicates"
    for r in got:
        assert r == expected[r["firstName"]]


@pytest.mark.parametrize("backend_name", ["native", "fastavro"])
def test_backfill_converts_every_record_of_files_from_fastavro_and_ours(
    backend_name: str, kafka_bootstrap: str, new_topic: Any, registry: Any, tmp_path: Path
) -> None:
    sink = new_topic("backfill", partitions=2)
    expected = _files(tmp_path, 1_000)
    target = tmp_path / "v1.avsc"
    target.write_text(json.dumps(V1))
    cmd = [
        sys.executable, "-m", "avrobridge.cli", "run",
        "--from-files", str(tmp_path / "dump-*.avro"),
        "--to", sink, "--reader-schema", str(target),
        "--bootstrap-servers", kafka_bootstrap, "--registry-url", registry.url,
        "--group-id", f"g-{sink}", "--progress-topic", f"progress-{sink}", "--json",
    ]  # fmt: skip
    env = {**os.environ, "AVROBRIDGE_BACKEND": backend_name}
    dry = subprocess.run([*cmd, "--dry-run"], capture_output=True, text=True, env=env, timeout=60)
    assert dry.returncode == 0, dry.stderr[-3000:]
    plan = json.loads(dry.stdout)
    assert plan["ok"] and [Path(f["path"]).name for f in plan["files"]] == [
        f"dump-{i}.avro" for i in range(4)
    ]
    assert {f["codec"] for f in plan["files"]} == {"deflate", "snappy", "zstandard", "null"}
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert summary["records_in"] == summary["records_out"] == len(expected)
    _check(read_all(kafka_bootstrap, sink, len(expected)), expected, exactly=True)
    # A second run finds every file done: nothing more is produced.
    again = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120)
    assert again.returncode == 0, again.stderr[-3000:]
    assert json.loads(again.stdout.strip().splitlines()[-1])["records_in"] == 0


@pytest.mark.parametrize("guarantee", ["at-least-once", "exactly-once"])
def test_backfill_resumes_after_kill_9(
    guarantee: str, kafka_bootstrap: str, new_topic: Any, registry: Any, tmp_path: Path
) -> None:
    sink = new_topic(f"backfill-kill-{guarantee}", partitions=1)
    expected = _files(tmp_path, 20_000, block_size=4_000)
    settings = _settings(
        tmp_path,
        kafka_bootstrap,
        registry.url,
        sink,
        delivery={"guarantee": guarantee, "commit_interval_ms": 200, "batch_size": 500},
    )
    config = write_config(tmp_path / "bridge.toml", settings)
    log = tmp_path / "bridge.log"
    cmd = [sys.executable, "-m", "avrobridge.cli", "run", "--config", str(config), "--json"]
    proc = subprocess.Popen(cmd, stdout=log.open("ab"), stderr=subprocess.STDOUT)
    # Killed once some progress is committed, well before the end.
    _wait_for_progress(kafka_bootstrap, f"progress-{sink}")
    proc.send_signal(signal.SIGKILL)
    proc.wait(30)
    final = subprocess.run(cmd, stdout=log.open("ab"), stderr=subprocess.STDOUT, timeout=240)
    assert final.returncode == 0, log.read_text()[-3000:]
    summary = json.loads(log.read_text().strip().splitlines()[-1])
    # The second run resumed: it read only what the first had not committed.
    assert 0 < summary["records_in"] < len(expected), summary
    _check(
        read_all(kafka_bootstrap, sink, len(expected)),
        expected,
        exactly=guarantee == "exactly-once",
    )


def _wait_for_progress(bootstrap: str, topic: str) -> None:
    c = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"w-{uuid.uuid4()}",
            "auto.offset.reset": "earliest",
            "isolation.level": "read_committed",
            "topic.metadata.refresh.interval.ms": 200,
        }
    )
    c.subscribe([topic])
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline:
            m = c.poll(0.05)
            if m is not None and m.error() is None:
                return
    finally:
        c.close()
    raise AssertionError(f"no progress in {topic} within 60 s")


def _status_plus(tmp: Path) -> tuple[Path, list[dict[str, Any]]]:
    """A file whose writer's Status enum has a symbol v1 cannot read (v1's enum has a
    default, so take a writer whose `status` is a string where v1 wants the enum)."""
    writer = json.loads(json.dumps(employee_versions()[1]))
    for f in writer["fields"]:
        if f["name"] == "status":
            f["type"] = ["null", f["type"]]
    records = [employee(i, 2) for i in range(20)]
    for r in records[5::5]:
        r["status"] = None  # null: no branch of v1's enum reads it
    path = tmp / "dump-0.avro"
    ocf.write_records(path, ab.Schema(writer), records, codec="deflate", block_size=500)
    return path, records


def test_backfill_sends_records_that_cannot_convert_to_the_dead_letter_topic(
    kafka_bootstrap: str, new_topic: Any, registry: Any, tmp_path: Path
) -> None:
    sink = new_topic("backfill-dlq", partitions=1)
    dlq = new_topic("backfill-dlq-dead", partitions=1)
    path, records = _status_plus(tmp_path)
    settings = load_settings(
        None,
        **_settings(
            tmp_path,
            kafka_bootstrap,
            registry.url,
            sink,
            errors={"tolerance": "all", "dead_letter_topic": dlq},
        ),
    )
    summary = Bridge(settings).run()
    bad = [r for r in records if r["status"] is None]
    assert summary.records_in == len(records)
    assert summary.dead_lettered == len(bad) and summary.records_out == len(records) - len(bad)
    dead = read_all(kafka_bootstrap, dlq, len(bad))
    assert len(dead) == len(bad)
    writer = ab.Schema(ocf.ContainerReader(str(path)).schema.text)
    for m in dead:
        headers = dict(m.headers())
        assert headers["avrobridge.file"] == str(path).encode()
        assert int(headers["avrobridge.block"]) >= 0
        index = int(headers["__connect.errors.offset"])
        # The original bytes: the record as the file holds it.
        assert ab.decode(writer, m.value()) == records[index]


def test_a_corrupt_file_stops_the_backfill_naming_the_file_and_block(
    kafka_bootstrap: str, new_topic: Any, registry: Any, tmp_path: Path
) -> None:
    sink = new_topic("backfill-corrupt", partitions=1)
    _files(tmp_path, 200, block_size=2_000)
    bad = tmp_path / "dump-2.avro"
    data = bytearray(bad.read_bytes())
    data[-20] ^= 0xFF  # inside the last block's sync marker
    bad.write_bytes(bytes(data))
    settings = load_settings(None, **_settings(tmp_path, kafka_bootstrap, registry.url, sink))
    with pytest.raises(ContainerError) as info:
        Bridge(settings).run()
    assert "dump-2.avro" in str(info.value) and "block" in str(info.value)


def test_backfill_of_a_glob_that_matches_nothing_says_so(
    kafka_bootstrap: str, registry: Any, tmp_path: Path
) -> None:
    settings = load_settings(None, **_settings(tmp_path, kafka_bootstrap, registry.url, "unused"))
    with pytest.raises(ab.errors.BridgeError, match=r"dump-\*\.avro.*no file matches"):
        Bridge(settings).run()


# -- export -------------------------------------------------------------------------------


def _topic_of_employees(
    bootstrap: str, registry_url: str, topic: str, n: int, partitions: int, start: int = 0
) -> dict[int, list[dict[str, Any]]]:
    """n records over the partitions, written with the three Employee versions; returns each
    partition's records as v1 reads them, in order."""
    versions = employee_versions()
    ids = register_versions(registry_url, f"{topic}-value", versions)
    schemas = [ab.Schema(v) for v in versions]
    records, expected = [], {p: [] for p in range(partitions)}  # type: dict[int, list[Any]]
    for i in range(start, start + n):
        v = i % 3
        rec = employee(i, v + 1)
        records.append((i % partitions, None, frame(ids[v], ab.encode(schemas[v], rec)), None))
        expected[i % partitions].append(as_v1(rec))
    produce(bootstrap, topic, records)
    return expected


def _export_cmd(tmp: Path, bootstrap: str, registry: str, source: str, *extra: str) -> list[str]:
    target = tmp / "v1.avsc"
    target.write_text(json.dumps(V1))
    return [
        sys.executable, "-m", "avrobridge.cli", "run", "--from", source,
        "--to-files", str(tmp / "out"), "--reader-schema", str(target),
        "--bootstrap-servers", bootstrap, "--registry-url", registry,
        "--group-id", f"export-{source}", *extra,
    ]  # fmt: skip


def _read_back(directory: Path, topic: str, partition: int) -> tuple[list[str], list[Any]]:
    names = sorted(p.name for p in directory.glob(f"{topic}+{partition}+*.avro"))
    records: list[Any] = []
    for name in names:
        with (directory / name).open("rb") as f:
            records.extend(fastavro.reader(f))
    return names, records


@pytest.mark.parametrize("backend_name", ["native", "fastavro"])
def test_export_writes_rolling_files_that_fastavro_reads_back(
    backend_name: str, kafka_bootstrap: str, new_topic: Any, registry: Any, tmp_path: Path
) -> None:
    source = new_topic("export", partitions=2)
    expected = _topic_of_employees(kafka_bootstrap, registry.url, source, 1_000, 2)
    cmd = _export_cmd(
        tmp_path, kafka_bootstrap, registry.url, source,
        "--until-end", "--roll-records", "200", "--file-codec", "snappy", "--json",
    )  # fmt: skip
    env = {**os.environ, "AVROBRIDGE_BACKEND": backend_name}
    dry = subprocess.run([*cmd, "--dry-run"], capture_output=True, text=True, env=env, timeout=60)
    assert dry.returncode == 0, dry.stderr[-3000:]
    plan = json.loads(dry.stdout)
    assert plan["ok"] and plan["directory"] == str(tmp_path / "out")
    assert plan["topics"][0]["records"] == 1_000 and plan["topics"][0]["sink"] is None
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert summary["records_in"] == summary["records_out"] == 1_000
    out = tmp_path / "out"
    assert not list(out.glob(".*.tmp"))
    for p in range(2):
        names, records = _read_back(out, source, p)
        # 500 records per partition, rolled at 200: first offsets 0, 200, 400.
        assert names == [f"{source}+{p}+{o:010d}.avro" for o in (0, 200, 400)]
        assert records == expected[p]
        with (out / names[0]).open("rb") as f:
            reader = fastavro.reader(f)
            assert reader.codec == "snappy" and reader.writer_schema["name"].endswith("Employee")
    # Every file closed and committed: a second run has nothing to write.
    again = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120)
    assert again.returncode == 0, again.stderr[-3000:]
    assert json.loads(again.stdout.strip().splitlines()[-1])["records_in"] == 0


def test_export_commits_only_closed_files_and_a_crash_leaves_no_partial_file(
    kafka_bootstrap: str, new_topic: Any, registry: Any, tmp_path: Path
) -> None:
    source = new_topic("export-crash", partitions=1)
    expected = _topic_of_employees(kafka_bootstrap, registry.url, source, 1_100, 1)[0]
    cmd = _export_cmd(tmp_path, kafka_bootstrap, registry.url, source, "--roll-records", "250")
    # A group member killed is replaced sooner.
    env = {**os.environ, "AVROBRIDGE_KAFKA__CONSUMER": '{"session.timeout.ms": 6000}'}
    log = tmp_path / "export.log"
    out = tmp_path / "out"

    def until(condition: Callable[[], bool]) -> None:
        deadline = time.monotonic() + 60
        while not condition():
            assert time.monotonic() < deadline, log.read_text()[-3000:]
            time.sleep(0.1)

    proc = subprocess.Popen(cmd, stdout=log.open("ab"), stderr=subprocess.STDOUT, env=env)
    # Four files closed (offsets 0..999); the fifth holds 100 records and stays open.
    until(lambda: len(list(out.glob("*.avro"))) == 4 and bool(list(out.glob(".*.tmp"))))
    time.sleep(0.5)
    proc.send_signal(signal.SIGKILL)
    proc.wait(30)
    assert len(list(out.glob("*.avro"))) == 4, log.read_text()[-3000:]
    assert _committed(kafka_bootstrap, f"export-{source}", source) == 1_000
    # The restart writes the open file again from its first offset, and closes it at 250.
    expected += _topic_of_employees(kafka_bootstrap, registry.url, source, 150, 1, 1_100)[0]
    proc = subprocess.Popen(cmd, stdout=log.open("ab"), stderr=subprocess.STDOUT, env=env)
    until(lambda: _committed(kafka_bootstrap, f"export-{source}", source) == 1_250)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(60) == 0, log.read_text()[-3000:]
    names, records = _read_back(out, source, 0)
    assert names == [f"{source}+0+{o:010d}.avro" for o in (0, 250, 500, 750, 1000)]
    assert records == expected
    assert not list(out.glob(".*.tmp"))


def _committed(bootstrap: str, group: str, topic: str) -> int:
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": group})
    try:
        return int(c.committed([TopicPartition(topic, 0)], timeout=10)[0].offset)
    finally:
        c.close()


def test_file_settings_that_cannot_work_are_usage_errors(tmp_path: Path) -> None:
    """Exit status 2, naming what to fix, before anything connects."""
    target = tmp_path / "v1.avsc"
    target.write_text(json.dumps(V1))
    base = [sys.executable, "-m", "avrobridge.cli", "run", "--reader-schema", str(target)]
    both = subprocess.run(
        [*base, "--from-files", "a.avro", "--from", "t", "--to", "s"],
        capture_output=True,
        text=True,
    )
    assert both.returncode == 2 and "either files or topics" in both.stderr
    config = tmp_path / "f.toml"
    config.write_text(
        f'[source]\nfiles = ["a.avro"]\n[sink]\ntopic = "s"\n[value]\nschema_file = "{target}"\n'
        '[[transforms]]\ntype = "filter"\npredicate = "is_tombstone"\n'
    )
    filtered = subprocess.run(
        [sys.executable, "-m", "avrobridge.cli", "run", "--config", str(config)],
        capture_output=True,
        text=True,
    )
    assert filtered.returncode == 2, filtered.stderr
    assert "filter cannot apply to records read from files" in filtered.stderr


def test_export_without_a_target_writes_each_writers_schema(
    kafka_bootstrap: str, new_topic: Any, registry: Any, tmp_path: Path
) -> None:
    """Runs of v1, v2, v3 records: a file per run, each in its writer's schema; a record that
    is not framed goes to the dead-letter topic."""
    source = new_topic("export-writers", partitions=1)
    dlq = new_topic("export-writers-dlq", partitions=1)
    versions = employee_versions()
    ids = register_versions(registry.url, f"{source}-value", versions)
    schemas = [ab.Schema(v) for v in versions]
    records, expected = [], []
    for i in range(300):
        v = i // 100  # 0..99 v1, 100..199 v2, 200..299 v3
        rec = employee(i, v + 1)
        value = frame(ids[v], ab.encode(schemas[v], rec)) if i != 150 else b"not framed"
        records.append((0, None, value, None))
        if i != 150:
            expected.append((v, rec))
    produce(kafka_bootstrap, source, records)
    cmd = _export_cmd(tmp_path, kafka_bootstrap, registry.url, source, "--until-end")
    at = cmd.index("--reader-schema")
    del cmd[at : at + 2]
    cmd += ["--dead-letter-topic", dlq, "--json"]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert summary["records_in"] == 300 and summary["dead_lettered"] == 1
    out = tmp_path / "out"
    names = sorted(p.name for p in out.glob("*.avro"))
    assert names == [f"{source}+0+{o:010d}.avro" for o in (0, 100, 200)]
    got = []
    for name in names:
        with (out / name).open("rb") as f:
            reader = fastavro.reader(f)
            fields = [x["name"] for x in reader.writer_schema["fields"]]
            got.extend((fields, r) for r in reader)
    assert [r for _, r in got] == [rec for _, rec in expected]
    for (fields, _), (v, _) in zip(got, expected, strict=True):
        assert fields == [x["name"] for x in versions[v]["fields"]]
    dead = read_all(kafka_bootstrap, dlq, 1)
    assert [m.value() for m in dead] == [b"not framed"]
