"""The Kafka store (``--store kafka://host:port/topic``) against the real broker of the harness.

Restart persistence, several instances on one topic (visibility, ids under parallel writes,
leader failover, forwarding with auth), topics written in Confluent's/Karapace's format, the
highest id across compaction, and what happens when the leader or Kafka is unreachable.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, Producer, TopicPartition
from confluent_kafka.admin import AdminClient
from confluent_kafka.admin._config import ConfigResource

from avrobridge.kafkalog import kafka_logger
from avrobridge.registry import BackgroundServer, ServerSettings
from avrobridge.registry.cli import main as registry_main
from avrobridge.registry.kafkastore import KafkaStore, KafkaStoreConfig
from avrobridge.registry.store import NotLeaderError, StoreError
from kafka_harness.broker import KafkaBroker

from .helpers import V1_JSON, field, record

pytestmark = pytest.mark.kafka

A1 = record("A", field("x"))
A2 = record("A", field("x"), field("y", "int", default=0))
A3 = record("A", field("x"), field("y", "int", default=0), field("z", default=""))
B1 = record("B", field("x"))
N = 50


# -- fixtures and helpers ---------------------------------------------------------------------


@pytest.fixture
def topic(kafka_admin: AdminClient) -> Iterator[str]:
    """A fresh topic name; the registry creates it (and its election topic), we delete both."""
    name = f"schemas-{uuid.uuid4().hex[:12]}"
    yield name
    futures = kafka_admin.delete_topics(
        [name, f"{name}_leader"], operation_timeout=5, request_timeout=5
    )
    for future in futures.values():
        with contextlib.suppress(Exception):
            future.result(timeout=5)


def settings(bootstrap: str, topic: str, *, timeout: float = 10, **extra: object) -> ServerSettings:
    return ServerSettings(
        port=0,
        store=f"kafka://{bootstrap}/{topic}?timeout={timeout}",
        log_level="warning",
        **extra,  # type: ignore[arg-type]
    )


def kafka_store(srv: BackgroundServer) -> KafkaStore:
    store = srv.service.store
    assert isinstance(store, KafkaStore)
    return store


def wait_for(condition: Callable[[], bool], timeout: float = 20.0, what: str = "it") -> float:
    """Seconds until ``condition()`` held (fails the test after ``timeout``)."""
    start = time.monotonic()
    while not condition():
        assert time.monotonic() - start < timeout, f"{what} did not happen within {timeout} s"
        time.sleep(0.005)
    return time.monotonic() - start


def leader_of(*servers: BackgroundServer, timeout: float = 20.0) -> BackgroundServer:
    wait_for(lambda: any(kafka_store(s).is_leader for s in servers), timeout, "an election")
    (leader,) = [s for s in servers if kafka_store(s).is_leader]
    return leader


def post(client: httpx.Client, path: str, body: object, **params: str) -> httpx.Response:
    return client.post(
        path, content=json.dumps(body), headers={"Content-Type": V1_JSON}, params=params
    )


def register(client: httpx.Client, subject: str, schema: str) -> int:
    r = post(client, f"/subjects/{subject}/versions", {"schema": schema})
    assert r.status_code == 200, r.text
    return int(r.json()["id"])


def snapshot(client: httpx.Client) -> dict[str, object]:
    """Everything a client can observe about the registry's state."""
    return {
        "subjects": client.get("/subjects", params={"deleted": "true"}).json(),
        "live": client.get("/subjects").json(),
        "schemas": client.get("/schemas", params={"deleted": "true"}).json(),
        "ids": [client.get(f"/schemas/ids/{i}").status_code for i in range(1, 7)],
        "config": client.get("/config").json(),
        "config_a": client.get("/config/a").json(),
        "mode": client.get("/mode").json(),
        "mode_b": client.get("/mode/b").json(),
    }


