"""Parity of the two codec backends: ``avrobridge._fallback`` (fastavro) must behave exactly
like the Rust extension ``avrobridge._native`` — same results, same exception classes, same
messages, byte offsets and data paths.

Tests that take the ``backend`` fixture check a documented behaviour on both backends; the
others run the same call on both modules and compare the outcomes. Nothing is skipped or
expected to fail: a difference between the backends is a failure.
"""

from __future__ import annotations

import array
import collections
import datetime
import decimal
import enum
import fractions
import hashlib
import importlib
import json
import numbers
import pickle
import struct
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from types import ModuleType
from typing import Any

import avro.schema
import fastavro.schema
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from avrobridge.errors import DecodeError, EncodeError, SchemaError

native: ModuleType = importlib.import_module("avrobridge._native")
fallback: ModuleType = importlib.import_module("avrobridge._fallback")
# The fallback's own schema graph drives the value generator of the differential test.
fallback_schema: ModuleType = importlib.import_module("avrobridge.schema")

D = decimal.Decimal
UTC = datetime.timezone.utc

# --------------------------------------------------------------------------------------
# Comparing outcomes
# --------------------------------------------------------------------------------------


def _shape(value: Any) -> Any:
    """A comparable, exact picture of a decoded value: types, float bits, dict order."""
    if isinstance(value, float):
        return ("float", struct.pack("<d", value).hex())
    if isinstance(value, dict):
        items = []
        for k, v in value.items():  # a loop, not a comprehension: one frame per level
            items.append((k, _shape(v)))
        return ("dict", items)
    if isinstance(value, list):
        elements = []
        for v in value:
            elements.append(_shape(v))
        return ("list", elements)
    if isinstance(value, (native.Schema, fallback.Schema)):
        return ("Schema", value.text, value.canonical_form, value.name, value.type, hash(value))
    if isinstance(value, datetime.datetime):
        return ("datetime", repr(value), repr(value.tzinfo))
    return (type(value).__name__, repr(value))


def outcome(fn: Callable[[], Any]) -> tuple[Any, ...]:
    try:
        value = fn()
    except Exception as e:
        # Parity is the class and the attributes that say where; message texts are each
        # backend's own (Rust's formatting is not imitated).
        return (
            "error",
            type(e).__name__,
            bool(str(e)),
            getattr(e, "offset", None),
            getattr(e, "path", None),
            getattr(e, "index", None),
        )
    return ("ok", _shape(value))


def same(fn: Callable[..., Any], *args: Any) -> tuple[Any, ...]:
    """Runs ``fn(module, *args)`` on both backends and asserts identical outcomes."""
    expected = outcome(lambda: fn(native, *args))
    actual = outcome(lambda: fn(fallback, *args))
    assert actual == expected, f"fastavro backend differs from native:\n{actual}\n{expected}"
    return expected


def varint(n: int) -> bytes:
    z = (n << 1) ^ (n >> 63)
    out = bytearray()
    while z >= 0x80:
        out.append((z & 0x7F) | 0x80)
        z >>= 7
    out.append(z)
    return bytes(out)


# --------------------------------------------------------------------------------------
# Canonical form and fingerprints
# --------------------------------------------------------------------------------------

SPEC_VECTORS = [
    ('"null"', '"null"', 7195948357588979594),
    ('{"type":"null"}', '"null"', 7195948357588979594),
    ('"int"', '"int"', 8247732601305521295),
    (
        '{"fields":[], "type":"record", "name":"foo", "namespace":"x.y"}',
        '{"name":"x.y.foo","type":"record","fields":[]}',
        5916914534497305771,
    ),
]

PIG_VALUE = (
    '{"name":"PigValue","type":"record","fields":'
    '[{"name":"value", "type":["null", "int", "long", "PigValue"]}]}'
)
PIG_VALUE_CANONICAL = (
    '{"name":"PigValue","type":"record","fields":'
    '[{"name":"value","type":["null","int","long","PigValue"]}]}'
)
PIG_VALUE_FINGERPRINT = -1759257747318642341


def _crc64(schema: Any) -> int:
    return int.from_bytes(schema.fingerprint(), "little", signed=True)


@pytest.mark.parametrize(("text", "canonical", "crc"), SPEC_VECTORS)
def test_spec_vectors(backend: ModuleType, text: str, canonical: str, crc: int) -> None:
    s = backend.Schema(text)
    assert s.canonical_form == canonical
    assert _crc64(s) == crc
    assert s.fingerprint("MD5") == hashlib.md5(canonical.encode()).digest()
    assert s.fingerprint("SHA-256") == hashlib.sha256(canonical.encode()).digest()


def test_spec_vector_pig_value(backend: ModuleType) -> None:
    s = backend.Schema(PIG_VALUE)
    assert s.canonical_form == PIG_VALUE_CANONICAL
    assert _crc64(s) == PIG_VALUE_FINGERPRINT


# Schemas whose canonical form and CRC-64 the reference Python implementation (``avro``)
# computes too: an independent oracle for both backends.
ORACLE_SCHEMAS = [
    '"boolean"',
    '"long"',
    '"float"',
    '"double"',
    '"bytes"',
    '"string"',
    "[]",
    '["int"]',
    '["int","boolean"]',
    '{"fields":[],"type":"record","name":"foo"}',
    '{"fields":[],"type":"record","name":"a.b.foo","namespace":"x.y"}',
    '{"fields":[],"type":"record","name":"foo","doc":"Useful info"}',
    '{"fields":[],"type":"record","name":"foo","aliases":["foo","bar"]}',
    '{"fields":[{"type":"int","name":"f1"},{"type":"boolean","name":"f2"}],'
    '"type":"record","name":"foo"}',
    '{"fields":[{"type":{"type":"record","name":"bar","fields":[{"name":"x","type":"int"}]},'
    '"name":"f1"}],"type":"record","name":"foo","namespace":"x.y"}',
    '{"type":"enum","name":"foo","symbols":["A1"]}',
    '{"namespace":"x.y.z","type":"enum","name":"foo","doc":"foo bar","symbols":["A1","A2"]}',
    '{"name":"foo","type":"fixed","size":15}',
    '{"namespace":"x.y.z","type":"fixed","name":"foo","doc":"foo bar","size":32}',
    '{"items":"null","type":"array"}',
    '{"values":"string","type":"map"}',
    '{"type":"record","name":"R","namespace":"n","fields":[{"name":"a","type":'
    '{"type":"enum","name":"E","symbols":["X"]}},{"name":"b","type":"E"},'
    '{"name":"c","type":{"type":"array","items":"n.E"}}]}',
]


@pytest.mark.parametrize("text", ORACLE_SCHEMAS)
def test_canonical_form_matches_the_avro_library(backend: ModuleType, text: str) -> None:
    reference = avro.schema.parse(text)
    s = backend.Schema(text)
    assert s.canonical_form == reference.canonical_form
    assert s.fingerprint("CRC-64-AVRO") == reference.fingerprint("CRC-64-AVRO")


@pytest.mark.parametrize(
    "text",
    [
        '{"type":"error","name":"E","fields":[]}',
        '{"type":"record","name":"R","fields":[{"name":"e","type":'
        '{"type":"error","name":"n.E","fields":[{"name":"m","type":"string"}]}}]}',
    ],
)
def test_error_types_canonicalise_as_records(backend: ModuleType, text: str) -> None:
    """Java's SchemaNormalization (and so Schema Registry) and fastavro write error types as
    "record" in the canonical form (the ``avro`` Python library keeps "error")."""
    canonical = fastavro.schema.to_parsing_canonical_form(json.loads(text))
    s = backend.Schema(text)
    assert s.canonical_form == canonical
    assert '"error"' not in s.canonical_form
    assert s.fingerprint("CRC-64-AVRO").hex() == fastavro.schema.fingerprint(
        canonical, "CRC-64-AVRO"
    )


@pytest.mark.parametrize(
    "algorithm", ["CRC-64-AVRO", "crc-64-avro", "RABIN", "rabin", "MD5", "md5", "SHA-256", "sha256"]
)
def test_fingerprint_algorithm_names(algorithm: str) -> None:
    same(lambda m: m.Schema('{"type":"map","values":"int"}').fingerprint(algorithm))


@pytest.mark.parametrize("algorithm", ["SHA-1", "crc64", "ſha-256", "", "MD5 "])
def test_unknown_fingerprint_algorithm(backend: ModuleType, algorithm: str) -> None:
    with pytest.raises(ValueError, match="unknown fingerprint algorithm"):
        backend.Schema('"int"').fingerprint(algorithm)
    same(lambda m: m.Schema('"int"').fingerprint(algorithm))


# --------------------------------------------------------------------------------------
# Schema validation
# --------------------------------------------------------------------------------------

