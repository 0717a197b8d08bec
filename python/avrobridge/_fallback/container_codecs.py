"""The container block codecs for the fastavro backend, as ``rust/src/container/codec.rs``
does them: decompression stops one byte past the limit and never allocates more than the
data produces. zlib, bz2 and lzma come with Python; snappy is cramjam's (fastavro's own
choice) and zstandard is ``compression.zstd`` (``backports.zstd`` before Python 3.14).

fastavro's block readers decompress without a bound, so they cannot be used for untrusted
files: this module is what the fastavro backend adds to them.
"""

from __future__ import annotations

import bz2
import lzma
import sys
import zlib
from collections.abc import Callable
from typing import Any, Final

import cramjam

from ..errors import ConfigError

if sys.version_info >= (3, 14):
    from compression import zstd
else:
    from backports import zstd

__all__ = [
    "CODECS",
    "LEVELS",
    "Corrupt",
    "TooLarge",
    "_compress",
    "_decompress",
    "compress",
    "decompress",
]

#: The codecs in the order of ``Codec::ALL``.
CODECS: Final = ("null", "deflate", "snappy", "zstandard", "bzip2", "xz")
#: (lowest, highest, default) compression level of each codec that takes one (Java's
#: defaults).
LEVELS: Final[dict[str, tuple[int, int, int]]] = {
    "deflate": (0, 9, 6),
    "zstandard": (1, 22, 3),
    "bzip2": (1, 9, 9),
    "xz": (0, 9, 6),
}


class TooLarge(Exception):
    """The block decompresses to more than the limit."""


class Corrupt(Exception):
    """The compressed data is invalid."""


def _stream(make: Callable[[], Any], data: bytes, limit: int, *, frames: bool) -> bytes:
    """Runs a bz2/lzma/zstd-style decompressor (``decompress(data, max_length)``, ``eof``,
    ``needs_input``, ``unused_data``) with at most ``limit + 1`` bytes out; with ``frames``,
    data after the end of a frame must be another frame."""
    out = bytearray()
    rest = data
    while True:
        d = make()
        chunk = d.decompress(rest, limit + 1 - len(out))
        while True:
            out += chunk
            if len(out) > limit:
                raise TooLarge
            if d.eof or d.needs_input:
                break
            chunk = d.decompress(b"", limit + 1 - len(out))
        if not d.eof:
            raise Corrupt("the compressed data ends before its stream does")
        rest = d.unused_data
        if not (frames and rest):
            return bytes(out)


def _snappy_length(data: bytes) -> int:
    """The uncompressed length a raw snappy stream starts with (a 32-bit varint)."""
    value = shift = 0
    for i, byte in enumerate(data[:5]):
        value |= (byte & 0x7F) << shift
        if byte & 0x80 == 0:
            if value >= 1 << 32:
                break
            return value
        shift += 7
        if i == 4:
            break
    raise Corrupt("snappy: corrupt input (invalid uncompressed length)")


def _snappy(data: bytes, limit: int) -> bytes:
    if len(data) < 4:
        raise Corrupt(f"a snappy block needs 4 bytes of CRC-32, it has {len(data)} bytes")
    body, crc = data[:-4], data[-4:]
    length = _snappy_length(body)
    if length > limit:
        raise TooLarge
    if length > 22 * len(body):
        raise Corrupt(
            f"snappy: {len(body)} bytes cannot decompress to the {length} bytes they claim"
        )
    try:
        out = bytes(cramjam.snappy.decompress_raw(body))
    except cramjam.DecompressionError as exc:
        raise Corrupt(str(exc)) from None
    expected = int.from_bytes(crc, "big")
    actual = zlib.crc32(out)
    if actual != expected:
        raise Corrupt(
            f"snappy: CRC-32 of the decompressed data is {actual:08x}, "
            f"the block says {expected:08x}"
        )
    return out


def _deflate(data: bytes, limit: int) -> bytes:
    d = zlib.decompressobj(-15)
    try:
        out = d.decompress(data, limit + 1)
    except zlib.error as exc:
        raise Corrupt(str(exc)) from None
    if len(out) > limit:
        raise TooLarge
    if not d.eof:
        raise Corrupt("incomplete deflate stream")
    return out


def decompress(codec: str, data: bytes, limit: int) -> bytes:
    """The block's data; TooLarge past ``limit`` bytes, Corrupt when it is invalid."""
    if codec == "null":
        if len(data) > limit:
            raise TooLarge
        return data
    if codec == "deflate":
        return _deflate(data, limit)
    if codec == "snappy":
        return _snappy(data, limit)
    try:
        if codec == "zstandard":
            return _stream(zstd.ZstdDecompressor, data, limit, frames=True)
        if codec == "bzip2":
            return _stream(bz2.BZ2Decompressor, data, limit, frames=False)
        return _stream(lambda: lzma.LZMADecompressor(lzma.FORMAT_XZ), data, limit, frames=False)
    except (OSError, EOFError, ValueError, lzma.LZMAError, zstd.ZstdError) as exc:
        raise Corrupt(str(exc)) from None


def compress(codec: str, level: int | None, data: bytes) -> bytes:
    """``data`` compressed with ``codec`` at ``level`` (the codec's default when None)."""
    if level is None and codec in LEVELS:
        level = LEVELS[codec][2]
    if codec == "null":
        return data
    if codec == "deflate":
        c = zlib.compressobj(level if level is not None else 6, zlib.DEFLATED, -15)
        return c.compress(data) + c.flush()
    if codec == "snappy":
        return bytes(cramjam.snappy.compress_raw(data)) + zlib.crc32(data).to_bytes(4, "big")
    if codec == "zstandard":
        return zstd.compress(data, level)
    if codec == "bzip2":
        return bz2.compress(data, level if level is not None else 9)
    return lzma.compress(data, lzma.FORMAT_XZ, preset=level)


def _known(codec: str) -> None:
    if codec not in CODECS:
        raise ConfigError(f"unknown codec '{codec}'")


def _compress(codec_name: str, data: bytes, level: int | None = None) -> bytes:
    """A block's data compressed as the container writer compresses it (``_native``'s twin,
    for the benchmarks)."""
    _known(codec_name)
    levels = LEVELS.get(codec_name)
    if level is not None and (levels is None or not levels[0] <= level <= levels[1]):
        raise ConfigError(f"compression level {level} does not suit the {codec_name} codec")
    return compress(codec_name, level, data)


def _decompress(codec_name: str, data: bytes, limit: int) -> bytes:
    """A block's stored data decompressed as the container reader does it."""
    _known(codec_name)
    try:
        return decompress(codec_name, data, limit)
    except (TooLarge, Corrupt) as exc:
        raise ConfigError(f"cannot decompress: {type(exc).__name__}({exc})") from None
