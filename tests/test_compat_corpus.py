"""Runs the conformance corpus of ``compat_corpus.py``.

* ``check_compatibility`` (public API) and ``backend.reader_writer_incompatibilities`` must
  report exactly Apache Avro Java's findings (type, location, message), in Java's order.
* ``backend.Transcoder`` must follow the specification: fail up front for the ``plan_error``
  cases, warn for the ``read_time`` ones, and turn every writer datum into the reader value that
  fastavro (the oracle) reads from the same bytes, unless the case overrides the oracle.
* ``check_level`` must answer as Confluent Schema Registry does for short version histories.

Both backends run (the ``backend`` fixture): a backend that lacks part of the API fails.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import math
from decimal import Decimal
from types import ModuleType
from typing import Any

import fastavro
import pytest

import avrobridge
from avrobridge import DecodeError, SchemaResolutionError
from compat_corpus import CASES, HISTORIES, Case, Finding, History

LEVELS = [
    "NONE",
    "BACKWARD",
    "BACKWARD_TRANSITIVE",
    "FORWARD",
    "FORWARD_TRANSITIVE",
    "FULL",
    "FULL_TRANSITIVE",
]


# ---------------------------------------------------------------------------------------------
# helpers


def difference(finding: Finding, reader: str, writer: str) -> str:
    """Confluent's ``Difference.toString()`` for one Java finding (io.confluent...avro)."""
    kind, path, info = finding
    descriptions = {
        "FIXED_SIZE_MISMATCH": f"The size of FIXED type field at path '{path}' in the {reader} "
        f"schema does not match with the {writer} schema",
        "TYPE_MISMATCH": f"The type (path '{path}') of a field in the {reader} schema does not "
        f"match with the {writer} schema",
        "NAME_MISMATCH": f"The name of the schema has changed (path '{path}')",
        "MISSING_ENUM_SYMBOLS": f"The {reader} schema is missing enum symbols '{info}' at path "
        f"'{path}' in the {writer} schema",
        "MISSING_UNION_BRANCH": f"The {reader} schema is missing a type inside a union field at "
        f"path '{path}' in the {writer} schema",
        "READER_FIELD_MISSING_DEFAULT_VALUE": f"The field '{info}' at path '{path}' in the "
        f"{reader} schema has no default value and is missing in the {writer} schema",
    }
    return f"{{errorType:'{kind}', description:'{descriptions[kind]}', additionalInfo:'{info}'}}"


def same(got: Any, want: Any) -> bool:
    """Deep equality that also compares types (3 is not 3.0, b'x' is not 'x')."""
    if type(got) is not type(want):
        return False
    if isinstance(want, dict):
        return got.keys() == want.keys() and all(same(got[k], want[k]) for k in want)
    if isinstance(want, (list, tuple)):
        return len(got) == len(want) and all(same(g, w) for g, w in zip(got, want, strict=True))
    if isinstance(want, float):
        return got == want or (math.isnan(got) and math.isnan(want))
    if isinstance(want, Decimal):
        return bool(got.as_tuple() == want.as_tuple())
    if isinstance(want, (dt.datetime, dt.time)):
        return bool(got == want and got.tzinfo == want.tzinfo)
    return bool(got == want)


def oracle(case: Case, data: bytes) -> Any:
    """What fastavro reads from writer bytes with the case's reader schema."""
    return fastavro.schemaless_reader(
        io.BytesIO(data), fastavro.parse_schema(case.writer), fastavro.parse_schema(case.reader)
    )


def text(schema: Any) -> str:
    """Schema JSON text: avrobridge reads a Python str as JSON text, not as a type name."""
    return json.dumps(schema)


def triples(found: Any) -> list[tuple[str, str, str]]:
    return [(str(a), str(b), str(c)) for a, b, c in found]


# ---------------------------------------------------------------------------------------------
# the corpus itself


