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

import json
import logging
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from .._backend import impl
from ..errors import AvroBridgeError, SchemaResolutionError
from .config import BridgeSettings, TargetSettings
from .schemas import SchemaNotFound, SchemaSource
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


@dataclass
class Side:
    """Conversion of one side of the records (values, or keys)."""

    name: str  # "value" | "key"
    target: Any  # Schema
    pair_for: Any  # Callable[[Schema], SchemaPair]
    sink_schema_text: str
    sink_name: str | None
    #: Writer reference -> Transcoder, or the exception its records fail with.
    plans: dict[WriterRef, Any] = field(default_factory=dict)


class Converter:
    """Turns batches of consumed messages into `ConvertedBatch`es."""

    def __init__(self, settings: BridgeSettings, schemas: SchemaSource) -> None:
        self.settings = settings
        self.schemas = schemas
        self.transforms = RecordTransforms.from_specs(settings.transforms)
        self.value = self._side("value", settings.value, settings.transforms)
        self.key = (
            self._side("key", settings.key.target, []) if settings.key.mode == "transcode" else None
        )
        meta = self.transforms.metadata
        # Files (an export) take the records unframed: "header" framing leaves them so.
        to_files = settings.sink.directory is not None
        self.spec = impl.BatchSpec(
            framing="prefix" if settings.sink.framing == "prefix" and not to_files else "header",
            transcode_keys=self.key is not None,
            preserve_partitions=settings.sink.preserve_partitions,
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
        #: Source topic -> (sink topic, value frame, key frame, dropped by a topic filter).
        self._topics: dict[str, tuple[str, bytes, bytes | None, bool]] = {}
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

    def subject_for(self, side: Side, sink_topic: str) -> str:
        strategy = (
            self.settings.value if side.name == "value" else self.settings.key.target
        ).subject_name_strategy
        suffix = "-value" if side.name == "value" else "-key"
        if strategy == "topic" or side.sink_name is None:
            return sink_topic + suffix
        if strategy == "record":
            return side.sink_name
        return f"{sink_topic}-{side.sink_name}"

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
            schema_id = self.schemas.register(subject, side.sink_schema_text)
        else:
            found = self.schemas.client.lookup_schema(
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
        schema_id = self.target_id(side, sink_topic)
        if self.settings.sink.framing != "guid":
            return b"\x00" + schema_id.to_bytes(4, "big")
        guid = self.schemas.guid_of(schema_id)
        if guid is None:
            raise AvroBridgeError(
                f"the registry gives schema id {schema_id} no GUID: sink framing 'guid' needs "
                "a registry that assigns GUIDs"
            )
        return b"\x01" + uuid.UUID(guid).bytes

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
        key_frame = self._frame(self.key, sink) if self.key is not None else None
        self._topics[source_topic] = (sink, self._frame(self.value, sink), key_frame, dropped)

    def plan(self, side: Side, ref: WriterRef) -> Any:
        """The Transcoder for records of one writer schema, or the exception they fail with
        (a schema the registry does not have, one the target cannot read)."""
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
                return batch
            for topic in batch.missing_topics:
                self._add_topic(topic)
            for ref in batch.missing_value_refs:
                self.cached_plan(self.value, ref)
            if self.key is not None:
                for ref in batch.missing_key_refs:
                    self.cached_plan(self.key, ref)

    @property
    def plans_cached(self) -> int:
        return len(self.value.plans) + (len(self.key.plans) if self.key is not None else 0)


def _registry_schema(text: str) -> Any:
    from confluent_kafka.schema_registry import Schema as RegistrySchema

    return RegistrySchema(text, "AVRO")
