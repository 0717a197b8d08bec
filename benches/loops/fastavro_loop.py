"""The loop a Python developer would write with fastavro: the bare loop, converting each record
by decoding it with its writer schema (from the registry by id) resolved to the reader schema,
encoding it with the reader schema, and framing it with the reader's registered id."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import fastavro
from _loop import arguments, run
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient


def main() -> None:
    args = arguments()
    registry = SchemaRegistryClient({"url": args.registry})
    reader_json = json.loads(Path(args.reader_schema).read_text())
    reader = fastavro.parse_schema(reader_json)
    target_id = registry.register_schema(
        f"{args.sink}-value", Schema(json.dumps(reader_json), "AVRO")
    )
    header = b"\x00" + target_id.to_bytes(4, "big")
    writers: dict[int, Any] = {}
    read, write = fastavro.schemaless_reader, fastavro.schemaless_writer

    def convert(value: bytes) -> bytes:
        schema_id = int.from_bytes(value[1:5], "big")
        writer = writers.get(schema_id)
        if writer is None:
            text = registry.get_schema(schema_id).schema_str
            writer = writers[schema_id] = fastavro.parse_schema(json.loads(text))
        record = read(io.BytesIO(value[5:]), writer, reader)
        out = io.BytesIO()
        out.write(header)
        write(out, reader, record)
        return out.getvalue()

    run(args, convert)


if __name__ == "__main__":
    main()
