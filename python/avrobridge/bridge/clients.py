"""The bridge's Kafka clients: their settings, checked before anything connects, and retries of
the calls that fail while a broker or coordinator is starting or moving."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from confluent_kafka import Consumer, KafkaError, KafkaException, Producer

from ..errors import BridgeError, ConfigError, RegistryError
from .config import BridgeSettings, reveal
from .schemas import RegistryUnavailable

log = logging.getLogger("avrobridge.bridge")

#: Errors a broker answers while it (or a coordinator) is starting or moving: worth retrying
#: even where librdkafka does not flag them retriable.
_TRANSIENT = frozenset(
    {
        KafkaError.NOT_COORDINATOR,
        KafkaError.COORDINATOR_LOAD_IN_PROGRESS,
        KafkaError.COORDINATOR_NOT_AVAILABLE,
        KafkaError.LEADER_NOT_AVAILABLE,
        KafkaError.NOT_LEADER_FOR_PARTITION,
        KafkaError.REQUEST_TIMED_OUT,
        KafkaError._TIMED_OUT,
        KafkaError._TRANSPORT,
        KafkaError._ALL_BROKERS_DOWN,
        KafkaError._WAIT_COORD,
    }
)


def client_configs(
    settings: BridgeSettings, on_delivery: Callable[[Any, Any], None] | None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(consumer, producer) settings for librdkafka."""
    s = settings
    exactly_once = s.delivery.guarantee == "exactly-once"
    common: dict[str, Any] = {
        "bootstrap.servers": s.kafka.bootstrap_servers,
        # librdkafka's own log lines go through Python logging (and so the JSON format).
        "logger": logging.getLogger("avrobridge.kafka"),
        **reveal(s.kafka.common),
    }
    consumer: dict[str, Any] = {
        **common,
        "group.id": s.kafka.group_id,
        "enable.auto.commit": False,
        "enable.auto.offset.store": False,
        "auto.offset.reset": "earliest",
        **reveal(s.kafka.consumer),
    }
    if exactly_once:
        consumer["isolation.level"] = "read_committed"
    if s.until_end:
        consumer["enable.partition.eof"] = True
    producer: dict[str, Any] = {
        **common,
        "enable.idempotence": True,
        "linger.ms": 5,
        "compression.type": "lz4",
        # The records in flight are bounded: a full queue makes the loop wait for acks.
        "queue.buffering.max.messages": s.delivery.max_in_flight,
        # librdkafka retries a failed produce within this time; past it the record fails
        # and the bridge stops without committing it (errors.retry_timeout_s).
        "message.timeout.ms": int(s.errors.retry_timeout_s * 1000),
        "delivery.report.only.error": True,
        **reveal(s.kafka.producer),
    }
    if on_delivery is not None:
        producer["on_delivery"] = on_delivery
    if exactly_once:
        producer["transactional.id"] = (
            s.delivery.transactional_id or f"avrobridge-{s.kafka.group_id}"
        )
        # A transaction's records must time out before the transaction does.
        timeout_ms = int(producer.get("transaction.timeout.ms", 60_000))
        producer["message.timeout.ms"] = min(int(producer["message.timeout.ms"]), timeout_ms)
    return consumer, producer


def check_kafka_config(conf: dict[str, Any], role: str) -> None:
    """librdkafka validates every property when a client is created (no connection is
    needed); turn its complaint into a ConfigError naming the setting."""
    conf = {k: v for k, v in conf.items() if k not in ("logger", "on_delivery")}
    try:
        client: Any = Consumer(conf) if role == "consumer" else Producer(conf)
    except KafkaException as exc:
        raise ConfigError(f"invalid {role} setting: {exc.args[0].str()}") from None
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"invalid {role} setting: {exc}") from None
    if role == "consumer":
        client.close()


def retrying(
    settings: BridgeSettings, what: str, fn: Callable[[], Any], on_retry: Callable[[], None]
) -> Any:
    """Runs a Kafka call, retrying retriable failures with backoff within the budget
    (errors.retry_timeout_s); raises BridgeError naming `what` once it gives up."""
    errors = settings.errors
    delay = errors.retry_backoff_initial_ms / 1000
    deadline = time.monotonic() + errors.retry_timeout_s
    while True:
        try:
            return fn()
        except KafkaException as exc:
            err: KafkaError = exc.args[0]
            transient = err.retriable() or err.code() in _TRANSIENT
            if err.fatal() or not transient or time.monotonic() + delay > deadline:
                detail = ""
                if transient:
                    detail = (
                        f" (brokers {settings.kafka.bootstrap_servers}; gave up after "
                        f"{errors.retry_timeout_s:g}s of retries)"
                    )
                raise BridgeError(f"{what}: {err.str()}{detail}") from None
            reason = err.str()
        except RegistryUnavailable as exc:
            raise BridgeError(str(exc)) from None
        except RegistryError as exc:
            raise BridgeError(f"{what}: {exc}") from None
        log.warning("%s: %s; retrying in %.1fs", what, reason, delay)
        on_retry()
        time.sleep(delay)
        delay = min(delay * 2, errors.retry_backoff_max_ms / 1000)
