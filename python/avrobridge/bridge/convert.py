"""Batch conversion: framed source records -> sink bytes, through the native transcoder.

Records are grouped by (writer schema, sink topic) so that each group is one call into Rust
(GIL released); results go back in the original order. A record that cannot be converted
becomes a `Failure` for the dead-letter topic; it is never dropped.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from .. import Schema, Transcoder
from .._backend import impl
from ..errors import AvroBridgeError, FramingError, SchemaResolutionError
from .config import BridgeSettings, TargetSettings
from .deadletter import KEY_CONVERTER, VALUE_CONVERTER, Failure
from .schemas import SchemaNotFound, SchemaSource
from .transforms import (
    RecordTransforms,
    SchemaPair,
    TransformSpec,
    apply_schema_transforms,
    regex_route,
)

log = logging.getLogger("avrobridge.bridge")

Headers = list[tuple[str, bytes]]
#: A writer schema reference: a registry id, or a GUID string.
WriterRef = int | str

HEADER_IDS = {"value": "__value_schema_id", "key": "__key_schema_id"}


def _group_by_schema_id_py(
    items: Sequence[bytes | None],
) -> tuple[dict[int, list[int]], list[int]]:
    """Pure-Python `group_by_schema_id` for the fastavro backend."""
    groups: dict[int, list[int]] = {}
    others: list[int] = []
    for i, data in enumerate(items):
        if data is not None and len(data) >= 5 and data[0] == 0:
            groups.setdefault(int.from_bytes(data[1:5], "big"), []).append(i)
        else:
            others.append(i)
    return groups, others


group_by_schema_id = getattr(impl, "group_by_schema_id", _group_by_schema_id_py)


class NotFramed(FramingError):
    """A record that carries no schema id in any form avrobridge knows."""


def parse_schema_ref(data: bytes | None, what: str) -> tuple[WriterRef, int]:
    """(schema id or GUID, body offset) of a Confluent-framed payload or id header:
    magic 0 + 4-byte id, or magic 1 + 16-byte GUID."""
    if not data:
        raise NotFramed(f"{what} is empty: no Confluent schema id")
    magic = data[0]
    if magic == 0 and len(data) >= 5:
        return int.from_bytes(data[1:5], "big"), 5
    if magic == 1 and len(data) >= 17:
        return str(uuid.UUID(bytes=bytes(data[1:17]))), 17
    if magic in (0, 1):
        raise NotFramed(f"{what} of {len(data)} bytes is shorter than its Confluent header")
    raise NotFramed(
        f"{what} has unknown magic byte {magic}: not in the Confluent wire format "
        "(magic 0 + 4-byte schema id, or magic 1 + 16-byte GUID)"
    )


@dataclass
class Plan:
    """How records of one writer schema become sink records."""

    transcoder: Transcoder
    writer_id: int | None


@dataclass
class Side:
    """Conversion of one side of the records (values, or keys)."""

    name: str  # "value" | "key"
    target: Schema
    pair_for: Any  # Callable[[Schema], SchemaPair]
    sink_schema_text: str
    sink_name: str | None
    plans: dict[WriterRef, Plan | Failure] = field(default_factory=dict)
    target_ids: dict[str, int] = field(default_factory=dict)
    target_guids: dict[int, str] = field(default_factory=dict)

    @property
    def stage(self) -> str:
        return VALUE_CONVERTER if self.name == "value" else KEY_CONVERTER

    @property
    def header(self) -> str:
        return HEADER_IDS[self.name]


class Converter:
    """Turns a batch of consumed messages into sink decisions, in order."""

    def __init__(self, settings: BridgeSettings, schemas: SchemaSource) -> None:
        self.settings = settings
        self.schemas = schemas
        self.transforms = RecordTransforms.from_specs(settings.transforms)
        self.value = self._side("value", settings.value, settings.transforms)
        self.key = (
            self._side("key", settings.key.target, []) if settings.key.mode == "transcode" else None
        )
        self._sink_cache: dict[str, str] = {}
        #: Records of the last `convert_side` call that became Failures.
        self.failures = 0

    # -- set-up ---------------------------------------------------------------------------

    def load_target(self, target: TargetSettings, what: str) -> Schema:
        if target.schema_file is not None:
            try:
                text = target.schema_file.read_text(encoding="utf-8")
            except OSError as exc:
                raise AvroBridgeError(f"{what} schema file {target.schema_file}: {exc}") from None
            return Schema(text)
        assert target.subject is not None
        _, _, schema = self.schemas.version(target.subject, target.version)
        return schema

    def _side(self, name: str, target: TargetSettings, specs: Sequence[TransformSpec]) -> Side:
        schema = self.load_target(target, name)
        target_json = schema.to_json()

        def pair_for(writer: Schema) -> SchemaPair:
            return apply_schema_transforms(writer.to_json(), target_json, specs)

        # The sink schema does not depend on the writer (only the presented writer does).
        sink = apply_schema_transforms(target_json, target_json, specs).sink
        sink_schema = Schema(
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
        cached = self._sink_cache.get(source_topic)
        if cached is not None:
            return cached
        sink = self.settings.sink
        if sink.topic is not None:
            topic = sink.topic
        elif sink.mapping:
            topic = sink.mapping.get(source_topic, source_topic)
        else:
            assert sink.rename is not None
            topic = regex_route(sink.rename.regex, sink.rename.replacement, source_topic)
        topic = self.transforms.route(topic)
        self._sink_cache[source_topic] = topic
        return topic

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
        cached = side.target_ids.get(sink_topic)
        if cached is not None:
            return cached
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
        side.target_ids[sink_topic] = schema_id
        log.info(
            "%s records to %s carry schema id %d (subject %s)",
            side.name,
            sink_topic,
            schema_id,
            subject,
        )
        return schema_id

    def plan(self, side: Side, ref: WriterRef) -> Plan | Failure:
        """The transcoding plan for a writer schema, built once and cached (so is a failure)."""
        cached = side.plans.get(ref)
        if cached is not None:
            return cached
        try:
            if isinstance(ref, int):
                writer = self.schemas.by_id(ref)
                writer_id: int | None = ref
            else:
                writer_id, writer = self.schemas.by_guid(ref)
            pair = side.pair_for(writer)
            presented = Schema(
                json.dumps(pair.writer, separators=(",", ":")),
                references=writer.references or None,
                validate_defaults=False,
            )
            reader = Schema(
                json.dumps(pair.plan_reader, separators=(",", ":")),
                references=side.target.references or None,
            )
            transcoder = Transcoder(presented, reader)
            for warning in transcoder.warnings:
                log.warning("writer schema %s -> target: %s", ref, warning)
            result: Plan | Failure = Plan(transcoder, writer_id)
        except SchemaNotFound as exc:
            result = Failure.from_exception(side.stage, exc)
        except SchemaResolutionError as exc:
            result = Failure.from_exception(side.stage, exc)
        side.plans[ref] = result
        return result

    # -- the hot path ---------------------------------------------------------------------

    def convert_side(
        self,
        side: Side,
        payloads: Sequence[bytes | None],
        headers: Sequence[Headers | None],
        sink_topics: Sequence[str],
        results: list[bytes | Failure | None],
        out_headers: list[Headers | None],
    ) -> None:
        """Fills `results[i]` (bytes, a Failure, or None for a tombstone) for every payload,
        and `out_headers[i]` when the sink framing changes the headers."""
        groups: dict[tuple[WriterRef, str, int], list[int]] = {}
        header_name = side.header
        self.failures = 0
        if any(headers):
            # Some records carry headers, which may hold the schema id: check each record.
            rest: Sequence[int] = range(len(payloads))
        else:
            # The common case, in one native pass: prefix-framed records grouped by id.
            by_id, rest = group_by_schema_id(payloads)
            single_sink = len(set(sink_topics)) == 1
            for schema_id, indexes in by_id.items():
                if single_sink:
                    groups[(schema_id, sink_topics[0], 5)] = indexes
                else:
                    for i in indexes:
                        groups.setdefault((schema_id, sink_topics[i], 5), []).append(i)
        for i in rest:
            data = payloads[i]
            if data is None:
                results[i] = None
                continue
            try:
                hdrs = headers[i]
                ref_header = None
                if hdrs:
                    for k, v in hdrs:
                        if k == header_name:
                            ref_header = v
                            break
                if ref_header is not None:
                    ref, _ = parse_schema_ref(ref_header, f"header {header_name}")
                    body_at = 0
                else:
                    ref, body_at = parse_schema_ref(data, f"{side.name}")
            except FramingError as exc:
                results[i] = Failure.from_exception(side.stage, exc)
                self.failures += 1
                continue
            groups.setdefault((ref, sink_topics[i], body_at), []).append(i)

        framing = self.settings.sink.framing
        for (ref, sink_topic, body_at), indexes in groups.items():
            plan = self.plan(side, ref)
            if isinstance(plan, Failure):
                for i in indexes:
                    results[i] = plan
                self.failures += len(indexes)
                continue
            target_id = self.target_id(side, sink_topic)
            if body_at == 5 and framing == "prefix":
                items = [payloads[i] for i in indexes]
                outputs, errors = plan.transcoder.transcode_framed_many(
                    items, target_id, plan.writer_id
                )
            else:
                items = [payloads[i][body_at:] for i in indexes]  # type: ignore[index]
                outputs, errors = plan.transcoder.transcode_many(items)
                prefix = b"\x00" + target_id.to_bytes(4, "big")
                id_header = self._id_header(side, target_id, framing)
                for j, out in enumerate(outputs):
                    if out is None:
                        continue
                    i = indexes[j]
                    if framing == "prefix":
                        outputs[j] = prefix + out
                    original = headers[i] or []
                    kept = [(k, v) for k, v in original if k != side.header]
                    if id_header is not None:
                        kept.append(id_header)
                    out_headers[i] = kept
            for j, out in enumerate(outputs):
                results[indexes[j]] = out
            for j, error in errors:
                results[indexes[j]] = Failure.from_exception(side.stage, error)
            self.failures += len(errors)

    def _id_header(self, side: Side, target_id: int, framing: str) -> tuple[str, bytes] | None:
        if framing == "header":
            return (side.header, b"\x00" + target_id.to_bytes(4, "big"))
        if framing == "guid":
            guid = side.target_guids.get(target_id)
            if guid is None:
                found = self.schemas.guid_of(target_id)
                if found is None:
                    raise AvroBridgeError(
                        f"the registry gives schema id {target_id} no GUID: sink framing 'guid' "
                        "needs a registry that assigns GUIDs"
                    )
                guid = side.target_guids[target_id] = found
            return (side.header, b"\x01" + uuid.UUID(guid).bytes)
        return None


def _registry_schema(text: str) -> Any:
    from confluent_kafka.schema_registry import Schema as RegistrySchema

    return RegistrySchema(text, "AVRO")
