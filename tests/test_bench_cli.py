"""`avrobridge bench`, run in-process through its argparse wiring: the table, --json, --plot,
--reader-schema, --kafka against the harness's broker, errors, and the default run's time."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from avrobridge.bench import add_bench_command
from avrobridge.bench.impls import IMPLEMENTATIONS, MODES, OPERATIONS
from conftest import SEED_DIR

#: Small runs: few records, two repetitions.
QUICK = ["--records", "300", "--repetitions", "2"]


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    parser = argparse.ArgumentParser(prog="avrobridge")
    add_bench_command(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["bench", *argv])
    rc = args.handler(args)
    captured = capsys.readouterr()
    return rc, captured.out, captured.err


def run_json(argv: list[str], capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    rc, out, err = run([*argv, "--json"], capsys)
    assert rc == 0, err
    data: dict[str, Any] = json.loads(out)
    return data


def _result(data: dict[str, Any], operation: str, mode: str, impl: str) -> dict[str, Any]:
    found = [
        r
        for r in data["results"]
        if (r["operation"], r["mode"], r["implementation"]) == (operation, mode, impl)
    ]
    assert len(found) == 1, (operation, mode, impl)
    result: dict[str, Any] = found[0]
    return result


def test_table(capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, err = run(QUICK, capsys)
    assert rc == 0, err
    lines = out.splitlines()
    assert lines[0].startswith("machine: ") and "core" in lines[0] and "Python" in lines[0]
    for name in ("avrobridge", "fastavro", "avro", "confluent-kafka"):
        assert f"{name} " in lines[1]
    assert "com.cloudurable.phonebook.Employee" in lines[2] and "300 generated records" in out
    for heading in ("records/s", "MB/s", "µs/record", "vs fastavro"):
        assert heading in out
    for operation in OPERATIONS:
        assert f"{operation}, one record" in out
        assert f"{operation}, batch of 300" in out
    for label in ("avrobridge (native)", "avrobridge (fastavro backend)", "confluent-kafka"):
        assert label in out
    # What an implementation cannot do is listed, with the reason.
    assert out.count("skipped: the avro package has no transcoder") == 2
    assert "1.00×" in out  # fastavro against itself


def test_json(capsys: pytest.CaptureFixture[str]) -> None:
    data = run_json(QUICK, capsys)
    assert set(data) >= {"machine", "workload", "baseline", "results", "bridge", "elapsed_s"}
    machine = data["machine"]
    assert machine["cores"] >= 1 and machine["cpu"] and machine["python"].split()[1]
    assert set(machine["versions"]) >= {"avrobridge", "fastavro", "avro", "confluent-kafka"}
    workload = data["workload"]
    assert workload["records"] == 300 and workload["reader_schema"] is None
    assert workload["schema_name"] == "com.cloudurable.phonebook.Employee"
    assert 40 < workload["bytes_per_record"] < 400
    assert data["baseline"] == "fastavro" and data["bridge"] is None
    assert len(data["results"]) == len(OPERATIONS) * len(MODES) * len(IMPLEMENTATIONS)
    for r in data["results"]:
        if r["skipped"]:
            assert r["note"] and r["records_per_s"] is None and r["ratio_to_fastavro"] is None
            continue
        assert r["records_per_s"] > 0 and r["mb_per_s"] > 0 and r["us_per_record"] > 0
        assert r["records_per_s"] == pytest.approx(1e6 / r["us_per_record"])
        assert r["repetitions"] == 2 and r["median_ns"] > 0
        assert r["ratio_to_fastavro"] > 0
    skipped = {(r["operation"], r["implementation"]) for r in data["results"] if r["skipped"]}
    assert skipped == {("transcode", "avro")}
    for operation in OPERATIONS:
        for mode in MODES:
            assert _result(data, operation, mode, "fastavro")["ratio_to_fastavro"] == 1.0
    # The one comparison with a margin no noisy machine erases: ~50x on a quiet one.
    assert _result(data, "transcode", "batch", "native")["ratio_to_fastavro"] > 3


def test_plot(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from matplotlib.image import imread

    out_png = tmp_path / "bench.png"
    rc, out, err = run([*QUICK, "--plot", str(out_png)], capsys)
    assert rc == 0, err
    assert f"chart written to {out_png}" in out
    assert out_png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    pixels = imread(out_png)
    height, width = pixels.shape[:2]
    assert width > 1000 and height > 500
    assert out_png.stat().st_size > 30_000  # bars, labels and text, not an empty canvas


def test_plot_needs_matplotlib(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import fails
    started = time.perf_counter()
    rc, _out, err = run([*QUICK, "--plot", str(tmp_path / "x.png")], capsys)
    assert rc == 2
    assert "--plot needs matplotlib" in err and "pip install" in err
    assert time.perf_counter() - started < 5  # refused up front, nothing measured
    assert not (tmp_path / "x.png").exists()


def test_reader_schema_transcodes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Employee v2 -> v1 (age dropped), as the tutorial's bridge."""
    data = run_json(
        [
            *QUICK,
            "--schema",
            str(SEED_DIR / "employee_v2.avsc"),
            "--reader-schema",
            str(SEED_DIR / "employee_v1.avsc"),
            "--implementations",
            "native,avrobridge-fastavro,fastavro,confluent-kafka",
            "--operations",
            "resolve,transcode",
        ],
        capsys,
    )
    assert data["workload"]["reader_schema"].endswith("employee_v1.avsc")
    assert {r["operation"] for r in data["results"]} == {"resolve", "transcode"}
    for r in data["results"]:
        # Every implementation gave fastavro's v1 bytes/values before it was timed.
        assert not r["skipped"], r
        assert r["records_per_s"] > 0


