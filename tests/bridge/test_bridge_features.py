"""Bridge features: transforms, key transcoding, header and GUID framing, sink routing,
regex sources, subject naming strategies, metrics, JSON logs, settings validation and secrets."""

from __future__ import annotations

import io
import json
import logging
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import avrobridge as ab
from avrobridge import framing
from avrobridge.bridge import Bridge, load_settings
from avrobridge.bridge.cli import configure_logging
from avrobridge.errors import ConfigError

from .helpers import frame, produce, read_all, register_versions

WRITER = {
    "type": "record",
    "name": "User",
    "namespace": "acme",
    "fields": [
        {"name": "id", "type": "long"},
        {"name": "name", "type": "string"},
        {"name": "email", "type": "string"},
        {"name": "age", "type": "int"},
    ],
}
KEY = {
    "type": "record",
    "name": "UserKey",
    "namespace": "acme",
    "fields": [{"name": "id", "type": "int"}],
}
KEY_TARGET = {
    "type": "record",
    "name": "UserKey",
    "namespace": "acme",
    "fields": [{"name": "id", "type": "long"}],
}


def _users(n: int) -> list[dict[str, Any]]:
    return [
        {"id": i, "name": f"user{i}", "email": f"u{i}@example.com", "age": 20 + i % 50}
        for i in range(n)
    ]


def _base(
    bootstrap: str, registry: str, source: str, sink_topic: str, target: Path, /, **extra: Any
) -> dict[str, Any]:
    settings: dict[str, Any] = {
        "kafka": {"bootstrap_servers": bootstrap, "group_id": f"g-{source}-{sink_topic}"},
        "registry": {"url": registry},
        "source": {"topics": [source]},
        "sink": {"topic": sink_topic},
        "value": {"schema_file": target},
        "until_end": True,
    }
    for k, v in extra.items():
        if isinstance(v, dict) and isinstance(settings.get(k), dict):
            settings[k] = {**settings[k], **v}
        else:
            settings[k] = v
    return settings


def _target(tmp: Path, schema: Any, name: str = "target.avsc") -> Path:
    path = tmp / name
    path.write_text(json.dumps(schema))
    return path


def test_schema_transforms_are_compiled_into_the_plan(
    kafka_bootstrap: str, new_topic: Any, registry: Any, tmp_path: Path
) -> None:
    source = new_topic("tx-src", partitions=2)
    sink = new_topic("tx-sink", partitions=2)
    (wid,) = register_versions(registry.url, f"{source}-value", [WRITER])
    w = ab.Schema(WRITER)
    users = _users(50)
    produce(
        kafka_bootstrap,
        source,
        [
            (
                u["id"] % 2,
                str(u["id"]).encode(),
                frame(wid, ab.encode(w, u)),
                [("h", b"1")] if u["id"] % 5 == 0 else None,
            )
            for u in users
        ],
    )
    transforms = [
        {"type": "rename_fields", "renames": {"name": "full_name"}},
        {"type": "drop_fields", "fields": ["age"]},
        {"type": "mask_fields", "fields": ["email"], "replacement": "***"},
        {"type": "insert_static", "field": "source_system", "value": "crm"},
        {"type": "set_name", "name": "Customer", "namespace": "acme.v2"},
        {
            "type": "insert_metadata",
            "topic_field": "kafka_topic",
            "partition_field": "kafka_partition",
            "offset_field": "kafka_offset",
            "timestamp_field": "kafka_ts",
        },
        {"type": "filter", "predicate": "has_header", "header": "h"},
    ]
    settings = load_settings(
        None,
        **_base(
            kafka_bootstrap,
            registry.url,
            source,
            sink,
            _target(tmp_path, WRITER),
            transforms=transforms,
        ),
    )
    summary = Bridge(settings).run()
    kept = [u for u in users if u["id"] % 5 != 0]
    assert summary.filtered == 10 and summary.records_out == len(kept)
    out = read_all(kafka_bootstrap, sink, len(kept))
    from confluent_kafka.schema_registry import SchemaRegistryClient

    sink_schema_text = (
        SchemaRegistryClient({"url": registry.url})
        .get_schema(int.from_bytes(out[0].value()[1:5], "big"))
        .schema_str
    )
    sink_schema = ab.Schema(sink_schema_text)
    assert sink_schema.name == "acme.v2.Customer"
    by_id = {}
    for m in out:
        rec = ab.decode(sink_schema, m.value()[5:])
        by_id[rec["id"]] = (rec, m)
    assert sorted(by_id) == [u["id"] for u in kept]
    rec, m = by_id[1]
    assert rec["full_name"] == "user1" and "name" not in rec and "age" not in rec
    assert rec["email"] == "***" and rec["source_system"] == "crm"
    assert rec["kafka_topic"] == source and rec["kafka_partition"] == m.partition()
    assert rec["kafka_offset"] >= 0 and rec["kafka_ts"].year >= 2024