def produce_raw(bootstrap: str, topic: str, records: list[tuple[bytes, bytes | None]]) -> None:
    """Writes records as another registry would: a plain producer, partition 0."""
    producer = Producer(
        {
            "bootstrap.servers": bootstrap,
            "logger": kafka_logger("tests.kafka"),
            "enable.idempotence": True,
        }
    )
    try:
        for key, value in records:
            producer.produce(topic, key=key, value=value, partition=0)
        assert producer.flush(30) == 0
    finally:
        producer.close()


def read_raw(bootstrap: str, topic: str) -> list[tuple[bytes | None, bytes | None]]:
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "logger": kafka_logger("tests.kafka"),
            "group.id": f"t-{uuid.uuid4().hex}",
            "enable.partition.eof": True,
            "isolation.level": "read_committed",
        }
    )
    consumer.assign([TopicPartition(topic, 0, OFFSET_BEGINNING)])
    out: list[tuple[bytes | None, bytes | None]] = []
    deadline = time.monotonic() + 20
    try:
        while time.monotonic() < deadline:
            msg = consumer.poll(0.5)
            if msg is None:
                continue
            err = msg.error()
            if err is not None and err.code() == KafkaError._PARTITION_EOF:
                return out
            assert err is None, err
            out.append((msg.key(), msg.value()))
        raise AssertionError(f"could not read {topic} to its end")
    finally:
        consumer.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# -- the store on its own ------------------------------------------------------------------


def test_url_options() -> None:
    config = KafkaStoreConfig.from_url(
        "kafka://b1:9092,b2:9093/my.schemas?timeout=3&security.protocol=SSL&group_id=g"
    )
    assert (config.bootstrap, config.topic, config.timeout) == ("b1:9092,b2:9093", "my.schemas", 3)
    assert config.election_topic == "my.schemas_leader" and config.group_id == "g"
    assert config.transactional_id == "avrobridge-registry-my.schemas"
    assert dict(config.client) == {"security.protocol": "SSL"}


def test_store_api_only_the_leader_appends(kafka_bootstrap: str, topic: str) -> None:
    applied: list[tuple[int, bytes, bytes | None]] = []
    store = KafkaStore(KafkaStoreConfig.from_url(f"kafka://{kafka_bootstrap}/{topic}"))
    store.start(lambda offset, key, value: applied.append((offset, key, value)))
    try:
        with pytest.raises(NotLeaderError):
            store.append(b'{"keytype":"NOOP","magic":0}', None)
        store.join_election("http://127.0.0.1:1")
        wait_for(lambda: store.is_leader, 20, "the election")
        leader = store.leader()
        assert leader is not None and leader.is_self and leader.url == "http://127.0.0.1:1"
        records = [(b'{"keytype":"CONFIG","subject":null,"magic":0}', b"{}"), (b"k", None)]
        last = store.append_all(records)
        store.wait_applied(last, 10)
        assert [(k, v) for _, k, v in applied] == records
        assert list(store.read()) == applied
        assert list(store.read(from_offset=last)) == applied[-1:]
    finally:
        store.close()
    assert not store.is_leader


def test_a_new_leader_fences_the_old_one_even_if_both_think_they_lead(
    kafka_bootstrap: str, topic: str
) -> None:
    # Two election groups on one topic: both instances are "assigned partition 0", as a
    # leader that missed its own replacement would be. The transactional id still lets only
    # the latest one write.
    def store(group: str) -> KafkaStore:
        config = KafkaStoreConfig.from_url(f"kafka://{kafka_bootstrap}/{topic}?group_id={group}")
        s = KafkaStore(config)
        s.start(lambda offset, key, value: None)
        return s

    key = b'{"keytype":"CONFIG","subject":null,"magic":0}'
    old, new = store("group-old"), store("group-new")
    try:
        old.join_election("http://127.0.0.1:1")
        wait_for(lambda: old.is_leader, 20, "the first election")
        old.append(key, b'{"compatibilityLevel":"FULL"}')
        new.join_election("http://127.0.0.1:2")
        wait_for(lambda: new.is_leader, 20, "the second election")
        with pytest.raises(NotLeaderError, match="another instance took over"):
            old.append(key, b'{"compatibilityLevel":"NONE"}')
        assert not old.is_leader
        last = new.append(key, b'{"compatibilityLevel":"FORWARD"}')
        new.wait_applied(last, 10)
        values = [v for _, k, v in new.read() if k == key]
        assert values == [b'{"compatibilityLevel":"FULL"}', b'{"compatibilityLevel":"FORWARD"}']
    finally:
        old.close()
        new.close()


