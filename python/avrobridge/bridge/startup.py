"""What the bridge checks before it consumes a record, cheapest first.

1. Local checks (`check_local`, `check_kafka_settings`): schema files, transforms and every
   librdkafka property. Nothing connects; a problem is a `ConfigError` naming the setting.
2. Reachability (`wait_until_reachable`): the broker and the registry are probed at once, each
   until it answers or `errors.startup_timeout_s` has passed. A `StartupError` names which one
   did not answer, its address and the last error, and the time really waited.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from confluent_kafka import Consumer, KafkaError, KafkaException, Producer
from confluent_kafka.admin import AdminClient
from confluent_kafka.schema_registry import SchemaRegistryClient, SchemaRegistryError

from .._backend import Schema
from ..errors import AvroBridgeError, ConfigError
from ..kafkalog import kafka_logger
from .config import BridgeSettings, KafkaSettings, TargetSettings, reveal
from .retry import Backoff
from .schemas import TransportError
from .transforms import apply_schema_transforms

__all__ = [
    "StartupError",
    "check_kafka_settings",
    "check_local",
    "toml_key",
    "wait_until_reachable",
]

log = logging.getLogger("avrobridge.bridge")

#: How a setting is named to the operator: its TOML key, or the option that set it.
Label = Callable[[str], str]


def toml_key(key: str) -> str:
    return key


class StartupError(AvroBridgeError):
    """The broker or the registry did not answer within the start-up timeout."""


# -- 1. local checks ----------------------------------------------------------------------


def _target_schema(target: TargetSettings, key: str, label: Label) -> Schema | None:
    path = target.schema_file
    if path is None:
        return None
    name = f"{label(key + '.schema_file')} {path}"
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{name}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{name}: cannot read it ({exc})") from None
    try:
        return Schema(text)
    except ValueError as exc:  # SchemaError, and JSON syntax errors
        raise ConfigError(f"{name}: {exc}") from None


def check_local(settings: BridgeSettings, label: Label = toml_key) -> None:
    """Reads and parses the target schema files and applies the schema transforms to them;
    raises ConfigError naming the setting (through `label`) and the file."""
    if settings.value.mode == "copy":
        changing = [t.type for t in settings.transforms if t.type not in ("filter", "route")]
        if changing:
            raise ConfigError(
                f"transforms: {', '.join(changing)} change the schema, which value mode "
                "'copy' keeps (only filter and route may be used; or give a target schema)"
            )
    if settings.source.files:
        per_record = sorted(
            {t.type for t in settings.transforms if t.type in ("insert_metadata", "filter")}
        )
        if per_record:
            # File records have no topic, partition, offset, timestamp or headers.
            raise ConfigError(
                f"transforms: {', '.join(per_record)} cannot apply to records read from files "
                f"({label('source.files')})"
            )
    value = _target_schema(settings.value, "value", label)
    if settings.key.mode == "transcode":
        _target_schema(settings.key.target, "key.target", label)
    if value is not None and settings.transforms:
        target = value.to_json()
        try:
            sink = apply_schema_transforms(target, target, settings.transforms).sink
            Schema(json.dumps(sink))
        except ValueError as exc:
            raise ConfigError(f"transforms: {exc}") from None


def check_kafka_settings(consumer: dict[str, Any], producer: dict[str, Any]) -> None:
    """librdkafka validates every property when a client is created; these clients get no
    bootstrap servers, so they connect nowhere, and their log lines are never shown."""
    for role, conf in (("consumer", consumer), ("producer", producer)):
        conf = {k: v for k, v in conf.items() if k not in ("bootstrap.servers", "on_delivery")}
        conf["logger"] = logging.getLogger("avrobridge.kafka.settings-check")
        try:
            client: Any = Consumer(conf) if role == "consumer" else Producer(conf)
        except KafkaException as exc:
            raise ConfigError(f"invalid Kafka {role} setting: {exc.args[0].str()}") from None
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"invalid Kafka {role} setting: {exc}") from None
        if role == "consumer":
            client.close()


# -- 2. reachability ----------------------------------------------------------------------


class _Probe:
    """One service's probe: whether it answered, and the last error if not."""

    def __init__(self, what: str) -> None:
        self.what = what
        self.answered = False
        self.last_error = "no answer yet"
        #: It answered, but with a refusal the operator must fix (401, 403, ...).
        self.refused: str | None = None

    def failure(self) -> str:
        return f"{self.what} did not answer (last error: {self.last_error})"