# (schema JSON text, JSON-pointer path of the problem or None)
INVALID_SCHEMAS: list[tuple[str, str | None]] = [
    # JSON
    ("", None),
    ('"int" x', None),
    ('{"type":"int","default":NaN}', None),
    ('{"type":"int","default":Infinity}', None),
    ('{"type":"string","default":"\\ud800"}', None),
    ('{"type":"int","default":1e400}', None),
    ("[" * 128 + "]" * 128, None),
    # shapes
    ("5", None),
    ("null", None),
    ("true", None),
    ("{}", None),
    ('{"type":5}', "/type"),
    ('{"type":null}', "/type"),
    ('"nope"', None),
    ('"record"', None),
    ('{"type":"nope"}', "/type"),
    ('{"type":"array"}', None),
    ('{"type":"map"}', None),
    ('{"type":"array","items":"nope"}', "/items"),
    ('{"type":"map","values":7}', "/values"),
    # names and namespaces
    ('{"type":"record","fields":[]}', None),
    ('{"type":"record","name":5,"fields":[]}', "/name"),
    ('{"type":"record","name":"1R","fields":[]}', "/name"),
    ('{"type":"record","name":"Ré","fields":[]}', "/name"),
    ('{"type":"record","name":"R.","fields":[]}', "/name"),
    ('{"type":"record","name":"a..R","fields":[]}', "/namespace"),
    ('{"type":"record","name":"R","namespace":"1a","fields":[]}', "/namespace"),
    ('{"type":"record","name":"R","namespace":5,"fields":[]}', "/namespace"),
    ('{"type":"record","name":"int","fields":[]}', "/name"),
    ('{"type":"record","name":"a.string","fields":[]}', "/name"),
    ('[{"type":"fixed","name":"F","size":1},{"type":"enum","name":"F","symbols":[]}]', "/1/name"),
    ('{"type":"record","name":"R","aliases":"x","fields":[]}', "/aliases"),
    ('{"type":"record","name":"R","aliases":[1],"fields":[]}', "/aliases/0"),
    ('{"type":"record","name":"R","aliases":["a.1"],"fields":[]}', "/aliases/0"),
    ('{"type":"record","name":"R","aliases":["..x"],"fields":[]}', "/aliases/0"),
    # records and fields
    ('{"type":"record","name":"R"}', None),
    ('{"type":"record","name":"R","fields":{}}', "/fields"),
    ('{"type":"record","name":"R","fields":[5]}', "/fields/0"),
    ('{"type":"record","name":"R","fields":[{"type":"int"}]}', "/fields/0"),
    ('{"type":"record","name":"R","fields":[{"name":1,"type":"int"}]}', "/fields/0/name"),
    ('{"type":"record","name":"R","fields":[{"name":"a-b","type":"int"}]}', "/fields/0/name"),
    ('{"type":"record","name":"R","fields":[{"name":"a"}]}', "/fields/0"),
    (
        '{"type":"record","name":"R","fields":[{"name":"a","type":"int"},{"name":"a","type":"int"}]}',
        "/fields/1/name",
    ),
    (
        '{"type":"record","name":"R","fields":[{"name":"a","type":"int","order":"up"}]}',
        "/fields/0/order",
    ),
    (
        '{"type":"record","name":"R","fields":[{"name":"a","type":"int","order":null}]}',
        "/fields/0/order",
    ),
    (
        '{"type":"record","name":"R","fields":[{"name":"a","type":"int","aliases":"b"}]}',
        "/fields/0/aliases",
    ),
    (
        '{"type":"record","name":"R","fields":[{"name":"a","type":"int","aliases":["b.c"]}]}',
        "/fields/0/aliases/0",
    ),
    ('{"type":"record","name":"R","fields":[{"name":"a","type":"record"}]}', "/fields/0/type"),
    # enums
    ('{"type":"enum","name":"E"}', None),
    ('{"type":"enum","name":"E","symbols":"A"}', None),
    ('{"type":"enum","name":"E","symbols":[1]}', "/symbols/0"),
    ('{"type":"enum","name":"E","symbols":["1"]}', "/symbols/0"),
    ('{"type":"enum","name":"E","symbols":["A","A"]}', "/symbols/1"),
    ('{"type":"enum","name":"E","symbols":["A"],"default":"B"}', "/default"),
    ('{"type":"enum","name":"E","symbols":["A"],"default":null}', "/default"),
    # fixed
    ('{"type":"fixed","name":"F"}', None),
    ('{"type":"fixed","name":"F","size":-1}', "/size"),
    ('{"type":"fixed","name":"F","size":1.0}', "/size"),
    ('{"type":"fixed","name":"F","size":"4"}', "/size"),
    ('{"type":"fixed","name":"F","size":true}', "/size"),
    ('{"type":"fixed","name":"F","size":4294967296}', "/size"),
    # unions
    ('["int","int"]', "/1"),
    ('["null","string","null"]', "/2"),
    ('["int",["long"]]', "/1"),
    ('[{"type":"fixed","name":"F","size":1},"F"]', "/1"),
    ('[{"type":"array","items":"int"},{"type":"array","items":"long"}]', "/1"),
    ('[{"type":"map","values":"int"},{"type":"map","values":"long"}]', "/1"),
    # defaults (checked after the whole parse)
    (
        '{"type":"record","name":"R","fields":[{"name":"a","type":"int","default":"x"}]}',
        "/fields/0/default",
    ),
    (
        '{"type":"record","name":"R","fields":[{"name":"a","type":"int","default":1.0}]}',
        "/fields/0/default",
    ),
    (
        '{"type":"record","name":"R","fields":[{"name":"a","type":"int","default":-0.5}]}',
        "/fields/0/default",
    ),
    (
        '{"type":"record","name":"R","fields":[{"name":"a","type":"long","default":1e-300}]}',
        "/fields/0/default",
    ),
    (
        '{"type":"record","name":"R","fields":[{"name":"a","type":"int","default":2147483648}]}',
        "/fields/0/default",
    ),
    (
        '{"type":"record","name":"R","fields":[{"name":"a","type":"long","default":9223372036854775808}]}',
        "/fields/0/default",
    ),
    (
        '{"type":"record","name":"R","fields":[{"name":"a","type":"bytes","default":"\\u0100"}]}',
        "/fields/0/default",
    ),
    (
        '{"type":"record","name":"R","fields":[{"name":"a","type":'
        '{"type":"fixed","name":"F","size":2},"default":"abc"}]}',
        "/fields/0/default",
    ),
    (
        '{"type":"record","name":"R","fields":[{"name":"a","type":'
        '{"type":"enum","name":"E","symbols":["A"]},"default":"B"}]}',
        "/fields/0/default",
    ),
    (
        '{"type":"record","name":"R","fields":[{"name":"a","type":["int","null"],"default":"x"}]}',
        "/fields/0/default",
    ),
    (
        '{"type":"record","name":"R","fields":[{"name":"a","type":"null","default":0}]}',
        "/fields/0/default",
    ),
    (
        '{"type":"record","name":"R","fields":[{"name":"a","type":{"type":"array","items":"int"},'
        '"default":[1,"x"]}]}',
        "/fields/0/default",
    ),
    (
        '{"type":"record","name":"R","fields":[{"name":"a","type":{"type":"map","values":"int"},'
        '"default":{"k":"x"}}]}',
        "/fields/0/default",
    ),
    (
        '{"type":"record","name":"R","fields":[{"name":"s","type":{"type":"record","name":"S",'
        '"fields":[{"name":"x","type":"int"}]},"default":{}}]}',
        "/fields/0/default",
    ),
    # a recursive default never ends
    (
        '{"type":"record","name":"R","fields":[{"name":"a","type":"R","default":{}}]}',
        "/fields/0/default",
    ),
    # a nested record's bad default is reported before the outer field's
    (
        '{"type":"record","name":"R","fields":[{"name":"s","type":{"type":"record","name":"S",'
        '"fields":[{"name":"x","type":"int","default":"q"}]},"default":{"x":"z"}}]}',
        "/fields/0/type/fields/0/default",
    ),
]


@pytest.mark.parametrize(("text", "path"), INVALID_SCHEMAS)
def test_invalid_schema(backend: ModuleType, text: str, path: str | None) -> None:
    with pytest.raises(SchemaError) as info:
        backend.Schema(text)
    assert info.value.path == path
    assert str(info.value).startswith("invalid schema")


@pytest.mark.parametrize(("text", "path"), INVALID_SCHEMAS)
def test_invalid_schema_same_error(text: str, path: str | None) -> None:
    same(lambda m: m.Schema(text))


@pytest.mark.parametrize(("text", "path"), INVALID_SCHEMAS)
def test_invalid_defaults_tolerated_when_not_validated(text: str, path: str | None) -> None:
    same(lambda m: m.Schema(text, validate_defaults=False))