def test_keys_are_transcoded_and_header_framing_is_written(
    kafka_bootstrap: str, new_topic: Any, registry: Any, tmp_path: Path
) -> None:
    source = new_topic("key-src", partitions=1)
    sink = new_topic("key-sink", partitions=1)
    (wid,) = register_versions(registry.url, f"{source}-value", [WRITER])
    (kid,) = register_versions(registry.url, f"{source}-key", [KEY])
    w, k = ab.Schema(WRITER), ab.Schema(KEY)
    users = _users(20)
    produce(
        kafka_bootstrap,
        source,
        [
            (0, frame(kid, ab.encode(k, {"id": u["id"]})), frame(wid, ab.encode(w, u)), None)
            for u in users
        ],
    )
    settings = load_settings(
        None,
        **_base(
            kafka_bootstrap,
            registry.url,
            source,
            sink,
            _target(tmp_path, WRITER),
            key={
                "mode": "transcode",
                "target": {"schema_file": _target(tmp_path, KEY_TARGET, "key.avsc")},
            },
            sink={"framing": "header"},
        ),
    )
    Bridge(settings).run()
    out = read_all(kafka_bootstrap, sink, 20)
    assert len(out) == 20
    kt = ab.Schema(KEY_TARGET)
    for m, u in zip(sorted(out, key=lambda m: m.offset()), users, strict=True):
        # Header framing applies to keys and values: ids in headers, bodies unprefixed.
        assert ab.decode(kt, m.key()) == {"id": u["id"]}
        headers = dict(m.headers())
        assert headers["__value_schema_id"][0] == 0  # magic 0 + 4-byte id in the header
        assert headers["__key_schema_id"][0] == 0
        assert ab.decode(w, m.value()) == u  # the value carries no prefix


def test_header_framed_and_guid_framed_sources_are_read(
    kafka_bootstrap: str, new_topic: Any, registry: Any, tmp_path: Path
) -> None:
    source = new_topic("hdr-src", partitions=1)
    sink = new_topic("hdr-sink", partitions=1)
    (wid,) = register_versions(registry.url, f"{source}-value", [WRITER])
    w = ab.Schema(WRITER)
    users = _users(10)
    records = []
    for u in users:
        body = ab.encode(w, u)
        if u["id"] % 2:
            records.append((0, None, body, [("__value_schema_id", framing.prefix(wid))]))
        else:
            records.append((0, None, frame(wid, body), None))
    produce(kafka_bootstrap, source, records)
    Bridge(
        load_settings(
            None, **_base(kafka_bootstrap, registry.url, source, sink, _target(tmp_path, WRITER))
        )
    ).run()
    out = sorted(read_all(kafka_bootstrap, sink, 10), key=lambda m: m.offset())
    assert [ab.decode(w, m.value()[5:]) for m in out] == users
    assert all("__value_schema_id" not in dict(m.headers() or []) for m in out)


def test_regex_sources_routing_and_record_name_strategy(
    kafka_bootstrap: str, new_topic: Any, registry: Any, tmp_path: Path
) -> None:
    a = new_topic("route-a", partitions=1)
    b = new_topic("route-b", partitions=1)
    sink_a, sink_b = f"{a}-copy", f"{b}-copy"
    new_topic_names = (sink_a, sink_b)
    del new_topic_names
    w = ab.Schema(WRITER)
    for topic in (a, b):
        (wid,) = register_versions(registry.url, f"{topic}-value", [WRITER])
        produce(
            kafka_bootstrap,
            topic,
            [(0, None, frame(wid, ab.encode(w, u)), None) for u in _users(5)],
        )
    prefix = a.rsplit("-", 1)[0].rsplit("-", 1)[0]
    settings = load_settings(
        None,
        kafka={"bootstrap_servers": kafka_bootstrap, "group_id": f"g-{a}"},
        registry={"url": registry.url},
        source={"pattern": f"({a}|{b})"},
        sink={"rename": {"regex": "(.*)", "replacement": r"\1-copy"}},
        value={"schema_file": _target(tmp_path, WRITER), "subject_name_strategy": "record"},
        until_end=True,
    )
    assert prefix
    summary = Bridge(settings).run()
    assert summary.records_out == 10
    assert len(read_all(kafka_bootstrap, sink_a, 5)) == 5
    assert len(read_all(kafka_bootstrap, sink_b, 5)) == 5
    from confluent_kafka.schema_registry import SchemaRegistryClient

    assert "acme.User" in SchemaRegistryClient({"url": registry.url}).get_subjects()