def test_creates_compacted_single_partition_topics(
    kafka_bootstrap: str, kafka_admin: AdminClient, topic: str
) -> None:
    with BackgroundServer(settings(kafka_bootstrap, topic)) as srv:
        leader_of(srv)
        metadata = kafka_admin.list_topics(timeout=10)
        for name in (topic, f"{topic}_leader"):
            assert len(metadata.topics[name].partitions) == 1
            resource = ConfigResource(ConfigResource.Type.TOPIC, name)
            entries = kafka_admin.describe_configs([resource])[resource].result(timeout=10)
            assert entries["cleanup.policy"].value == "compact"
        with httpx.Client(base_url=srv.url) as c:
            assert register(c, "a", A1) == 1
    # The record on the topic is Confluent's, byte for byte.
    records = read_raw(kafka_bootstrap, topic)
    assert records == [
        (
            b'{"keytype":"SCHEMA","subject":"a","version":1,"magic":1}',
            json.dumps(
                {
                    "subject": "a",
                    "version": 1,
                    "id": 1,
                    "schema": A1.replace(" ", ""),
                    "deleted": False,
                },
                separators=(",", ":"),
            ).encode(),
        )
    ]


def test_restart_keeps_ids_versions_deletes_config_and_mode(
    kafka_bootstrap: str, topic: str
) -> None:
    with (
        BackgroundServer(settings(kafka_bootstrap, topic)) as srv,
        httpx.Client(base_url=srv.url) as c,
    ):
        leader_of(srv)
        assert register(c, "a", A1) == 1
        assert register(c, "a", A2) == 2
        assert register(c, "b", B1) == 3
        assert register(c, "c", A3) == 4
        assert c.delete("/subjects/a/versions/2").json() == 2  # soft
        assert c.delete("/subjects/c").json() == [1]
        assert c.delete("/subjects/c", params={"permanent": "true"}).json() == [1]  # hard: id 4
        assert c.put("/config", json={"compatibility": "FULL"}).status_code == 200
        assert c.put("/config/a", json={"compatibility": "NONE"}).status_code == 200
        assert c.put("/mode/b", json={"mode": "READONLY"}).status_code == 200
        before = snapshot(c)

    with (
        BackgroundServer(settings(kafka_bootstrap, topic)) as srv,
        httpx.Client(base_url=srv.url) as c,
    ):
        # Reads are served from the replayed log at once, before any election.
        assert snapshot(c) == before
        assert c.get("/subjects/a/versions").json() == [1]
        assert c.get("/subjects/a/versions", params={"deleted": "true"}).json() == [1, 2]
        assert c.get("/schemas/ids/2").status_code == 200  # soft-deleted, still served
        assert c.get("/schemas/ids/4").status_code == 404  # hard-deleted
        leader_of(srv)
        # The highest id ever used survives the hard delete: the next one is 5, not 4.
        assert register(c, "d", A3) == 5
        r = post(c, "/subjects/b/versions", {"schema": record("B", field("x"), field("q"))})
        assert r.json()["error_code"] == 42205  # b is still read-only

    with (
        BackgroundServer(settings(kafka_bootstrap, topic)) as srv,
        httpx.Client(base_url=srv.url) as c,
    ):
        assert c.get("/subjects/d/versions/1").json()["id"] == 5


# -- several instances ----------------------------------------------------------------------


@pytest.fixture
def pair(kafka_bootstrap: str, topic: str) -> Iterator[tuple[BackgroundServer, BackgroundServer]]:
    with (
        BackgroundServer(settings(kafka_bootstrap, topic)) as a,
        BackgroundServer(settings(kafka_bootstrap, topic)) as b,
    ):
        leader_of(a, b)
        yield a, b