VALID_SCHEMAS = [
    '{"type":"record","name":"R","namespace":"a","fields":[{"name":"x","type":'
    '{"type":"record","name":"S","namespace":"","fields":[{"name":"y","type":"a.R"}]}},'
    '{"name":"z","type":"S"}]}',
    '{"type":"record","name":"a.R","namespace":"b","fields":[{"name":"x","type":'
    '{"type":"enum","name":"E","symbols":[]}},{"name":"y","type":"a.E"}]}',
    '{"type":"record","name":"R","namespace":"a","fields":[{"name":"x","type":'
    '{"type":"record","name":"S","namespace":null,"fields":[]}},{"name":"y","type":"a.S"}]}',
    '{"type":"record","name":"R","aliases":["a.b","c"],"fields":[{"name":"f","type":"int",'
    '"aliases":["g"],"order":"ignore"}]}',
    '{"type":"record","name":".R","fields":[]}',
    '{"type":{"type":"int","logicalType":"date"},"logicalType":"uuid"}',
    '{"type":["int","null"]}',
    '{"type":"R","name":"x"}'.replace('"R"', '"string"'),
    "[]",
    '[{"type":"fixed","name":"F","size":1},{"type":"enum","name":"G","symbols":[]},"bytes",'
    '"string",{"type":"array","items":"int"},{"type":"map","values":"int"},"null"]',
    '{"type":"fixed","name":"F","size":4294967295}',
    '{"type":"int","type":"long"}',
    ' \t\n"int"\r\n ',
    # defaults: a union default may match any branch (Avro 1.12)
    '{"type":"record","name":"R","fields":[{"name":"a","type":["null","string"],"default":"x"}]}',
    '{"type":"record","name":"R","fields":[{"name":"a","type":"double","default":18446744073709551615}]}',
    '{"type":"record","name":"R","fields":[{"name":"a","type":"float","default":-0.0}]}',
    # -0 is the float -0.0 to serde_json and the integer 0 to Jackson: accepted as 0
    '{"type":"record","name":"R","fields":[{"name":"a","type":"int","default":-0}]}',
    '{"type":"record","name":"R","fields":[{"name":"a","type":"long","default":-0}]}',
    '{"type":"record","name":"R","fields":[{"name":"a","type":"int","default":0.0}]}',
    '{"type":"record","name":"R","fields":[{"name":"a","type":["null","long"],"default":-0}]}',
    '{"type":"record","name":"R","fields":[{"name":"a","type":{"type":"array","items":"R"},'
    '"default":[{"a":[{"a":[]}]}]}]}',
    '{"type":"record","name":"R","fields":[{"name":"b","type":"string","default":"\\u00ff\\u0000"},'
    '{"name":"c","type":"bytes","default":"\\u00ff\\u0000"}]}',
    '{"type":"array","items":' * 126 + '"int"' + "}" * 126,
]


@pytest.mark.parametrize("text", VALID_SCHEMAS)
def test_valid_schema_same(text: str) -> None:
    assert same(lambda m: m.Schema(text))[0] == "ok"


@pytest.mark.parametrize(
    "text",
    [
        # duplicate keys: the last one wins, in serde_json as in Python
        '{"type":"record","name":"R","fields":[{"name":"a","type":"int","default":1,"default":"x"}]}',
        '{"type":"record","name":"R","fields":[{"name":"a","type":"int","default":"x","default":1}]}',
        # 127 nested arrays are still JSON (128 are not)
        "[" * 127 + "]" * 127,
        '{"type":"array","items":' * 127 + '"int"' + "}" * 127,
    ],
)
def test_json_edge_cases(text: str) -> None:
    same(lambda m: m.Schema(text))


@pytest.mark.parametrize(
    ("text", "valid"),
    [
        # invalid annotations are dropped: the schema is the plain type
        ('{"type":"int","logicalType":"time-micros"}', False),
        ('{"type":"long","logicalType":"date"}', False),
        ('{"type":"bytes","logicalType":"decimal","precision":2,"scale":3}', False),
        ('{"type":"bytes","logicalType":"decimal","precision":0}', False),
        ('{"type":"bytes","logicalType":"decimal"}', False),
        ('{"type":"bytes","logicalType":"decimal","precision":"5"}', False),
        ('{"type":"bytes","logicalType":"decimal","precision":5,"scale":null}', False),
        ('{"type":"bytes","logicalType":5}', False),
        ('{"type":"fixed","name":"F","size":16,"logicalType":"decimal","precision":39}', False),
        ('{"type":"fixed","name":"F","size":0,"logicalType":"decimal","precision":1}', False),
        ('{"type":"fixed","name":"F","size":15,"logicalType":"uuid"}', False),
        ('{"type":"fixed","name":"F","size":11,"logicalType":"duration"}', False),
        ('{"type":"string","logicalType":"bogus"}', False),
        # valid ones
        ('{"type":"fixed","name":"F","size":16,"logicalType":"decimal","precision":38}', True),
        (
            '{"type":"bytes","logicalType":"decimal","precision":4294967295,"scale":4294967295}',
            True,
        ),
        ('{"type":"fixed","name":"F","size":16,"logicalType":"uuid"}', True),
        ('{"type":"fixed","name":"F","size":12,"logicalType":"duration"}', True),
    ],
)
def test_logical_annotations(text: str, valid: bool) -> None:
    s = same(lambda m: m.Schema(text))
    assert s[0] == "ok"
    # a dropped decimal annotation leaves plain bytes on both sides
    same(lambda m: m.decode(text, m.encode(text, b"\x01\x02" if "bytes" in text else "x")))


def test_invalid_decimal_is_plain_bytes(backend: ModuleType) -> None:
    text = '{"type":"bytes","logicalType":"decimal","precision":2,"scale":3}'
    assert backend.decode(text, b"\x04\x01\x02") == b"\x01\x02"
    with pytest.raises(EncodeError):
        backend.encode(text, D("1.5"))


def test_recursive_union(backend: ModuleType) -> None:
    s = backend.Schema('{"type":"record","name":"N","fields":[{"name":"n","type":["null","N"]}]}')
    value = {"n": {"n": {"n": None}}}
    assert backend.decode(s, backend.encode(s, value)) == value


def test_recursive_union_same() -> None:
    text = '{"type":"record","name":"N","fields":[{"name":"n","type":["null","N"]}]}'
    same(lambda m: m.Schema(text))
    same(lambda m: m.encode(text, {"n": {"n": {"n": None}}}))
    same(lambda m: m.decode(text, b"\x02\x02\x02\x00"))
    same(lambda m: m.decode(text, b"\x02\x02\x04\x00"))


@pytest.mark.parametrize(
    "default",
    [
        # 20 two-byte characters: 40 bytes, shown whole
        '"' + "é" * 20 + '"',
        # 21: over 40 bytes, shown as its byte length
        '"' + "é" * 21 + '"',
        # JSON text over 40 characters, cut after the 40th character (not byte)
        "[" + ",".join(['"é"'] * 15) + "]",
        "[" + ",".join(['"\u20ac"'] * 15) + "]",
        '{"k":"' + "é" * 19 + '","l":"' + "€" * 19 + '"}',
    ],
)
def test_default_message_with_multibyte_text(default: str) -> None:
    text = (
        '{"type":"record","name":"R","fields":[{"name":"a","type":"int","default":'
        + default
        + "}]}"
    )
    assert same(lambda m: m.Schema(text))[1] == "SchemaError"


@pytest.mark.parametrize(
    "default",
    [
        "1e21",
        "1.5e-7",
        "123456789012345680000.0",
        "[0.1,1e16,1e15,12345.678,0.00001,0.0001]",
        '{"k":"\\n\\u0001\\"\\\\"}',
        "-9223372036854775809",
        '"' + "a" * 41 + '"',
        '"' + "a" * 40 + '"',
    ],
)
def test_numbers_and_text_in_bad_defaults_are_schema_errors(default: str) -> None:
    text = (
        '{"type":"record","name":"R","fields":[{"name":"a","type":"int","default":'
        + default
        + "}]}"
    )
    assert same(lambda m: m.Schema(text))[1] == "SchemaError"


# --------------------------------------------------------------------------------------
# The Schema class
# --------------------------------------------------------------------------------------

RECORD = json.dumps(
    {
        "type": "record",
        "name": "R",
        "namespace": "a.b",
        "doc": "é\u200b\t\"\\ ' \x7f" + "x" * 80,
        "fields": [{"name": "x", "type": "int", "default": 1}],
    },
    ensure_ascii=False,
)


@pytest.mark.parametrize(
    "text",
    [
        RECORD,
        '"int"',
        '["null","int"]',
        '{"type":"error","name":"E","fields":[]}',
        '{"type":"long","logicalType":"timestamp-millis"}',
        '{"type":"enum","name":"n.E","symbols":[]}',
    ],
)
def test_schema_properties(text: str) -> None:
    same(
        lambda m: (
            (s := m.Schema(text)).text,
            str(s),
            s.name,
            s.type,
            s.canonical_form,
            s.to_json(),
            repr(s).startswith("Schema(") and len(repr(s)) < 100,
            hash(s),
            s == m.Schema(text),
            s != m.Schema(text),
        )
    )


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ('"int"', '"int"'),
        ('"int"', '{"type":"int"}'),
        ('{"type":"int","x":1}', '{"x":1,"type":"int"}'),
        ('{"type":"int","x":1}', '{"type":"int","x":1.0}'),
        ('{"type":"int","x":true}', '{"type":"int","x":1}'),
        ('{"type":"int","x":0}', '{"type":"int","x":-0}'),
        ('"int"', '"long"'),
    ],
)
def test_schema_equality(a: str, b: str) -> None:
    same(
        lambda m: (
            m.Schema(a) == m.Schema(b),
            m.Schema(a) != m.Schema(b),
            hash(m.Schema(a)) == hash(m.Schema(b)),
        )
    )


def test_schema_equality_with_other_objects(backend: ModuleType) -> None:
    s = backend.Schema('"int"')
    assert s != '"int"'
    assert (s == 3) is False
    assert s == backend.Schema(s)