def test_metrics_and_json_logs(
    kafka_bootstrap: str, new_topic: Any, registry: Any, tmp_path: Path
) -> None:
    source = new_topic("met-src", partitions=1)
    sink = new_topic("met-sink", partitions=1)
    dlq = new_topic("met-dlq", partitions=1)
    (wid,) = register_versions(registry.url, f"{source}-value", [WRITER])
    w = ab.Schema(WRITER)
    produce(
        kafka_bootstrap,
        source,
        [(0, None, frame(wid, ab.encode(w, u)), None) for u in _users(30)]
        + [(0, None, b"bad", None)],
    )
    stream = io.StringIO()
    configure_logging("json", "INFO")
    logging.getLogger("avrobridge").handlers[0].setStream(stream)  # type: ignore[attr-defined]
    settings = load_settings(
        None,
        **_base(
            kafka_bootstrap,
            registry.url,
            source,
            sink,
            _target(tmp_path, WRITER),
            errors={"tolerance": "all", "dead_letter_topic": dlq},
            observability={"stats_interval_s": 0.01},
        ),
    )
    bridge = Bridge(settings)
    bridge.metrics.serve(0, "127.0.0.1")
    bridge.run()
    from prometheus_client import generate_latest

    text = generate_latest(bridge.metrics.registry).decode()
    assert f'avrobridge_records_in_total{{topic="{source}"}} 31.0' in text
    assert f'avrobridge_records_out_total{{topic="{sink}"}} 30.0' in text
    assert 'avrobridge_records_dead_lettered_total{error_class="FramingError"} 1.0' in text
    assert "avrobridge_batch_seconds_count" in text
    lines = [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]
    assert any(line["message"].startswith("stats:") for line in lines)
    assert all({"time", "level", "logger", "message"} <= set(line) for line in lines)


def test_invalid_settings_stop_before_connecting_and_name_the_setting(tmp_path: Path) -> None:
    target = _target(tmp_path, WRITER)
    base = {"source": {"topics": ["a"]}, "sink": {"topic": "b"}, "value": {"schema_file": target}}
    with pytest.raises(ConfigError, match=r"delivery\.batch_size"):
        load_settings(None, **base, delivery={"batch_size": 0})
    with pytest.raises(ConfigError, match="errors"):
        load_settings(None, **base, errors={"tolerance": "all"})
    with pytest.raises(ConfigError, match="sink"):
        load_settings(
            None,
            source={"topics": ["a"]},
            sink={"topic": "b", "mapping": {"a": "c"}},
            value={"schema_file": target},
        )
    settings = load_settings(None, **base, kafka={"common": {"no.such.property": "1"}})
    with pytest.raises(ConfigError, match=r"no\.such\.property"):
        Bridge(settings).validate()
    bad_toml = tmp_path / "bad.toml"
    bad_toml.write_text("[source\ntopics = 1")
    with pytest.raises(ConfigError, match=r"bad\.toml"):
        load_settings(bad_toml)


def test_secrets_never_appear_in_output(registry: Any, tmp_path: Path) -> None:
    target = _target(tmp_path, WRITER)
    secret = "s3cr3t-Pa55word"
    settings = load_settings(
        None,
        source={"topics": ["a"]},
        sink={"topic": "b"},
        value={"schema_file": target},
        kafka={
            "bootstrap_servers": "127.0.0.1:1",
            "common": {"sasl.password": secret, "sasl.username": "u"},
        },
        registry={"url": registry.url, "basic_auth_user_info": f"user:{secret}"},
    )
    assert secret not in repr(settings) and secret not in str(settings.model_dump())
    help_text = subprocess.run(
        [sys.executable, "-m", "avrobridge.cli", "run", "--help"], capture_output=True, text=True
    ).stdout
    assert secret not in help_text
    config = tmp_path / "c.toml"
    config.write_text(
        "\n".join(
            [
                "until_end = true",
                "[kafka]",
                'bootstrap_servers = "127.0.0.1:1"',
                "[kafka.common]",
                f'"sasl.password" = "{secret}"',
                '"sasl.username" = "u"',
                '"security.protocol" = "SASL_PLAINTEXT"',
                '"sasl.mechanism" = "PLAIN"',
                "[registry]",
                f'url = "{registry.url}"',
                f'basic_auth_user_info = "user:{secret}"',
                "[errors]",
                "retry_timeout_s = 2",
                "startup_timeout_s = 2",
                "[source]",
                'topics = ["a"]',
                "[sink]",
                'topic = "b"',
                "[value]",
                f'schema_file = "{target}"',
            ]
        )
    )
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "avrobridge.cli",
            "run",
            "--config",
            str(config),
            "--log-format",
            "json",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode != 0
    assert secret not in proc.stdout and secret not in proc.stderr


def test_regex_router_takes_connect_and_python_group_syntax() -> None:
    from avrobridge.bridge.transforms import regex_route

    assert regex_route("(.*)", "$1-v1", "employees") == "employees-v1"
    assert regex_route("(.*)", r"\1-copy", "employees") == "employees-copy"
    assert regex_route("emp-(.*)", "people-$1", "emp-eu") == "people-eu"
    assert regex_route("emp-(.*)", "people-$1", "other") == "other"
