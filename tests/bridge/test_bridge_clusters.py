"""The bridge between two clusters and two registries (cluster A with registry_pair.source,
whose ids start at 1001; cluster B with registry_pair.target, whose ids start at 1): a pure
copy and a transcoding run of the same 100,000 records, each record decoded with the sink
registry's schema for its id; refusals of the sink registry and unknown source ids."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import avrobridge as ab
from avrobridge.bridge import Bridge, load_settings
from avrobridge.bridge.deadletter import REGISTRY_ERROR_CODE
from avrobridge.bridge.plan import build_plan
from avrobridge.errors import BridgeError
from conftest import SOURCE_FIRST_ID, RegistryPair

from .clusters import decode_with_registry, produce_employees, register, v1_of
from .helpers import employee, employee_versions, frame, produce, read_all


def _sides(
    kafka_bootstrap: str, kafka_bootstrap_b: str, pair: RegistryPair, group: str
) -> dict[str, Any]:
    return {
        "kafka": {"bootstrap_servers": kafka_bootstrap, "group_id": group},
        "registry": {"url": pair.source.url},
    }


def test_copy_and_transcode_100000_records_across_clusters_and_registries(
    kafka_bootstrap: str,
    kafka_bootstrap_b: str,
    new_topic: Any,
    new_topic_b: Any,
    registry_pair: RegistryPair,
    tmp_path: Path,
) -> None:
    n = 100_000
    source = new_topic("xc-src", partitions=3)
    copied = new_topic_b("xc-copy", partitions=3)  # as many partitions: numbers kept
    transcoded = new_topic_b("xc-v1", partitions=2)  # fewer: partitioned by key
    sent = produce_employees(kafka_bootstrap, registry_pair.source.url, source, n, 3)
    assert min(sent.ids) >= SOURCE_FIRST_ID
    sink_url = registry_pair.target.url
    sink = {"kafka": {"bootstrap_servers": kafka_bootstrap_b}, "registry": {"url": sink_url}}

    # 1. A pure copy: bytes kept, values and keys re-framed with the sink registry's ids.
    summary = Bridge(
        load_settings(
            None,
            **_sides(kafka_bootstrap, kafka_bootstrap_b, registry_pair, f"copy-{source}"),
            source={"topics": [source]},
            sink={"topic": copied, "preserve_partitions": "auto", **sink},
            value={"mode": "copy"},
            key={"mode": "copy"},
            until_end=True,
        )
    ).run()
    assert summary.records_in == n and summary.records_out == n and summary.dead_lettered == 0
    out = read_all(kafka_bootstrap_b, copied, n)
    assert len(out) == n
    translated: dict[int, int] = {}
    for m in out:
        key_id, key = decode_with_registry(sink_url, m.key())
        original_key = frame(sent.key_id, m.key()[5:])
        assert key == {"id": int(sent.record[original_key]["firstName"].removeprefix("First"))}
        assert key_id < SOURCE_FIRST_ID and m.key()[5:] == original_key[5:]
        sink_id, record = decode_with_registry(sink_url, m.value())
        original = sent.value[original_key]
        assert record == sent.record[original_key]
        assert m.value()[5:] == original[5:]  # the body byte for byte
        translated[int.from_bytes(original[1:5], "big")] = sink_id
        assert m.partition() == sent.partition[original_key]
        assert m.timestamp()[1] == sent.timestamp[original_key]
        assert (m.headers() or []) == sent.headers[original_key]
    assert sorted(translated) == sorted(sent.ids)
    assert all(sink_id < SOURCE_FIRST_ID for sink_id in translated.values())
    assert {(int(t["source_id"]), t["sink_id"]): t["records"] for t in summary.ids_translated} == {
        (source_id, translated[source_id]): n // 3 + (1 if i < n % 3 else 0)
        for i, source_id in enumerate(sent.ids)
    }

    # 2. Transcoding to v1: the target registered under the sink subject in the sink registry.
    target = tmp_path / "employee_v1.avsc"
    target.write_text(json.dumps(employee_versions()[0]))
    summary = Bridge(
        load_settings(
            None,
            **_sides(kafka_bootstrap, kafka_bootstrap_b, registry_pair, f"v1-{source}"),
            source={"topics": [source]},
            sink={"topic": transcoded, "preserve_partitions": "auto", **sink},
            value={"schema_file": target},
            until_end=True,
        )
    ).run()
    assert summary.records_out == n
    out = read_all(kafka_bootstrap_b, transcoded, n)
    assert len(out) == n
    ids = set()
    for m in out:
        sink_id, record = decode_with_registry(sink_url, m.value())
        ids.add(sink_id)
        assert record == v1_of(sent, m.key())
        assert m.timestamp()[1] == sent.timestamp[m.key()]
        assert (m.headers() or []) == sent.headers[m.key()]
    (v1_id,) = ids
    assert v1_id < SOURCE_FIRST_ID
    assert {m.partition() for m in out} == {0, 1}
    assert {t["sink_id"] for t in summary.ids_translated} == {v1_id}


def _refusing_setup(
    kafka_bootstrap: str, new_topic: Any, pair: RegistryPair
) -> tuple[str, list[bytes], dict[str, bytes]]:
    """A source with records of v1 (the sink subject accepts it), of v1 plus a field with no
    default (BACKWARD refuses it: 409) and of an id the source registry does not have."""
    source = new_topic("xr-src")
    v1 = employee_versions()[0]
    bad = {**v1, "fields": [*v1["fields"], {"name": "badge", "type": "int"}]}
    good_id = register(pair.source.url, f"{source}-value", v1, "NONE")
    bad_id = register(pair.source.url, f"{source}-value", bad)
    values = {
        "good": frame(good_id, ab.encode(ab.Schema(v1), employee(1, 1))),
        "bad": frame(bad_id, ab.encode(ab.Schema(bad), {**employee(2, 1), "badge": 7})),
        "unknown": frame(4242, ab.encode(ab.Schema(v1), employee(3, 1))),
    }
    order = ["good", "bad", "unknown", "good"]
    produce(kafka_bootstrap, source, [(0, k.encode(), values[k], None) for k in order])
    return source, [k.encode() for k in order], values


def test_a_sink_registry_refusal_and_an_unknown_source_id_go_to_the_dlq_or_stop(
    kafka_bootstrap: str,
    kafka_bootstrap_b: str,
    new_topic: Any,
    new_topic_b: Any,
    registry_pair: RegistryPair,
) -> None:
    source, _, values = _refusing_setup(kafka_bootstrap, new_topic, registry_pair)
    sink, dlq = new_topic_b("xr-sink"), new_topic_b("xr-dlq")
    sink_url = registry_pair.target.url
    register(sink_url, f"{sink}-value", employee_versions()[0], "BACKWARD")
    common = {
        **_sides(kafka_bootstrap, kafka_bootstrap_b, registry_pair, f"dlq-{source}"),
        "source": {"topics": [source]},
        "value": {"mode": "copy"},
        "until_end": True,
    }
    sink_side = {"kafka": {"bootstrap_servers": kafka_bootstrap_b}, "registry": {"url": sink_url}}
    bridge = Bridge(
        load_settings(
            None,
            **common,
            sink={"topic": sink, **sink_side},
            errors={"tolerance": "all", "dead_letter_topic": dlq},
        )
    )
    # The plan: writer versions from the source registry, the sink subject from the sink's
    # (on cluster B, where the sink topic is).
    plan = build_plan(bridge.settings, bridge.schemas, bridge.sink_schemas)
    (topic,) = plan.topics
    assert [v.schema_id >= SOURCE_FIRST_ID for v in topic.versions] == [True, True]
    assert (topic.sink.partitions, topic.sink.versions, topic.sink.level) == (1, 1, "BACKWARD")
    summary = bridge.run()
    assert (summary.records_out, summary.dead_lettered) == (2, 2)
    good = read_all(kafka_bootstrap_b, sink, 2)
    assert [m.key() for m in good] == [b"good", b"good"]
    assert all(decode_with_registry(sink_url, m.value())[0] < SOURCE_FIRST_ID for m in good)
    dead = read_all(kafka_bootstrap_b, dlq, 2)
    assert [m.key() for m in dead] == [b"bad", b"unknown"]
    codes = [dict(m.headers() or [])[REGISTRY_ERROR_CODE] for m in dead]
    assert codes == [b"409", b"40403"]
    assert [m.value() for m in dead] == [values["bad"], values["unknown"]]  # untouched

    # errors.tolerance "none": the refusal stops the bridge, naming the registry's code.
    with pytest.raises(BridgeError, match="error code 409"):
        Bridge(
            load_settings(
                None,
                **{**common, "kafka": {**common["kafka"], "group_id": f"stop-{source}"}},
                sink={"topic": sink, **sink_side},
            )
        ).run()


def test_a_refused_target_schema_sends_the_topics_records_to_the_dlq_or_stops(
    kafka_bootstrap: str,
    kafka_bootstrap_b: str,
    new_topic: Any,
    new_topic_b: Any,
    registry_pair: RegistryPair,
    tmp_path: Path,
) -> None:
    """Transcoding: the sink registry refuses the target itself (409 under BACKWARD), so no
    record of the topic can be produced: with errors.tolerance "all" each one goes to the
    dead-letter topic untouched, with the registry's code; with "none" the bridge stops."""
    source = new_topic("xt-src")
    sink, dlq = new_topic_b("xt-sink"), new_topic_b("xt-dlq")
    v1 = employee_versions()[0]
    writer_id = register(registry_pair.source.url, f"{source}-value", v1, "NONE")
    values = [frame(writer_id, ab.encode(ab.Schema(v1), employee(i, 1))) for i in range(5)]
    values.append(None)  # a tombstone of the topic: dead-lettered too, never dropped
    produce(kafka_bootstrap, source, [(0, f"k{i}".encode(), v, None) for i, v in enumerate(values)])
    register(registry_pair.target.url, f"{sink}-value", v1, "BACKWARD")
    target = tmp_path / "refused.avsc"
    target.write_text(
        json.dumps({**v1, "fields": [*v1["fields"], {"name": "badge", "type": "int"}]})
    )
    common = {
        **_sides(kafka_bootstrap, kafka_bootstrap_b, registry_pair, f"xt-{source}"),
        "source": {"topics": [source]},
        "value": {"schema_file": str(target), "allow_incompatible_versions": [1]},
        "until_end": True,
        "sink": {
            "topic": sink,
            "kafka": {"bootstrap_servers": kafka_bootstrap_b},
            "registry": {"url": registry_pair.target.url},
        },
    }
    summary = Bridge(
        load_settings(None, **common, errors={"tolerance": "all", "dead_letter_topic": dlq})
    ).run()
    assert (summary.records_in, summary.records_out) == (6, 0)
    assert (summary.dead_lettered, summary.filtered) == (6, 0)
    dead = read_all(kafka_bootstrap_b, dlq, 6)
    assert [m.value() for m in dead] == values
    assert {dict(m.headers() or [])[REGISTRY_ERROR_CODE] for m in dead} == {b"409"}

    with pytest.raises(BridgeError, match="409"):
        Bridge(
            load_settings(
                None, **{**common, "kafka": {**common["kafka"], "group_id": f"xt2-{source}"}}
            )
        ).run()
