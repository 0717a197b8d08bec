"""Fingerprints of the canonical form: CRC-64-AVRO (Rabin), MD5, SHA-256."""

from __future__ import annotations

import hashlib
from typing import Final

_EMPTY64: Final = 0xC15D213AA4D7A795


def _rabin_table() -> list[int]:
    table = []
    for i in range(256):
        fp = i
        for _ in range(8):
            fp = (fp >> 1) ^ (_EMPTY64 & -(fp & 1))
        table.append(fp)
    return table


_RABIN: Final = _rabin_table()


def rabin64(data: bytes) -> int:
    """The 64-bit Rabin fingerprint of the specification (Java's ``parsingFingerprint64``)."""
    fp = _EMPTY64
    table = _RABIN
    for b in data:
        fp = (fp >> 8) ^ table[(fp ^ b) & 0xFF]
    return fp


def _fingerprint_algorithm(name: str) -> str | None:
    # ASCII-only upper-casing, as Rust's `to_ascii_uppercase` (Python's would map 'ſ' to 'S').
    upper = "".join(chr(ord(c) - 32) if "a" <= c <= "z" else c for c in name)
    if upper in ("CRC-64-AVRO", "RABIN"):
        return "crc64"
    if upper == "MD5":
        return "md5"
    if upper in ("SHA-256", "SHA256"):
        return "sha256"
    return None


def fingerprint(canonical: str, algorithm: str) -> bytes:
    """The digest bytes; CRC-64-AVRO is given little-endian, as Java does."""
    alg = _fingerprint_algorithm(algorithm)
    data = canonical.encode("utf-8")
    if alg == "crc64":
        return rabin64(data).to_bytes(8, "little")
    if alg == "md5":
        return hashlib.md5(data).digest()
    if alg == "sha256":
        return hashlib.sha256(data).digest()
    raise ValueError(
        f"unknown fingerprint algorithm '{algorithm}': use CRC-64-AVRO, MD5 or SHA-256"
    )
