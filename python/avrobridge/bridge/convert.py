"""Batch conversion: consumed messages in, the sink records to produce out.

One call into the backend (`convert_batch`) per batch reads every message once, parses its
frame, groups the records by writer schema, transcodes them with the GIL released and returns
a `ConvertedBatch`: the `produce()` arguments of the sink records in consumed order, the
records that failed (for the dead-letter topic), the offsets reached and the counts. This
module owns what the backend must not do: registry lookups. The first batch that names a new
writer schema or source topic comes back with `missing_*` filled; the plans are built (once,
cached with their failures) and the batch converts on the second call.
"""

from __future__ import annotations

import functools
import json
import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from .. import framing
from .._backend import impl
from ..errors import AvroBridgeError, RegistryError, SchemaResolutionError
from .config import BridgeSettings, TargetSettings
from .deadletter import VALUE_CONVERTER
from .idmap import IdTranslator
from .schemas import RegistryUnavailable, SchemaNotFound, SchemaSource
from .transforms import (
    RecordTransforms,
    SchemaPair,
    TransformSpec,
    apply_schema_transforms,
    regex_route,
)

log = logging.getLogger("avrobridge.bridge")

#: What a record names its writer schema by: a registry id, or a GUID string.
WriterRef = int | str
#: The backend's batch result (avrobridge._native.ConvertedBatch or the fallback's twin).
ConvertedBatch = Any
#: ("source" | "sink", topic) -> the topic's partition count (None: unknown, or no topic).
PartitionCounts = Callable[[str, str], "int | None"]


@dataclass
class Side:
    """Conversion of one side of the records (values, or keys)."""

    name: str  # "value" | "key"
    target: Any  # Schema
    pair_for: Any  # Callable[[Schema], SchemaPair]
    sink_schema_text: str
    sink_name: str | None
    #: Writer reference -> Transcoder, or the exception its records fail with; for a copy,
    #: (identity Transcoder, the sink frame of the writer's id in the sink registry).
    plans: dict[WriterRef, Any] = field(default_factory=dict)
    #: Records keep their writer schema (value/key mode "copy"): no target.
    copy: bool = False


