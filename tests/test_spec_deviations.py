"""Each place where avrobridge differs from fastavro or from the Avro specification, pinned on
both backends (docs/spec-deviations.md lists them with the reasons)."""

from __future__ import annotations

import io
from decimal import Decimal
from types import ModuleType

import fastavro
import pytest

from avrobridge.errors import DecodeError, EncodeError
from java_oracle.oracle import JavaAvro


def _fastavro_decode(schema: object, data: bytes) -> object:
    return fastavro.schemaless_reader(io.BytesIO(data), fastavro.parse_schema(schema), None)


def test_trailing_bytes_are_an_error(backend: ModuleType) -> None:
    assert _fastavro_decode("int", b"\x02\x00") == 1  # fastavro ignores the extra byte
    with pytest.raises(DecodeError):
        backend.decode('"int"', b"\x02\x00")


def test_an_int_beyond_32_bits_is_an_error(backend: ModuleType) -> None:
    big = b"\x80\x80\x80\x80\x10"  # zig-zag 2**31
    assert _fastavro_decode("int", big) == 2**31
    with pytest.raises(DecodeError):
        backend.decode('"int"', big)


def test_a_boolean_byte_other_than_0_or_1_is_an_error(backend: ModuleType) -> None:
    assert _fastavro_decode("boolean", b"\x02") is True
    with pytest.raises(DecodeError):
        backend.decode('"boolean"', b"\x02")


def test_a_varint_longer_than_10_bytes_is_an_error(backend: ModuleType) -> None:
    with pytest.raises(DecodeError):
        backend.decode('"long"', b"\xff" * 10 + b"\x01")


def test_an_invalid_decimal_annotation_is_ignored(backend: ModuleType) -> None:
    schema = {"type": "bytes", "logicalType": "decimal", "precision": 2, "scale": 4}
    with pytest.raises(Exception, match="scale"):
        fastavro.parse_schema(schema)  # fastavro refuses the schema
    assert backend.decode(schema, b"\x02\x07") == b"\x07"  # the spec: plain bytes


def test_decimals_decode_exactly_without_rounding_to_the_precision(backend: ModuleType) -> None:
    schema = {"type": "bytes", "logicalType": "decimal", "precision": 3, "scale": 1}
    data = b"\x04\x30\x39"  # unscaled 12345: more digits than the precision says
    assert _fastavro_decode(schema, data) == Decimal("1.23E+3")  # rounded by fastavro
    assert backend.decode(schema, data) == Decimal("1234.5")


def test_a_decimal_that_needs_more_digits_than_its_precision_is_refused(
    backend: ModuleType,
) -> None:
    schema = {"type": "bytes", "logicalType": "decimal", "precision": 3, "scale": 2}
    with pytest.raises(EncodeError):
        backend.encode(schema, Decimal("12E+3"))  # 3 digits, but 7 at scale 2


def test_negative_zero_decimal_in_a_fixed_is_zero(backend: ModuleType) -> None:
    schema = {"type": "fixed", "name": "D", "size": 2, "logicalType": "decimal", "precision": 4}
    assert backend.encode(schema, Decimal("-0")) == b"\x00\x00"
    assert backend.decode(schema, b"\x00\x00") == Decimal("0")


def test_bools_are_not_numbers(backend: ModuleType) -> None:
    for kind in ("int", "long", "float", "double"):
        with pytest.raises(EncodeError):
            backend.encode(f'"{kind}"', True)


def test_a_union_branch_of_the_exact_type_comes_before_a_promotion(
    backend: ModuleType, java_avro: JavaAvro
) -> None:
    # The specification (and fastavro) take the first matching branch, promotions included;
    # Apache Avro Java takes the exact type first, and so does avrobridge.
    data = backend.encode('"long"', 42)
    spec = fastavro.schemaless_reader(
        io.BytesIO(data), fastavro.parse_schema("long"), fastavro.parse_schema(["float", "long"])
    )
    assert spec == 42.0 and isinstance(spec, float)
    got = backend.decode('"long"', data, reader='["float", "long"]')
    assert got == 42 and isinstance(got, int)
    java = java_avro.resolve('"long"', '["float", "long"]', [data])[0]
    assert backend.Transcoder('"long"', '["float", "long"]').transcode(data) == java


def test_bytes_that_are_not_utf8_cannot_be_read_as_a_string(
    backend: ModuleType, java_avro: JavaAvro
) -> None:
    # Java's resolving decoder copies the bytes into its Utf8 unchecked; avrobridge refuses,
    # as a string must be UTF-8 (the bridge sends such a record to its dead-letter topic).
    data = backend.encode('"bytes"', b"ok\xff")
    assert java_avro.resolve('"bytes"', '"string"', [data])[0] == data
    with pytest.raises(DecodeError, match="UTF-8"):
        backend.decode('"bytes"', data, reader='"string"')
    with pytest.raises(DecodeError, match="UTF-8"):
        backend.Transcoder('"bytes"', '"string"').transcode(data)
    assert backend.decode('"bytes"', backend.encode('"bytes"', b"ok"), reader='"string"') == "ok"