def test_a_write_through_either_instance_is_visible_through_both_within_a_second(
    pair: tuple[BackgroundServer, BackgroundServer], capsys: pytest.CaptureFixture[str]
) -> None:
    a, b = pair
    leader = leader_of(a, b)
    writes: list[float] = []  # request sent -> answered
    latencies: list[float] = []  # request sent -> visible on the other instance
    with httpx.Client(base_url=a.url) as ca, httpx.Client(base_url=b.url) as cb:
        for i, (writer, reader) in enumerate([(ca, cb), (cb, ca)] * 10):
            subject = f"s{i}"
            started = time.monotonic()
            schema_id = register(writer, subject, record(f"R{i}", field("x")))
            writes.append(time.monotonic() - started)
            # Read-your-writes on the instance written through, leader or not.
            assert writer.get(f"/subjects/{subject}/versions/latest").json()["id"] == schema_id
            wait_for(
                lambda s=subject, r=reader: r.get(f"/subjects/{s}/versions").status_code == 200,
                1.0,
                f"{subject} visible on the other instance",
            )
            latencies.append(time.monotonic() - started)
        # Deletes, configs and modes travel the same way.
        assert cb.delete("/subjects/s0").status_code == 200
        wait_for(lambda: ca.get("/subjects/s0/versions").status_code == 404, 1.0, "delete")
        assert ca.put("/config/s1", json={"compatibility": "FULL"}).status_code == 200
        wait_for(lambda: cb.get("/config/s1").status_code == 200, 1.0, "config")
        assert cb.put("/mode/s2", json={"mode": "READONLY"}).status_code == 200
        wait_for(lambda: ca.get("/mode/s2").status_code == 200, 1.0, "mode")
        assert ca.put("/config", json={"compatibility": "NONE"}).status_code == 200
        wait_for(lambda: cb.get("/config").json()["compatibilityLevel"] == "NONE", 1.0, "global")
        assert snapshot(ca) == snapshot(cb)
    assert kafka_store(leader).is_leader  # leadership did not move
    with capsys.disabled():
        writes.sort()
        latencies.sort()
        print(
            f"\n[kafka store] register: median {writes[len(writes) // 2] * 1000:.1f} ms, "
            f"max {writes[-1] * 1000:.1f} ms; request -> visible on the other instance: "
            f"median {latencies[len(latencies) // 2] * 1000:.1f} ms, "
            f"max {latencies[-1] * 1000:.1f} ms"
        )


def _parallel(jobs: list[tuple[str, str, str]]) -> list[httpx.Response]:
    """(base url, subject, schema) registrations, all at once."""
    barrier = threading.Barrier(len(jobs))

    def one(job: tuple[str, str, str]) -> httpx.Response:
        url, subject, schema = job
        with httpx.Client(base_url=url, timeout=60) as c:
            barrier.wait()
            return post(c, f"/subjects/{subject}/versions", {"schema": schema})

    with ThreadPoolExecutor(len(jobs)) as pool:
        return list(pool.map(one, jobs))


def test_parallel_distinct_schemas_over_two_instances_get_distinct_ids(
    pair: tuple[BackgroundServer, BackgroundServer],
) -> None:
    a, b = pair
    schemas = [record(f"R{i}", field("x")) for i in range(N)]
    jobs = [((a, b)[i % 2].url, f"subject-{i}", s) for i, s in enumerate(schemas)]
    responses = _parallel(jobs)
    assert all(r.status_code == 200 for r in responses), [r.text for r in responses]
    ids = [int(r.json()["id"]) for r in responses]
    assert sorted(ids) == list(range(1, N + 1))
    for srv in (a, b):
        with httpx.Client(base_url=srv.url) as c:
            wait_for(lambda c=c: len(c.get("/subjects").json()) == N, 1.0, "all subjects")
            for schema_id, schema in zip(ids, schemas, strict=True):
                got = json.loads(c.get(f"/schemas/ids/{schema_id}").json()["schema"])
                assert got == json.loads(schema)


