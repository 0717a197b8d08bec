"""The implementations compared, behind one interface: for an operation and a mode, a function
to time, the inputs it takes and a way to read its results back for the correctness check.

Operations (each per record, ``one``, and on a whole batch, ``batch``):

* ``decode``: writer-schema bytes -> values;
* ``encode``: values -> writer-schema bytes;
* ``resolve``: writer-schema bytes -> values of the reader schema (schema resolution);
* ``transcode``: Confluent-framed writer bytes -> Confluent-framed reader bytes, as the bridge
  does (with the reader's schema id).

Implementations without a batch API are timed in a plain loop over the batch.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from types import ModuleType
from typing import Any

from .. import framing

OPERATIONS = ("decode", "encode", "resolve", "transcode")
#: Operations on whole container files (bench/files.py), per codec.
FILE_OPERATIONS = ("read", "write")
#: The implementations of the file operations (fastavro.reader/writer is the baseline).
FILE_IMPLEMENTATIONS = ("native", "avrobridge-fastavro", "fastavro")
MODES = ("one", "batch")
#: Every implementation, in table order; ``fastavro`` is the baseline of every ratio.
IMPLEMENTATIONS = ("native", "avrobridge-fastavro", "fastavro", "avro", "confluent-kafka")
LABELS = {
    "native": "avrobridge (native)",
    "avrobridge-fastavro": "avrobridge (fastavro backend)",
    "fastavro": "fastavro",
    "avro": "avro",
    "confluent-kafka": "confluent-kafka",
}
BASELINE = "fastavro"


class Unsupported(Exception):
    """The implementation cannot do this; the message says why (it goes in the table)."""


@dataclass
class Workload:
    """The records every implementation works on, and fastavro's results for them."""

    writer_text: str
    reader_text: str
    writer_json: Any
    reader_json: Any
    writer_id: int
    reader_id: int
    values: list[Any]
    bodies: list[bytes]
    frames: list[bytes]
    #: fastavro's results (the expected outputs).
    decoded: list[Any] = field(default_factory=list)
    resolved: list[Any] = field(default_factory=list)
    transcoded: list[bytes] = field(default_factory=list)
    #: The Confluent client setup, when a registry is at hand.
    registry_url: str | None = None
    writer_topic: str = "avrobridge-bench-writer"
    reader_topic: str = "avrobridge-bench-reader"

    @property
    def reader_prefix(self) -> bytes:
        return framing.prefix(self.reader_id)

    def inputs(self, operation: str) -> list[Any]:
        """The standard inputs of an operation (bodies, values or frames)."""
        if operation == "encode":
            return self.values
        if operation == "transcode":
            return self.frames
        return self.bodies


@dataclass
class Op:
    """One (implementation, operation, mode): ``fn`` is what is timed, on ``inputs``;
    ``collect(sample)`` runs it on a sample of the inputs and returns comparable outputs
    (values for decode/resolve, writer bytes for encode, framed reader bytes for transcode)."""

    fn: Callable[[Any], object]
    inputs: list[Any]
    collect: Callable[[Sequence[Any]], list[Any]]
    note: str | None = None


def _one(fn: Callable[[Any], Any], inputs: list[Any], note: str | None = None) -> Op:
    return Op(fn, inputs, lambda sample: [fn(x) for x in sample], note)


def _batch(fn: Callable[[Any], Any], inputs: list[Any], note: str | None = None) -> Op:
    return Op(fn, inputs, lambda sample: list(fn(list(sample))), note)


def _loop(fn: Callable[[Any], Any]) -> Callable[[Sequence[Any]], list[Any]]:
    def many(items: Sequence[Any]) -> list[Any]:
        return [fn(x) for x in items]

    return many


class Implementation:
    key: str = ""

    @property
    def label(self) -> str:
        return LABELS[self.key]

    def op(self, operation: str, mode: str) -> Op:
        raise NotImplementedError


