"""The bridge's settings: one frozen pydantic-settings model, filled from (highest first)
command-line options, ``AVROBRIDGE_…`` environment variables (nested with ``__``) and a TOML
file. librdkafka settings pass through under their own names; credentials are `SecretStr`
and never printed."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from ..errors import ConfigError
from .transforms import TransformSpec

#: librdkafka properties whose values are secrets: kept as SecretStr, never logged.
SECRET_KAFKA_KEYS = frozenset(
    {
        "sasl.password",
        "sasl.oauthbearer.client.secret",
        "ssl.key.password",
        "ssl.keystore.password",
        "ssl.truststore.password",
        "ssl.key.pem",
        "ssl_key",
    }
)

KafkaValue = str | int | float | bool


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def _split_secrets(values: dict[str, Any]) -> dict[str, KafkaValue | SecretStr]:
    out: dict[str, KafkaValue | SecretStr] = {}
    for key, value in values.items():
        if key in SECRET_KAFKA_KEYS and not isinstance(value, SecretStr):
            out[key] = SecretStr(str(value))
        else:
            out[key] = value
    return out


def reveal(settings: dict[str, KafkaValue | SecretStr]) -> dict[str, KafkaValue]:
    """The settings as librdkafka takes them (secrets revealed: pass only to the client)."""
    return {k: v.get_secret_value() if isinstance(v, SecretStr) else v for k, v in settings.items()}


class KafkaSettings(_Section):
    """The source cluster (and the sink cluster unless `[sink.kafka]` names another). Any
    librdkafka property may be given in `common` (both clients), `consumer` or `producer`,
    under its own name (e.g. "security.protocol")."""

    bootstrap_servers: str = "127.0.0.1:9092"
    group_id: str = "avrobridge"
    common: dict[str, KafkaValue | SecretStr] = Field(default_factory=dict)
    consumer: dict[str, KafkaValue | SecretStr] = Field(default_factory=dict)
    producer: dict[str, KafkaValue | SecretStr] = Field(default_factory=dict)

    _split = field_validator("common", "consumer", "producer", mode="before")(
        lambda v: _split_secrets(dict(v or {}))
    )


class RegistrySettings(_Section):
    """The source registry (and the sink's unless `[sink.registry]` names another)."""

    url: str = "http://127.0.0.1:8081"
    #: "user:password" for HTTP basic auth.
    basic_auth_user_info: SecretStr | None = None
    ssl_ca_location: str | None = None
    ssl_certificate_location: str | None = None
    ssl_key_location: str | None = None
    ssl_key_password: SecretStr | None = None
    timeout_s: float = Field(10.0, gt=0)


class TargetSettings(_Section):
    """The reader schema records are converted to: a file, or a registered subject version."""

    schema_file: Path | None = None
    subject: str | None = None
    version: int | Literal["latest"] = "latest"
    #: Register the target under the sink subject before consuming (else look it up).
    auto_register: bool = True
    subject_name_strategy: Literal["topic", "record", "topic_record"] = "topic"
    #: Source versions the target is allowed to be unable to read (their records then go to
    #: the dead-letter topic); every other live version is checked before starting.
    allow_incompatible_versions: list[int] = Field(default_factory=list)

    @model_validator(mode="after")
    def _one_source(self) -> TargetSettings:
        if self.schema_file is not None and self.subject is not None:
            raise ValueError("give either schema_file or subject, not both")
        return self

    @property
    def configured(self) -> bool:
        return self.schema_file is not None or self.subject is not None


class ValueSettings(TargetSettings):
    #: "transcode" to the target schema, or "copy": the bytes kept, each writer schema
    #: registered under the sink subject in the sink registry, only the frame rewritten.
    mode: Literal["transcode", "copy"] = "transcode"

    @model_validator(mode="after")
    def _copy_has_no_target(self) -> ValueSettings:
        if self.mode == "copy" and self.configured:
            raise ValueError("mode 'copy' keeps the writer schemas: give no target schema")
        return self


class SourceSettings(_Section):
    topics: list[str] = Field(default_factory=list)
    #: A regular expression of topic names (subscribed as librdkafka's "^..." pattern).
    pattern: str | None = None
    #: Avro container files to backfill from instead of topics: paths or glob patterns
    #: (`dumps/*.avro`), read in name order (`files.py`).
    files: list[str] = Field(default_factory=list)

    @field_validator("pattern")
    @classmethod
    def _valid_regex(cls, v: str | None) -> str | None:
        if v is not None:
            try:
                re.compile(v)
            except re.error as exc:
                raise ValueError(f"invalid regular expression: {exc}") from exc
        return v

    @model_validator(mode="after")
    def _something(self) -> SourceSettings:
        if not self.topics and self.pattern is None and not self.files:
            raise ValueError("give source topics, a pattern or files")
        if self.files and (self.topics or self.pattern is not None):
            raise ValueError("give either files or topics (a pattern), not both")
        return self


class RenameSettings(_Section):
    """RegexRouter-style: the sink topic is the source topic with `regex` replaced."""

    regex: str
    replacement: str

    @field_validator("regex")
    @classmethod
    def _valid_regex(cls, v: str) -> str:
        try:
            re.compile(v)
        except re.error as exc:
            raise ValueError(f"invalid regular expression: {exc}") from exc
        return v


class SinkSettings(_Section):
    topic: str | None = None
    #: source topic -> sink topic
    mapping: dict[str, str] = Field(default_factory=dict)
    rename: RenameSettings | None = None
    #: true: each record goes to the sink partition of the same number; false: the sink
    #: producer's partitioner decides by key (`partitioner` in [sink.kafka.producer]);
    #: "auto": the same number when the sink topic has as many partitions as the source
    #: topic, else by key.
    preserve_partitions: bool | Literal["auto"] = True
    #: How sink records carry their schema id: Confluent's 5-byte prefix, the
    #: `__value_schema_id` header (4-byte id), or the header with a GUID.
    framing: Literal["prefix", "header", "guid"] = "prefix"
    #: The sink cluster and the sink registry, when they are not the source's ([kafka],
    #: [registry]): each side has its own addresses, security and librdkafka settings.
    kafka: KafkaSettings | None = None
    registry: RegistrySettings | None = None
    #: Export to rolling Avro container files in this directory instead of a topic
    #: (`files.py`).
    directory: Path | None = None

    @model_validator(mode="after")
    def _one_way(self) -> SinkSettings:
        ways = sum(
            x
            for x in (
                self.topic is not None,
                bool(self.mapping),
                self.rename is not None,
                self.directory is not None,
            )
        )
        if ways != 1:
            raise ValueError("give exactly one of topic, mapping, rename or directory")
        return self


class FileSettings(_Section):
    """Container files: the backfill's progress and the export's rolling files."""

    #: Backfill: the compacted topic (on the sink cluster) where the files and blocks done
    #: are recorded, keyed by group id and file; created when missing.
    progress_topic: str = "_avrobridge_file_progress"
    #: Export: a file is closed (and its offsets committed) at this many records...
    roll_records: int = Field(100_000, ge=1)
    #: ...or once this many bytes are written, whichever comes first.
    roll_bytes: int = Field(64 << 20, ge=1)
    #: Export: the files' codec (null, deflate, snappy, zstandard, bzip2, xz).
    codec: Literal["null", "deflate", "snappy", "zstandard", "bzip2", "xz"] = "deflate"


class KeySettings(_Section):
    #: Keys pass through untouched, are transcoded like values (to `target`), or copied
    #: (Avro keys between registries: their frames rewritten to the sink registry's ids).
    mode: Literal["passthrough", "transcode", "copy"] = "passthrough"
    target: TargetSettings = Field(default_factory=lambda: TargetSettings())

    @model_validator(mode="after")
    def _target_for_transcode(self) -> KeySettings:
        if self.mode == "transcode" and not self.target.configured:
            raise ValueError("mode 'transcode' needs a key target (schema_file or subject)")
        return self


class DeliverySettings(_Section):
    guarantee: Literal["at-least-once", "exactly-once"] = "at-least-once"
    #: The most records converted in one step (one call into the codec).
    batch_size: int = Field(5000, ge=1, le=1_000_000)
    #: The longest the loop waits for a record when none is ready.
    batch_timeout_ms: int = Field(100, ge=1)
    #: How often produced records are made durable and their offsets committed (one
    #: transaction per interval with exactly-once), like Kafka Connect's
    #: offset.flush.interval.ms; also at shutdown and before partitions are given up.
    commit_interval_ms: int = Field(1000, ge=1)
    #: The most records produced but not yet acknowledged (the producer's queue): memory
    #: stays bounded whatever the sink's speed.
    max_in_flight: int = Field(100_000, ge=1, le=10_000_000)
    #: exactly-once: the transactional.id prefix (the instance's group member adds nothing:
    #: one id per instance; give each instance its own).
    transactional_id: str | None = None
    #: How long a graceful shutdown may take before the process gives up.
    shutdown_timeout_s: float = Field(30.0, gt=0)
    #: Where exactly-once progress is kept: "group" (the source group's offsets, in the
    #: transaction: source and sink on one cluster), "sink-topic" (`offsets_topic` in the sink
    #: cluster, in the transaction) or "auto" (group on one cluster, sink-topic across two).
    offset_store: Literal["auto", "group", "sink-topic"] = "auto"
    #: The compacted topic of the sink cluster holding progress ("sink-topic" store).
    offsets_topic: str = "avrobridge-offsets"


class ErrorSettings(_Section):
    #: Kafka Connect's errors.tolerance: "none" stops at the first bad record, "all" sends it
    #: to the dead-letter topic.
    tolerance: Literal["none", "all"] = "none"
    dead_letter_topic: str | None = None
    context_headers: bool = True
    retry_backoff_initial_ms: int = Field(200, ge=1)
    retry_backoff_max_ms: int = Field(10_000, ge=1)
    #: Give up on an infrastructure failure (registry, broker) after this long.
    retry_timeout_s: float = Field(300.0, gt=0)
    #: At start, give up when the broker or the registry has not answered for this long.
    startup_timeout_s: float = Field(30.0, gt=0)

    @model_validator(mode="after")
    def _dlq_for_all(self) -> ErrorSettings:
        if self.tolerance == "all" and not self.dead_letter_topic:
            raise ValueError("tolerance 'all' needs a dead_letter_topic")
        return self


class ObservabilitySettings(_Section):
    metrics_port: int | None = Field(None, ge=0, le=65535)
    metrics_host: str = "127.0.0.1"
    log_format: Literal["text", "json"] = "text"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    stats_interval_s: float | None = Field(None, gt=0)
    #: Show a progress bar (default: when stderr is a terminal).
    progress: bool | None = None
    #: Off a terminal, a progress line (or JSON line) this often during --until-end.
    progress_interval_s: float = Field(10.0, gt=0)


class BridgeSettings(BaseSettings):
    """Everything `avrobridge run` needs. Build with `load_settings`."""

    model_config = SettingsConfigDict(
        env_prefix="AVROBRIDGE_",
        env_nested_delimiter="__",
        frozen=True,
        extra="forbid",
    )

    kafka: KafkaSettings = Field(default_factory=lambda: KafkaSettings())
    registry: RegistrySettings = Field(default_factory=lambda: RegistrySettings())
    source: SourceSettings
    sink: SinkSettings
    #: Required, except by a copy or an export (which keep each writer's own schema).
    value: ValueSettings = Field(default_factory=lambda: ValueSettings(), validate_default=True)
    key: KeySettings = Field(default_factory=lambda: KeySettings())
    delivery: DeliverySettings = Field(default_factory=lambda: DeliverySettings())
    errors: ErrorSettings = Field(default_factory=lambda: ErrorSettings())
    transforms: list[Annotated[TransformSpec, Field(discriminator="type")]] = Field(
        default_factory=list
    )
    observability: ObservabilitySettings = Field(default_factory=lambda: ObservabilitySettings())
    files: FileSettings = Field(default_factory=lambda: FileSettings())
    #: Stop when every partition reaches the end offsets seen at start (one-off migration).
    until_end: bool = False

    @field_validator("value")
    @classmethod
    def _value_target(cls, value: ValueSettings, info: ValidationInfo) -> ValueSettings:
        sink = info.data.get("sink")
        copy = value.mode == "copy"
        if not value.configured and not copy and (sink is None or sink.directory is None):
            raise PydanticCustomError("missing", "Field required")
        return value

    @model_validator(mode="after")
    def _files_or_topics(self) -> BridgeSettings:
        if self.source.files and self.sink.directory is not None:
            raise ValueError("files to files: give a topic as the source or the sink")
        if self.value.mode == "copy" and (self.source.files or self.sink.directory is not None):
            raise ValueError(
                "value mode 'copy' bridges topics to topics (an export without a target "
                "already keeps each writer's schema)"
            )
        return self

    @property
    def bounded(self) -> bool:
        """The run stops by itself: `until_end`, or a file source (always bounded)."""
        return self.until_end or bool(self.source.files)

    # -- the two sides (the same cluster and registry unless [sink.kafka]/[sink.registry]) --

    @property
    def sink_kafka(self) -> KafkaSettings:
        return self.sink.kafka or self.kafka

    @property
    def sink_registry(self) -> RegistrySettings:
        return self.sink.registry or self.registry

    @property
    def two_clusters(self) -> bool:
        return self.sink_kafka.bootstrap_servers != self.kafka.bootstrap_servers

    @property
    def two_registries(self) -> bool:
        return self.sink_registry.url != self.registry.url

    @property
    def sink_topic_offsets(self) -> bool:
        """Exactly-once progress goes to the sink cluster's offsets topic."""
        store = self.delivery.offset_store
        return store == "sink-topic" or (store == "auto" and self.two_clusters)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        # load_settings sets the TOML file on a subclass (see there).
        toml = getattr(settings_cls, "toml_path", None)
        if toml is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=toml))
        return tuple(sources)


