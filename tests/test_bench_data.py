"""`avrobridge bench` on real records: --data FILE.avro (records and schema from a container
file), --data-topic (a sample of a Confluent-framed topic, schemas from the registry), and
the container-file read/write operations per codec."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from confluent_kafka import Producer
from confluent_kafka.schema_registry import Schema as RegistrySchema
from confluent_kafka.schema_registry import SchemaRegistryClient

from avrobridge import _native, framing
from avrobridge.bench.impls import FILE_IMPLEMENTATIONS
from avrobridge.registry import BackgroundServer, ServerSettings
from kafka_harness.plugin import NewTopicFactory
from ocf_helpers import MIXED_30, records
from test_bench_cli import run, run_json

QUICK = ["--repetitions", "1"]


@pytest.fixture
def mixed_file(tmp_path: Path) -> Path:
    path = tmp_path / "mixed.avro"
    with _native.ContainerWriter(path, _native.Schema(MIXED_30), codec="deflate") as w:
        w.write_many(records("mixed30", 300))
    return path


def test_data_file_and_file_operations(
    mixed_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = run_json(
        [
            *QUICK,
            "--data",
            str(mixed_file),
            "--records",
            "200",
            "--implementations",
            "native,avrobridge-fastavro,fastavro",
            "--operations",
            "decode,encode,read,write",
            "--codecs",
            "null,snappy",
        ],
        capsys,
    )
    workload = data["workload"]
    assert workload["records"] == 200 and workload["origin"] == f"read from {mixed_file}"
    assert workload["schema_name"] == "bench.Mixed30"
    assert {r["operation"] for r in data["results"]} == {"decode", "encode"}
    assert all(not r["skipped"] for r in data["results"]), data["results"]
    files = data["files"]
    assert {(f["operation"], f["codec"], f["implementation"]) for f in files} == {
        (op, codec, impl)
        for op in ("read", "write")
        for codec in ("null", "snappy")
        for impl in FILE_IMPLEMENTATIONS
    }
    for f in files:
        # Each read the records fastavro reads, or wrote a file fastavro reads back as given.
        assert not f["skipped"], f
        assert f["records_per_s"] > 0 and f["file_mb_per_s"] > 0 and f["file_bytes"] > 0
        assert f["records_per_repetition"] == 200
    assert {f["ratio_to_fastavro"] for f in files if f["implementation"] == "fastavro"} == {1.0}


def test_data_file_table(mixed_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, err = run(
        [
            *QUICK,
            "--data",
            str(mixed_file),
            "--implementations",
            "native,fastavro",
            "--operations",
            "read",
            "--codecs",
            "zstandard",
        ],
        capsys,
    )
    assert rc == 0, err
    assert "300 records read from" in out
    assert "container files" in out and "read, zstandard" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--data", "/nonexistent/x.avro"], "cannot open the file"),
        (["--data", "X", "--schema", "Y"], "--schema does not go with --data"),
        (["--data", "X", "--data-topic", "T"], "exclude each other"),
        (["--data-topic", "T"], "needs --bootstrap-servers"),
    ],
)
def test_data_errors(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    rc, _out, err = run(argv, capsys)
    assert rc == 2 and message in err


def test_data_file_that_is_not_a_container(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.avro"
    bad.write_bytes(b"PAR1 not avro")
    rc, _out, err = run(["--data", str(bad)], capsys)
    assert rc == 2 and "not an Avro object container file" in err


@pytest.fixture(scope="module")
def registry() -> Iterator[str]:
    server = BackgroundServer(ServerSettings(port=0, log_level="warning"))
    server.start()
    try:
        yield server.url
    finally:
        server.stop()


def test_data_topic_samples_framed_records(
    kafka_bootstrap: str,
    new_topic: NewTopicFactory,
    registry: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    topic = new_topic("bench-data", partitions=2)
    client = SchemaRegistryClient({"url": registry})
    schema_id = client.register_schema(f"{topic}-value", RegistrySchema(json.dumps(MIXED_30)))
    prefix = framing.prefix(int(schema_id))
    bodies = _native.encode_many(_native.Schema(MIXED_30), records("mixed30", 400))
    producer = Producer({"bootstrap.servers": kafka_bootstrap})
    for i, body in enumerate(bodies):
        producer.produce(topic, prefix + body, partition=i % 2)
    producer.produce(topic, b"not framed", partition=0)
    producer.produce(topic, None, b"tombstone", partition=1)
    assert producer.flush(30) == 0
    data = run_json(
        [
            *QUICK,
            "--data-topic",
            topic,
            "--bootstrap-servers",
            kafka_bootstrap,
            "--registry",
            registry,
            "--sample",
            "1000",
            "--implementations",
            "native,fastavro",
            "--operations",
            "decode,transcode",
        ],
        capsys,
    )
    workload = data["workload"]
    assert workload["origin"] == f"sampled from topic {topic}"
    assert workload["records"] == 400 and workload["schema_name"] == "bench.Mixed30"
    assert "1 of 401 sampled records left out" in workload["note"]
    assert all(not r["skipped"] for r in data["results"]), data["results"]
