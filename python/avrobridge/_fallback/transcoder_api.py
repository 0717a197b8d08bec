"""The fastavro backend's ``Transcoder``, the plan cache of ``decode(..., reader=...)`` and
the compatibility check (the twins of ``rust/src/py/transcoder.rs``, ``plan_cache.rs`` and
``compatibility.rs``)."""

from __future__ import annotations

import operator
import threading
from typing import Any, NoReturn

from .. import framing
from .._avro_rules import PLAN_CACHE_LIMIT as _PLAN_CACHE_LIMIT
from ..errors import FramingError
from . import compat, resolve, resolve_plan, transcode, wirecheck
from .exceptions import decode_error
from .schema_api import Schema, as_schema, deep_recursion, require

# Plans built for decode(..., reader=...), keyed by the two schemas' identities (the schemas
# are kept, so an id cannot be reused while its entry lives).
_PLAN_CACHE: dict[tuple[int, int], tuple[Schema, Schema, resolve_plan.Plan]] = {}
_plan_lock = threading.Lock()


def _build_plan(writer: Schema, reader: Schema) -> resolve_plan.Plan:
    return resolve.build_plan(writer._parsed.root, reader._parsed.root)


def cached_plan(writer: Schema, reader: Schema) -> resolve_plan.Plan:
    key = (id(writer), id(reader))
    with _plan_lock:
        entry = _PLAN_CACHE.get(key)
    if entry is not None:
        return entry[2]
    plan = _build_plan(writer, reader)
    with _plan_lock:
        if len(_PLAN_CACHE) >= _PLAN_CACHE_LIMIT:
            _PLAN_CACHE.clear()
        _PLAN_CACHE[key] = (writer, reader, plan)
    return plan


def resolve_bytes(
    writer: Schema,
    reader: Schema,
    plan: resolve_plan.Plan,
    data: bytes,
    budget: wirecheck.ItemBudget,
) -> bytes:
    if writer._parsed.recursive or reader._parsed.recursive:
        with deep_recursion():
            return transcode.transcode(plan, data, budget)
    return transcode.transcode(plan, data, budget)


def _items(items: Any) -> list[bytes]:
    """The batch items, as bytes (bytes and bytearray are accepted, as pyo3's
    ``PyBackedBytes``)."""
    out: list[bytes] = []
    for i, item in enumerate(items):
        if isinstance(item, bytes):
            out.append(bytes(item) if type(item) is not bytes else item)
        elif isinstance(item, bytearray):
            out.append(bytes(item))
        else:
            raise TypeError(f"item {i} is not bytes")
    return out


def usize(value: Any) -> int:
    """pyo3's ``usize`` argument conversion, with its errors."""
    v = int(value) if isinstance(value, int) else operator.index(value)
    if v < 0:
        raise OverflowError("can't convert negative int to unsigned")
    if v >= 1 << 64:
        raise OverflowError("int too big to convert")
    return v


def _u32(value: Any) -> int:
    """pyo3's ``u32`` argument conversion, with its errors."""
    v = int(value) if isinstance(value, int) else operator.index(value)
    if not -(1 << 63) <= v < (1 << 63):
        raise OverflowError("Python int too large to convert to C long")
    if not 0 <= v < (1 << 32):
        raise OverflowError("out of range integral type conversion attempted")
    return v


BatchResult = tuple[list[bytes | None], list[tuple[int, Exception]]]