class SettingsError(ConfigError):
    """Invalid settings; `problems` lists each as (TOML key, what is wrong, pydantic's error
    type, e.g. "missing"), so a command line can name its own option for the key."""

    def __init__(self, message: str, problems: list[tuple[str, str, str]]) -> None:
        super().__init__(message)
        self.problems = problems


def _problems(exc: ValidationError) -> list[tuple[str, str, str]]:
    out = []
    for err in exc.errors():
        key = ".".join(str(p) for p in err["loc"])
        message = str(err["msg"]).removeprefix("Value error, ")
        out.append((key or "(settings)", message, str(err["type"])))
    return out


def _describe(problems: list[tuple[str, str, str]]) -> str:
    return "invalid settings:\n" + "\n".join(f"  {key}: {msg}" for key, msg, _ in problems)


def load_settings(config_file: Path | None = None, **overrides: Any) -> BridgeSettings:
    """Settings from `overrides` > environment > `config_file` (TOML). Raises ConfigError
    naming each invalid setting."""
    if config_file is not None and not config_file.is_file():
        raise ConfigError(f"config file {config_file} does not exist")

    class _Loaded(BridgeSettings):
        toml_path: ClassVar[Path | None] = config_file

    try:
        loaded: BridgeSettings = _Loaded(**overrides)
    except ValidationError as exc:
        problems = _problems(exc)
        raise SettingsError(_describe(problems), problems) from None
    except ValueError as exc:  # TOML syntax errors
        raise ConfigError(f"cannot read {config_file}: {exc}") from None
    return loaded