@pytest.mark.parametrize("validate", [True, False])
def test_schema_pickle_and_copy(validate: bool) -> None:
    text = '{"type":"record","name":"R","fields":[{"name":"x","type":"int","default":1}]}'

    def check(m: ModuleType) -> Any:
        s = m.Schema(text, validate_defaults=validate)
        clone = pickle.loads(pickle.dumps(s))
        return (type(clone) is m.Schema, clone == s, clone.text, m.Schema(s).text)

    same(check)


def test_unpickling_revalidates_defaults() -> None:
    text = '{"type":"record","name":"R","fields":[{"name":"x","type":"int","default":"s"}]}'
    same(lambda m: pickle.loads(pickle.dumps(m.Schema(text, validate_defaults=False))))
    same(lambda m: m.Schema(m.Schema(text, validate_defaults=False)))
    same(lambda m: m.Schema(m.Schema(text, validate_defaults=False), validate_defaults=False).text)


class _Weird:
    pass


@pytest.mark.parametrize(
    "arg",
    [
        b'"int"',
        b"\xff",
        bytearray(b'"int"'),
        {"type": "int"},
        ["null", "int"],
        ("null", "int"),
        {"type": "double", "default": float("nan")},
        {1, 2},
        5,
        None,
        _Weird(),
        '"\ud800"',
    ],
)
def test_schema_constructor_arguments(arg: Any) -> None:
    same(lambda m: m.Schema(arg))


@pytest.mark.parametrize("flag", [1, None, "yes"])
def test_validate_defaults_must_be_bool(flag: Any) -> None:
    same(lambda m: m.Schema('"int"', validate_defaults=flag))


def test_schema_is_immutable(backend: ModuleType) -> None:
    s = backend.Schema('"int"')
    with pytest.raises(AttributeError):
        s.text = "x"
    with pytest.raises(AttributeError):
        s.other = 1
    with pytest.raises(TypeError):
        type("Sub", (backend.Schema,), {})


def test_module_surface() -> None:
    from avrobridge._version import __version__

    assert fallback.__version__ == __version__
    # (the ``backend`` fixture labels both modules with a NAME attribute)
    public = [name for name in dir(native) if not name.startswith("__") and name != "NAME"]
    assert public == [name for name in dir(fallback) if name in public]
    for name in public:
        ours, theirs = getattr(fallback, name), getattr(native, name)
        assert callable(ours) if callable(theirs) else ours == theirs, name
    assert set(fallback.__all__) == {*public, "__version__"}
    assert fallback.decode('"int"', b"\x02", reader='"long"') == 1
    assert fallback.decode('"int"', b"\x02", reader=None) == 1


def test_cross_backend_schema_objects_are_not_accepted() -> None:
    # A Schema of one backend is not schema JSON for the other.
    with pytest.raises(TypeError):
        native.encode(fallback.Schema('"int"'), 1)
    with pytest.raises(TypeError):
        fallback.encode(native.Schema('"int"'), 1)


# --------------------------------------------------------------------------------------
# Schema Registry references
# --------------------------------------------------------------------------------------

ADDRESS = (
    '{"type":"record","name":"Address","namespace":"com.acme",'
    '"fields":[{"name":"street","type":"string"}]}'
)
COLOR = '{"type":"enum","name":"Color","symbols":["R","G"]}'
PERSON = (
    '{"type":"record","name":"Person","namespace":"com.acme",'
    '"fields":[{"name":"a","type":"Address"},{"name":"c","type":"Color"}]}'
)


@pytest.mark.parametrize(
    "references",
    [
        [ADDRESS, COLOR],
        [json.loads(ADDRESS), COLOR.encode()],
        [ADDRESS],
        [],
        None,
        ["{"],
        ADDRESS,
        [ADDRESS, COLOR, COLOR],
        ['{"type":"enum","name":"Color","symbols":["1"]}'],
        [
            '{"type":"record","name":"com.acme.Address","fields":'
            '[{"name":"x","type":"int","default":"s"}]}',
            COLOR,
        ],
        [5j],
        5,
    ],
)
def test_references(references: Any) -> None:
    def build(m: ModuleType) -> Any:
        s = m.Schema(PERSON, references=references)
        value = {"a": {"street": "x"}, "c": "G"}
        return (s.references, s.canonical_form, s.name, m.decode(s, m.encode(s, value)))

    same(build)
    same(lambda m: m.Schema("{", references=references))


def test_references_are_kept_by_copies_and_pickles() -> None:
    def build(m: ModuleType) -> Any:
        s = m.Schema(PERSON, references=[ADDRESS, COLOR])
        clone = pickle.loads(pickle.dumps(s))
        return (
            m.Schema(s).references,
            clone.references,
            clone == s,
            hash(clone) == hash(s),
            s.__reduce__()[1],
            outcome(lambda: m.Schema(s, references=[ADDRESS])),
        )

    same(build)


@pytest.mark.parametrize(
    ("text", "references"), [('"int"', []), ('"int"', ["x"]), ('"int"', "x"), (5, [])]
)
def test_schema_from_parts(text: Any, references: Any) -> None:
    same(lambda m: m._schema_from_parts(text, references))


# --------------------------------------------------------------------------------------
# Decoding invalid bytes
# --------------------------------------------------------------------------------------

REC = json.dumps(
    {
        "type": "record",
        "name": "R",
        "fields": [
            {"name": "i", "type": "int"},
            {"name": "b", "type": "boolean"},
            {"name": "s", "type": "string"},
            {"name": "arr", "type": {"type": "array", "items": "long"}},
            {"name": "m", "type": {"type": "map", "values": ["null", "string"]}},
            {"name": "e", "type": {"type": "enum", "name": "E", "symbols": ["A", "B"]}},
            {"name": "f", "type": {"type": "fixed", "name": "F", "size": 2}},
        ],
    }
)
# {"i": 1, "b": True, "s": "x", "arr": [2], "m": {"k": None}, "e": "B", "f": b"ab"}
GOOD = b"\x02\x01\x02x\x02\x04\x00\x02\x02k\x00\x00\x02ab"

# (schema, bytes, offset, path)
BAD_BYTES: list[tuple[str, bytes, int, str | None]] = [
    ('"int"', b"", 0, None),
    ('"int"', b"\x80", 0, None),
    ('"int"', varint(2**31), 0, None),
    ('"int"', varint(-(2**31) - 1), 0, None),
    ('"long"', b"\xff" * 10 + b"\x01", 0, None),
    ('"long"', b"\xff" * 9 + b"\x02", 0, None),
    ('"long"', b"\x80" * 9 + b"\x81\x00", 0, None),
    ('"int"', b"\x02\x00", 1, None),
    ('"boolean"', b"\x02", 0, None),
    ('"boolean"', b"", 0, None),
    ('"float"', b"\x00\x00\x00", 0, None),
    ('"double"', b"\x00" * 7, 0, None),
    ('"bytes"', b"\x01", 0, None),
    ('"bytes"', b"\x06ab", 0, None),
    ('"bytes"', varint(2**62), 0, None),
    ('"string"', b"\x04\xc3\x28", 0, None),
    ('"string"', b"\x02\xff", 0, None),
    ('{"type":"string","logicalType":"uuid"}', b"\x04\xc3\x28", 0, None),
    ('{"type":"string","logicalType":"uuid"}', b"\x06\xf0\x9f\x98", 0, None),
    ('{"type":"string","logicalType":"uuid"}', b"\x06\xed\xa0\x80", 0, None),
    ('{"type":"string","logicalType":"uuid"}', b"\x04a\x80", 0, None),
    ('{"type":"string","logicalType":"uuid"}', b"\x06abc", 0, None),
    ('{"type":"string","logicalType":"uuid"}', b"\x64" + b"x" * 50, 0, None),
    ('{"type":"fixed","name":"F","size":4}', b"abc", 0, None),
    ('{"type":"enum","name":"E","symbols":["A"]}', b"\x02", 0, None),
    ('{"type":"enum","name":"E","symbols":["A"]}', b"\x01", 0, None),
    ('{"type":"enum","name":"E","symbols":[]}', b"\x00", 0, None),
    ('["null","int"]', b"\x04", 0, None),
    ('["null","int"]', b"\x03", 0, None),
    ("[]", b"\x00", 0, None),
    # A block's byte size is read but not used (as Java): the count is what fails.
    ('{"type":"array","items":"int"}', b"\x03\x7f", 0, None),
    ('{"type":"array","items":"int"}', b"\x03\x04\x02", 0, None),
    ('{"type":"array","items":"int"}', b"\xff" * 9 + b"\x01", 0, None),
    ('{"type":"array","items":"int"}', varint(2**62 - 1) + b"\x00", 0, None),
    ('{"type":"array","items":"int"}', b"\x06\x02\x02", 0, None),
    ('{"type":"array","items":"double"}', b"\x04" + b"\x00" * 15, 0, None),
    ('{"type":"array","items":"int"}', b"\x04\x02\x02", 3, None),
    ('{"type":"array","items":"int"}', b"\x04\x02\x80", 2, "/1"),
    ('{"type":"array","items":"null"}', varint(2**18 + 1) + b"\x00", 0, None),
    (
        '{"type":"array","items":"null"}',
        varint(2**18) + varint(1) + b"\x00",
        len(varint(2**18)),
        None,
    ),
    ('{"type":"map","values":"null"}', b"\x04\x00\x00", 3, None),
    ('{"type":"map","values":"null"}', b"\x06\x00\x00", 0, None),
    ('{"type":"map","values":"int"}', b"\x02\x02\xff\x02\x00", 1, None),
    ('{"type":"map","values":"int"}', b"\x02\x02k\x80", 3, "/k"),
    ('{"type":"map","values":"int"}', b"\x04\x02k\x02\x02k", 6, "/k"),
    ('{"type":"int","logicalType":"date"}', varint(2932897), 0, None),
    ('{"type":"int","logicalType":"date"}', varint(-719163), 0, None),
    ('{"type":"int","logicalType":"time-millis"}', varint(-1), 0, None),
    ('{"type":"int","logicalType":"time-millis"}', varint(86_400_000), 0, None),
    ('{"type":"long","logicalType":"time-micros"}', varint(86_400_000_000), 0, None),
    ('{"type":"long","logicalType":"timestamp-millis"}', varint(253402300800000), 0, None),
    ('{"type":"long","logicalType":"timestamp-millis"}', varint(-62135596800001), 0, None),
    ('{"type":"long","logicalType":"timestamp-millis"}', varint(2**62), 0, None),
    ('{"type":"long","logicalType":"local-timestamp-micros"}', varint(2**63 - 1), 0, None),
    ('{"type":"long","logicalType":"timestamp-micros"}', varint(-(2**63)), 0, None),
    (REC, GOOD + b"\x00", 15, None),
    (REC, GOOD[:1] + b"\x05" + GOOD[2:], 1, "/b"),
    (REC, GOOD[:3] + b"\xff" + GOOD[4:], 2, "/s"),
    (REC, GOOD[:4] + b"\x7e" + GOOD[5:], 4, "/arr"),
    (REC, GOOD[:10] + b"\x04" + GOOD[11:], 10, "/m/k"),
    (REC, GOOD[:12] + b"\x04" + GOOD[13:], 12, "/e"),
    (REC, GOOD[:-1], 13, "/f"),
]


