"""Schema ids across two registries: a record's source id -> the id of the same schema in
the sink registry, for bridging between clusters whose registries allocate ids on their own.

``IdTranslator.translate(source_id, sink_subject)`` fetches the writer schema (with its
references) from the source registry and registers it under ``sink_subject`` in the sink
registry; each referenced schema is registered first, under its own subject, and the
references are rewritten to the sink's version numbers. Answers are cached both ways, so a
bridge asks each registry once per schema. Nothing here retries: a refusal or an unreachable
registry is a :class:`~avrobridge.errors.RegistryError` carrying the HTTP status and
Confluent's error code (the caller decides between retrying, stopping and the DLQ), and a
record is never given an id the sink registry did not answer.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

from confluent_kafka.schema_registry import (
    Schema,
    SchemaReference,
    SchemaRegistryClient,
    SchemaRegistryError,
)

from ..errors import RegistryError
from .schemas import TransportError

__all__ = ["IdTranslator"]

T = TypeVar("T")

#: References deeper than this are refused (a registry cannot hold a cycle; this bounds work).
MAX_REFERENCE_DEPTH = 32


def _ask(side: str, what: str, call: Callable[[], T]) -> T:
    """Runs one registry call; its failure becomes a RegistryError naming the side."""
    try:
        return call()
    except SchemaRegistryError as exc:
        raise RegistryError(
            f"{side} registry, {what}: {exc.error_message} "
            f"(error code {exc.error_code}, HTTP {exc.http_status_code})",
            exc.http_status_code,
            exc.error_code,
        ) from None
    except (TransportError, OSError) as exc:
        raise RegistryError(
            f"{side} registry unreachable, {what}: {type(exc).__name__}: {exc}"
        ) from None


class IdTranslator:
    """Source ids -> sink ids for one pair of registries (thread-safe)."""

    def __init__(self, source: SchemaRegistryClient, sink: SchemaRegistryClient) -> None:
        self.source = source
        self.sink = sink
        self._lock = threading.Lock()
        self._forward: dict[tuple[int, str], int] = {}
        self._reverse: dict[int, int] = {}
        self._by_guid: dict[tuple[str, str], int] = {}
        #: (subject, source version) -> the sink's version of the same schema
        self._versions: dict[tuple[str, int], int] = {}

    def translate(self, source_id: int, sink_subject: str) -> int:
        """The sink id of the schema ``source_id`` names, registered under ``sink_subject``."""
        with self._lock:
            cached = self._forward.get((source_id, sink_subject))
            if cached is not None:
                return cached
            schema = _ask(
                "source", f"schema id {source_id}", lambda: self.source.get_schema(source_id)
            )
            sink_id = self._register(schema, sink_subject, f"schema id {source_id}", 0)
            self._forward[(source_id, sink_subject)] = sink_id
            self._reverse.setdefault(sink_id, source_id)
            return sink_id

    def translate_guid(self, guid: str, sink_subject: str) -> int:
        """`translate` for a writer schema named by its GUID (magic-1 framing)."""
        with self._lock:
            cached = self._by_guid.get((guid, sink_subject))
            if cached is not None:
                return cached
            schema = _ask(
                "source", f"schema guid {guid}", lambda: self.source.get_schema_by_guid(guid)
            )
            sink_id = self._register(schema, sink_subject, f"schema guid {guid}", 0)
            self._by_guid[(guid, sink_subject)] = sink_id
            return sink_id

    def source_id(self, sink_id: int) -> int | None:
        """The source id first translated to ``sink_id``, if any."""
        with self._lock:
            return self._reverse.get(sink_id)

    def _register(self, schema: Schema, subject: str, what: str, depth: int) -> int:
        """Registers ``schema`` (references first) under ``subject`` in the sink; its id."""
        sink_schema = self._with_sink_references(schema, what, depth)
        return _ask(
            "sink",
            f"registering {what} under {subject!r}",
            lambda: self.sink.register_schema(subject, sink_schema),
        )

    def _with_sink_references(self, schema: Schema, what: str, depth: int) -> Schema:
        refs = []
        for ref in schema.references or []:
            subject, version = str(ref.subject), int(ref.version or 0)
            refs.append(
                SchemaReference(
                    name=ref.name,
                    subject=subject,
                    version=self._sink_version(subject, version, depth),
                )
            )
        return Schema(schema.schema_str, schema.schema_type or "AVRO", references=refs)

    def _sink_version(self, subject: str, version: int, depth: int) -> int:
        """The sink's version of the source's ``subject`` ``version``, registered if needed."""
        found = self._versions.get((subject, version))
        if found is not None:
            return found
        if depth >= MAX_REFERENCE_DEPTH:
            raise RegistryError(f"schema references nest deeper than {MAX_REFERENCE_DEPTH} levels")
        what = f"reference {subject!r} version {version}"
        registered: Any = _ask(
            "source", what, lambda: self.source.get_version(subject, version, deleted=True)
        )
        schema = self._with_sink_references(registered.schema, what, depth + 1)
        _ask(
            "sink",
            f"registering {what} under {subject!r}",
            lambda: self.sink.register_schema(subject, schema),
        )
        # Confluent answers a registration with the id only; the version is a lookup away.
        looked_up: Any = _ask(
            "sink", f"looking up {what}", lambda: self.sink.lookup_schema(subject, schema)
        )
        number = int(looked_up.version)
        self._versions[(subject, version)] = number
        return number