class Transcoder:
    """A compiled writer -> reader plan, applied to bytes. Immutable and thread-safe."""

    __slots__ = ("_limit", "_plan", "_reader", "_writer")
    _writer: Schema
    _reader: Schema
    _plan: resolve_plan.Plan
    _limit: int

    def __new__(
        cls,
        writer: Any,
        reader: Any,
        *,
        max_zero_byte_items: Any = wirecheck.DEFAULT_MAX_ZERO_BYTE_ITEMS,
    ) -> Transcoder:
        limit = usize(max_zero_byte_items)
        w = as_schema(writer)
        r = as_schema(reader)
        plan = _build_plan(w, r)
        self = object.__new__(cls)
        object.__setattr__(self, "_writer", w)
        object.__setattr__(self, "_reader", r)
        object.__setattr__(self, "_plan", plan)
        object.__setattr__(self, "_limit", limit)
        return self

    def __init_subclass__(cls, **kwargs: Any) -> NoReturn:
        raise TypeError("type 'avrobridge._fallback.Transcoder' is not an acceptable base type")

    def __setattr__(self, name: str, value: Any) -> None:
        if name in ("changes", "max_zero_byte_items", "reader", "warnings", "writer"):
            raise AttributeError(
                f"attribute '{name}' of 'avrobridge._fallback.Transcoder' objects is not writable"
            )
        raise AttributeError(f"'avrobridge._fallback.Transcoder' object has no attribute '{name}'")

    def __delattr__(self, name: str) -> None:
        self.__setattr__(name, None)

    def __getattr__(self, name: str) -> NoReturn:
        raise AttributeError(f"'avrobridge._fallback.Transcoder' object has no attribute '{name}'")

    def __reduce__(self) -> NoReturn:
        raise TypeError("cannot pickle 'avrobridge._fallback.Transcoder' object")

    @property
    def writer(self) -> Schema:
        return self._writer

    @property
    def reader(self) -> Schema:
        return self._reader

    @property
    def warnings(self) -> list[str]:
        """Problems that make only some records unreadable (a writer enum symbol or union
        branch the reader cannot take); such records fail at transcode time."""
        return list(self._plan.warnings)

    @property
    def changes(self) -> list[tuple[str, str, str]]:
        """What the plan does to the records: (kind, location, message) for each field
        dropped, filled from its default or renamed through an alias, each promotion, each
        set of enum symbols read as the reader's default and each named type matched by an
        alias."""
        return list(self._plan.changes)

    @property
    def max_zero_byte_items(self) -> int:
        """Zero-byte items (null, empty records, fixed of size 0) each call may read in
        total."""
        return self._limit

    def _run(self, data: bytes, budget: wirecheck.ItemBudget) -> bytes:
        return resolve_bytes(self._writer, self._reader, self._plan, data, budget)

    def transcode(self, data: bytes) -> bytes:
        """Writer bytes -> reader bytes."""
        require(data, bytes, "bytes")
        try:
            return self._run(bytes(data), wirecheck.ItemBudget(self._limit))
        except Exception as exc:
            error = decode_error(exc, None)
        raise error

    def transcode_many(self, items: Any, *, prefix: Any = None) -> BatchResult:
        """Transcodes every item; returns ``(outputs, errors)``: ``outputs[i]`` is bytes
        (starting with ``prefix``: a sink's frame for records that had none) or None,
        ``errors`` lists ``(index, exception)`` for every item that failed."""
        inputs = _items(items)
        head = b"" if prefix is None else bytes(prefix)
        budget = wirecheck.ItemBudget(self._limit)
        outputs: list[bytes | None] = []
        errors: list[tuple[int, Exception]] = []
        for index, item in enumerate(inputs):
            try:
                outputs.append(head + self._run(item, budget))
            except Exception as exc:
                errors.append((index, decode_error(exc, index)))
                outputs.append(None)
        return outputs, errors

    def transcode_framed_many(
        self, items: Any, schema_id: Any, expected_writer_id: Any = None
    ) -> BatchResult:
        """The same for Confluent-framed records: each item must carry magic byte 0 and a
        schema id (equal to ``expected_writer_id`` when given); outputs carry ``schema_id``,
        or no frame when it is None (records bound for a container file)."""
        header = b"" if schema_id is None else framing.prefix(_u32(schema_id))
        expected = None if expected_writer_id is None else _u32(expected_writer_id)
        inputs = _items(items)
        budget = wirecheck.ItemBudget(self._limit)
        outputs: list[bytes | None] = []
        errors: list[tuple[int, Exception]] = []
        for index, item in enumerate(inputs):
            try:
                writer_id, body = framing.split(item)
                if expected is not None and writer_id != expected:
                    raise FramingError(
                        f"record has schema id {writer_id}, this transcoder reads schema id "
                        f"{expected}"
                    )
                outputs.append(header + self._run(body, budget))
            except FramingError as exc:
                errors.append((index, FramingError(exc.message, 0, None, index)))
                outputs.append(None)
            except wirecheck.WireError as exc:
                # Offsets in framed records count the 5-byte header too.
                exc.offset += framing.HEADER_LEN
                errors.append((index, decode_error(exc, index)))
                outputs.append(None)
            except Exception as exc:
                errors.append((index, decode_error(exc, index)))
                outputs.append(None)
        return outputs, errors

    def __repr__(self) -> str:
        w = self._writer._parsed.root.branch_name
        r = self._reader._parsed.root.branch_name
        return f"Transcoder({w} -> {r})"


Transcoder.__module__ = "avrobridge._fallback"


def reader_writer_incompatibilities(reader: Any, writer: Any) -> list[tuple[str, str, str]]:
    """Every reason ``reader`` cannot read data written with ``writer``, as
    ``(error_type, location, message)`` triples in Apache Avro's order; empty when
    compatible."""
    r = as_schema(reader)
    w = as_schema(writer)
    return compat.check(r._parsed.root, w._parsed.root)