@pytest.mark.parametrize(("schema", "data", "offset", "path"), BAD_BYTES)
def test_bad_bytes(
    backend: ModuleType, schema: str, data: bytes, offset: int, path: str | None
) -> None:
    with pytest.raises(DecodeError) as info:
        backend.decode(schema, data)
    assert info.value.offset == offset
    assert info.value.path == path
    assert info.value.index is None
    assert f"at byte {offset}:" in str(info.value)


@pytest.mark.parametrize(("schema", "data", "offset", "path"), BAD_BYTES)
def test_bad_bytes_same_error(schema: str, data: bytes, offset: int, path: str | None) -> None:
    same(lambda m: m.decode(schema, data))


def test_good_record_decodes_the_same() -> None:
    assert same(lambda m: m.decode(REC, GOOD))[0] == "ok"


@pytest.mark.parametrize("cut", range(len(GOOD)))
def test_truncated_record(cut: int) -> None:
    same(lambda m: m.decode(REC, GOOD[:cut]))


@pytest.mark.parametrize("position", range(len(GOOD)))
@pytest.mark.parametrize("byte", [0x00, 0x01, 0x7F, 0x80, 0xFF])
def test_corrupted_record(position: int, byte: int) -> None:
    data = GOOD[:position] + bytes([byte]) + GOOD[position + 1 :]
    same(lambda m: m.decode(REC, data))


NESTED = '{"type":"record","name":"N","fields":[{"name":"n","type":{"type":"array","items":"N"}}]}'


@pytest.mark.parametrize("levels", [255, 256, 300])
def test_nesting_limit_decode(levels: int) -> None:
    # `levels` arrays of one item, each item a record: 2 * levels + 1 levels deep
    data = b"\x02" * levels + b"\x00" * (levels + 1)
    results: list[tuple[Any, ...]] = []
    for m in (native, fallback):
        try:
            # repr, not outcome(): comparing 500 levels of nested tuples exceeds the stack
            results.append(("ok", repr(m.decode(NESTED, data))))
        except DecodeError as e:
            results.append(("error", type(e).__name__, e.offset, e.path))
    assert results[0] == results[1]
    assert (results[0][0] == "ok") == (levels < 256)


@pytest.mark.parametrize("levels", [255, 256])
def test_nesting_limit_encode(levels: int) -> None:
    value: dict[str, Any] = {"n": []}
    for _ in range(levels):
        value = {"n": [value]}
    result = same(lambda m: m.encode(NESTED, value))
    assert (result[0] == "ok") == (levels < 256)


def test_reference_cycle_encode() -> None:
    value: dict[str, Any] = {"n": []}
    value["n"].append(value)
    assert same(lambda m: m.encode(NESTED, value))[1] == "EncodeError"
    for m in (native, fallback):
        with pytest.raises(EncodeError, match="reference cycle"):
            m.encode(NESTED, value)


