"""The Kafka store's settings (``kafka://`` URLs), the configuration of its Kafka clients,
and what their errors say."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from confluent_kafka import (
    KafkaError,
    KafkaException,
    Producer,
)

from ..errors import ConfigError
from ..kafkalog import CollapsedLog, kafka_logger

log = logging.getLogger("avrobridge.registry.kafkastore")

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


def produce_max_id(producer: Producer, config: KafkaStoreConfig, top: int, **kwargs: Any) -> None:
    """Records ``top`` as the highest schema id used, in the election topic: the compacted
    ``_schemas`` topic may no longer show it once its records are deleted."""
    producer.produce(
        config.election_topic,
        key=MAX_ID_KEY,
        value=json.dumps({"maxId": top}).encode(),
        partition=0,
        **kwargs,
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


def kafka_error(exc: BaseException) -> KafkaError | None:
    if isinstance(exc, KafkaException) and exc.args and isinstance(exc.args[0], KafkaError):
        return exc.args[0]
    return None


def describe(exc: BaseException) -> str:
    err = kafka_error(exc)
    return err.str() if err is not None else str(exc) or type(exc).__name__


class KafkaClients:
    """The settings of every Kafka client of one store instance, and the errors they report."""

    def __init__(self, settings: KafkaStoreConfig, instance_id: str) -> None:
        self.settings = settings
        self.instance_id = instance_id
        # Repeated client errors (a broker down): once per interval, with a count.
        self._log = CollapsedLog(log)
        #: The last error a client reported (for a start-up failure's message).
        self.last_error: str | None = None

    def config(
        self, extra: Mapping[str, Any] | None = None, *, error_cb: bool = True
    ) -> dict[str, Any]:
        conf: dict[str, Any] = {
            "bootstrap.servers": self.settings.bootstrap,
            "client.id": f"avrobridge-registry-{self.instance_id[:8]}",
            "logger": kafka_logger("avrobridge.registry.kafka.librdkafka"),
            "reconnect.backoff.max.ms": 1000,
        }
        if error_cb:
            conf["error_cb"] = self.on_error
        conf.update(extra or {})
        conf.update(self.settings.client)  # the operator's settings win
        return conf

    def consumer_config(self) -> dict[str, Any]:
        return self.config(
            {
                "group.id": f"avrobridge-registry-reader-{self.instance_id}",  # never joined
                "enable.auto.commit": False,
                "isolation.level": "read_committed",
                "enable.partition.eof": True,
                "fetch.wait.max.ms": 50,
                "auto.offset.reset": "earliest",
            }
        )

    def on_error(self, err: KafkaError) -> None:
        # "1/1 brokers are down" says less than the connection failure before it.
        if err.code() != KafkaError._ALL_BROKERS_DOWN or self.last_error is None:
            self.last_error = err.str()
        if err.code() in _LOGGED_BY_LIBRDKAFKA:
            return  # its own log line (FAIL) already says it, through kafka_logger
        self._log.warning("Kafka (%s): %s", self.settings.bootstrap, err.str())


def discard_producer(producer: Producer) -> None:
    """Drops a producer without waiting for anything it still holds."""
    try:
        producer.purge(in_queue=True, in_flight=True, blocking=False)
        producer.flush(0)
    except Exception as exc:
        log.debug("discarding a producer: %s", exc)