class Converter:
    """Turns batches of consumed messages into `ConvertedBatch`es."""

    def __init__(
        self,
        settings: BridgeSettings,
        schemas: SchemaSource,
        sink_schemas: SchemaSource | None = None,
        partition_counts: PartitionCounts | None = None,
    ) -> None:
        self.settings = settings
        #: Writer schemas come from the source registry; sink ids from the sink registry
        #: (the same one unless [sink.registry] names another).
        self.schemas = schemas
        self.sink_schemas = sink_schemas or schemas
        self.partition_counts = partition_counts
        self.transforms = RecordTransforms.from_specs(settings.transforms)
        if settings.value.mode == "copy":
            self.value = _copy_side("value")
        else:
            self.value = self._side("value", settings.value, settings.transforms)
        key_mode = settings.key.mode
        self.key = (
            self._side("key", settings.key.target, [])
            if key_mode == "transcode"
            else _copy_side("key")
            if key_mode == "copy"
            else None
        )
        self.translator = IdTranslator(self.schemas.client, self.sink_schemas.client)
        #: (side, writer reference) -> the sink id its records carry (copies: each writer
        #: registered in the sink registry; transcoding: the target's id).
        self.translated: dict[tuple[str, WriterRef], int] = {}
        #: Source topics whose sink schema the sink registry refused (errors.tolerance "all":
        #: their records go to the dead-letter topic, with the registry's error).
        self.refused: dict[str, RegistryError] = {}
        #: Records of the last batch set aside that way (counted by the batch as filtered).
        self.set_aside = 0
        meta = self.transforms.metadata
        preserve = settings.sink.preserve_partitions
        # Files (an export) take the records unframed: "header" framing leaves them so.
        to_files = settings.sink.directory is not None
        self.spec = impl.BatchSpec(
            framing="prefix" if settings.sink.framing == "prefix" and not to_files else "header",
            transcode_keys=self.key is not None,
            preserve_partitions=preserve is True,
            stop_at_failure=settings.errors.tolerance == "none",
            filters=[
                (f.predicate, f.header, f.negate)
                for f in self.transforms.filters
                if f.predicate != "topic_matches"
            ],
            metadata=(
                meta is not None and meta.topic_field is not None,
                meta is not None and meta.partition_field is not None,
                meta is not None and meta.offset_field is not None,
                meta is not None and meta.timestamp_field is not None,
            ),
        )
        #: Source topic -> (sink topic, value frame, key frame, dropped by a topic filter[,
        #: partition numbers kept: preserve_partitions "auto"]).
        self._topics: dict[str, tuple[Any, ...]] = {}
        #: (side, sink topic) -> the id the sink records carry.
        self._target_ids: dict[tuple[str, str], int] = {}

    # -- set-up ---------------------------------------------------------------------------

    def load_target(self, target: TargetSettings, what: str) -> Any:
        if target.schema_file is not None:
            try:
                text = target.schema_file.read_text(encoding="utf-8")
            except OSError as exc:
                raise AvroBridgeError(f"{what} schema file {target.schema_file}: {exc}") from None
            return impl.Schema(text)
        assert target.subject is not None
        _, _, schema = self.schemas.version(target.subject, target.version)
        return schema

    def _side(self, name: str, target: TargetSettings, specs: Sequence[TransformSpec]) -> Side:
        schema = self.load_target(target, name)
        target_json = schema.to_json()

        def pair_for(writer: Any) -> SchemaPair:
            return apply_schema_transforms(writer.to_json(), target_json, specs)

        # The sink schema does not depend on the writer (only the presented writer does).
        sink = apply_schema_transforms(target_json, target_json, specs).sink
        sink_schema = impl.Schema(
            json.dumps(sink, separators=(",", ":")), references=schema.references or None
        )
        return Side(
            name=name,
            target=schema,
            pair_for=pair_for,
            sink_schema_text=sink_schema.text,
            sink_name=sink_schema.name,
        )

    def sink_topic(self, source_topic: str) -> str:
        sink = self.settings.sink
        if sink.topic is not None:
            topic = sink.topic
        elif sink.mapping:
            topic = sink.mapping.get(source_topic, source_topic)
        elif sink.directory is not None:
            topic = source_topic  # an export: files named after the source topic
        else:
            assert sink.rename is not None
            topic = regex_route(sink.rename.regex, sink.rename.replacement, source_topic)
        return self.transforms.route(topic)

    def subject_for(self, side: Side, sink_topic: str, record_name: str | None = None) -> str:
        """The sink subject; `record_name` is a copied writer's (else the target's)."""
        strategy = (
            self.settings.value if side.name == "value" else self.settings.key.target
        ).subject_name_strategy
        suffix = "-value" if side.name == "value" else "-key"
        name = record_name if side.copy else side.sink_name
        if strategy == "topic" or name is None:
            return sink_topic + suffix
        if strategy == "record":
            return name
        return f"{sink_topic}-{name}"

    def target_id(self, side: Side, sink_topic: str) -> int:
        """The id sink records carry: the sink schema registered under the sink subject."""
        cached = self._target_ids.get((side.name, sink_topic))
        if cached is not None:
            return cached
        if self.settings.sink.directory is not None:
            return 0  # an export: container files name their schema in their header
        subject = self.subject_for(side, sink_topic)
        target = self.settings.value if side.name == "value" else self.settings.key.target
        if target.auto_register:
            schema_id = self.sink_schemas.register(subject, side.sink_schema_text)
        else:
            found = self.sink_schemas.client.lookup_schema(
                subject, _registry_schema(side.sink_schema_text)
            )
            if found.schema_id is None:
                raise AvroBridgeError(f"the sink schema is not registered under {subject!r}")
            schema_id = int(found.schema_id)
        self._target_ids[(side.name, sink_topic)] = schema_id
        log.info(
            "%s records to %s carry schema id %d (subject %s)",
            side.name,
            sink_topic,
            schema_id,
            subject,
        )
        return schema_id

    def _frame(self, side: Side, sink_topic: str) -> bytes:
        """The bytes that name the sink schema: the 5-byte prefix, or the id header's value."""
        return self._frame_of_id(self.target_id(side, sink_topic))

    def _frame_of_id(self, schema_id: int) -> bytes:
        if self.settings.sink.framing != "guid":
            return framing.prefix(schema_id)
        guid = self.sink_schemas.guid_of(schema_id)
        if guid is None:
            raise AvroBridgeError(
                f"the registry gives schema id {schema_id} no GUID: sink framing 'guid' needs "
                "a registry that assigns GUIDs"
            )
        return framing.guid_prefix(guid)

    def value_frame(self, sink_topic: str) -> bytes:
        """What names the sink schema in `sink_topic`'s records (registered when first
        asked): the 5-byte prefix, or the value of the id header (`sink.framing`)."""
        return self._frame(self.value, sink_topic)

    def _add_topic(self, source_topic: str) -> None:
        sink = self.sink_topic(source_topic)
        dropped = False
        for f in self.transforms.filters:
            if f.predicate == "topic_matches":
                hit = re.fullmatch(f.pattern or "", source_topic) is not None
                dropped = dropped or hit != f.negate
        try:
            key_frame = (
                self._frame(self.key, sink) if self.key is not None and not self.key.copy else None
            )
            # A copy's frames come with its plans (one sink id per writer schema).
            value_frame = b"" if self.value.copy else self._frame(self.value, sink)
        except RegistryError as exc:
            if self.settings.errors.tolerance == "none":
                raise
            # No record of this topic can carry an id the sink registry has: the batch step
            # sets them aside (as a dropped topic) and `convert` hands them to the DLQ.
            log.error(
                "the sink registry refused the schema of %s (from %s): %s", sink, source_topic, exc
            )
            self.refused[source_topic] = exc
            key_frame, value_frame, dropped = None, b"", True
        entry: tuple[Any, ...] = (sink, value_frame, key_frame, dropped)
        if self.settings.sink.preserve_partitions == "auto":
            entry = (*entry, self._same_partition_count(source_topic, sink))
        self._topics[source_topic] = entry
        # Writers already copied are registered under this topic's subject too.
        for side in (self.value, self.key):
            if side is not None and side.copy:
                for ref in list(side.plans):
                    side.plans[ref] = self.plan(side, ref)

    def _same_partition_count(self, source_topic: str, sink_topic: str) -> bool:
        """preserve_partitions "auto": keep partition numbers when the counts match."""
        if self.partition_counts is None:
            return False
        source = self.partition_counts("source", source_topic)
        sink = self.partition_counts("sink", sink_topic)
        same = source is not None and source == sink
        log.info(
            "%s (%s partitions) -> %s (%s partitions): %s",
            source_topic,
            source,
            sink_topic,
            sink,
            "partition numbers kept" if same else "partitioned by key",
        )
        return same

    def plan(self, side: Side, ref: WriterRef) -> Any:
        """The Transcoder for records of one writer schema, or the exception they fail with
        (a schema the registry does not have, one the target cannot read)."""
        if side.copy:
            return self._copy_plan(side, ref)
        try:
            if isinstance(ref, int):
                writer = self.schemas.by_id(ref)
            else:
                _, writer = self.schemas.by_guid(ref)
        except SchemaNotFound as exc:
            return exc
        return self.plan_for_writer(side, writer, f"{side.name} writer schema {ref}")

    def plan_for_writer(self, side: Side, writer: Any, what: str) -> Any:
        """The Transcoder from `writer` (a Schema: a registry's, or a container file's) to
        the side's target with the schema-only transforms, or the exception its records fail
        with (a target that cannot read it)."""
        try:
            pair = side.pair_for(writer)
            presented = impl.Schema(
                json.dumps(pair.writer, separators=(",", ":")),
                references=writer.references or None,
                validate_defaults=False,
            )
            reader = impl.Schema(
                json.dumps(pair.plan_reader, separators=(",", ":")),
                references=side.target.references or None,
            )
            transcoder = impl.Transcoder(presented, reader)
        except SchemaResolutionError as exc:
            return exc
        for warning in transcoder.warnings:
            log.warning("%s -> target: %s", what, warning)
        return transcoder

    def _copy_plan(self, side: Side, ref: WriterRef) -> Any:
        """(identity Transcoder, sink frame) for records of one writer schema: the body is
        kept (validated and copied as it is), the writer schema registered under the sink
        subject of every sink topic in the sink registry, the frame made of its sink id. A
        schema the source registry does not have, or a registration the sink registry refuses,
        is the exception the records fail with; an unreachable registry is retried."""
        try:
            writer = (
                self.schemas.by_id(ref) if isinstance(ref, int) else self.schemas.by_guid(ref)[1]
            )
        except SchemaNotFound as exc:
            return exc
        translate: Callable[[Any, str], int] = (
            self.translator.translate if isinstance(ref, int) else self.translator.translate_guid
        )
        sink_id = None
        for sink_topic in sorted({entry[0] for entry in self._topics.values()}):
            subject = self.subject_for(side, sink_topic, writer.name)
            what = f"registering {side.name} writer schema {ref} under {subject!r}"
            try:
                found = self.sink_schemas.call(what, functools.partial(translate, ref, subject))
            except RegistryUnavailable:
                raise
            except RegistryError as exc:
                return exc
            if sink_id is not None and found != sink_id:
                return RegistryError(
                    f"the sink registry gives {side.name} writer schema {ref} the ids "
                    f"{sink_id} and {found} under different subjects: a copy needs one id"
                )
            sink_id = found
        if sink_id is None:  # no sink topic yet: built again when the first one is added
            return AvroBridgeError(f"{side.name} writer schema {ref}: no sink topic known yet")
        if self.translated.get((side.name, ref)) != sink_id:
            log.info("%s writer schema %s -> sink schema id %d", side.name, ref, sink_id)
        self.translated[(side.name, ref)] = sink_id
        try:
            frame = self._frame_of_id(sink_id)
        except AvroBridgeError as exc:
            return exc
        return (impl.Transcoder(writer, writer), frame)

    def sink_id(self, side: Side, ref: WriterRef) -> int | None:
        """The sink id records of writer `ref` carry (transcoding: when one target id)."""
        if side.copy:
            return self.translated.get((side.name, ref))
        ids = {i for (name, _), i in self._target_ids.items() if name == side.name}
        return ids.pop() if len(ids) == 1 else None

    def cached_plan(self, side: Side, ref: WriterRef) -> Any:
        """`plan`, built once per writer reference (the start-up check builds the plans of
        every live version, which the first batches then use)."""
        found = side.plans.get(ref)
        if found is None:
            found = side.plans[ref] = self.plan(side, ref)
        return found

    # -- the hot path ---------------------------------------------------------------------

    def convert(self, messages: list[Any]) -> ConvertedBatch:
        """Converts one consumed batch. Registry failures (unreachable beyond the retry
        budget) raise; records that cannot be converted come back as failures."""
        key_plans = self.key.plans if self.key is not None else None
        while True:
            batch = impl.convert_batch(
                messages, self.spec, self.value.plans, key_plans, self._topics
            )
            if not batch.missing:
                self.set_aside = 0
                if self.refused and batch.filtered:
                    self._fail_refused(batch, messages)
                return batch
            for topic in batch.missing_topics:
                self._add_topic(topic)
            for ref in batch.missing_value_refs:
                self.cached_plan(self.value, ref)
            if self.key is not None:
                for ref in batch.missing_key_refs:
                    self.cached_plan(self.key, ref)

    def _fail_refused(self, batch: Any, messages: list[Any]) -> None:
        """The records of refused topics, set aside as dropped, become failures (in consumed
        order): the emitter dead-letters them with the registry's error code."""
        refused = self.refused
        failures = [
            (i, VALUE_CONVERTER, refused[m.topic()])
            for i, m in enumerate(messages)
            if m.error() is None and m.topic() in refused
        ]
        if failures:
            merged = sorted([*batch.failures, *failures], key=lambda f: f[0])
            batch.failures[:] = merged
            self.set_aside = len(failures)

    @property
    def plans_cached(self) -> int:
        return len(self.value.plans) + (len(self.key.plans) if self.key is not None else 0)


def _copy_side(name: str) -> Side:
    """A side whose records keep their writer schema (no target)."""
    return Side(
        name=name, target=None, pair_for=None, sink_schema_text="", sink_name=None, copy=True
    )


def _registry_schema(text: str) -> Any:
    from confluent_kafka.schema_registry import Schema as RegistrySchema

    return RegistrySchema(text, "AVRO")