class AvrobridgeImpl(Implementation):
    """avrobridge's API on one backend module (``_native`` or ``_fallback``)."""

    def __init__(self, module: ModuleType, key: str, w: Workload) -> None:
        self.key = key
        self.m = module
        self.w = w
        self.writer = module.Schema(w.writer_text)
        self.reader = module.Schema(w.reader_text)
        self.transcoder = module.Transcoder(self.writer, self.reader)

    def op(self, operation: str, mode: str) -> Op:
        m, w, writer = self.m, self.w, self.writer
        inputs = w.inputs(operation)
        if operation == "decode":
            if mode == "one":
                return _one(partial(m.decode, writer), inputs)
            return _batch(partial(m.decode_many, writer), inputs)
        if operation == "encode":
            if mode == "one":
                return _one(partial(m.encode, writer), inputs)
            return _batch(partial(m.encode_many, writer), inputs)
        if operation == "resolve":
            if mode == "one":
                return _one(partial(m.decode, writer, reader=self.reader), inputs)
            return _batch(partial(m.decode_many, writer, reader=self.reader), inputs)
        transcode = self.transcoder.transcode_framed_many
        reader_id = w.reader_id

        def unwrap(result: Any) -> list[Any]:
            outputs, errors = result
            if errors:
                index, error = errors[0]
                raise RuntimeError(f"record {index}: {type(error).__name__}: {error}")
            return list(outputs)

        if mode == "one":

            def one(frame: bytes) -> object:
                return transcode([frame], reader_id)

            return Op(one, inputs, lambda sample: [unwrap(one(x))[0] for x in sample])

        def many(frames: Sequence[bytes]) -> object:
            return transcode(frames, reader_id)

        return Op(many, inputs, lambda sample: unwrap(many(list(sample))))


class FastavroImpl(Implementation):
    """fastavro's ``schemaless_reader``/``schemaless_writer``: the baseline."""

    key = "fastavro"

    def __init__(self, w: Workload) -> None:
        import fastavro

        self.w = w
        self.fa = fastavro
        self.writer = fastavro.parse_schema(w.writer_json)
        self.reader = fastavro.parse_schema(w.reader_json)

    def decode(self, data: bytes) -> Any:
        return self.fa.schemaless_reader(io.BytesIO(data), self.writer, None)

    def encode(self, value: Any) -> bytes:
        out = io.BytesIO()
        self.fa.schemaless_writer(out, self.writer, value)
        return out.getvalue()

    def resolve(self, data: bytes) -> Any:
        return self.fa.schemaless_reader(io.BytesIO(data), self.writer, self.reader)

    def read_reader(self, data: bytes) -> Any:
        return self.fa.schemaless_reader(io.BytesIO(data), self.reader, None)

    def encode_reader(self, value: Any) -> bytes:
        out = io.BytesIO()
        self.fa.schemaless_writer(out, self.reader, value)
        return out.getvalue()

    def transcode(self, frame: bytes) -> bytes:
        value = self.fa.schemaless_reader(io.BytesIO(frame[5:]), self.writer, self.reader)
        out = io.BytesIO()
        out.write(self.w.reader_prefix)
        self.fa.schemaless_writer(out, self.reader, value)
        return out.getvalue()

    def op(self, operation: str, mode: str) -> Op:
        fn: Callable[[Any], Any] = getattr(self, operation)
        inputs = self.w.inputs(operation)
        if mode == "one":
            return _one(fn, inputs)
        return _batch(_loop(fn), inputs, "loop")


