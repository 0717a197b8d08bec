"""The log in a compacted Kafka topic, in Confluent's `_schemas` format, shared by instances.

``kafka://host:port[,host:port...]/_schemas[?option=value&...]``

Every instance tails the topic (one consumer thread, partition 0 assigned from the beginning,
no group, ``read_committed``) and applies each record to its state, so reads on any instance
see a write a few tens of milliseconds after it was committed. Exactly one instance writes:

* **Election.** All instances join one consumer group subscribed to a single-partition
  *election topic* (``<topic>_leader``); the member assigned partition 0 is the leader
  (``cooperative-sticky`` assignment, so a joining instance does not take leadership away).
* **Fencing.** The leader writes through a transactional producer whose ``transactional.id``
  is the same on every instance. ``init_transactions`` on a new leader fences every earlier
  one: a former leader that still believes it leads (a pause, a partition) can no longer
  commit, so two instances can never both hand out the next id.
* **Catch-up.** After fencing, the new leader reads both topics to their end before it serves
  a write, so its ids continue from the maximum and its decisions see every earlier write.
* **Announcement.** It then publishes ``{"url", "instance"}`` under the key ``leader`` in the
  election topic; every instance tails that topic too and forwards writes to that URL
  (``forwarding.py``). A write is answered after the leader has consumed its own record.
* **Ids across compaction.** With each write that raises the highest id, the leader also
  writes ``{"maxId": N}`` under the key ``max-id`` in the election topic, in the same
  transaction. That key is never deleted, so the highest id survives the compaction of
  tombstoned schema records, which is where Confluent and Karapace can reuse an id.

Options (query parameters): ``timeout`` (seconds for startup, Kafka operations and leader
forwarding; default 10), ``election_topic``, ``group_id``, ``transactional_id``,
``replication_factor`` (for created topics; default min(3, brokers)),
``session_timeout_ms`` (default 10000: how long a crashed leader keeps leadership); any
parameter containing a dot is passed to every Kafka client as a librdkafka property (e.g.
``security.protocol=SSL&ssl.ca.location=/etc/ca.pem``).
"""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from confluent_kafka import (
    OFFSET_BEGINNING,
    Consumer,
    KafkaError,
    KafkaException,
    Message,
    Producer,
    TopicPartition,
)
from confluent_kafka.admin import AdminClient
from confluent_kafka.admin._config import ConfigResource
from confluent_kafka.cimpl import NewTopic  # confluent_kafka.admin re-exports it untyped

from ..errors import ConfigError
from ..kafkalog import CollapsedLog, kafka_logger
from .logstore import AppliedTracker, Apply, LogRecord, NotLeaderError, StoreError
from .records import KeyType, decode_key, decode_value

__all__ = ["KafkaStore", "KafkaStoreConfig", "Leader"]

log = logging.getLogger(__name__)

#: Seconds a fenced leader waits before it tries to lead again (if it still holds partition 0).
_FENCED_BACKOFF = 2.0
#: Keys of the election topic.
LEADER_KEY = b"leader"
MAX_ID_KEY = b"max-id"

_TOPIC_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")
_OPTIONS = frozenset(
    [
        "timeout",
        "election_topic",
        "group_id",
        "transactional_id",
        "replication_factor",
        "session_timeout_ms",
    ]
)


def _valid_topic(name: str) -> bool:
    return 0 < len(name) <= 249 and name not in (".", "..") and set(name) <= _TOPIC_CHARS


