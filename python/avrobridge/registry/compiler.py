"""Schema text plus references -> validated :class:`avrobridge.Schema` and stored text.

Validation is the Rust parser's (``avrobridge.Schema``); this module resolves references
against the registry state, hands the parser one self-contained schema and remembers the
results: candidates by request (until the state changes), stored schemas by identity.

References: the referenced schemas (dependencies first) are handed to
``avrobridge.Schema(text, references=[...])``, which defines their named types before parsing
the main schema, as Java's ``Schema.Parser`` does when it parses them in turn.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from .._backend import Schema
from .records import Reference, SchemaValue
from .rest_errors import RestError
from .schema_text import MAX_DEPTH, json_depth, render
from .state import RegistryState

__all__ = ["Candidate", "Compiler"]

#: References are resolved transitively; a chain longer than this is refused.
MAX_REFERENCES = 1000
_CACHE_SIZE = 2048


@dataclass(frozen=True)
class Candidate:
    """A schema from a request, validated: its stored text and its parsed form."""

    text: str
    references: tuple[Reference, ...]
    schema: Any  # avrobridge.Schema (the parsed, reference-expanded schema)


def _invalid(schema: str, details: str) -> RestError:
    shown = schema if len(schema) <= 1000 else schema[:1000] + "..."
    return RestError.invalid_schema(f"Invalid schema {shown}, details: {details}")


class Compiler:
    def __init__(self, max_schema_bytes: int) -> None:
        self.max_schema_bytes = max_schema_bytes
        self._lock = threading.Lock()
        self._candidates: OrderedDict[tuple[Any, ...], Candidate] = OrderedDict()
        self._candidates_generation = -1
        self._stored: dict[tuple[str, tuple[Reference, ...]], Any] = {}

    # -- requests ----------------------------------------------------------------------

    def candidate(
        self,
        state: RegistryState,
        schema: str | None,
        schema_type: str,
        references: tuple[Reference, ...],
        normalize: bool,
        validate_defaults: bool = True,
    ) -> Candidate:
        """The request's schema, validated and spelled as it will be stored (RestError 422).

        ``validate_defaults=False`` for schemas imported with an explicit id: Confluent parses
        those as not new, and Avro checks field defaults only for new schemas."""
        if schema_type != "AVRO":
            raise RestError.invalid_schema(
                f"Invalid schema type {schema_type}: this registry supports AVRO only"
            )
        if schema is None or not schema.strip():
            raise RestError.invalid_schema("Empty schema")
        if len(schema.encode("utf-8", "surrogatepass")) > self.max_schema_bytes:
            raise RestError.schema_too_large(self.max_schema_bytes)
        key = (schema, references, normalize, validate_defaults)
        with self._lock:
            if self._candidates_generation != state.generation:
                self._candidates.clear()
                self._candidates_generation = state.generation
            hit = self._candidates.get(key)
            if hit is not None:
                self._candidates.move_to_end(key)
                return hit
        found = self._build(state, schema, references, normalize, validate_defaults)
        with self._lock:
            self._candidates[key] = found
            if len(self._candidates) > _CACHE_SIZE:
                self._candidates.popitem(last=False)
        return found

    def _build(
        self,
        state: RegistryState,
        schema: str,
        references: tuple[Reference, ...],
        normalize: bool,
        validate_defaults: bool,
    ) -> Candidate:
        try:
            parsed = json.loads(schema)
        except (ValueError, RecursionError) as exc:
            raise _invalid(schema, f"not valid JSON: {exc}") from None
        if json_depth(parsed) > MAX_DEPTH:
            raise _invalid(schema, f"nested deeper than {MAX_DEPTH} levels")
        referenced = self._referenced(state, references, schema)
        compiled = self._parse(schema, parsed, referenced, validate_defaults)
        try:
            text = render(parsed, normalize=normalize)
        except (ValueError, RecursionError) as exc:
            raise _invalid(schema, str(exc)) from None
        refs = tuple(sorted(set(references), key=lambda r: (r.name, r.subject, r.version)))
        return Candidate(text=text, references=refs if normalize else references, schema=compiled)

    def _parse(
        self, schema: str, parsed: Any, referenced: list[Any], validate_defaults: bool = True
    ) -> Any:
        refs = [json.dumps(r, separators=(",", ":")) for r in referenced]
        try:
            return Schema(schema, references=refs or None, validate_defaults=validate_defaults)
        except Exception as exc:  # SchemaError, and e.g. UnicodeEncodeError for lone surrogates
            message = getattr(exc, "message", None) or str(exc)
            raise _invalid(schema, message) from None

    def _referenced(
        self, state: RegistryState, references: tuple[Reference, ...], schema: str
    ) -> list[Any]:
        """Parsed JSON of every schema the references reach, dependencies first."""
        ordered: list[Any] = []
        seen: set[tuple[str, int]] = set()

        def visit(ref: Reference, depth: int) -> None:
            if len(seen) > MAX_REFERENCES or depth > MAX_DEPTH:
                raise _invalid(schema, "too many or too deeply nested references")
            target = state.version(ref.subject, ref.version, deleted=True)
            if target is None:
                raise _invalid(
                    schema,
                    f"reference {ref.name!r} to subject {ref.subject!r} version {ref.version} "
                    "not found",
                )
            if (target.subject, target.version) in seen:
                return
            seen.add((target.subject, target.version))
            for inner in target.references:
                visit(inner, depth + 1)
            try:
                ordered.append(json.loads(target.schema))
            except (ValueError, RecursionError):
                raise _invalid(schema, f"referenced schema {ref.name!r} is not JSON") from None

        for ref in references:
            visit(ref, 0)
        return ordered

    # -- stored schemas ----------------------------------------------------------------

    def stored(self, state: RegistryState, value: SchemaValue) -> Any | None:
        """The parsed form of a stored version (None when it no longer parses, e.g. a
        reference was hard-deleted since)."""
        key = (value.schema, value.references)
        hit = self._stored.get(key)
        if hit is not None:
            return hit
        try:
            parsed = json.loads(value.schema)
            referenced = self._referenced(state, value.references, value.schema)
            compiled = self._parse(value.schema, parsed, referenced)
        except (RestError, ValueError, RecursionError):
            return None
        self._stored[key] = compiled
        return compiled