@pytest.mark.parametrize(
    "schema",
    [
        '{"type":"array","items":"null"}',
        '{"type":"array","items":{"type":"record","name":"E","fields":[]}}',
        '{"type":"array","items":{"type":"fixed","name":"Z","size":0}}',
    ],
)
def test_zero_byte_items_limit(schema: str) -> None:
    limit = native.DEFAULT_MAX_ZERO_BYTE_ITEMS
    ok = varint(limit - 2) + varint(-2) + varint(0) + b"\x00"
    assert fallback.decode(schema, ok) == native.decode(schema, ok)
    same(lambda m: m.decode(schema, varint(limit) + varint(1) + b"\x00"))
    same(lambda m: m.decode_many(schema, [varint(limit // 2) + b"\x00"] * 3))
    raised = [varint(limit) + varint(1) + b"\x00"]
    assert fallback.decode_many(schema, raised, max_zero_byte_items=limit + 1) == (
        native.decode_many(schema, raised, max_zero_byte_items=limit + 1)
    )


@pytest.mark.parametrize("size", [17, 100, 2000])
def test_large_decimals(size: int) -> None:
    raw = bytes([0x80]) + b"\x01" * (size - 1)
    fixed = json.dumps(
        {
            "type": "fixed",
            "name": "F",
            "size": size,
            "logicalType": "decimal",
            "precision": 38,
            "scale": 2,
        }
    )
    same(lambda m: m.decode(fixed, raw))
    same(
        lambda m: m.decode(
            '{"type":"bytes","logicalType":"decimal","precision":3,"scale":1}', varint(size) + raw
        )
    )


@pytest.mark.parametrize("size", [17, 2000])
def test_large_decimal_inside_a_record(size: int) -> None:
    """A decimal whose unscaled value has more digits than Python's int->str limit is a
    DecodeError at the value's own offset, with its data path."""
    schema = json.dumps(
        {
            "type": "record",
            "name": "R",
            "fields": [
                {"name": "s", "type": "string"},
                {
                    "name": "d",
                    "type": {
                        "type": "array",
                        "items": {"type": "bytes", "logicalType": "decimal", "precision": 3},
                    },
                },
                {
                    "name": "f",
                    "type": {
                        "type": "fixed",
                        "name": "F",
                        "size": size,
                        "logicalType": "decimal",
                        "precision": 38,
                        "scale": 2,
                    },
                },
            ],
        }
    )
    raw = bytes([0x80]) + b"\x01" * (size - 1)
    ok = b"\x02"
    tail = b"\x04ab" + varint(2) + b"\x02\x07"
    # the big value in the array, then in the fixed
    same(lambda m: m.decode(schema, tail[:3] + varint(2) + ok + varint(size) + raw + b"\x00" + raw))
    same(lambda m: m.decode(schema, tail + varint(-1) + varint(0) + b"\x00" + raw))


@pytest.mark.parametrize(
    "text",
    [
        '{"type":"record","name":"R","fields":[{"name":"a","type":"int","default":-0}]}',
        '{"type":"record","name":"R","fields":[{"name":"a","type":"long","default":-0}]}',
        '{"type":"record","name":"R","fields":[{"name":"a","type":["long","null"],"default":-0}]}',
    ],
)
def test_negative_zero_integer_default(backend: ModuleType, text: str) -> None:
    assert backend.encode(text, {}) == b"\x00" * (2 if "null" in text else 1)
    same(lambda m: m.encode(text, {}))


# --------------------------------------------------------------------------------------
# Encoding: bad data, union choice, logical types
# --------------------------------------------------------------------------------------

# (schema, value, path of the error)
BAD_DATA: list[tuple[str, Any, str | None]] = [
    ('"null"', 0, None),
    ('"boolean"', 1, None),
    ('"int"', True, None),
    ('"int"', 1.0, None),
    ('"int"', "1", None),
    ('"int"', 2**31, None),
    ('"long"', 2**63, None),
    ('"long"', -(2**63) - 1, None),
    ('"double"', True, None),
    ('"double"', "1.0", None),
    ('"double"', D("1.5"), None),
    ('"double"', 2**1100, None),
    ('"string"', b"x", None),
    ('"string"', "a\ud800", None),
    ('"bytes"', "x", None),
    ('"bytes"', memoryview(b"x"), None),
    ('{"type":"fixed","name":"F","size":2}', b"abc", None),
    ('{"type":"fixed","name":"F","size":2}', "ab", None),
    ('{"type":"enum","name":"E","symbols":["A","B"]}', "C", None),
    ('{"type":"enum","name":"E","symbols":["A","B"]}', 0, None),
    ('{"type":"array","items":"int"}', {1, 2}, None),
    ('{"type":"array","items":"int"}', "12", None),
    ('{"type":"array","items":"int"}', [1, "2"], "/1"),
    ('{"type":"map","values":"int"}', [("a", 1)], None),
    ('{"type":"map","values":"int"}', {1: 1}, None),
    ('{"type":"map","values":"int"}', {"a": "x"}, "/a"),
    ('["null","int"]', "x", None),
    ('["int","string"]', None, None),
    ('["int","string"]', b"x", None),
    ("[]", None, None),
    (REC, [], None),
    (REC, {"i": 1}, "/b"),
    (REC, {"i": 1, "b": True, "s": "x", "arr": [1, None]}, "/arr/1"),
    (REC, {"i": 1, "b": True, "s": "x", "arr": [], "m": {"k": 5}}, "/m/k"),
    ('{"type":"int","logicalType":"date"}', "2020-13-01", None),
    ('{"type":"int","logicalType":"date"}', datetime.time(1), None),
    ('{"type":"int","logicalType":"date"}', True, None),
    ('{"type":"long","logicalType":"timestamp-millis"}', datetime.date(2020, 1, 1), None),
    ('{"type":"long","logicalType":"time-micros"}', datetime.datetime(2020, 1, 1), None),
    ('{"type":"bytes","logicalType":"decimal","precision":4,"scale":2}', D("123.4"), None),
    ('{"type":"bytes","logicalType":"decimal","precision":4,"scale":2}', D("1.234"), None),
    ('{"type":"bytes","logicalType":"decimal","precision":4,"scale":2}', D("NaN"), None),
    ('{"type":"bytes","logicalType":"decimal","precision":4,"scale":2}', D("-Infinity"), None),
    ('{"type":"bytes","logicalType":"decimal","precision":4,"scale":2}', 1.5, None),
    ('{"type":"bytes","logicalType":"decimal","precision":4,"scale":2}', D("1E+3"), None),
    (
        '{"type":"fixed","name":"F","size":2,"logicalType":"decimal","precision":4,"scale":0}',
        D("-32769"),
        None,
    ),
    (
        '{"type":"fixed","name":"F","size":1,"logicalType":"decimal","precision":2,"scale":0}',
        b"ab",
        None,
    ),
    ('{"type":"string","logicalType":"uuid"}', uuid.UUID(int=1).bytes, None),
]


@pytest.mark.parametrize(("schema", "value", "path"), BAD_DATA)
def test_bad_data(backend: ModuleType, schema: str, value: Any, path: str | None) -> None:
    with pytest.raises(EncodeError) as info:
        backend.encode(schema, value)
    assert info.value.path == path
    assert info.value.offset is None
    assert info.value.index is None
    assert str(info.value).startswith("cannot encode")


@pytest.mark.parametrize(("schema", "value", "path"), BAD_DATA)
def test_bad_data_same_error(schema: str, value: Any, path: str | None) -> None:
    same(lambda m: m.encode(schema, value))


def test_python_errors_become_encode_errors(backend: ModuleType) -> None:
    # A Python exception raised while encoding loses the data path and becomes the cause.
    with pytest.raises(EncodeError) as info:
        backend.encode(
            '{"type":"record","name":"R","fields":[{"name":"d","type":'
            '{"type":"int","logicalType":"date"}}]}',
            {"d": "2020-13-01"},
        )
    assert info.value.path is None
    assert isinstance(info.value.__cause__, ValueError)
    assert str(info.value) == f"cannot encode: {info.value.__cause__}"


class _MyInt(int):
    def __str__(self) -> str:
        return "MyInt!"


class _IntEnum(enum.IntEnum):
    A = 5


class _MyStr(str):
    pass


class _MyBytes(bytes):
    pass


class _MyFloat(float):
    def __float__(self) -> float:
        return 99.0


class _Index:
    def __index__(self) -> int:
        return 7


class _NoIndex:
    pass


class _Real:
    def __float__(self) -> float:
        return 1.5


numbers.Integral.register(_Index)
numbers.Integral.register(_NoIndex)
numbers.Real.register(_Real)


class _Map(Mapping[str, Any]):
    def __init__(self, d: dict[str, Any]) -> None:
        self.d = d

    def __getitem__(self, k: str) -> Any:
        return self.d[k]

    def __iter__(self) -> Iterator[str]:
        return iter(self.d)

    def __len__(self) -> int:
        return len(self.d)


class _Seq(Sequence[Any]):
    def __init__(self, items: list[Any]) -> None:
        self.items = items

    def __getitem__(self, i: Any) -> Any:
        return self.items[i]

    def __len__(self) -> int:
        return len(self.items)


class _Dict(dict[str, Any]):
    def __getitem__(self, k: str) -> Any:
        return 42

    def items(self) -> Any:
        return [("zz", 1)]


_Pair = collections.namedtuple("_Pair", "a b")

VALUES: list[Any] = [
    None,
    True,
    False,
    0,
    1,
    -1,
    2**31 - 1,
    2**31,
    -(2**31) - 1,
    2**63 - 1,
    2**63,
    -(2**63),
    1.5,
    float("nan"),
    float("inf"),
    -0.0,
    1e300,
    3.4e38,
    3.5e38,
    "",
    "x",
    "A",
    "a\ud800",
    _MyStr("A"),
    b"",
    b"ab",
    bytearray(b"ab"),
    _MyBytes(b"ab"),
    _MyInt(3),
    _MyInt(2**40),
    _IntEnum.A,
    _MyFloat(2.5),
    _Index(),
    _NoIndex(),
    _Real(),
    fractions.Fraction(1, 3),
    D("1.5"),
    D("-0"),
    D("1E+2"),
    D("0.00"),
    [],
    [1, 2],
    (1, 2),
    ("int", 5),
    ("string", "x"),
    ("long", 5),
    ("nope", 5),
    (1, 2, 3),
    _Pair("int", 3),
    array.array("i", [1, 2]),
    array.array("d", [1.5]),
    _Seq([1, "x"]),
    range(3),
    {},
    {"a": 1},
    {"a": None},
    _Map({"f": 1}),
    _Dict(f=1),
    {"f": 1, "g": 2},
    {"f": 1, "-type": "R2"},
    {"f": 1, "-type": "R1"},
    datetime.date(2020, 1, 1),
    datetime.datetime(2020, 1, 1, 12, 30, 15, 123456),
    datetime.datetime(
        2020, 1, 1, 12, tzinfo=datetime.timezone(datetime.timedelta(hours=5, minutes=30))
    ),
    datetime.datetime(1, 1, 1, tzinfo=UTC),
    datetime.datetime(9999, 12, 31, 23, 59, 59, 999999),
    datetime.time(23, 59, 59, 999999),
    datetime.time(1, 2, tzinfo=UTC),
    "2020-02-29",
    "2020-02-30",
    uuid.UUID(int=5),
    str(uuid.UUID(int=6)),
    datetime.timedelta(1),
]

ENCODE_SCHEMAS = [
    '"null"',
    '"boolean"',
    '"int"',
    '"long"',
    '"float"',
    '"double"',
    '"string"',
    '"bytes"',
    '{"type":"fixed","name":"F","size":2}',
    '{"type":"enum","name":"E","symbols":["A","B"]}',
    '{"type":"array","items":"int"}',
    '{"type":"map","values":["null","int"]}',
    '["null","int"]',
    '["int","null"]',
    '["int","string"]',
    '["float","double"]',
    '["double","float"]',
    '["float","string"]',
    '["long","int"]',
    '["int","long","float"]',
    '["string","bytes"]',
    '["null","string","int","boolean"]',
    '[{"type":"fixed","name":"F","size":2},"bytes"]',
    '[{"type":"enum","name":"E","symbols":["A","B"]},"string"]',
    '[{"type":"record","name":"R1","fields":[{"name":"f","type":"int"}]},'
    '{"type":"record","name":"R2","fields":[{"name":"f","type":"int"},'
    '{"name":"g","type":"int","default":0}]}]',
    '[{"type":"record","name":"R1","fields":[{"name":"f","type":"int"}]},'
    '{"type":"map","values":"int"}]',
    '[{"type":"array","items":"int"},{"type":"map","values":"int"},"string"]',
    '{"type":"record","name":"R","fields":[{"name":"f","type":"int","default":3},'
    '{"name":"g","type":["string","null"],"default":"d"}]}',
    '{"type":"int","logicalType":"date"}',
    '{"type":"int","logicalType":"time-millis"}',
    '{"type":"long","logicalType":"time-micros"}',
    '{"type":"long","logicalType":"timestamp-millis"}',
    '{"type":"long","logicalType":"timestamp-micros"}',
    '{"type":"long","logicalType":"local-timestamp-millis"}',
    '{"type":"long","logicalType":"local-timestamp-micros"}',
    '{"type":"long","logicalType":"timestamp-nanos"}',
    '{"type":"bytes","logicalType":"decimal","precision":4,"scale":2}',
    '{"type":"fixed","name":"F","size":2,"logicalType":"decimal","precision":4,"scale":1}',
    '{"type":"string","logicalType":"uuid"}',
    '["null",{"type":"int","logicalType":"date"},"string"]',
    '[{"type":"long","logicalType":"timestamp-millis"},"string"]',
    '[{"type":"bytes","logicalType":"decimal","precision":4,"scale":2},"string"]',
    '[{"type":"string","logicalType":"uuid"},"bytes"]',
]


@pytest.mark.parametrize("schema", ENCODE_SCHEMAS)
def test_encode_matrix(schema: str) -> None:
    """Every value in every schema: same bytes or the same error, and the bytes decode to
    the same value."""
    sn, sf = native.Schema(schema), fallback.Schema(schema)
    for value in VALUES:
        result = same(lambda m, v: m.encode(sn if m is native else sf, v), value)
        if result[0] == "ok":
            data = native.encode(sn, value)
            same(lambda m, d: m.decode(sn if m is native else sf, d), data)


@pytest.mark.parametrize("tz", ["UTC", "America/New_York", "Asia/Kolkata"])
def test_naive_timestamps_use_local_time(monkeypatch: pytest.MonkeyPatch, tz: str) -> None:
    import time

    # POSIX only, like the rest of the suite (the Kafka harness needs it too).
    assert hasattr(time, "tzset"), "time.tzset is needed to change the local zone"
    monkeypatch.setenv("TZ", tz)
    time.tzset()
    try:
        for schema in (
            '{"type":"long","logicalType":"timestamp-millis"}',
            '{"type":"long","logicalType":"timestamp-micros"}',
        ):
            for value in (
                datetime.datetime(2020, 7, 1, 12, 0, 0, 999),
                datetime.datetime(1960, 1, 1),
            ):
                same(lambda m, s, v: m.encode(s, v), schema, value)
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()


LOGICAL_ROUNDTRIPS: list[tuple[str, Any]] = [
    ('{"type":"int","logicalType":"date"}', datetime.date(1, 1, 1)),
    ('{"type":"int","logicalType":"date"}', datetime.date(9999, 12, 31)),
    ('{"type":"int","logicalType":"time-millis"}', datetime.time(23, 59, 59, 999000)),
    ('{"type":"long","logicalType":"time-micros"}', datetime.time(0, 0, 0, 1)),
    ('{"type":"long","logicalType":"timestamp-millis"}', datetime.datetime(1, 1, 1, tzinfo=UTC)),
    (
        '{"type":"long","logicalType":"timestamp-micros"}',
        datetime.datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
    ),
    (
        '{"type":"long","logicalType":"local-timestamp-millis"}',
        datetime.datetime(1969, 12, 31, 23, 59, 59, 999000),
    ),
    (
        '{"type":"long","logicalType":"local-timestamp-micros"}',
        datetime.datetime(2024, 2, 29, 1, 2, 3, 4),
    ),
    ('{"type":"long","logicalType":"timestamp-nanos"}', 2**62),
    ('{"type":"long","logicalType":"local-timestamp-nanos"}', -(2**62)),
    (
        '{"type":"bytes","logicalType":"decimal","precision":38,"scale":10}',
        D("-1234567890123456789012345678.0123456789"),
    ),
    ('{"type":"bytes","logicalType":"decimal","precision":5,"scale":5}', D("0.00000")),
    ('{"type":"bytes","logicalType":"decimal","precision":5,"scale":0}', D("-0")),
    (
        '{"type":"fixed","name":"F","size":16,"logicalType":"decimal","precision":38,"scale":3}',
        D("-99999999999999999999999999999999999.999"),
    ),
    (
        '{"type":"fixed","name":"F","size":3,"logicalType":"decimal","precision":4,"scale":2}',
        D("-0.01"),
    ),
    ('{"type":"string","logicalType":"uuid"}', uuid.UUID("12345678-1234-5678-1234-567812345678")),
    ('{"type":"fixed","name":"U","size":16,"logicalType":"uuid"}', b"\x00" * 16),
    ('{"type":"fixed","name":"Du","size":12,"logicalType":"duration"}', b"\x01" * 12),
]


@pytest.mark.parametrize(("schema", "value"), LOGICAL_ROUNDTRIPS)
def test_logical_roundtrip(backend: ModuleType, schema: str, value: Any) -> None:
    data = backend.encode(schema, value)
    assert data == native.encode(schema, value)
    decoded = backend.decode(schema, data)
    assert decoded == value
    assert type(decoded) is type(value)
    same(lambda m: m.decode(schema, data))


def test_decimal_decodes_exactly() -> None:
    # More digits than the declared precision: the bytes are the truth, no rounding.
    schema = '{"type":"bytes","logicalType":"decimal","precision":2,"scale":1}'
    data = native.encode('"bytes"', (123456).to_bytes(3, "big"))
    result = same(lambda m: m.decode(schema, data))
    assert result == ("ok", ("Decimal", "Decimal('12345.6')"))


def test_missing_fields_take_defaults() -> None:
    schema = json.dumps(
        {
            "type": "record",
            "name": "R",
            "fields": [
                {"name": "a", "type": ["null", "string"], "default": "x"},
                {
                    "name": "b",
                    "type": {"type": "map", "values": "int"},
                    "default": {"z": 1, "a": 2},
                },
                {"name": "c", "type": "bytes", "default": "\u00ff\u0000"},
                {"name": "d", "type": "float", "default": 0.1},
                {
                    "name": "e",
                    "type": {
                        "type": "record",
                        "name": "S",
                        "fields": [{"name": "x", "type": "int", "default": 7}],
                    },
                    "default": {},
                },
                {"name": "f", "type": ["null", "int"]},
                {"name": "g", "type": "int"},
            ],
        }
    )
    assert same(lambda m: m.encode(schema, {"g": 1}))[0] == "ok"
    same(lambda m: m.encode(schema, {}))


def test_invalid_default_counts_as_missing_when_not_validated() -> None:
    schema = (
        '{"type":"record","name":"R","fields":[{"name":"a","type":["null","int"],"default":"x"},'
        '{"name":"b","type":"int","default":"y"}]}'
    )
    same(lambda m: m.encode(m.Schema(schema, validate_defaults=False), {"b": 1}))
    same(lambda m: m.encode(m.Schema(schema, validate_defaults=False), {}))


# --------------------------------------------------------------------------------------
# Batches and argument handling
# --------------------------------------------------------------------------------------


def _batch_failure(fn: Callable[[], Any]) -> Any:
    try:
        fn()
    except (EncodeError, DecodeError) as e:
        return _Batch(
            type(e).__name__,
            len(e.args),
            e.index,
            [_shape(r) for r in e.results or []],
            [(i, type(x).__name__, x.index, x.offset, x.path) for i, x in e.errors],
            e.errors[0][1] is e,
            type(e.__cause__).__name__,
        )
    return "no error"


class _Batch(tuple[Any, ...]):
    """A batch failure's picture; a tuple subclass so that outcome() shows it by repr."""

    def __new__(cls, *parts: Any) -> _Batch:
        return super().__new__(cls, parts)


def test_encode_many_contract() -> None:
    items = [1, 2, "x", 3, None, 2**40]
    same(lambda m: _batch_failure(lambda: m.encode_many('"int"', items)))
    assert _batch_failure(lambda: native.encode_many('"int"', items))[:3] == ("EncodeError", 1, 2)
    for m in (native, fallback):
        with pytest.raises(EncodeError, match=r"^item 2: cannot encode"):
            m.encode_many('"int"', items)
    same(lambda m: m.encode_many('"int"', iter([1, 2, 3])))
    same(lambda m: m.encode_many('"string"', "abc"))
    same(lambda m: m.encode_many('"int"', []))
    same(lambda m: m.encode_many('"int"', 5))


def test_decode_many_contract() -> None:
    items = [b"\x02", b"", b"\x04", b"\x02\x00"]
    same(lambda m: _batch_failure(lambda: m.decode_many('"int"', items)))
    assert _batch_failure(lambda: native.decode_many('"int"', items))[:3] == ("DecodeError", 1, 1)
    for m in (native, fallback):
        with pytest.raises(DecodeError, match=r"^item 1: cannot decode at byte 0"):
            m.decode_many('"int"', items)
    same(lambda m: m.decode_many('"int"', (b for b in [b"\x02", b"\x04"])))
    same(lambda m: m.decode_many('"int"', [b"\x02", bytearray(b"\x04")]))
    same(lambda m: m.decode_many('"int"', 5))
    same(lambda m: m.decode_many('"nope"', [b"\x02"]))


def test_batch_python_failures_carry_their_cause() -> None:
    schema = '{"type":"int","logicalType":"date"}'
    same(lambda m: _batch_failure(lambda: m.encode_many(schema, [1, "2020-13-01", "x"])))


def test_iteration_errors_propagate() -> None:
    def items() -> Iterator[Any]:
        yield 1
        raise KeyError("boom")

    same(lambda m: m.encode_many('"int"', items()))


@pytest.mark.parametrize("data", [bytearray(b"\x02"), memoryview(b"\x02"), "x", None, 5])
def test_decode_requires_bytes(data: Any) -> None:
    same(lambda m: m.decode('"int"', data))
    # the argument is checked before the schema is parsed
    same(lambda m: m.decode('"nope"', data))


def test_schema_text_or_object_everywhere() -> None:
    for schema in ('"int"', b'"int"', {"type": "int"}, "nope", {"type": "nope"}):
        same(lambda m, s: m.encode(s, 1), schema)
        same(lambda m, s: m.decode(s, b"\x02"), schema)
        same(lambda m, s: m.encode_many(s, [1]), schema)
        same(lambda m, s: m.decode_many(s, [b"\x02"]), schema)


# --------------------------------------------------------------------------------------
# Differential fuzzing: random (often invalid) schemas, values and bytes
# --------------------------------------------------------------------------------------

_NAMES = ["A", "B", "a.C", "x.y.D", "int", "1x", "_e", "ns.A", ".F"]
_LOGICAL = [
    "date",
    "time-millis",
    "time-micros",
    "timestamp-millis",
    "timestamp-micros",
    "timestamp-nanos",
    "local-timestamp-millis",
    "local-timestamp-micros",
    "decimal",
    "uuid",
    "duration",
    "bogus",
]
_json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**65), 2**65),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=4),
    st.sampled_from(["\u00ff\u0001", "A", "SYM", "00"]),
)
_json_values = st.recursive(
    _json_scalars,
    lambda c: (
        st.lists(c, max_size=3) | st.dictionaries(st.sampled_from(["a", "f", "g"]), c, max_size=3)
    ),
    max_leaves=6,
)


