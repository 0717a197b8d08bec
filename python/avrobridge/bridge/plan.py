"""``avrobridge plan`` (and ``run --dry-run``): what a run would do, shown before it runs.

For each source topic: its subject, the records per partition up to the end offsets, and for
each live writer version (by id and version) whether the target can read it and what happens
to its records: the transcoder's own `changes` (fields dropped, filled from defaults, renamed
through aliases, promotions, enum symbols read as the default) and `warnings` (records that
will fail). Then the sink subject and whether the target may be registered under it at the
subject's compatibility level. Nothing is produced, committed or registered.

The same per-version verdicts are what `Bridge` checks before it starts
(`check_source_versions`): the plan shows the person what the run would refuse.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any, TypeVar

from confluent_kafka import Consumer, TopicPartition

from ..compat import check_compatibility, check_level
from ..errors import AvroBridgeError
from ..kafkalog import kafka_logger
from .config import BridgeSettings, KafkaSettings, reveal
from .convert import Converter, Side
from .retry import Backoff, KafkaGaveUp, retry_kafka
from .schemas import SchemaSource

__all__ = [
    "MigrationPlan",
    "PartitionPlan",
    "SinkPlan",
    "TopicPlan",
    "VersionPlan",
    "build_plan",
    "check_source_versions",
    "version_plans",
]

T = TypeVar("T")


@dataclass
class VersionPlan:
    """One live writer version of a source subject, as the target would read it."""

    subject: str
    version: int
    schema_id: int
    #: The target can read it (Avro's reader/writer rules, as the registry decides).
    readable: bool
    #: Listed in value.allow_incompatible_versions: its records may fail (dead letters).
    allowed: bool = False
    #: (kind, location, message) for each thing that changes in its records.
    changes: list[tuple[str, str, str]] = field(default_factory=list)
    #: Records of this version that will fail at read time, and why.
    warnings: list[str] = field(default_factory=list)
    #: Why the target cannot read it.
    problems: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return f"{self.subject} version {self.version} (id {self.schema_id})"


@dataclass
class PartitionPlan:
    partition: int
    #: The next offset to read: the group's committed offset, else the first one kept.
    start: int
    #: The end offset now (a bounded run stops there).
    end: int

    @property
    def records(self) -> int:
        return max(self.end - self.start, 0)


@dataclass
class SinkPlan:
    topic: str
    #: Partitions of the sink topic; None when it does not exist (yet).
    partitions: int | None
    subject: str
    level: str
    #: The sink schema is already registered under the subject: (id, version).
    registered: tuple[int, int] | None
    #: Versions the subject holds now.
    versions: int
    #: The target may be registered under the subject (or already is).
    compatible: bool
    messages: list[str] = field(default_factory=list)


@dataclass
class TopicPlan:
    topic: str
    exists: bool
    subject: str
    partitions: list[PartitionPlan]
    versions: list[VersionPlan]
    #: None for an export: the records go to container files (`files_sink.py`).
    sink: SinkPlan | None

    @property
    def records(self) -> int:
        return sum(p.records for p in self.partitions)


@dataclass
class MigrationPlan:
    #: What the records become: the target schema and where it comes from.
    target: str
    topics: list[TopicPlan]
    #: Why the run would fail; empty when it would succeed.
    problems: list[str]
    #: An export's directory (`sink.directory`), else None.
    directory: str | None = None

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "target": self.target,
            "topics": [
                {
                    **asdict(t),
                    "records": t.records,
                    "partitions": [{**asdict(p), "records": p.records} for p in t.partitions],
                    "versions": [
                        {
                            **asdict(v),
                            "changes": [
                                {"kind": k, "location": loc, "message": m}
                                for k, loc, m in v.changes
                            ],
                        }
                        for v in t.versions
                    ],
                    "sink": None
                    if t.sink is None
                    else {
                        **asdict(t.sink),
                        "registered": None
                        if t.sink.registered is None
                        else {"id": t.sink.registered[0], "version": t.sink.registered[1]},
                    },
                }
                for t in self.topics
            ],
            "problems": self.problems,
            "directory": self.directory,
        }

    def lines(self) -> list[str]:
        out = [f"target: {self.target}"]
        for t in self.topics:
            out.append("")
            if not t.exists:
                out.append(f"source topic {t.topic}: does not exist")
                continue
            out.append(
                f"source topic {t.topic} ({len(t.partitions)} partitions, subject {t.subject}): "
                f"{t.records:,} records to read"
            )
            for p in t.partitions:
                out.append(
                    f"  partition {p.partition}: {p.records:,} records "
                    f"(offsets {p.start:,} to {p.end:,})"
                )
            if not t.versions:
                out.append(f"  no live versions under {t.subject}")
            for v in t.versions:
                if v.readable:
                    verdict = "the target reads it" + ("" if v.changes else " unchanged")
                elif v.allowed:
                    verdict = "the target CANNOT read it (allowed: its records fail one by one)"
                else:
                    verdict = "the target CANNOT read it"
                out.append(f"  version {v.version} (id {v.schema_id}): {verdict}")
                out.extend(f"    - {kind} at {loc}: {message}" for kind, loc, message in v.changes)
                out.extend(f"    ! {w}" for w in v.warnings)
                out.extend(f"    x {p}" for p in v.problems)
            s = t.sink
            if s is None:
                out.append(f"  to container files in {self.directory}")
                continue
            if s.registered is not None:
                state = (
                    f"the target is registered as id {s.registered[0]} (version {s.registered[1]})"
                )
            elif s.compatible:
                state = (
                    "the target is compatible and would be registered"
                    if s.versions
                    else "a new subject: the target would be its first version"
                )
            else:
                state = "the target is NOT compatible with it"
            shape = "does not exist yet" if s.partitions is None else f"{s.partitions} partitions"
            out.append(
                f"  sink topic {s.topic} ({shape}), subject {s.subject} "
                f"(compatibility {s.level}, {s.versions} versions): {state}"
            )
            out.extend(f"    x {m}" for m in s.messages)
        out.append("")
        if self.ok:
            out.append("the run would succeed")
        else:
            out.append("the run would fail:")
            out.extend(f"  {p}" for p in self.problems)
        return out


# -- per-version verdicts (also the bridge's start-up check) ---------------------------------


def version_plans(
    converter: Converter, schemas: SchemaSource, subject: str, allowed: list[int]
) -> list[VersionPlan]:
    """Each live version of `subject` as the converter would read it."""
    side = converter.value
    out = []
    for version in schemas.live_versions(subject):
        schema_id, number, writer = schemas.version(subject, version)
        if side.copy:  # kept as it is: registered in the sink registry by the run
            out.append(VersionPlan(subject, number, schema_id, readable=True))
            continue
        pair = side.pair_for(writer)
        result = check_compatibility(pair.plan_reader, pair.writer)
        plan = VersionPlan(
            subject=subject,
            version=number,
            schema_id=schema_id,
            readable=result.is_compatible,
            allowed=number in allowed,
            problems=list(result.messages),
        )
        built = converter.cached_plan(side, schema_id)
        if isinstance(built, BaseException):
            if not plan.problems:
                plan.problems.append(str(built))
        else:
            plan.changes = list(built.changes)
            plan.warnings = list(built.warnings)
        out.append(plan)
    return out


def _unreadable(versions: list[VersionPlan]) -> list[str]:
    lines: list[str] = []
    for v in versions:
        if not v.readable and not v.allowed:
            lines.append(f"{v.subject} version {v.version}:")
            lines.extend(f"  {m}" for m in v.problems)
    return lines


def check_source_versions(
    settings: BridgeSettings, converter: Converter, schemas: SchemaSource
) -> list[str]:
    """Why the target cannot read some live version of the source topics' subjects (except
    the versions allowed); empty when it reads them all."""
    allowed = settings.value.allow_incompatible_versions
    problems: list[str] = []
    for topic in settings.source.topics:
        problems.extend(_unreadable(version_plans(converter, schemas, f"{topic}-value", allowed)))
    return problems


# -- the whole plan --------------------------------------------------------------------------


def _consumer(settings: BridgeSettings, kafka: KafkaSettings | None = None) -> Consumer:
    k = kafka or settings.kafka
    return Consumer(
        {
            **reveal(k.common),
            "bootstrap.servers": k.bootstrap_servers,
            "group.id": k.group_id,  # never joined: only its committed offsets are read
            "enable.auto.commit": False,
            "logger": kafka_logger("avrobridge.kafka"),
            **reveal(k.consumer),
        }
    )


def _kafka(settings: BridgeSettings, what: str, fn: Callable[[], T]) -> T:
    """A Kafka call, retried as the runner retries (errors.retry_*)."""
    e = settings.errors
    backoff = Backoff(
        e.retry_backoff_initial_ms / 1000, e.retry_backoff_max_ms / 1000, e.retry_timeout_s
    )
    try:
        return retry_kafka(what, fn, backoff, brokers=settings.kafka.bootstrap_servers)
    except KafkaGaveUp as exc:
        raise AvroBridgeError(str(exc)) from None


def _partitions(
    settings: BridgeSettings, consumer: Consumer, topic: str
) -> tuple[bool, list[PartitionPlan]]:
    listing = _kafka(
        settings, "listing topics", functools.partial(consumer.list_topics, topic, timeout=10)
    )
    meta = listing.topics.get(topic)
    if meta is None or meta.error is not None:
        return False, []
    wanted = [TopicPartition(topic, p) for p in sorted(meta.partitions)]
    committed = _kafka(
        settings,
        "reading committed offsets",
        functools.partial(consumer.committed, wanted, timeout=10),
    )
    out = []
    for tp in committed:
        low, high = _kafka(
            settings,
            "reading end offsets",
            functools.partial(
                consumer.get_watermark_offsets, TopicPartition(topic, tp.partition), timeout=10
            ),
        )
        start = tp.offset if tp.offset >= 0 else low  # no commit yet: from the beginning
        out.append(PartitionPlan(tp.partition, max(start, low), high))
    return True, out


def _sink(
    settings: BridgeSettings,
    consumer: Consumer,
    converter: Converter,
    schemas: SchemaSource,
    side: Side,
    topic: str,
) -> SinkPlan:
    listing = _kafka(
        settings, "listing topics", functools.partial(consumer.list_topics, topic, timeout=10)
    )
    meta = listing.topics.get(topic)
    partitions = None if meta is None or meta.error is not None else len(meta.partitions)
    subject = converter.subject_for(side, topic)
    level = schemas.level(subject)
    versions = schemas.live_versions(subject)
    if side.copy:  # each writer schema is registered by the run (see the versions)
        return SinkPlan(topic, partitions, subject, level, None, len(versions), compatible=True)
    text = side.sink_schema_text
    registered = schemas.lookup(subject, text)
    sink = SinkPlan(
        topic,
        partitions,
        subject,
        level,
        registered,
        len(versions),
        compatible=registered is not None,
    )
    if registered is None:
        sink.compatible = not versions or schemas.compatible(subject, text)
        if not sink.compatible:
            previous = [schemas.version(subject, v)[2] for v in versions]
            found = check_level(text, previous, level, versions)
            sink.messages = list(found.messages) or ["the registry refuses it (no details)"]
    return sink


def _target(settings: BridgeSettings, side: Side) -> str:
    v = settings.value
    if side.copy:
        return "none: a copy (writer schemas kept, registered in the sink registry)"
    source = (
        f"file {v.schema_file}"
        if v.schema_file is not None
        else f"subject {v.subject} version {v.version}"
    )
    kind = side.target.type
    return f"{kind} {side.target.name} ({source})" if side.target.name else f"{kind} ({source})"


def build_plan(
    settings: BridgeSettings, schemas: SchemaSource, sink_schemas: SchemaSource | None = None
) -> MigrationPlan:
    """The plan of a run with `settings` (call after the start-up checks): writer versions
    from the source registry (`schemas`), the sink subject in the sink registry."""
    sink_schemas = sink_schemas or schemas
    # An export without a target writes each writer's schema: no versions to check.
    wanted = settings.value.configured or settings.value.mode == "copy"
    converter = Converter(settings, schemas, sink_schemas) if wanted else None
    consumer = _consumer(settings)
    sink_consumer = _consumer(settings, settings.sink_kafka) if settings.two_clusters else consumer
    try:
        if settings.source.pattern is not None:
            names = _kafka(
                settings, "listing topics", functools.partial(consumer.list_topics, timeout=10)
            ).topics
            topics = sorted(t for t in names if re.fullmatch(settings.source.pattern, t))
        else:
            topics = list(settings.source.topics)
        allowed = settings.value.allow_incompatible_versions
        plans: list[TopicPlan] = []
        problems: list[str] = []
        for topic in topics:
            exists, partitions = _partitions(settings, consumer, topic)
            subject = f"{topic}-value"
            versions = (
                version_plans(converter, schemas, subject, allowed)
                if exists and converter is not None
                else []
            )
            sink = (
                _sink(
                    settings,
                    sink_consumer,
                    converter,
                    sink_schemas,
                    converter.value,
                    converter.sink_topic(topic),
                )
                if converter is not None and settings.sink.directory is None
                else None
            )
            plans.append(TopicPlan(topic, exists, subject, partitions, versions, sink))
            if not exists and settings.until_end:
                problems.append(f"source topic {topic} does not exist")
            for v in versions:
                if not v.readable and not v.allowed:
                    why = "; ".join(v.problems) or "no details"
                    problems.append(f"{v.name}: the target cannot read it: {why}")
            s = plans[-1].sink
            if s is None:
                continue
            if (
                settings.sink.preserve_partitions is True
                and s.partitions is not None
                and partitions
                and s.partitions < len(partitions)
            ):
                problems.append(
                    f"the sink topic {s.topic} has {s.partitions} partitions, the source "
                    f"{topic} {len(partitions)}: sink.preserve_partitions writes each record to "
                    "the partition of the same number"
                )
            if not s.compatible:
                problems.append(
                    f"the target cannot be registered under {s.subject} "
                    f"(compatibility {s.level}): " + "; ".join(s.messages)
                )
        if not topics:
            problems.append(f"no topic matches the source pattern {settings.source.pattern!r}")
    finally:
        consumer.close()
        if sink_consumer is not consumer:
            sink_consumer.close()
    target = _target(settings, converter.value) if converter else "each writer's own schema"
    directory = None if settings.sink.directory is None else str(settings.sink.directory)
    return MigrationPlan(target, plans, problems, directory)