def test_parallel_registrations_of_one_schema_get_one_id_and_one_version(
    pair: tuple[BackgroundServer, BackgroundServer],
) -> None:
    a, b = pair
    schema = record("Same", field("x"))
    responses = _parallel([((a, b)[i % 2].url, "same", schema) for i in range(N)])
    assert all(r.status_code == 200 for r in responses), [r.text for r in responses]
    assert {r.json()["id"] for r in responses} == {1}
    for srv in (a, b):
        with httpx.Client(base_url=srv.url) as c:
            wait_for(lambda c=c: c.get("/subjects/same/versions").status_code == 200, 1.0)
            assert c.get("/subjects/same/versions").json() == [1]


def test_the_other_instance_takes_over_when_the_leader_stops(
    kafka_bootstrap: str, topic: str, capsys: pytest.CaptureFixture[str]
) -> None:
    a = BackgroundServer(settings(kafka_bootstrap, topic)).start()
    b = BackgroundServer(settings(kafka_bootstrap, topic)).start()
    servers = [a, b]
    try:
        leader = leader_of(a, b)
        follower = b if leader is a else a
        leader_url, follower_url = leader.url, follower.url
        ok: dict[str, int] = {}
        failures: list[str | int] = []  # exception names, Confluent error codes
        stop = threading.Event()

        def writer(worker: int) -> None:
            # Writes through the follower (forwarded) and, until it stops, the leader.
            with httpx.Client(timeout=60) as c:
                i = 0
                while not stop.is_set():
                    url = follower_url if i % 2 or leader_stopped.is_set() else leader_url
                    subject = f"w{worker}-{i}"
                    try:
                        r = post(c, f"{url}/subjects/{subject}/versions", {"schema": B1})
                    except httpx.TransportError as exc:  # the stopping leader's socket
                        failures.append(type(exc).__name__)
                    else:
                        if r.status_code == 200:
                            ok[subject] = int(r.json()["id"])
                        else:
                            failures.append(int(r.json()["error_code"]))
                    i += 1

        leader_stopped = threading.Event()
        threads = [threading.Thread(target=writer, args=(w,)) for w in range(4)]
        for t in threads:
            t.start()
        time.sleep(1.0)
        before = len(ok)
        started = time.monotonic()
        leader.stop()
        leader_stopped.set()
        servers.remove(leader)
        takeover = wait_for(lambda: kafka_store(follower).is_leader, 30, "the takeover")
        wait_for(lambda: len(ok) > before + 20, 20, "writes after the takeover")
        stop.set()
        for t in threads:
            t.join()
        took = time.monotonic() - started
        # Only a leader being shut down may fail a write, and only as a forwarding failure or
        # a closed connection: never a wrong answer.
        for failure in failures:
            assert failure in (50003, 50004) or isinstance(failure, str), failures
        assert set(ok.values()) == {1}  # one schema registered in many subjects: one id
        with httpx.Client(base_url=follower.url) as c:
            subjects = set(c.get("/subjects").json())
            assert set(ok) <= subjects  # every acknowledged write is there
            assert register(c, "after", A1) == 2  # and writes keep working
        with capsys.disabled():
            print(
                f"\n[kafka store] failover: follower led {takeover * 1000:.0f} ms after the "
                f"leader stopped; {len(ok)} writes acknowledged, failed while it stopped: "
                f"{dict(Counter(failures))} ({took:.1f} s)"
            )
    finally:
        for srv in servers:
            srv.stop()