@dataclass(frozen=True)
class KafkaStoreConfig:
    bootstrap: str
    topic: str = "_schemas"
    election_topic: str = ""
    group_id: str = ""
    transactional_id: str = ""
    #: Extra librdkafka properties for every client (security settings and the like).
    client: Mapping[str, str] = field(default_factory=dict)
    timeout: float = 10.0
    replication_factor: int | None = None
    session_timeout_ms: int = 10_000

    def __post_init__(self) -> None:
        if not self.election_topic:
            object.__setattr__(self, "election_topic", f"{self.topic}_leader")
        if not self.group_id:
            object.__setattr__(self, "group_id", f"avrobridge-registry-{self.topic}")
        if not self.transactional_id:
            object.__setattr__(self, "transactional_id", f"avrobridge-registry-{self.topic}")

    @classmethod
    def from_url(cls, url: str) -> KafkaStoreConfig:
        """Parses ``kafka://host:port[,host:port]/topic[?options]`` (ConfigError when bad)."""
        example = "e.g. kafka://broker:9092/_schemas"
        parts = urlsplit(url)
        if parts.scheme != "kafka" or not parts.netloc:
            raise ConfigError(f"--store {url!r}: give the brokers and the topic, {example}")
        topic = unquote(parts.path.lstrip("/"))
        if not topic:
            raise ConfigError(f"--store {url!r}: give the topic after the brokers, {example}")
        if not _valid_topic(topic):
            raise ConfigError(f"--store {url!r}: {topic!r} is not a valid Kafka topic name")
        for broker in parts.netloc.split(","):
            host, sep, port = broker.rpartition(":")
            if not sep or not host or not port.isdigit():
                raise ConfigError(f"--store {url!r}: brokers are host:port, {example}")
        options: dict[str, Any] = {}
        client: dict[str, str] = {}
        for name, value in parse_qsl(parts.query, keep_blank_values=True):
            if "." in name:
                client[name] = value
            elif name in _OPTIONS:
                options[name] = value
            else:
                known = ", ".join(sorted(_OPTIONS))
                raise ConfigError(
                    f"--store {url!r}: unknown option {name!r} (known: {known}, or a "
                    "librdkafka property such as security.protocol)"
                )
        try:
            timeout = float(options.pop("timeout", 10.0))
            factor = options.pop("replication_factor", None)
            session = int(options.pop("session_timeout_ms", 10_000))
            replication = int(factor) if factor is not None else None
        except ValueError:
            raise ConfigError(f"--store {url!r}: a numeric option is not a number") from None
        if not 0 < timeout <= 600 or (replication is not None and replication < 1):
            raise ConfigError(f"--store {url!r}: timeout or replication_factor out of range")
        election = str(options.pop("election_topic", ""))
        if election and not _valid_topic(election):
            raise ConfigError(f"--store {url!r}: election_topic {election!r} is not valid")
        return cls(
            bootstrap=parts.netloc,
            topic=topic,
            election_topic=election,
            group_id=str(options.pop("group_id", "")),
            transactional_id=str(options.pop("transactional_id", "")),
            client=client,
            timeout=timeout,
            replication_factor=replication,
            session_timeout_ms=session,
        )


@dataclass(frozen=True)
class Leader:
    """Where writes go: this instance (``is_self``) or the URL another one announced."""

    url: str
    instance: str
    is_self: bool


#: Client errors librdkafka also logs itself (a broker that cannot be reached).
_LOGGED_BY_LIBRDKAFKA = frozenset(
    {KafkaError._TRANSPORT, KafkaError._RESOLVE, KafkaError._ALL_BROKERS_DOWN}
)


def _kafka_error(exc: BaseException) -> KafkaError | None:
    if isinstance(exc, KafkaException) and exc.args and isinstance(exc.args[0], KafkaError):
        return exc.args[0]
    return None


def _describe(exc: BaseException) -> str:
    err = _kafka_error(exc)
    return err.str() if err is not None else str(exc) or type(exc).__name__


