"""The Kafka store's topics: created when missing, checked when present."""

from __future__ import annotations

import logging
import time

from confluent_kafka import (
    KafkaError,
    KafkaException,
)
from confluent_kafka.admin import AdminClient
from confluent_kafka.admin._config import ConfigResource
from confluent_kafka.cimpl import NewTopic  # confluent_kafka.admin re-exports it untyped

from .kafka_config import KafkaClients, KafkaStoreConfig, describe, kafka_error
from .logstore import StoreError

log = logging.getLogger("avrobridge.registry.kafkastore")


def ensure_topics(config: KafkaStoreConfig, clients: KafkaClients) -> None:
    """Creates the schemas and election topics when missing (compacted, one partition) and
    checks the schemas topic (StoreError when Kafka cannot be reached or refuses)."""
    timeout = config.timeout
    admin = AdminClient(clients.config({"socket.timeout.ms": int(timeout * 1000)}))
    try:
        metadata = admin.list_topics(timeout=timeout)
    except KafkaException as exc:
        admin.poll(0)  # runs the error callback: the connection's own last error
        raise StoreError(
            f"cannot reach Kafka at {config.bootstrap} within {timeout:g} s "
            f"(last error: {clients.last_error or describe(exc)})"
        ) from None
    brokers = len(metadata.brokers)
    factor = config.replication_factor or max(1, min(3, brokers))
    missing = [t for t in (config.topic, config.election_topic) if t not in metadata.topics]
    if missing:
        new = [NewTopic(t, 1, factor, config={"cleanup.policy": "compact"}) for t in missing]
        futures = admin.create_topics(new, operation_timeout=timeout, request_timeout=timeout)
        for name, future in futures.items():
            try:
                future.result(timeout=timeout)
                log.info("created topic %s (compacted, replication factor %d)", name, factor)
            except KafkaException as exc:
                err = kafka_error(exc)
                if err is None or err.code() != KafkaError.TOPIC_ALREADY_EXISTS:
                    raise StoreError(f"cannot create topic {name}: {describe(exc)}") from None
        _wait_for_leaders(config, admin, missing)
    topic = admin.list_topics(topic=config.topic, timeout=timeout).topics.get(config.topic)
    if topic is not None and len(topic.partitions) != 1:
        raise StoreError(
            f"topic {config.topic} has {len(topic.partitions)} partitions; the schemas "
            "topic must have exactly one"
        )
    _warn_unless_compacted(config, admin)


def _wait_for_leaders(config: KafkaStoreConfig, admin: AdminClient, topics: list[str]) -> None:
    deadline = time.monotonic() + config.timeout
    while True:
        metadata = admin.list_topics(timeout=config.timeout)
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


def _warn_unless_compacted(config: KafkaStoreConfig, admin: AdminClient) -> None:
    resource = ConfigResource(ConfigResource.Type.TOPIC, config.topic)
    try:
        future = admin.describe_configs([resource], request_timeout=config.timeout)
        entries = future[resource].result(timeout=config.timeout)
    except Exception as exc:  # only a check: without it the registry still works
        log.debug("could not describe %s: %s", config.topic, exc)
        return
    policy = entries.get("cleanup.policy")
    if policy is not None and "compact" not in str(policy.value):
        log.warning(
            "topic %s has cleanup.policy=%s; it should be compact, or schemas expire",
            config.topic,
            policy.value,
        )