@st.composite
def _schemas(draw: st.DrawFn, depth: int = 0) -> Any:
    choice = draw(st.integers(0, 9 if depth < 3 else 2))
    if choice <= 1:
        return draw(
            st.sampled_from(
                [
                    "null",
                    "boolean",
                    "int",
                    "long",
                    "float",
                    "double",
                    "bytes",
                    "string",
                    "A",
                    "a.C",
                    "nope",
                ]
            )
        )
    if choice == 2:
        base = draw(st.sampled_from(["int", "long", "bytes", "string", "fixed"]))
        node: dict[str, Any] = {"type": base, "logicalType": draw(st.sampled_from(_LOGICAL))}
        if base == "fixed":
            node["name"] = draw(st.sampled_from(_NAMES))
            node["size"] = draw(st.sampled_from([0, 1, 2, 12, 16, -1]))
        if draw(st.booleans()):
            node["precision"] = draw(st.sampled_from([0, 1, 3, 9, 39]))
            node["scale"] = draw(st.sampled_from([0, 1, 3, 10]))
        return node
    if choice == 3:
        return draw(st.lists(_schemas(depth + 1), max_size=4))
    if choice == 4:
        return {"type": "array", "items": draw(_schemas(depth + 1))}
    if choice == 5:
        return {"type": "map", "values": draw(_schemas(depth + 1))}
    if choice == 6:
        return {
            "type": "enum",
            "name": draw(st.sampled_from(_NAMES)),
            "symbols": draw(st.lists(st.sampled_from(["A", "B", "C", "1"]), max_size=3)),
        }
    if choice == 7:
        return {
            "type": "fixed",
            "name": draw(st.sampled_from(_NAMES)),
            "size": draw(st.sampled_from([0, 1, 3])),
        }
    record: dict[str, Any] = {
        "type": draw(st.sampled_from(["record", "error"])),
        "name": draw(st.sampled_from(_NAMES)),
    }
    if draw(st.booleans()):
        record["namespace"] = draw(st.sampled_from([None, "", "a", "x.y", "1"]))
    fields = []
    for i in range(draw(st.integers(0, 3))):
        field: dict[str, Any] = {
            "name": draw(st.sampled_from(["f", "g", f"f{i}"])),
            "type": draw(_schemas(depth + 1)),
        }
        if draw(st.booleans()):
            field["default"] = draw(_json_values)
        fields.append(field)
    record["fields"] = fields
    return record


