"""Transcoding properties over generated schemas and generated evolutions of them:

- the bytes `Transcoder(writer, reader).transcode(encode(writer, x))` decode with the reader
  to what `decode(writer, encode(writer, x), reader=reader)` gives, on both backends;
- both backends produce the same reader bytes;
- fastavro's resolution (the oracle) reads the same value where it follows the
  specification (not for promotions to float or string to bytes, which fastavro reads
  differently; tests/compat_corpus.py pins those). Where a union holds a branch promotable to
  an earlier one, fastavro takes the first match and avrobridge the exact branch, as Apache
  Avro Java does: there Java is the oracle (the same reader bytes).
"""

from __future__ import annotations

import io
import json
from types import ModuleType
from typing import Any

import fastavro
import pytest
from hypothesis import HealthCheck, given, reject, settings
from hypothesis import strategies as st

import avrobridge._fallback as fallback
import avrobridge._native as native
from avrobridge.errors import DecodeError, SchemaError
from evolution import evolve, first_match_differs
from java_oracle.oracle import JavaAvro, SchemaRefused
from strategies import assert_same, data_for, parse_model, schemas


def _text(schema: Any) -> str:
    return json.dumps(native.Schema(schema).to_json())


@st.composite
def pairs(draw: st.DrawFn, fastavro_safe: bool = False) -> tuple[Any, Any, list[Any]]:
    writer = draw(schemas(top="record", logical=True, errors=False))
    reader = draw(evolve(writer, fastavro_safe=fastavro_safe))
    try:
        native.Schema(reader)
    except SchemaError:
        # Reordering or dropping a field can move a named type's definition after a use.
        reject()
    values = draw(st.lists(data_for(parse_model(writer)), min_size=1, max_size=3))
    return writer, reader, values


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(pairs())
def test_transcoded_bytes_decode_like_resolution_on_both_backends(case: Any) -> None:
    writer, reader, values = case
    for backend in (native, fallback):
        t = backend.Transcoder(writer, reader)
        for x in values:
            data = backend.encode(writer, x)
            try:
                expected = backend.decode(writer, data, reader=reader)
            except DecodeError:
                # bytes read as a string: bytes that are not UTF-8 fail both ways.
                with pytest.raises(DecodeError):
                    t.transcode(data)
                continue
            assert_same(backend.decode(reader, t.transcode(data)), expected)


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(pairs())
def test_both_backends_transcode_to_the_same_bytes(case: Any) -> None:
    writer, reader, values = case
    tn = native.Transcoder(writer, reader)
    tf = fallback.Transcoder(writer, reader)
    assert sorted(tn.warnings) == sorted(tf.warnings)
    assert sorted(tn.changes) == sorted(tf.changes)
    datas = [native.encode(writer, x) for x in values]
    framed = [b"\x00\x00\x00\x00\x01" + d for d in datas]
    assert tn.transcode_many(datas)[0] == tf.transcode_many(datas)[0]
    assert tn.transcode_framed_many(framed, 2)[0] == tf.transcode_framed_many(framed, 2)[0]


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(pairs(fastavro_safe=True))
def test_fastavro_resolution_reads_the_same_values(java_avro: JavaAvro, case: Any) -> None:
    writer, reader, values = case
    w = fastavro.parse_schema(native.Schema(writer).to_json())
    r = fastavro.parse_schema(native.Schema(reader).to_json())
    t = native.Transcoder(writer, reader)
    if first_match_differs(writer) or first_match_differs(reader):
        datas = [native.encode(writer, x) for x in values]
        try:
            expected = java_avro.resolve(_text(writer), _text(reader), datas)
        except SchemaRefused:
            reject()
        assert [t.transcode(d) for d in datas] == expected
        return
    for x in values:
        data = native.encode(writer, x)
        expected = fastavro.schemaless_reader(io.BytesIO(data), w, r)
        assert_same(native.decode(reader, t.transcode(data)), expected)


def test_backend_fixture_is_used_elsewhere(backend: ModuleType) -> None:
    # The properties above compare the two backends directly; this keeps the module in the
    # both-backends run that every codec test takes part in.
    assert hasattr(backend, "Transcoder")
