"""The bridge's batch step in pure Python: the same `BatchSpec`, `convert_batch` and
`ConvertedBatch` as ``rust/src/py/batch.rs`` (which says what each field means), on top of
this backend's Transcoder."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, final

from .. import framing
from ..errors import FramingError
from ..wire import write_long
from . import wirecheck
from .exceptions import decode_error

VALUE_CONVERTER = "VALUE_CONVERTER"
KEY_CONVERTER = "KEY_CONVERTER"


@final
class BatchSpec:
    __slots__ = (
        "filters",
        "framing",
        "metadata",
        "preserve_partitions",
        "stop_at_failure",
        "transcode_keys",
    )

    def __init__(
        self,
        *,
        framing: str = "prefix",
        transcode_keys: bool = False,
        preserve_partitions: bool = True,
        stop_at_failure: bool = True,
        filters: list[tuple[str, str | None, bool]] | None = None,
        metadata: tuple[bool, bool, bool, bool] = (False, False, False, False),
    ) -> None:
        if framing not in ("prefix", "header"):
            raise ValueError(f"framing must be 'prefix' or 'header', not {framing!r}")
        for kind, header, _ in filters or []:
            if kind not in ("is_tombstone", "has_header") or (
                kind == "has_header" and header is None
            ):
                raise ValueError(f"unknown record filter {kind!r} (is_tombstone, has_header NAME)")
        self.framing = framing
        self.transcode_keys = transcode_keys
        self.preserve_partitions = preserve_partitions
        self.stop_at_failure = stop_at_failure
        self.filters = list(filters or [])
        self.metadata = tuple(metadata)


BatchSpec.__module__ = "avrobridge._fallback"


@final
@dataclass(frozen=True, eq=False)
class ConvertedBatch:
    produce: list[tuple[Any, ...]] = field(default_factory=list)
    failures: list[tuple[int, str, BaseException]] = field(default_factory=list)
    events: list[tuple[int, Any]] = field(default_factory=list)
    offsets: list[tuple[str, int, int]] = field(default_factory=list)
    records: int = 0
    tombstones: int = 0
    filtered: int = 0
    records_by_topic: dict[str, int] = field(default_factory=dict)
    out_by_topic: dict[str, int] = field(default_factory=dict)
    by_writer: dict[framing.SchemaRef, int] = field(default_factory=dict)
    missing_value_refs: list[framing.SchemaRef] = field(default_factory=list)
    missing_key_refs: list[framing.SchemaRef] = field(default_factory=list)
    missing_topics: list[str] = field(default_factory=list)
    complete: bool = True

    @property
    def missing(self) -> bool:
        return bool(self.missing_value_refs or self.missing_key_refs or self.missing_topics)

    def __repr__(self) -> str:
        return (
            f"ConvertedBatch(records={self.records}, produce={len(self.produce)}, "
            f"failures={len(self.failures)}, events={len(self.events)})"
        )


ConvertedBatch.__module__ = "avrobridge._fallback"


def _header(headers: list[Any] | None, name: str) -> Any:
    for pair in headers or ():
        if isinstance(pair, tuple) and len(pair) >= 2 and pair[0] == name:
            return pair[1]
    return None


def _locate(
    payload: bytes, headers: list[Any] | None, name: str, what: str
) -> tuple[framing.SchemaRef, int, bool]:
    found = _header(headers, name)
    if found is not None:
        if not isinstance(found, bytes):
            raise FramingError(f"header {name} is not bytes: no Confluent schema id", 0)
        ref, _ = framing.parse_ref(found, f"header {name}")
        return ref, 0, True
    ref, body_at = framing.parse_ref(payload, what)
    return ref, body_at, False


def _metadata(spec: BatchSpec, topic: str, partition: int, offset: int, timestamp: int) -> bytes:
    out = bytearray()
    if spec.metadata[0]:
        encoded = topic.encode()
        write_long(out, len(encoded))
        out += encoded
    if spec.metadata[1]:
        write_long(out, partition)
    if spec.metadata[2]:
        write_long(out, offset)
    if spec.metadata[3]:
        write_long(out, timestamp)
    return bytes(out)


def _side(
    payload: bytes | None,
    headers: list[Any] | None,
    header_name: str,
    what: str,
    plans: dict[Any, Any],
    missing: list[framing.SchemaRef],
) -> tuple[str, Any]:
    """("null", None), ("convert", (transcoder, body_at, from_header, ref, frame)) or
    ("failed", exception); a missing plan is recorded and reads as null."""
    if payload is None:
        return "null", None
    try:
        ref, body_at, from_header = _locate(payload, headers, header_name, what)
    except FramingError as exc:
        return "failed", exc
    plan = plans.get(ref)
    if plan is None:
        if ref not in missing:
            missing.append(ref)
        return "null", None
    if isinstance(plan, BaseException):
        return "failed", plan
    frame = None
    if isinstance(plan, tuple) and len(plan) == 2:  # (Transcoder, its own sink frame)
        plan, frame = plan[0], bytes(plan[1])
    return "convert", (plan, body_at, from_header, ref, frame)


def _transcode(
    plan: Any, body_at: int, payload: bytes, prefix: bytes, budget: wirecheck.ItemBudget
) -> bytes:
    """prefix + transcoded body; errors carry offsets into the whole payload."""
    try:
        out: bytes = plan._run(payload[body_at:], budget)
    except Exception as exc:
        error = decode_error(exc, None)
        if error.offset is not None:
            error.offset += body_at
        raise error from None
    return prefix + out


def convert_batch(
    messages: list[Any],
    spec: BatchSpec,
    value_plans: dict[Any, Any],
    key_plans: dict[Any, Any] | None,
    topics: dict[str, tuple[Any, ...]],
) -> ConvertedBatch:
    if spec.transcode_keys and key_plans is None:
        raise ValueError("transcode_keys needs key_plans")
    events: list[tuple[int, Any]] = []
    missing_values: list[framing.SchemaRef] = []
    missing_keys: list[framing.SchemaRef] = []
    missing_topics: list[str] = []
    prepared = []
    for index, m in enumerate(messages):
        error = m.error()
        if error is not None:
            events.append((index, error))
            continue
        topic = m.topic()
        entry = topics.get(topic)
        if entry is None:
            if topic not in missing_topics:
                missing_topics.append(topic)
            continue
        value, key, headers = m.value(), m.key(), m.headers()
        kind, ts = m.timestamp()
        filtered = entry[3]
        for filter_kind, name, negate in spec.filters:
            hit = (
                value is None
                if filter_kind == "is_tombstone"
                else _header(headers, name or "") is not None
            )
            if hit != negate:
                filtered = True
        value_side: tuple[str, Any] = ("null", None)
        key_side: tuple[str, Any] = ("null", None)
        if not filtered:
            value_side = _side(
                value, headers, framing.VALUE_SCHEMA_ID_HEADER, "value", value_plans, missing_values
            )
            if spec.transcode_keys and key is not None:
                if not isinstance(key, bytes):
                    key_side = (
                        "failed",
                        FramingError("key is not bytes: no Confluent schema id", 0, None, None),
                    )
                else:
                    key_side = _side(
                        key,
                        headers,
                        framing.KEY_SCHEMA_ID_HEADER,
                        "key",
                        key_plans or {},
                        missing_keys,
                    )
        prepared.append(
            (
                index,
                topic,
                entry,
                m.partition(),
                m.offset(),
                value,
                key,
                0 if kind == 0 else ts,
                headers,
                filtered,
                value_side,
                key_side,
            )
        )
    if missing_topics or missing_values or missing_keys:
        return ConvertedBatch(
            events=events,
            missing_value_refs=missing_values,
            missing_key_refs=missing_keys,
            missing_topics=missing_topics,
            complete=False,
        )
    result = ConvertedBatch(events=events)
    # One budget of zero-byte items for the whole batch (the largest any plan allows).
    limits = [
        (p[0] if isinstance(p, tuple) else p)._limit
        for p in (*value_plans.values(), *(key_plans or {}).values())
        if not isinstance(p, BaseException)
    ]
    budget = wirecheck.ItemBudget(max(limits, default=wirecheck.DEFAULT_MAX_ZERO_BYTE_ITEMS))
    offsets: dict[tuple[str, int], int] = {}
    records = tombstones = filtered_count = 0
    complete = True
    prefix_framing = spec.framing == "prefix"
    for (
        index,
        topic,
        entry,
        partition,
        offset,
        value,
        key,
        ts,
        headers,
        filtered,
        value_side,
        key_side,
    ) in prepared:
        sink, topic_value_frame, topic_key_frame = entry[0], entry[1], entry[2]
        preserve = entry[4] if len(entry) > 4 else spec.preserve_partitions
        value_frame = _frame_of(value_side, topic_value_frame) or b""
        key_frame = _frame_of(key_side, topic_key_frame)
        value_out: Any = value
        key_out: Any = key
        failure: tuple[str, BaseException] | None = None
        if value_side[0] == "failed":
            failure = (VALUE_CONVERTER, value_side[1])
        elif value_side[0] == "convert":
            plan, body_at = value_side[1][0], value_side[1][1]
            try:
                value_out = _transcode(
                    plan, body_at, value, value_frame if prefix_framing else b"", budget
                )
                value_out += _metadata(spec, topic, partition, offset, ts)
            except Exception as exc:
                failure = (VALUE_CONVERTER, exc)
        if failure is None:
            if key_side[0] == "failed":
                failure = (KEY_CONVERTER, key_side[1])
            elif key_side[0] == "convert":
                plan, body_at = key_side[1][0], key_side[1][1]
                try:
                    key_out = _transcode(
                        plan, body_at, key, (key_frame or b"") if prefix_framing else b"", budget
                    )
                except Exception as exc:
                    failure = (KEY_CONVERTER, exc)
        if failure is not None:
            result.failures.append((index, failure[0], failure[1]))
            if spec.stop_at_failure:
                complete = False
                break
        elif filtered:
            filtered_count += 1
        else:
            if value is None:
                tombstones += 1
            out_headers = _sink_headers(spec, headers, value_side, key_side, value_frame, key_frame)
            result.produce.append(
                (
                    sink,
                    value_out,
                    key_out,
                    partition if preserve else -1,
                    None,
                    None,
                    ts,
                    out_headers,
                )
            )
            result.out_by_topic[sink] = result.out_by_topic.get(sink, 0) + 1
            if value_side[0] == "convert":
                ref = value_side[1][3]
                result.by_writer[ref] = result.by_writer.get(ref, 0) + 1
        records += 1
        result.records_by_topic[topic] = result.records_by_topic.get(topic, 0) + 1
        offsets[(topic, partition)] = max(offsets.get((topic, partition), -1), offset + 1)
    result.offsets.extend((t, p, o) for (t, p), o in offsets.items())
    object.__setattr__(result, "records", records)
    object.__setattr__(result, "tombstones", tombstones)
    object.__setattr__(result, "filtered", filtered_count)
    object.__setattr__(result, "complete", complete)
    return result


def _frame_of(side: tuple[str, Any], topic_frame: bytes | None) -> bytes | None:
    """The sink frame of a converted side: its plan's own, else the topic's."""
    if side[0] == "convert" and side[1][4] is not None:
        return bytes(side[1][4])
    return topic_frame


def _sink_headers(
    spec: BatchSpec,
    headers: list[Any] | None,
    value_side: tuple[str, Any],
    key_side: tuple[str, Any],
    value_frame: bytes,
    key_frame: bytes | None,
) -> list[Any] | None:
    to_header = spec.framing == "header"
    value_touched = value_side[0] == "convert" and (value_side[1][2] or to_header)
    key_touched = key_side[0] == "convert" and (key_side[1][2] or to_header)
    if not value_touched and not key_touched:
        return headers
    out = [
        h
        for h in headers or []
        if not (
            isinstance(h, tuple)
            and (
                (value_touched and h[0] == framing.VALUE_SCHEMA_ID_HEADER)
                or (key_touched and h[0] == framing.KEY_SCHEMA_ID_HEADER)
            )
        )
    ]
    if to_header:
        if value_touched:
            out.append((framing.VALUE_SCHEMA_ID_HEADER, value_frame))
        if key_touched:
            out.append((framing.KEY_SCHEMA_ID_HEADER, key_frame or b""))
    return out