_py_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**64), 2**64),
    st.integers(-3, 300),
    st.floats(),
    st.text(max_size=4),
    st.binary(max_size=17),
    st.sampled_from(
        ["A", "B", "2020-01-01", ("int", 5), ("string", "s"), ("A", {}), ("null", None)]
    ),
    st.decimals(places=2, allow_nan=False, allow_infinity=False),
    st.dates(),
    st.times(),
    st.datetimes(),
    st.datetimes(timezones=st.just(UTC)),
    st.uuids(),
)
_py_values = st.recursive(
    _py_scalars,
    lambda c: (
        st.lists(c, max_size=3)
        | st.dictionaries(st.sampled_from(["f", "g", "f0", "f1", "-type"]), c, max_size=4)
    ),
    max_leaves=8,
)


@st.composite
def _values_for(draw: st.DrawFn, node: Any, depth: int = 0) -> Any:
    """Mostly valid values of a fallback schema node (union branches, logical types, missing
    fields, tuple notation), sometimes anything at all."""
    s = fallback_schema
    if draw(st.integers(0, 25)) == 0 or depth > 5:
        return draw(_py_values)
    op = node.op
    if op == s.UNION:
        if not node.branches:
            return None
        branch = draw(st.sampled_from(node.branches))
        value = draw(_values_for(branch, depth + 1))
        return (branch.branch_name, value) if draw(st.integers(0, 5)) == 0 else value
    if op == s.RECORD:
        out = {
            f.name: draw(_values_for(f.node, depth + 1))
            for f in node.fields
            if draw(st.integers(0, 6))
        }
        if draw(st.integers(0, 10)) == 0:
            out["-type"] = draw(st.sampled_from([node.branch_name, "zz"]))
        return out
    if op == s.ARRAY:
        return draw(st.lists(_values_for(node.items, depth + 1), max_size=3))
    if op == s.MAP:
        return draw(
            st.dictionaries(st.text(max_size=3), _values_for(node.values, depth + 1), max_size=3)
        )
    if op == s.ENUM:
        return draw(st.sampled_from([*node.symbols, "zz"]))
    if op in (s.FIXED, s.DECIMAL_FIXED) and draw(st.booleans()):
        return draw(st.binary(min_size=node.size, max_size=node.size))
    if op in (s.DECIMAL_BYTES, s.DECIMAL_FIXED):
        return draw(st.decimals(places=node.scale, allow_nan=False, allow_infinity=False))
    leaves: dict[int, st.SearchStrategy[Any]] = {
        s.NULL: st.none(),
        s.BOOLEAN: st.booleans(),
        s.INT: st.integers(-(2**32), 2**32),
        s.LONG: st.integers(-(2**64), 2**64),
        s.FLOAT: st.floats() | st.integers(),
        s.DOUBLE: st.floats() | st.integers(),
        s.BYTES: st.binary(max_size=8),
        s.STRING: st.text(max_size=5),
        s.FIXED: st.binary(max_size=4),
        s.DATE: st.dates() | st.integers(-(2**31), 2**31),
        s.TIME_MILLIS: st.times() | st.integers(-5, 86_400_001),
        s.TIME_MICROS: st.times(),
        s.TIMESTAMP_MILLIS: st.datetimes(timezones=st.just(UTC)) | st.integers(-(2**63), 2**63),
        s.TIMESTAMP_MICROS: st.datetimes(timezones=st.just(UTC)),
        s.LOCAL_TIMESTAMP_MILLIS: st.datetimes(),
        s.LOCAL_TIMESTAMP_MICROS: st.datetimes(),
        s.UUID_STRING: st.uuids() | st.uuids().map(str) | st.text(max_size=3),
    }
    return draw(leaves.get(op, _py_values))


def _mutations(data: bytes) -> st.SearchStrategy[bytes]:
    cut = st.integers(0, max(len(data) - 1, 0)).map(lambda i: data[:i])
    flip = st.tuples(st.integers(0, max(len(data) - 1, 0)), st.integers(0, 255)).map(
        lambda p: data[: p[0]] + bytes([p[1]]) + data[p[0] + 1 :] if data else bytes([p[1]])
    )
    extend = st.binary(min_size=1, max_size=3).map(lambda tail: data + tail)
    return st.one_of(cut, flip, extend, st.binary(max_size=12))


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.filter_too_much,
    ],
)
@given(_schemas(), st.booleans(), st.data())
def test_differential(schema: Any, validate: bool, data: st.DataObject) -> None:
    text = json.dumps(schema)
    result = outcome(lambda: native.Schema(text, validate_defaults=validate))
    same(lambda m: m.Schema(text, validate_defaults=validate))
    event(f"schema: {result[0]}")
    if result[0] != "ok":
        return
    sn = native.Schema(text, validate_defaults=validate)
    sf = fallback.Schema(text, validate_defaults=validate)
    for _ in range(4):
        value = data.draw(_values_for(sf._parsed.root))
        encoded = same(lambda m, v: m.encode(sn if m is native else sf, v), value)
        event(f"encode: {encoded[0]}")
        if encoded[0] != "ok":
            continue
        raw = native.encode(sn, value)
        same(lambda m, r: m.decode(sn if m is native else sf, r), raw)
        for _ in range(3):
            mutated = data.draw(_mutations(raw))
            same(lambda m, r: m.decode(sn if m is native else sf, r), mutated)