def test_forwarded_writes_keep_the_callers_credentials(
    kafka_bootstrap: str, topic: str, users_file: Path
) -> None:
    with (
        BackgroundServer(settings(kafka_bootstrap, topic, auth_file=users_file)) as a,
        BackgroundServer(settings(kafka_bootstrap, topic, auth_file=users_file)) as b,
    ):
        leader = leader_of(a, b)
        follower = b if leader is a else a
        with httpx.Client(base_url=follower.url, auth=("alice", "alice-secret")) as alice:
            assert register(alice, "s", A1) == 1
        with httpx.Client(base_url=follower.url, auth=("bob", "bob-secret")) as bob:
            r = post(bob, "/subjects/s/versions", {"schema": A2})
            assert r.status_code == 403
        with httpx.Client(base_url=follower.url) as anonymous:
            assert post(anonymous, "/subjects/s/versions", {"schema": A2}).status_code == 401
        # A forwarded request is authenticated again by the leader.
        with httpx.Client(base_url=leader.url) as anonymous:
            r = anonymous.post(
                "/subjects/s/versions",
                content=json.dumps({"schema": A2}),
                headers={"Content-Type": V1_JSON, "x-avrobridge-forwarded": "x"},
            )
            assert r.status_code == 401


# -- topics written by Confluent Schema Registry or Karapace ------------------------------


def _schema_value(
    subject: str, version: int, schema_id: int, schema: str, **extra: object
) -> bytes:
    value = {"subject": subject, "version": version, "id": schema_id, "schema": schema}
    value.update(extra)
    value.setdefault("deleted", False)
    return json.dumps(value, separators=(",", ":")).encode()


def _key(keytype: str, subject: str | None, version: int | None = None) -> bytes:
    if keytype == "SCHEMA":
        return (
            f'{{"keytype":"SCHEMA","subject":{json.dumps(subject)},"version":{version},"magic":1}}'
        ).encode()
    return f'{{"keytype":"{keytype}","subject":{json.dumps(subject)},"magic":0}}'.encode()


def test_reads_a_topic_written_by_confluent_or_karapace(
    kafka_bootstrap: str, new_topic: Callable[..., str]
) -> None:
    topic = new_topic("confluent-schemas", config={"cleanup.policy": "compact"})
    a1 = '{"type":"record","name":"A","fields":[{"name":"x","type":"string"}]}'
    a2 = (
        '{"type":"record","name":"A","fields":[{"name":"x","type":"string"},'
        '{"name":"y","type":"int","default":0}]}'
    )
    b1 = '{"type":"record","name":"B","fields":[{"name":"x","type":"string"}]}'
    c1 = '{"type":"record","name":"C","fields":[{"name":"x","type":"string"}]}'
    u1 = '{"type":"record","name":"U","fields":[{"name":"b","type":"B"}]}'
    produce_raw(
        kafka_bootstrap,
        topic,
        [
            (b'{"keytype":"NOOP","magic":0}', None),  # Confluent's KafkaStore writes these
            (_key("SCHEMA", "a", 1), _schema_value("a", 1, 1, a1)),
            (_key("SCHEMA", "a", 2), _schema_value("a", 2, 2, a2)),
            (_key("SCHEMA", "b", 1), _schema_value("b", 1, 3, b1)),
            # Soft-deleting a version writes the same key again with deleted:true.
            (_key("SCHEMA", "a", 2), _schema_value("a", 2, 2, a2, deleted=True)),
            (_key("CONFIG", None), b'{"compatibilityLevel":"FULL"}'),
            (_key("CONFIG", "a"), b'{"compatibilityLevel":"NONE"}'),
            (_key("MODE", "b"), b'{"mode":"READONLY"}'),
            # Karapace's older key field order; a schema with a reference.
            (
                b'{"subject":"u","version":1,"magic":1,"keytype":"SCHEMA"}',
                _schema_value(
                    "u",
                    1,
                    4,
                    u1,
                    references=[{"name": "B", "subject": "b", "version": 1}],
                ),
            ),
            # Subject c: registered, soft-deleted as a subject, then permanently deleted.
            (_key("SCHEMA", "c", 1), _schema_value("c", 1, 5, c1)),
            (_key("DELETE_SUBJECT", "c"), b'{"subject":"c","version":1}'),
            (_key("SCHEMA", "c", 1), _schema_value("c", 1, 5, c1, deleted=True)),
            (_key("SCHEMA", "c", 1), None),  # tombstone
            # A record kind this registry does not know is skipped, not fatal.
            (b'{"keytype":"DELETE_CONTEXT","magic":0}', b"{}"),
        ],
    )
    with (
        BackgroundServer(settings(kafka_bootstrap, topic)) as srv,
        httpx.Client(base_url=srv.url) as c,
    ):
        assert c.get("/subjects").json() == ["a", "b", "u"]
        assert c.get("/subjects/a/versions").json() == [1]
        assert c.get("/subjects/a/versions", params={"deleted": "true"}).json() == [1, 2]
        assert c.get("/subjects/a/versions/1").json() == {
            "subject": "a",
            "version": 1,
            "id": 1,
            "schema": a1,
        }
        assert c.get("/schemas/ids/2").json() == {"schema": a2}  # soft-deleted, still served
        assert c.get("/schemas/ids/5").status_code == 404  # permanently deleted
        assert c.get("/subjects/c/versions", params={"deleted": "true"}).status_code == 404
        assert c.get("/config").json() == {"compatibilityLevel": "FULL"}
        assert c.get("/config/a").json() == {"compatibilityLevel": "NONE"}
        assert c.get("/mode/b").json() == {"mode": "READONLY"}
        assert c.get("/subjects/u/versions/1").json()["references"] == [
            {"name": "B", "subject": "b", "version": 1}
        ]
        assert c.get("/subjects/b/versions/1/referencedby").json() == [4]
        leader_of(srv)
        # Ids continue after the highest ever seen (5, although its record is a tombstone now).
        assert register(c, "d", record("D", field("x"))) == 6
        r = post(c, "/subjects/b/versions", {"schema": record("B", field("x"), field("q"))})
        assert r.json()["error_code"] == 42205  # b is read-only
        # Registering the soft-deleted a v2 schema again: a new version with its old id.
        assert c.put("/config/a", json={"compatibility": "BACKWARD"}).status_code == 200
        assert register(c, "a", a2) == 2
        assert c.get("/subjects/a/versions").json() == [1, 3]