def _probe_registry(
    client: SchemaRegistryClient,
    url: str,
    settings: BridgeSettings,
    deadline: float,
    stopping: threading.Event,
    probe: _Probe,
) -> None:
    e = settings.errors
    backoff = Backoff(
        e.retry_backoff_initial_ms / 1000,
        e.retry_backoff_max_ms / 1000,
        max(deadline - time.monotonic(), 0.0),
    )
    while not stopping.is_set():
        attempt = time.monotonic()
        try:
            client.get_compatibility()  # GET /config: cheap, and any registry has it
            probe.answered = True
            return
        except SchemaRegistryError as exc:
            if exc.http_status_code < 500 and exc.http_status_code not in (408, 429):
                # It answered: a 401/403 here is the operator's to fix, not ours to wait out.
                probe.answered = True
                probe.refused = f"HTTP {exc.http_status_code}: {exc.error_message}"
                return
            probe.last_error = f"HTTP {exc.http_status_code}: {exc.error_message}"
        except (TransportError, OSError) as exc:
            probe.last_error = f"{type(exc).__name__}: {exc}"
        wait = backoff.next_wait()
        if wait is None:
            return
        log.warning(
            "waiting for the schema registry at %s: %s (the attempt took %.2f s); "
            "retrying in %.2f s",
            url,
            probe.last_error,
            time.monotonic() - attempt,
            wait,
        )
        stopping.wait(wait)


def _probe_broker(
    settings: BridgeSettings,
    kafka: KafkaSettings,
    deadline: float,
    stopping: threading.Event,
    probe: _Probe,
) -> None:
    errors: list[str] = []

    def on_error(err: KafkaError) -> None:
        # "1/1 brokers are down" says less than the connection failure before it.
        if err.code() != KafkaError._ALL_BROKERS_DOWN or not errors:
            errors.append(err.str())

    conf: dict[str, Any] = {
        "reconnect.backoff.max.ms": 1000,  # notice a broker that comes up within a second
        **reveal(kafka.common),
        "bootstrap.servers": kafka.bootstrap_servers,
        "logger": kafka_logger("avrobridge.kafka"),
        "error_cb": on_error,
    }
    admin = AdminClient(conf)
    last_logged = time.monotonic()
    while not stopping.is_set():
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return
        try:
            if admin.list_topics(timeout=min(1.0, remaining)).brokers:
                probe.answered = True
                return
        except KafkaException as exc:
            errors.append(exc.args[0].str())
        admin.poll(0)  # runs the error and log callbacks
        probe.last_error = errors[-1] if errors else "no answer"
        errors.clear()
        if time.monotonic() - last_logged >= 5:
            last_logged = time.monotonic()
            log.warning(
                "waiting for the Kafka broker at %s: %s",
                kafka.bootstrap_servers,
                probe.last_error,
            )


def wait_until_reachable(
    settings: BridgeSettings,
    registry: SchemaRegistryClient,
    stopping: threading.Event | None = None,
    sink_registry: SchemaRegistryClient | None = None,
) -> None:
    """Returns once the brokers and the registries (the sink's too, when they are others)
    all answered; raises StartupError naming those that did not within
    `errors.startup_timeout_s` (or before `stopping` was set)."""
    stopping = stopping or threading.Event()
    started = time.monotonic()
    budget = settings.errors.startup_timeout_s
    deadline = started + budget
    clusters = [("the Kafka broker", settings.kafka)]
    if settings.two_clusters:
        clusters = [
            ("the source Kafka broker", settings.kafka),
            ("the sink Kafka broker", settings.sink_kafka),
        ]
    registries = [("the schema registry", registry, settings.registry)]
    if sink_registry is not None and settings.two_registries:
        registries = [
            ("the source schema registry", registry, settings.registry),
            ("the sink schema registry", sink_registry, settings.sink_registry),
        ]
    threads, probes = [], []
    for what, client, conf in registries:
        probe = _Probe(f"{what} at {conf.url}")
        probes.append(probe)
        threads.append(
            threading.Thread(
                target=_probe_registry,
                args=(client, conf.url, settings, deadline, stopping, probe),
                name="registry-probe",
                daemon=True,
            )
        )
    for what, kafka in clusters[1:]:
        probe = _Probe(f"{what} at {kafka.bootstrap_servers}")
        probes.append(probe)
        threads.append(
            threading.Thread(
                target=_probe_broker,
                args=(settings, kafka, deadline, stopping, probe),
                name="broker-probe",
                daemon=True,
            )
        )
    for thread in threads:
        thread.start()
    what, kafka = clusters[0]
    broker = _Probe(f"{what} at {kafka.bootstrap_servers}")
    _probe_broker(settings, kafka, deadline, stopping, broker)
    for thread in threads:
        thread.join(max(deadline - time.monotonic(), 0.0) + settings.registry.timeout_s)
    failed = [p.failure() for p in (broker, *probes) if not p.answered]
    for probe in probes:
        if probe.refused is not None:
            raise StartupError(f"{probe.what} refused: {probe.refused}")
    if not failed:
        return
    elapsed = time.monotonic() - started
    if stopping.is_set():
        raise StartupError(f"stopped during start-up after {elapsed:.1f} s: " + "; ".join(failed))
    raise StartupError(
        f"start-up gave up after {elapsed:.1f} s: {'; '.join(failed)} "
        f"(errors.startup_timeout_s / --startup-timeout is {budget:g} s)"
    )