class KafkaStore:
    """A :class:`~avrobridge.registry.store.LogStore` over a Kafka topic, with leader election.

    ``start`` creates the topics if missing and replays the log; ``join_election(url)``
    (called once the HTTP server listens) makes the instance a candidate for leadership.
    Only the leader may ``append``; others raise :class:`NotLeaderError` and the HTTP layer
    forwards their writes to :meth:`leader`.
    """

    def __init__(self, config: KafkaStoreConfig) -> None:
        self.config = config
        self.instance_id = uuid.uuid4().hex
        self.advertise_url: str | None = None
        self._tracker = AppliedTracker()
        self._cond = threading.Condition()
        # Guarded by _cond:
        self._positions: dict[str, int] = {}  # topic -> offsets below this are consumed
        self._announced: Leader | None = None
        self._coordination_max_id = 0  # the election topic's max-id record
        self._log_max_id = 0  # the highest id in the SCHEMA records consumed
        self._assigned = False  # this instance holds partition 0 of the election topic
        self._term = 0  # bumped on every assignment of partition 0
        self._ready = False  # leader, fenced earlier leaders, caught up, announced
        self._not_before = 0.0  # after being fenced: no new attempt to lead before this
        self._producer: Producer | None = None
        self._produce_lock = threading.Lock()  # one transaction at a time
        self._stop = threading.Event()
        self._tail: Consumer | None = None
        self._tail_thread: threading.Thread | None = None
        self._election_thread: threading.Thread | None = None
        self._meta: Consumer | None = None  # watermark queries
        self._meta_lock = threading.Lock()
        # Repeated client errors (a broker down): once per interval, with a count.
        self._log = CollapsedLog(log)
        #: The last error a client reported (for a start-up failure's message).
        self._last_client_error: str | None = None
        self._closed = False

    # -- client configuration -----------------------------------------------------------

    def _client_config(
        self, extra: Mapping[str, Any] | None = None, *, error_cb: bool = True
    ) -> dict[str, Any]:
        conf: dict[str, Any] = {
            "bootstrap.servers": self.config.bootstrap,
            "client.id": f"avrobridge-registry-{self.instance_id[:8]}",
            "logger": kafka_logger("avrobridge.registry.kafka.librdkafka"),
            "reconnect.backoff.max.ms": 1000,
        }
        if error_cb:
            conf["error_cb"] = self._on_client_error
        conf.update(extra or {})
        conf.update(self.config.client)  # the operator's settings win
        return conf

    def _consumer_config(self) -> dict[str, Any]:
        return self._client_config(
            {
                "group.id": f"avrobridge-registry-reader-{self.instance_id}",  # never joined
                "enable.auto.commit": False,
                "isolation.level": "read_committed",
                "enable.partition.eof": True,
                "fetch.wait.max.ms": 50,
                "auto.offset.reset": "earliest",
            }
        )

    def _on_client_error(self, err: KafkaError) -> None:
        # "1/1 brokers are down" says less than the connection failure before it.
        if err.code() != KafkaError._ALL_BROKERS_DOWN or self._last_client_error is None:
            self._last_client_error = err.str()
        if err.code() in _LOGGED_BY_LIBRDKAFKA:
            return  # its own log line (FAIL) already says it, through kafka_logger
        self._log.warning("Kafka (%s): %s", self.config.bootstrap, err.str())

    # -- LogStore -----------------------------------------------------------------------

    def start(self, apply: Apply) -> None:
        """Creates the topics if missing, then replays the log; StoreError when Kafka cannot
        be reached or read within the timeout (nothing is left running then)."""
        self._tracker.bind(apply)
        try:
            self._ensure_topics()
            self._meta = Consumer(self._consumer_config())
            self._tail = Consumer(self._consumer_config())
            self._tail.assign(
                [
                    TopicPartition(self.config.topic, 0, OFFSET_BEGINNING),
                    TopicPartition(self.config.election_topic, 0, OFFSET_BEGINNING),
                ]
            )
            self._tail_thread = threading.Thread(
                target=self._run_tail, name=f"registry-tail-{self.config.topic}", daemon=True
            )
            self._tail_thread.start()
            ends = self._end_offsets()
            self._wait_positions(ends, self.config.timeout)
        except (StoreError, ConfigError):
            self.close()
            raise
        except Exception as exc:
            self.close()
            raise StoreError(
                f"cannot use Kafka at {self.config.bootstrap}: {_describe(exc)}"
            ) from exc
        except BaseException:
            self.close()
            raise
        log.info(
            "read %s to offset %d (%s)",
            self.config.topic,
            ends[self.config.topic],
            self.config.bootstrap,
        )

    def append(self, key: bytes, value: bytes | None) -> int:
        return self.append_all([(key, value)])

    def append_all(self, records: Sequence[tuple[bytes, bytes | None]]) -> int:
        """Writes the records in one transaction; returns the last record's offset.

        NotLeaderError when this instance is not (or no longer) the leader, TimeoutError when
        Kafka did not take them within the timeout, StoreError for other Kafka failures. After
        an error the transaction is aborted; only a timeout of the commit itself leaves the
        outcome open (as with Confluent's timeouts: the client may retry, registering is
        idempotent).
        """
        if not records:
            return self._tracker.applied
        timeout = self.config.timeout
        with self._produce_lock:
            with self._cond:
                producer = self._producer if self._ready else None
                floor = max(self._coordination_max_id, self._log_max_id)
            if producer is None:
                raise NotLeaderError("this instance is not the leader")
            delivered_records: list[Message] = []
            failures: list[KafkaError] = []

            def delivered(err: KafkaError | None, msg: Message) -> None:
                # Kept minimal: after a fatal error (fenced) confluent-kafka runs delivery
                # callbacks with that error's exception already raised, and the call fails
                # with a SystemError caused by it (``_unwrap`` finds the cause).
                if err is not None:
                    failures.append(err)
                else:
                    delivered_records.append(msg)

            top = max((_schema_id(k, v) for k, v in records), default=0)
            try:
                producer.begin_transaction()
                for key, value in records:
                    producer.produce(
                        self.config.topic, key=key, value=value, partition=0, on_delivery=delivered
                    )
                if top > floor:
                    producer.produce(
                        self.config.election_topic,
                        key=MAX_ID_KEY,
                        value=json.dumps({"maxId": top}).encode(),
                        partition=0,
                        on_delivery=delivered,
                    )
                if producer.flush(timeout) > 0:
                    raise TimeoutError(f"Kafka did not take the records within {timeout} s")
                if failures:
                    raise KafkaException(failures[0])
                producer.commit_transaction(timeout)
            except BaseException as raised:
                exc = _unwrap(raised)
                self._abort(producer, exc)
                raise self._translate(exc) from raised
            offsets = [
                int(msg.offset() or 0)
                for msg in delivered_records
                if msg.topic() == self.config.topic and msg.offset() is not None
            ]
            if len(offsets) != len(records):
                raise StoreError("Kafka did not report the offsets of the records")
            return max(offsets)

    def _abort(self, producer: Producer, exc: BaseException) -> None:
        err = _kafka_error(exc)
        if err is not None and err.fatal():
            # Fenced by a newer leader (or the producer broke): this instance stops writing.
            log.warning("stopping writes: %s", err.str())
            with self._cond:
                if self._producer is producer:
                    self._producer = None
                    self._ready = False
                    # The group is about to tell this instance it lost partition 0; fencing the
                    # new leader back before that would only make the two take turns.
                    self._not_before = time.monotonic() + _FENCED_BACKOFF
                    self._cond.notify_all()
            return
        try:
            producer.abort_transaction(min(self.config.timeout, 2.0))
        except Exception as abort_exc:  # the transaction times out on the broker anyway
            log.warning("could not abort a transaction: %s", _describe(abort_exc))
            with self._cond:
                if self._producer is producer:
                    # Its state is unknown: become leader again with a fresh producer.
                    self._producer = None
                    self._ready = False
                    self._cond.notify_all()

    def _translate(self, exc: BaseException) -> BaseException:
        if isinstance(exc, TimeoutError | StoreError):
            return exc
        err = _kafka_error(exc)
        if err is not None:
            if err.fatal():
                return NotLeaderError(f"another instance took over as leader ({err.str()})")
            if err.code() in (KafkaError._TIMED_OUT, KafkaError.REQUEST_TIMED_OUT):
                return TimeoutError(err.str())
        return StoreError(_describe(exc))

    def read(self, from_offset: int = 0) -> Iterator[LogRecord]:
        """The topic's records from ``from_offset`` to its end at the time of the call."""
        end = self._end_offsets()[self.config.topic]
        if from_offset >= end:
            return
        consumer = Consumer(self._consumer_config())
        try:
            consumer.assign([TopicPartition(self.config.topic, 0, max(from_offset, 0))])
            deadline = time.monotonic() + self.config.timeout
            position = from_offset
            while position < end:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"could not read {self.config.topic} to offset {end}")
                for msg in consumer.consume(500, 0.2):
                    err = msg.error()
                    offset = int(msg.offset() or 0)
                    if err is not None:
                        if err.code() == KafkaError._PARTITION_EOF:
                            position = max(position, offset)
                        continue
                    position = offset + 1
                    key = msg.key()
                    if key is not None and offset < end:
                        yield offset, key, msg.value()
        finally:
            consumer.close()

    def wait_applied(self, offset: int, timeout: float = 30.0) -> None:
        self._tracker.wait(offset, timeout)

    def close(self) -> None:
        """Leaves the election (another instance takes over), then stops reading."""
        if self._closed:
            return
        self._closed = True
        self._stop.set()
        if self._election_thread is not None:
            self._election_thread.join(timeout=self.config.timeout + 5)
        with self._cond:
            producer, self._producer = self._producer, None
            self._ready = False
            self._assigned = False
            self._cond.notify_all()
        if producer is not None:
            _discard(producer)
        if self._tail_thread is not None:
            self._tail_thread.join(timeout=5)
        for consumer in (self._tail, self._meta):
            if consumer is not None:
                try:
                    consumer.close()
                except Exception as exc:  # already closed by a failed start
                    log.debug("closing a consumer: %s", exc)
        self._tail = self._meta = None

    # -- ids ------------------------------------------------------------------------------

    def id_floor(self) -> int:
        """The highest id ever handed out as far as Kafka shows it: the ``max-id`` record of
        the election topic and the SCHEMA records consumed."""
        with self._cond:
            return max(self._coordination_max_id, self._log_max_id)

    # -- reading ----------------------------------------------------------------------------

    def _run_tail(self) -> None:
        consumer = self._tail
        assert consumer is not None
        while not self._stop.is_set():
            try:
                # consume() waits out its timeout unless the batch fills: poll() returns as
                # soon as one record is there, then whatever else arrived is drained.
                first = consumer.poll(0.1)
                messages = [first, *consumer.consume(1000, 0)] if first is not None else []
            except Exception as exc:  # never let the reader die
                self._log.warning("reading %s: %s", self.config.topic, _describe(exc))
                time.sleep(0.5)
                continue
            for msg in messages:
                try:
                    self._on_message(msg)
                except Exception:
                    log.exception("skipping a record that could not be applied")

    def _on_message(self, msg: Message) -> None:
        topic = msg.topic() or ""
        offset = int(msg.offset() or 0)
        err = msg.error()
        if err is not None:
            if err.code() == KafkaError._PARTITION_EOF:
                self._advance(topic, offset)
            else:
                self._log.warning("reading %s: %s", topic or self.config.topic, err.str())
            return
        key, value = msg.key(), msg.value()
        if topic == self.config.topic:
            if key is None:
                log.warning("skipping record at offset %d of %s: no key", offset, topic)
            else:
                schema_id = _schema_id(key, value)
                if schema_id:
                    with self._cond:
                        self._log_max_id = max(self._log_max_id, schema_id)
                self._tracker.apply(offset, key, value)
        elif topic == self.config.election_topic:
            self._on_coordination(key, value)
        self._advance(topic, offset + 1)

    def _on_coordination(self, key: bytes | None, value: bytes | None) -> None:
        data = decode_value(value)
        with self._cond:
            if key == LEADER_KEY:
                url = data.get("url") if data else None
                instance = data.get("instance") if data else None
                if isinstance(url, str) and isinstance(instance, str):
                    self._announced = Leader(url, instance, instance == self.instance_id)
                else:
                    self._announced = None
            elif key == MAX_ID_KEY and data is not None:
                top = data.get("maxId")
                if isinstance(top, int) and not isinstance(top, bool):
                    self._coordination_max_id = max(self._coordination_max_id, top)
            self._cond.notify_all()

    def _advance(self, topic: str, position: int) -> None:
        with self._cond:
            if position > self._positions.get(topic, -1):
                self._positions[topic] = position
                self._cond.notify_all()

    def _end_offsets(self) -> dict[str, int]:
        """The end (high watermark) of partition 0 of both topics, asked of the broker."""
        deadline = time.monotonic() + self.config.timeout
        ends: dict[str, int] = {}
        with self._meta_lock:
            for topic in (self.config.topic, self.config.election_topic):
                while topic not in ends:
                    meta = self._meta
                    if meta is None:
                        raise StoreError("the store is closed")
                    remaining = deadline - time.monotonic()
                    try:
                        _, high = meta.get_watermark_offsets(
                            TopicPartition(topic, 0), timeout=max(remaining, 0.1)
                        )
                        ends[topic] = int(high)
                    except KafkaException as exc:
                        # A just-created topic, a leader moving: retried until the timeout.
                        if time.monotonic() + 0.1 >= deadline:
                            raise TimeoutError(
                                f"could not find the end of {topic}: {_describe(exc)}"
                            ) from None
                        time.sleep(0.1)
        return ends

    def _wait_positions(self, ends: Mapping[str, int], timeout: float) -> None:
        def caught_up() -> bool:
            return all(self._positions.get(t, -1) >= end for t, end in ends.items())

        with self._cond:
            if not self._cond.wait_for(caught_up, timeout):
                behind = {t: self._positions.get(t, 0) for t in ends}
                raise TimeoutError(
                    f"could not read the log to its end within {timeout} s "
                    f"(at {behind}, end {dict(ends)})"
                )

    # -- topics ---------------------------------------------------------------------------

    def _ensure_topics(self) -> None:
        timeout = self.config.timeout
        admin = AdminClient(self._client_config({"socket.timeout.ms": int(timeout * 1000)}))
        try:
            metadata = admin.list_topics(timeout=timeout)
        except KafkaException as exc:
            admin.poll(0)  # runs the error callback: the connection's own last error
            raise StoreError(
                f"cannot reach Kafka at {self.config.bootstrap} within {timeout:g} s "
                f"(last error: {self._last_client_error or _describe(exc)})"
            ) from None
        brokers = len(metadata.brokers)
        factor = self.config.replication_factor or max(1, min(3, brokers))
        missing = [
            t for t in (self.config.topic, self.config.election_topic) if t not in metadata.topics
        ]
        if missing:
            new = [NewTopic(t, 1, factor, config={"cleanup.policy": "compact"}) for t in missing]
            futures = admin.create_topics(new, operation_timeout=timeout, request_timeout=timeout)
            for name, future in futures.items():
                try:
                    future.result(timeout=timeout)
                    log.info("created topic %s (compacted, replication factor %d)", name, factor)
                except KafkaException as exc:
                    err = _kafka_error(exc)
                    if err is None or err.code() != KafkaError.TOPIC_ALREADY_EXISTS:
                        raise StoreError(f"cannot create topic {name}: {_describe(exc)}") from None
            self._wait_for_leaders(admin, missing)
        topic = admin.list_topics(topic=self.config.topic, timeout=timeout).topics.get(
            self.config.topic
        )
        if topic is not None and len(topic.partitions) != 1:
            raise StoreError(
                f"topic {self.config.topic} has {len(topic.partitions)} partitions; the schemas "
                "topic must have exactly one"
            )
        self._warn_unless_compacted(admin)

    def _wait_for_leaders(self, admin: AdminClient, topics: list[str]) -> None:
        deadline = time.monotonic() + self.config.timeout
        while True:
            metadata = admin.list_topics(timeout=self.config.timeout)
            ready = [
                t
                for t in topics
                if t in metadata.topics
                and metadata.topics[t].error is None
                and all(p.leader >= 0 for p in metadata.topics[t].partitions.values())
                and metadata.topics[t].partitions
            ]
            if len(ready) == len(topics):
                return
            if time.monotonic() > deadline:
                raise StoreError(f"topics {topics} did not get a leader in time")
            time.sleep(0.05)

    def _warn_unless_compacted(self, admin: AdminClient) -> None:
        resource = ConfigResource(ConfigResource.Type.TOPIC, self.config.topic)
        try:
            future = admin.describe_configs([resource], request_timeout=self.config.timeout)
            entries = future[resource].result(timeout=self.config.timeout)
        except Exception as exc:  # only a check: without it the registry still works
            log.debug("could not describe %s: %s", self.config.topic, exc)
            return
        policy = entries.get("cleanup.policy")
        if policy is not None and "compact" not in str(policy.value):
            log.warning(
                "topic %s has cleanup.policy=%s; it should be compact, or schemas expire",
                self.config.topic,
                policy.value,
            )

    # -- election -------------------------------------------------------------------------

    def join_election(self, advertise_url: str) -> None:
        """Becomes a candidate for leadership; writes through ``advertise_url`` once leader."""
        if self._election_thread is not None or self._stop.is_set():
            return
        self.advertise_url = advertise_url.rstrip("/")
        self._election_thread = threading.Thread(
            target=self._run_election, name=f"registry-election-{self.config.topic}", daemon=True
        )
        self._election_thread.start()

    def leader(self) -> Leader | None:
        """This instance once it leads and is ready, the announced leader, or None while no
        leader is known (an election is running, or the announcement is this instance's own
        from before a restart)."""
        with self._cond:
            if self._ready and self.advertise_url is not None:
                return Leader(self.advertise_url, self.instance_id, True)
            if self._assigned:
                return None  # becoming the leader
            announced = self._announced
        if announced is None or announced.is_self or announced.url == self.advertise_url:
            return None
        return announced

    @property
    def is_leader(self) -> bool:
        with self._cond:
            return self._ready

    @property
    def applied_offset(self) -> int:
        """The offset of the last `_schemas` record this instance applied."""
        return self._tracker.applied

    def _run_election(self) -> None:
        consumer = Consumer(
            self._client_config(
                {
                    "group.id": self.config.group_id,
                    "partition.assignment.strategy": "cooperative-sticky",
                    "session.timeout.ms": self.config.session_timeout_ms,
                    "heartbeat.interval.ms": min(500, self.config.session_timeout_ms // 3),
                    "enable.auto.commit": False,
                    "auto.offset.reset": "latest",
                }
            )
        )
        consumer.subscribe(
            [self.config.election_topic],
            on_assign=self._on_assign,
            on_revoke=self._on_revoke,
            on_lost=self._on_revoke,
        )
        retry_at = 0.0
        try:
            while not self._stop.is_set():
                try:
                    consumer.poll(0.1)
                except Exception as exc:
                    self._log.warning("election: %s", _describe(exc))
                with self._cond:
                    pending = self._assigned and not self._ready
                    term = self._term
                    not_before = max(retry_at, self._not_before)
                if pending and time.monotonic() >= not_before:
                    try:
                        self._become_leader(term)
                    except Exception as exc:
                        log.warning("could not become the leader yet: %s", _describe(exc))
                        retry_at = time.monotonic() + 1.0
        finally:
            self._step_down()
            try:
                consumer.close()  # leaves the group: another instance takes over at once
            except Exception as exc:
                log.debug("closing the election consumer: %s", exc)

    def _on_assign(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        if any(p.partition == 0 for p in partitions):
            with self._cond:
                self._assigned = True
                self._term += 1
                self._cond.notify_all()
            log.info("elected leader of %s (term %d)", self.config.topic, self._term)

    def _on_revoke(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        if any(p.partition == 0 for p in partitions):
            log.info("no longer the leader of %s", self.config.topic)
            self._step_down()

    def _step_down(self) -> None:
        with self._cond:
            self._assigned = False
            self._ready = False
            self._cond.notify_all()

    def _become_leader(self, term: int) -> None:
        """Fences earlier leaders, reads to the end, announces; then serves writes."""
        timeout = self.config.timeout
        producer = Producer(
            self._client_config(
                {
                    "transactional.id": self.config.transactional_id,
                    "transaction.timeout.ms": int(max(timeout * 3, 10) * 1000),
                    "message.timeout.ms": int(timeout * 1000),
                    "linger.ms": 0,
                },
                # Fatal errors (fenced) surface as exceptions of the calls; confluent-kafka
                # would run this callback with that exception already raised.
                error_cb=False,
            )
        )
        try:
            with self._produce_lock:
                old, self._producer = self._producer, None
            if old is not None:
                _discard(old)
            producer.init_transactions(timeout)  # earlier leaders can no longer commit
            self._wait_positions(self._end_offsets(), timeout)
            with self._cond:
                top = self._log_max_id
                floor = self._coordination_max_id
            producer.begin_transaction()
            assert self.advertise_url is not None
            announcement = {
                "url": self.advertise_url,
                "instance": self.instance_id,
                "host": socket.gethostname(),
                "since": int(time.time() * 1000),
            }
            producer.produce(
                self.config.election_topic,
                key=LEADER_KEY,
                value=json.dumps(announcement).encode(),
                partition=0,
            )
            if top > floor:
                producer.produce(
                    self.config.election_topic,
                    key=MAX_ID_KEY,
                    value=json.dumps({"maxId": top}).encode(),
                    partition=0,
                )
            producer.commit_transaction(timeout)
        except BaseException:
            _discard(producer)
            raise
        with self._produce_lock, self._cond:
            if self._assigned and self._term == term and not self._stop.is_set():
                self._producer = producer
                self._ready = True
                self._cond.notify_all()
                log.info("leader of %s at %s", self.config.topic, self.advertise_url)
                return
        _discard(producer)


def _unwrap(exc: BaseException) -> BaseException:
    """The KafkaException behind a SystemError that a callback raised while it was pending."""
    seen = exc
    for _ in range(5):
        if not isinstance(seen, SystemError):
            break
        cause = seen.__cause__ or seen.__context__
        if cause is None:
            break
        seen = cause
    return seen if isinstance(seen, KafkaException) else exc


def _schema_id(key: bytes, value: bytes | None) -> int:
    """The id in a SCHEMA record (0 for anything else)."""
    if value is None or b'"SCHEMA"' not in key:
        return 0
    record_key = decode_key(key)
    if record_key is None or record_key.keytype is not KeyType.SCHEMA:
        return 0
    data = decode_value(value)
    schema_id = data.get("id") if data else None
    return schema_id if isinstance(schema_id, int) and not isinstance(schema_id, bool) else 0


def _discard(producer: Producer) -> None:
    """Drops a producer without waiting for anything it still holds."""
    try:
        producer.purge(in_queue=True, in_flight=True, blocking=False)
        producer.flush(0)
    except Exception as exc:
        log.debug("discarding a producer: %s", exc)
