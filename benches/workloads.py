"""The records the benchmarks run on: the tutorial's Employee, a 30-field record of mixed
types, and a record holding 1,000 doubles. Each comes with a deterministic datum factory."""

from __future__ import annotations

import datetime as dt
import decimal
import json
import uuid
from dataclasses import dataclass
from typing import Any

from avrobridge.data import schema_text

MIXED_30 = {
    "type": "record",
    "name": "Mixed30",
    "namespace": "bench",
    "fields": [
        {"name": "id", "type": "long"},
        {"name": "name", "type": "string"},
        {"name": "active", "type": "boolean"},
        {"name": "score", "type": "double"},
        {"name": "ratio", "type": "float"},
        {"name": "count", "type": "int"},
        {"name": "tags", "type": {"type": "array", "items": "string"}},
        {"name": "attrs", "type": {"type": "map", "values": "string"}},
        {"name": "maybe_int", "type": ["null", "int"], "default": None},
        {"name": "maybe_str", "type": ["null", "string"], "default": None},
        {"name": "payload", "type": "bytes"},
        {"name": "kind", "type": {"type": "enum", "name": "Kind", "symbols": ["A", "B", "C", "D"]}},
        {"name": "digest", "type": {"type": "fixed", "name": "Digest", "size": 16}},
        {
            "name": "created",
            "type": {"type": "long", "logicalType": "timestamp-millis"},
        },
        {"name": "updated", "type": {"type": "long", "logicalType": "timestamp-micros"}},
        {"name": "day", "type": {"type": "int", "logicalType": "date"}},
        {"name": "ref", "type": {"type": "string", "logicalType": "uuid"}},
        {
            "name": "amount",
            "type": {"type": "bytes", "logicalType": "decimal", "precision": 12, "scale": 2},
        },
        {
            "name": "address",
            "type": {
                "type": "record",
                "name": "Address",
                "fields": [
                    {"name": "street", "type": "string"},
                    {"name": "city", "type": "string"},
                    {"name": "zip", "type": "string"},
                    {"name": "geo", "type": {"type": "array", "items": "double"}},
                ],
            },
        },
        {"name": "previous", "type": ["null", "Address"], "default": None},
        {
            "name": "contacts",
            "type": {
                "type": "array",
                "items": {
                    "type": "record",
                    "name": "Contact",
                    "fields": [
                        {"name": "kind", "type": "string"},
                        {"name": "value", "type": "string"},
                        {"name": "primary", "type": "boolean"},
                    ],
                },
            },
        },
        {"name": "counters", "type": {"type": "map", "values": "long"}},
        {"name": "alt", "type": ["null", "string", "long", "double"], "default": None},
        {"name": "flag2", "type": "boolean"},
        {"name": "l1", "type": "long"},
        {"name": "l2", "type": "long"},
        {"name": "s1", "type": "string"},
        {"name": "s2", "type": "string"},
        {"name": "d1", "type": "double"},
        {"name": "i1", "type": "int"},
    ],
}

DOUBLES_1000 = {
    "type": "record",
    "name": "Samples",
    "namespace": "bench",
    "fields": [
        {"name": "sensor", "type": "string"},
        {"name": "values", "type": {"type": "array", "items": "double"}},
    ],
}


def employee(i: int) -> dict[str, Any]:
    return {
        "firstName": "Bob" if i == 0 else f"First{i}",
        "nickName": None if i % 3 else f"nick{i}",
        "lastName": "Jones" if i == 0 else f"Last{i}",
        "age": 35 + i % 30,
        "emails": [f"user{i}@example.com", f"alt{i}@example.org"],
        "phoneNumber": {"areaCode": "301", "countryCode": "1", "prefix": "555", "number": "1234"},
        "status": ["RETIRED", "SALARY", "HOURLY", "PART_TIME"][i % 4],
    }


def mixed(i: int) -> dict[str, Any]:
    base = dt.datetime(2024, 5, 17, 12, 30, 15, 123000, tzinfo=dt.timezone.utc)
    address = {"street": f"{i} Main St", "city": "Springfield", "zip": "12345", "geo": [1.5, -2.25]}
    return {
        "id": 10_000_000_000 + i,
        "name": f"item-{i}",
        "active": i % 2 == 0,
        "score": i * 1.25,
        "ratio": 0.5,
        "count": i % 1000,
        "tags": ["red", "green", "blue"],
        "attrs": {"color": "red", "size": "XL"},
        "maybe_int": None if i % 2 else i,
        "maybe_str": f"s{i}" if i % 3 == 0 else None,
        "payload": b"\x00\x01\x02\x03" * 8,
        "kind": "ABCD"[i % 4],
        "digest": bytes(range(16)),
        "created": base,
        "updated": base + dt.timedelta(microseconds=i),
        "day": dt.date(2024, 5, 17),
        "ref": uuid.UUID(int=i),
        "amount": decimal.Decimal(f"{i}.25"),
        "address": address,
        "previous": address if i % 2 else None,
        "contacts": [
            {"kind": "email", "value": f"c{i}@example.com", "primary": True},
            {"kind": "phone", "value": "555-1234", "primary": False},
        ],
        "counters": {"a": i, "b": 2 * i},
        "alt": [None, "text", 7, 2.5][i % 4],
        "flag2": True,
        "l1": -i,
        "l2": i * 3,
        "s1": "alpha",
        "s2": "omega",
        "d1": 3.14159,
        "i1": -42,
    }


def doubles(i: int) -> dict[str, Any]:
    return {"sensor": f"sensor-{i}", "values": [j * 0.001 + i for j in range(1000)]}


@dataclass(frozen=True)
class Workload:
    name: str
    schema: dict[str, Any]
    make: Any  # Callable[[int], dict[str, Any]]


def employee_schema() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(schema_text("employee"))
    return loaded


WORKLOADS = [
    Workload("employee", employee_schema(), employee),
    Workload("mixed30", MIXED_30, mixed),
    Workload("doubles1000", DOUBLES_1000, doubles),
]