def test_the_highest_id_survives_compaction(kafka_bootstrap: str, topic: str) -> None:
    # The election topic remembers the highest id; here the log itself shows only id 1 (as
    # after the compaction of tombstoned records whose ids went up to 41).
    with (
        BackgroundServer(settings(kafka_bootstrap, topic)) as srv,
        httpx.Client(base_url=srv.url) as c,
    ):
        leader_of(srv)
        assert register(c, "a", A1) == 1
    produce_raw(kafka_bootstrap, f"{topic}_leader", [(b"max-id", b'{"maxId":41}')])
    with (
        BackgroundServer(settings(kafka_bootstrap, topic)) as srv,
        httpx.Client(base_url=srv.url) as c,
    ):
        leader_of(srv)
        assert register(c, "b", B1) == 42
    # Each write that raises the highest id records it, in the same transaction.
    coordination = dict(read_raw(kafka_bootstrap, f"{topic}_leader"))
    assert json.loads(coordination[b"max-id"] or b"{}") == {"maxId": 42}
    announced = json.loads(coordination[b"leader"] or b"{}")
    assert announced["url"].startswith("http://127.0.0.1:")


def test_serve_command_with_a_kafka_store(kafka_bootstrap: str, topic: str) -> None:
    port = free_port()
    advertised = f"http://localhost:{port}"
    argv = [
        sys.executable,
        "-m",
        "avrobridge.registry",
        "serve",
        "--port",
        str(port),
        "--store",
        f"kafka://{kafka_bootstrap}/{topic}",
        "--advertise-url",
        advertised,
        "--log-level",
        "warning",
    ]
    proc = subprocess.Popen(argv)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_for(lambda: _healthy(url) or proc.poll() is not None, 30, "the server")
        assert proc.poll() is None
        deadline = time.monotonic() + 20
        while True:  # the first write waits for the election
            r = httpx.post(f"{url}/subjects/s/versions", json={"schema": A1}, timeout=30)
            if r.status_code == 200 or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert r.json() == {"id": 1}
        announced = json.loads(dict(read_raw(kafka_bootstrap, f"{topic}_leader"))[b"leader"] or b"")
        assert announced["url"] == advertised
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0