class AvroImpl(Implementation):
    """The Apache ``avro`` package (DatumReader/DatumWriter)."""

    key = "avro"

    def __init__(self, w: Workload) -> None:
        import avro.io
        import avro.schema

        self.w = w
        self.io = avro.io
        writer = avro.schema.parse(w.writer_text)
        reader = avro.schema.parse(w.reader_text)
        self.datum_reader = avro.io.DatumReader(writer)
        self.resolving_reader = avro.io.DatumReader(writer, reader)
        self.datum_writer = avro.io.DatumWriter(writer)
        self._encode_inputs: list[Any] | None = None
        self._encode_note: str | None = None

    def decode(self, data: bytes) -> Any:
        return self.datum_reader.read(self.io.BinaryDecoder(io.BytesIO(data)))

    def resolve(self, data: bytes) -> Any:
        return self.resolving_reader.read(self.io.BinaryDecoder(io.BytesIO(data)))

    def encode(self, value: Any) -> bytes:
        out = io.BytesIO()
        self.datum_writer.write(value, self.io.BinaryEncoder(out))
        return out.getvalue()

    def encode_inputs(self) -> tuple[list[Any], str | None]:
        """fastavro's values when the avro package takes them as they are (checked on a
        sample), else the values in its own representation (read back by it)."""
        if self._encode_inputs is None:
            w = self.w
            sample = range(min(len(w.values), 200))
            try:
                if all(self.encode(w.values[i]) == w.bodies[i] for i in sample):
                    self._encode_inputs = w.values
            except Exception:
                pass
            if self._encode_inputs is None:
                self._encode_inputs = [self.decode(b) for b in w.bodies]
                self._encode_note = "input in avro's own representation"
        return self._encode_inputs, self._encode_note

    def op(self, operation: str, mode: str) -> Op:
        if operation == "transcode":
            raise Unsupported("the avro package has no transcoder")
        fn: Callable[[Any], Any] = getattr(self, operation)
        note: str | None = None
        if operation == "encode":
            inputs, note = self.encode_inputs()
        else:
            inputs = self.w.inputs(operation)
        if mode == "one":
            return _one(fn, inputs, note)
        return _batch(_loop(fn), inputs, "; ".join(filter(None, ["loop", note])))


class ConfluentImpl(Implementation):
    """confluent-kafka's ``AvroSerializer``/``AvroDeserializer`` (framed, with a registry;
    the schemas are cached after the first call)."""

    key = "confluent-kafka"

    def __init__(self, w: Workload) -> None:
        if w.registry_url is None:
            raise Unsupported("needs a schema registry")
        from confluent_kafka.schema_registry import SchemaRegistryClient
        from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
        from confluent_kafka.serialization import MessageField, SerializationContext

        self.w = w
        client = SchemaRegistryClient({"url": w.registry_url})
        self.ctx_writer = SerializationContext(w.writer_topic, MessageField.VALUE)
        self.ctx_reader = SerializationContext(w.reader_topic, MessageField.VALUE)
        self.serializer = AvroSerializer(client, w.writer_text)
        self.reader_serializer = AvroSerializer(client, w.reader_text)
        self.deserializer = AvroDeserializer(client)
        self.resolving_deserializer = AvroDeserializer(client, w.reader_text)
        self.writer_prefix = framing.prefix(w.writer_id)

    def decode(self, frame: bytes) -> Any:
        return self.deserializer(frame, self.ctx_writer)

    def resolve(self, frame: bytes) -> Any:
        return self.resolving_deserializer(frame, self.ctx_writer)

    def encode(self, value: Any) -> Any:
        return self.serializer(value, self.ctx_writer)

    def transcode(self, frame: bytes) -> Any:
        value = self.resolving_deserializer(frame, self.ctx_writer)
        return self.reader_serializer(value, self.ctx_reader)

    def _unframe(self, frame: bytes) -> bytes:
        if frame[:5] != self.writer_prefix:
            raise RuntimeError(
                f"framed with schema id {int.from_bytes(frame[1:5], 'big')}, "
                f"not the writer's {self.w.writer_id}"
            )
        return frame[5:]

    def op(self, operation: str, mode: str) -> Op:
        fn: Callable[[Any], Any] = getattr(self, operation)
        inputs = self.w.values if operation == "encode" else self.w.frames
        note = "framed" if mode == "one" else "framed; loop"
        if operation == "encode":
            unframe = self._unframe

            def collect(sample: Sequence[Any]) -> list[Any]:
                return [unframe(fn(v)) for v in sample]

            return Op(fn if mode == "one" else _loop(fn), inputs, collect, note)
        return _one(fn, inputs, note) if mode == "one" else _batch(_loop(fn), inputs, note)


def build(key: str, w: Workload) -> Implementation:
    """The implementation ``key`` for this workload; :class:`Unsupported` (or ImportError)
    when it cannot be set up here."""
    if key == "native":
        from .. import _native

        return AvrobridgeImpl(_native, key, w)
    if key == "avrobridge-fastavro":
        from .. import _fallback

        return AvrobridgeImpl(_fallback, key, w)
    if key == "fastavro":
        return FastavroImpl(w)
    if key == "avro":
        return AvroImpl(w)
    if key == "confluent-kafka":
        return ConfluentImpl(w)
    raise ValueError(f"unknown implementation {key!r}")