def test_corpus_is_well_formed() -> None:
    ids = [case.id for case in CASES]
    assert len(ids) == len(set(ids)), "duplicate case ids"
    assert len(CASES) >= 150
    for case in CASES:
        assert case.compatible == (not case.incompatibilities), case.id
        assert case.note, case.id
        if case.transcode == "plan_error":
            assert not case.data and not case.unreadable, case.id
        if case.transcode == "read_time":
            assert case.unreadable, case.id
        if case.transcode == "ok":
            assert not case.unreadable, case.id
        if case.expected is not None:
            assert len(case.expected) == len(case.data), case.id
    kinds = {kind for case in CASES for kind, _, _ in case.incompatibilities}
    assert kinds == {
        "NAME_MISMATCH",
        "FIXED_SIZE_MISMATCH",
        "MISSING_ENUM_SYMBOLS",
        "READER_FIELD_MISSING_DEFAULT_VALUE",
        "TYPE_MISMATCH",
        "MISSING_UNION_BRANCH",
    }
    assert {case.transcode for case in CASES} == {"ok", "plan_error", "read_time"}
    matrix = [case for case in CASES if case.id.startswith("prim_")]
    assert len(matrix) == 64


def test_corpus_schemas_parse_in_fastavro() -> None:
    """The oracle must accept every schema of the corpus (so none of them is malformed)."""
    for case in CASES:
        fastavro.parse_schema(case.reader)
        fastavro.parse_schema(case.writer)


# ---------------------------------------------------------------------------------------------
# check_compatibility: Java's SchemaCompatibility


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_check_compatibility(case: Case) -> None:
    result = avrobridge.check_compatibility(text(case.reader), text(case.writer))
    assert triples(result.incompatibilities) == list(case.incompatibilities), case.note
    assert result.is_compatible is case.compatible
    assert bool(result) is case.compatible
    assert result.messages == [difference(f, "reader", "writer") for f in case.incompatibilities]


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_backend_incompatibilities(backend: ModuleType, case: Case) -> None:
    found = backend.reader_writer_incompatibilities(
        backend.Schema(text(case.reader)), backend.Schema(text(case.writer))
    )
    assert triples(found) == list(case.incompatibilities), case.note


# ---------------------------------------------------------------------------------------------
# Transcoder: the specification's resolution


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_transcoder(backend: ModuleType, case: Case) -> None:
    writer = backend.Schema(text(case.writer))
    reader = backend.Schema(text(case.reader))
    if case.transcode == "plan_error":
        with pytest.raises(SchemaResolutionError) as info:
            backend.Transcoder(writer, reader)
        assert info.value.messages, "a plan error must list its problems in .messages"
        return

    transcoder = backend.Transcoder(writer, reader)
    if case.transcode == "ok":
        assert transcoder.warnings == [], case.note
    else:
        assert transcoder.warnings, f"read-time problems must be listed in .warnings: {case.note}"

    for index, datum in enumerate(case.data):
        data = backend.encode(writer, datum)
        got = backend.decode(reader, transcoder.transcode(data))
        want = case.expected[index] if case.expected is not None else oracle(case, data)
        assert same(got, want), f"{datum!r}: got {got!r}, want {want!r} ({case.note})"

    for datum in case.unreadable:
        data = backend.encode(writer, datum)
        with pytest.raises(DecodeError):
            transcoder.transcode(data)


# ---------------------------------------------------------------------------------------------
# check_level: Confluent's compatibility levels


def expected_messages(history: History, level: str, versions: list[int] | None) -> list[str]:
    spec = history.results[level]
    assert spec is not None
    messages: list[str] = []
    for direction, index, findings in spec:
        old = history.previous[index]
        if direction == "forward":
            messages += [difference(f, "old", "new") for f in findings]
            append_schema = level.startswith("FORWARD")
        else:
            messages += [difference(f, "new", "old") for f in findings]
            append_schema = True
        if append_schema:
            if versions is not None:
                messages.append(f"{{oldSchemaVersion: {versions[index]}}}")
            messages.append(f"{{oldSchema: '{old}'}}")
    messages.append(f"{{validateFields: 'false', compatibility: '{level}'}}")
    return messages


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("history", HISTORIES, ids=[h.id for h in HISTORIES])
def test_check_level(history: History, level: str) -> None:
    versions = list(range(1, len(history.previous) + 1))
    for given in (None, versions):
        result = avrobridge.check_level(history.new, list(history.previous), level, given)
        if history.results[level] is None:
            assert result.is_compatible, (level, result.messages)
            assert result.messages == []
        else:
            assert not result.is_compatible, level
            assert result.messages == expected_messages(history, level, given), history.note


def test_check_level_without_history_is_compatible() -> None:
    for level in LEVELS:
        assert avrobridge.check_level('"int"', [], level).is_compatible


def test_check_level_none_ignores_incompatibility() -> None:
    assert avrobridge.check_level('"int"', ['"string"'], "NONE").is_compatible
    assert not avrobridge.check_level('"int"', ['"string"'], "backward").is_compatible
