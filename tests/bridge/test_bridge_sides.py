"""The two sides of a bridge in the settings, without Kafka: [sink.kafka]/[sink.registry]
from TOML, AVROBRIDGE_* variables and options; each client on its own cluster; a copy's
rules; both sides probed at start, each named when it does not answer."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from avrobridge.bridge import load_settings
from avrobridge.bridge.clients import client_configs
from avrobridge.bridge.startup import check_local
from avrobridge.errors import ConfigError


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_each_side_has_its_own_cluster_and_registry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "bridge.toml"
    config.write_text(
        '[kafka]\nbootstrap_servers = "a:9092"\n[kafka.common]\n"client.rack" = "r1"\n'
        '[registry]\nurl = "http://reg-a:8081"\n'
        '[source]\ntopics = ["t"]\n[sink]\ntopic = "t"\npreserve_partitions = "auto"\n'
        '[sink.kafka]\nbootstrap_servers = "b:9092"\n'
        '[sink.kafka.common]\n"security.protocol" = "SASL_SSL"\n"sasl.password" = "s3cret"\n'
        '[sink.registry]\nurl = "http://reg-b:8081"\n[value]\nmode = "copy"\n'
        '[delivery]\nguarantee = "exactly-once"\n'
    )
    s = load_settings(config)
    assert (s.kafka.bootstrap_servers, s.sink_kafka.bootstrap_servers) == ("a:9092", "b:9092")
    assert (s.registry.url, s.sink_registry.url) == ("http://reg-a:8081", "http://reg-b:8081")
    assert s.two_clusters and s.two_registries and s.sink_topic_offsets
    assert "s3cret" not in repr(s)
    consumer, producer = client_configs(s, None)
    assert consumer["bootstrap.servers"] == "a:9092" and consumer["client.rack"] == "r1"
    assert "security.protocol" not in consumer
    assert producer["bootstrap.servers"] == "b:9092" and "client.rack" not in producer
    assert producer["security.protocol"] == "SASL_SSL" and producer["sasl.password"] == "s3cret"

    monkeypatch.setenv("AVROBRIDGE_SINK__KAFKA__BOOTSTRAP_SERVERS", "c:9092")
    monkeypatch.setenv("AVROBRIDGE_DELIVERY__OFFSET_STORE", "group")
    s = load_settings(config, sink={"registry": {"url": "http://reg-c:8081"}})
    assert s.sink_kafka.bootstrap_servers == "c:9092" and s.sink_registry.url == "http://reg-c:8081"
    assert not s.sink_topic_offsets

    # One cluster, one registry: both sides are the source's, as before.
    monkeypatch.delenv("AVROBRIDGE_SINK__KAFKA__BOOTSTRAP_SERVERS")
    one = load_settings(None, source={"topics": ["t"]}, sink={"topic": "u"}, value={"mode": "copy"})
    assert one.sink_kafka is one.kafka and one.sink_registry is one.registry
    assert not (one.two_clusters or one.two_registries or one.sink_topic_offsets)


def test_a_copy_has_no_target_and_no_schema_changing_transforms(tmp_path: Path) -> None:
    target = tmp_path / "t.avsc"
    target.write_text('"string"')
    with pytest.raises(ConfigError, match="mode 'copy' keeps the writer schemas"):
        load_settings(
            None,
            source={"topics": ["t"]},
            sink={"topic": "u"},
            value={"mode": "copy", "schema_file": target},
        )
    s = load_settings(
        None,
        source={"topics": ["t"]},
        sink={"topic": "u"},
        value={"mode": "copy"},
        transforms=[{"type": "drop_fields", "fields": ["a"]}],
    )
    with pytest.raises(ConfigError, match="drop_fields change the schema"):
        check_local(s)


def test_both_sides_are_probed_and_named_when_they_do_not_answer() -> None:
    a, b = f"127.0.0.1:{_closed_port()}", f"127.0.0.1:{_closed_port()}"
    reg_a, reg_b = f"http://127.0.0.1:{_closed_port()}", f"http://127.0.0.1:{_closed_port()}"
    proc = subprocess.run(
        [
            *(sys.executable, "-m", "avrobridge.cli", "run", "--from", "t", "--to", "t", "--copy"),
            *("--bootstrap-servers", a, "--sink-bootstrap-servers", b),
            *("--registry-url", reg_a, "--sink-registry-url", reg_b, "--startup-timeout", "2"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env=dict(os.environ),
    )
    assert proc.returncode == 1
    message = proc.stderr.splitlines()[-1]
    for named in (
        f"the source Kafka broker at {a} did not answer",
        f"the sink Kafka broker at {b} did not answer",
        f"the source schema registry at {reg_a} did not answer",
        f"the sink schema registry at {reg_b} did not answer",
    ):
        assert named in message, message