def test_other_schema_and_notes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A schema with logical types and unions: the avro package reads UUIDs as str (noted)
    and writes an int in ["null", "string", "long", "double"] as a double (skipped, with the
    difference)."""
    schema = {
        "type": "record",
        "name": "Payment",
        "fields": [
            {"name": "id", "type": {"type": "string", "logicalType": "uuid"}},
            {"name": "at", "type": {"type": "long", "logicalType": "timestamp-millis"}},
            {
                "name": "amount",
                "type": {"type": "bytes", "logicalType": "decimal", "precision": 10, "scale": 2},
            },
            {"name": "alt", "type": ["null", "string", "long", "double"]},
        ],
    }
    path = tmp_path / "payment.avsc"
    path.write_text(json.dumps(schema))
    data = run_json(
        [*QUICK, "--schema", str(path), "--implementations", "native,fastavro,avro"], capsys
    )
    decode = _result(data, "decode", "one", "avro")
    assert not decode["skipped"] and "own representation" in decode["note"]
    encode = _result(data, "encode", "batch", "avro")
    assert encode["skipped"] and "writes other values than fastavro" in encode["note"]
    assert "/alt" in encode["note"]
    assert not _result(data, "encode", "batch", "native")["skipped"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--schema", "/nonexistent/x.avsc"], "cannot read schema file"),
        (["--schema", str(SEED_DIR / "employee.avsc"), "--reader-schema", "BAD"], "cannot read"),
    ],
)
def test_errors(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    rc, _out, err = run(argv, capsys)
    assert rc == 2 and message in err


def test_schema_without_values(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    schema = tmp_path / "loop.avsc"
    schema.write_text('{"type": "record", "name": "L", "fields": [{"name": "me", "type": "L"}]}')
    rc, _out, err = run(["--schema", str(schema)], capsys)
    assert rc == 2 and "no finite value" in err


def test_incompatible_reader(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    reader = tmp_path / "reader.avsc"
    reader.write_text(
        json.dumps(
            {
                "type": "record",
                "name": "Employee",
                "namespace": "com.cloudurable.phonebook",
                "fields": [{"name": "salary", "type": "double"}],  # no default: unreadable
            }
        )
    )
    rc, _out, err = run(["--reader-schema", str(reader)], capsys)
    assert rc == 2 and "salary" in err


def test_kafka_end_to_end(kafka_bootstrap: str, capsys: pytest.CaptureFixture[str]) -> None:
    data = run_json(
        [
            "--records",
            "500",
            "--repetitions",
            "1",
            "--schema",
            str(SEED_DIR / "employee_v2.avsc"),
            "--reader-schema",
            str(SEED_DIR / "employee_v1.avsc"),
            "--implementations",
            "native,fastavro",
            "--operations",
            "transcode",
            "--kafka",
            kafka_bootstrap,
            "--kafka-records",
            "5000",
        ],
        capsys,
    )
    bridge = data["bridge"]
    assert kafka_bootstrap in bridge["setup"]
    modes = {r["mode"]: r for r in bridge["results"]}
    assert set(modes) == {"passthrough", "avrobridge", "fastavro"}
    for r in modes.values():
        assert not r["skipped"], r
        assert r["records"] == 5000 and r["seconds"] > 0 and r["records_per_s"] > 0
    assert modes["fastavro"]["ratio_to_fastavro"] == 1.0


def test_kafka_table(kafka_bootstrap: str, capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, err = run(
        [
            "--records",
            "200",
            "--repetitions",
            "1",
            "--implementations",
            "native,fastavro",
            "--operations",
            "decode",
            "--modes",
            "batch",
            "--kafka",
            kafka_bootstrap,
            "--kafka-records",
            "2000",
        ],
        capsys,
    )
    assert rc == 0, err
    assert "bridge end to end" in out
    for label in ("bridge loop, bytes unchanged", "avrobridge (native)", "with fastavro"):
        assert label in out


def test_kafka_unreachable(capsys: pytest.CaptureFixture[str]) -> None:
    rc, _out, err = run(
        [*QUICK, "--implementations", "native,fastavro", "--kafka", "127.0.0.1:1"], capsys
    )
    assert rc == 1 and "cannot reach Kafka at 127.0.0.1:1" in err  # a failure at run time


def test_default_run_takes_under_a_minute(capsys: pytest.CaptureFixture[str]) -> None:
    started = time.perf_counter()
    rc, out, err = run([], capsys)
    elapsed = time.perf_counter() - started
    assert rc == 0, err
    assert "batch of 20,000" in out and "Employee" in out
    print(f"default `avrobridge bench` ran in {elapsed:.1f} s")
    assert elapsed < 60