def _healthy(url: str) -> bool:
    try:
        return httpx.get(f"{url}/health").status_code == 200
    except httpx.TransportError:
        return False


# -- failures -------------------------------------------------------------------------------


def test_unreachable_kafka_at_startup_is_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    url = f"kafka://127.0.0.1:{free_port()}/_schemas?timeout=2"
    started = time.monotonic()
    with pytest.raises(StoreError, match=r"cannot reach Kafka at 127\.0\.0\.1"):
        BackgroundServer(ServerSettings(port=0, store=url, log_level="warning"))
    assert time.monotonic() - started < 10
    assert registry_main(["serve", "--port", "0", "--store", url]) == 1
    err = capsys.readouterr().err
    assert "avrobridge registry serve: cannot reach Kafka" in err
    assert "Traceback" not in err


def test_a_leader_that_cannot_be_reached_gives_50003_not_a_hang(
    kafka_bootstrap: str, topic: str
) -> None:
    a = BackgroundServer(settings(kafka_bootstrap, topic, timeout=2)).start()
    leader_of(a)
    b = BackgroundServer(settings(kafka_bootstrap, topic, timeout=2)).start()
    try:
        # a's HTTP server goes away, but a stays the leader (its Kafka clients run on).
        a.server.should_exit = True
        a._thread.join(timeout=20)
        with httpx.Client(base_url=b.url, timeout=30) as c:
            started = time.monotonic()
            r = post(c, "/subjects/s/versions", {"schema": A1})
            took = time.monotonic() - started
            assert r.status_code == 500
            assert r.json() == {
                "error_code": 50003,
                "message": "Error while forwarding register schema request to the leader",
            }
            assert 1.5 < took < 5
            r = c.put("/config/s", json={"compatibility": "FULL"})
            assert r.json()["error_code"] == 50003 and "update config" in r.json()["message"]
            assert c.get("/subjects").status_code == 200  # reads are still served
            # Once a leaves the election, b takes over and writes work again.
            a.service.close()
            leader_of(b)
            assert register(c, "s", A1) == 1
    finally:
        b.stop()
        a.service.close()


def test_kafka_going_away_gives_timeouts_never_a_hang_and_recovers(
    capsys: pytest.CaptureFixture[str],
) -> None:
    broker = KafkaBroker()
    broker.start()
    try:
        pid = broker.pid
        assert pid is not None
        store = f"kafka://{broker.bootstrap}/_schemas?timeout=3"
        with (
            BackgroundServer(ServerSettings(port=0, store=store, log_level="warning")) as srv,
            httpx.Client(base_url=srv.url, timeout=60) as c,
        ):
            leader_of(srv)
            assert register(c, "a", A1) == 1
            os.kill(pid, signal.SIGSTOP)  # Kafka stops answering (connections hang)
            try:
                started = time.monotonic()
                r = post(c, "/subjects/b/versions", {"schema": B1})
                took = time.monotonic() - started
                assert r.status_code == 500, r.text
                failed = r.json()
                assert failed["error_code"] in (50001, 50002, 50003, 50004), r.text
                assert took < 15, took
                # Reads keep being served from the state, and the server keeps running.
                assert c.get("/subjects").json() == ["a"]
                assert c.get("/schemas/ids/1").status_code == 200
                assert c.get("/health").json() == {"status": "UP"}
            finally:
                os.kill(pid, signal.SIGCONT)
            # Kafka is back: after a new election (if the session expired) writes work again.
            deadline = time.monotonic() + 60
            resumed = time.monotonic()
            while True:
                r = post(c, "/subjects/b/versions", {"schema": B1})
                if r.status_code == 200 or time.monotonic() > deadline:
                    break
                time.sleep(0.5)
            assert r.status_code == 200, r.text
            assert r.json() == {"id": 2}
            with capsys.disabled():
                print(
                    f"\n[kafka store] a write with Kafka frozen failed after {took:.1f} s "
                    f"({failed}); writes worked again {time.monotonic() - resumed:.1f} s after "
                    "Kafka came back"
                )
    finally:
        broker.stop()
