"""``avrobridge demo``: the tutorial's Employee records through the codec, on the embedded
defaults (no broker, no registry). A later step turns this into the full bridge demo."""

from __future__ import annotations

import time

from . import BACKEND, Schema, decode, decode_many, encode, encode_many
from .data import schema_text


def employees(n: int) -> list[dict[str, object]]:
    """Bob Jones of the tutorial, then a spread of generated employees (some without phones)."""
    statuses = ["RETIRED", "SALARY", "HOURLY", "PART_TIME"]
    out: list[dict[str, object]] = []
    for i in range(n):
        phone = (
            None
            if i % 5 == 4
            else {
                "areaCode": "301",
                "countryCode": "1",
                "prefix": "555",
                "number": f"{i % 10_000:04d}",
            }
        )
        out.append(
            {
                "firstName": "Bob" if i == 0 else f"Emp{i}",
                "nickName": None if i % 3 else f"nick{i}",
                "lastName": "Jones" if i == 0 else f"Last{i % 977}",
                "age": 42 if i == 0 else 20 + i % 45,
                "emails": [f"emp{i}@example.com"] if i % 2 else [],
                "phoneNumber": phone,
                "status": statuses[i % 4],
            }
        )
    return out


def run_codec_demo(records: int = 100_000) -> int:
    v2 = Schema(schema_text("employee_v2"))
    people = employees(max(records, 1))
    bob = people[0]
    raw = encode(v2, bob)
    print(f"backend: {BACKEND}")
    print(f"schema:  {v2.name} (CRC-64-AVRO {v2.fingerprint().hex()})")
    print(f"Bob Jones encodes to {len(raw)} bytes: {raw.hex()}")
    back = decode(v2, raw)
    print(f"and decodes back to: {back}")
    start = time.perf_counter()
    blobs = encode_many(v2, people)
    mid = time.perf_counter()
    decoded = decode_many(v2, blobs)
    end = time.perf_counter()
    lost = sum(1 for a, b in zip(people, decoded, strict=False) if a != b)
    print(
        f"{len(people):,} employees: encode {len(people) / (mid - start):,.0f} rec/s, "
        f"decode {len(people) / (end - mid):,.0f} rec/s, mismatches: {lost}"
    )
    return 0 if lost == 0 and back == bob else 1
