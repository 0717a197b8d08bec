"""Uniform adapters over the codecs compared in the benchmarks: avrobridge's native backend,
fastavro (the baseline every ratio is against) and the Apache `avro` package."""

from __future__ import annotations

import io
import json
import marshal
import pickle
from collections.abc import Callable
from typing import Any

import avro.io
import avro.schema
import fastavro

import avrobridge._native as native


class Codec:
    name: str

    def encode(self, datum: Any) -> bytes:
        raise NotImplementedError

    def decode(self, data: bytes) -> Any:
        raise NotImplementedError

    def encode_many(self, data: list[Any]) -> list[bytes]:
        return [self.encode(d) for d in data]

    def decode_many(self, items: list[bytes]) -> list[Any]:
        return [self.decode(b) for b in items]


class NativeCodec(Codec):
    name = "native"

    def __init__(self, schema: dict[str, Any]) -> None:
        self.schema = native.Schema(schema)

    def encode(self, datum: Any) -> bytes:
        return native.encode(self.schema, datum)

    def decode(self, data: bytes) -> Any:
        return native.decode(self.schema, data)

    def encode_many(self, data: list[Any]) -> list[bytes]:
        return native.encode_many(self.schema, data)

    def decode_many(self, items: list[bytes]) -> list[Any]:
        return native.decode_many(self.schema, items)


class FastavroCodec(Codec):
    name = "fastavro"

    def __init__(self, schema: dict[str, Any]) -> None:
        self.parsed = fastavro.parse_schema(schema)

    def encode(self, datum: Any) -> bytes:
        out = io.BytesIO()
        fastavro.schemaless_writer(out, self.parsed, datum)
        return out.getvalue()

    def decode(self, data: bytes) -> Any:
        return fastavro.schemaless_reader(io.BytesIO(data), self.parsed, None)


class AvroCodec(Codec):
    """The Apache Avro Python package (reference only: it has no logical-type parity)."""

    name = "avro"

    def __init__(self, schema: dict[str, Any]) -> None:
        parsed = avro.schema.parse(json.dumps(schema))
        self.writer = avro.io.DatumWriter(parsed)
        self.reader = avro.io.DatumReader(parsed)

    def encode(self, datum: Any) -> bytes:
        out = io.BytesIO()
        self.writer.write(datum, avro.io.BinaryEncoder(out))
        return out.getvalue()

    def decode(self, data: bytes) -> Any:
        return self.reader.read(avro.io.BinaryDecoder(io.BytesIO(data)))


class ObjectFloor(Codec):
    """Not an Avro codec: the cost of just building the same Python objects from bytes, the
    physical floor for any decoder that returns them. marshal where the values allow it (the
    fastest object builder in CPython), pickle where they hold datetimes, Decimals or UUIDs."""

    name = "floor"

    def __init__(self, schema: dict[str, Any]) -> None:
        self.schema = schema

    def encode(self, datum: Any) -> bytes:
        try:
            return b"m" + marshal.dumps(datum)
        except ValueError:
            return b"p" + pickle.dumps(datum, protocol=pickle.HIGHEST_PROTOCOL)

    def decode(self, data: bytes) -> Any:
        body = memoryview(data)[1:]
        return marshal.loads(body) if data[0] == 0x6D else pickle.loads(body)


FACTORIES: dict[str, Callable[[dict[str, Any]], Codec]] = {
    "native": NativeCodec,
    "fastavro": FastavroCodec,
    "avro": AvroCodec,
    "floor": ObjectFloor,
}
