"""Avro's zig-zag varint in Python (the twin of ``rust/src/wire.rs``'s ``write_long``), for
the fastavro backend and the bridge's record metadata."""

from __future__ import annotations

__all__ = ["long_bytes", "write_long"]


def write_long(out: bytearray, v: int) -> None:
    """Appends ``v`` as a zig-zag varint (an Avro ``long``)."""
    z = ((v << 1) ^ (v >> 63)) & 0xFFFF_FFFF_FFFF_FFFF
    while z >= 0x80:
        out.append((z & 0x7F) | 0x80)
        z >>= 7
    out.append(z)


def long_bytes(v: int) -> bytes:
    """``v`` as a zig-zag varint."""
    out = bytearray()
    write_long(out, v)
    return bytes(out)
