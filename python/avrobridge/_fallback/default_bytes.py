"""Field defaults pre-encoded to Avro bytes, as ``default.rs``'s ``encode_default``: the one
default check (``schema.default_value``, which also gives the value fastavro's writer takes)
and then fastavro's writer."""

from __future__ import annotations

import io
from typing import Any

import fastavro

from ..schema import Node, default_value, fastavro_schema


def encode_default(node: Node, value: Any) -> bytes:
    """A JSON default as Avro binary; raises DefaultError with default.rs's reason."""
    checked = default_value(node, value, 0)
    out = io.BytesIO()
    fastavro.schemaless_writer(
        out, fastavro.parse_schema(fastavro_schema(node, logical=False)), checked
    )
    return out.getvalue()
