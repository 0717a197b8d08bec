"""Stored schema text: Avro Java's Schema.toString(), the normal form, reference expansion."""

from __future__ import annotations

import json
from typing import Any

import pytest

import avrobridge as ab
from avrobridge.registry.schema_text import java_double, json_depth, render


@pytest.mark.parametrize(
    ("schema", "text"),
    [
        ({"type": "string"}, '"string"'),
        ("long", '"long"'),
        ({"type": "int", "logicalType": "date"}, '{"type":"int","logicalType":"date"}'),
        (
            {"type": "bytes", "scale": 2, "logicalType": "decimal", "precision": 4},
            '{"type":"bytes","scale":2,"logicalType":"decimal","precision":4}',
        ),
        (["null", {"type": "string"}], '["null","string"]'),
        ({"values": "int", "type": "map"}, '{"type":"map","values":"int"}'),
        (
            {"name": "E", "type": "enum", "symbols": ["A", "B"], "default": "A", "doc": "d"},
            '{"type":"enum","name":"E","doc":"d","symbols":["A","B"],"default":"A"}',
        ),
        (
            {"size": 4, "type": "fixed", "name": "x.F", "aliases": ["G", "y.H"]},
            '{"type":"fixed","name":"F","namespace":"x","size":4,"aliases":["G","y.H"]}',
        ),
        (
            {
                "fields": [
                    {"default": 1.5, "type": "double", "name": "d", "order": "descending"},
                    {
                        "name": "n",
                        "type": {"type": "record", "name": "N", "namespace": "", "fields": []},
                    },
                    {
                        "name": "other",
                        "type": ["null", "N"],
                        "default": None,
                        "aliases": ["me"],
                        "custom": {"b": 1, "a": 2},
                    },
                ],
                "name": "R",
                "namespace": "ns",
                "type": "record",
            },
            '{"type":"record","name":"R","namespace":"ns","fields":['
            '{"name":"d","type":"double","default":1.5,"order":"descending"},'
            '{"name":"n","type":{"type":"record","name":"N","namespace":"","fields":[]}},'
            '{"name":"other","type":["null","N"],"default":null,"aliases":["me"],'
            '"custom":{"b":1,"a":2}}]}',
        ),
        (
            {
                "type": "record",
                "name": "a.R",
                "fields": [
                    {"name": "x", "type": {"type": "record", "name": "b.S", "fields": []}},
                    {"name": "y", "type": "b.S"},
                    {"name": "z", "type": {"type": "a.R"}},
                ],
            },
            '{"type":"record","name":"R","namespace":"a","fields":['
            '{"name":"x","type":{"type":"record","name":"S","namespace":"b","fields":[]}},'
            '{"name":"y","type":"b.S"},{"name":"z","type":"R"}]}',
        ),
    ],
)
def test_renders_as_avro_java(schema: Any, text: str) -> None:
    ab.Schema(json.dumps(schema))  # only valid schemas reach render()
    assert render(schema) == text


def test_normal_form_uses_full_names_and_sorted_properties() -> None:
    a = {
        "type": "record",
        "name": "R",
        "namespace": "n",
        "fields": [{"name": "x", "type": {"type": "int", "b": 1, "a": 2}}],
    }
    b = {
        "fields": [{"type": {"a": 2, "type": "int", "b": 1}, "name": "x"}],
        "name": "n.R",
        "type": "record",
    }
    assert render(a) != render(b)
    assert (
        render(a, normalize=True)
        == render(b, normalize=True)
        == (
            '{"type":"record","name":"n.R","fields":[{"name":"x","type":{"type":"int","a":2,"b":1}}]}'
        )
    )


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (1.0, "1.0"),
        (-0.0, "-0.0"),
        (1e10, "1.0E10"),
        (1.5e-5, "1.5E-5"),
        (0.001, "0.001"),
        (9999999.0, "9999999.0"),
        (1e7, "1.0E7"),
        (123.456, "123.456"),
        (-2.5e20, "-2.5E20"),
    ],
)
def test_doubles_print_as_java(value: float, text: str) -> None:
    assert java_double(value) == text


def test_json_depth_without_recursion() -> None:
    deep: Any = 1
    for _ in range(10_000):
        deep = [deep]
    assert json_depth(deep) == 10_000
    assert json_depth({"a": [1, {"b": 2}]}) == 3
    assert json_depth("x") == 0


def test_references_define_named_types_for_the_main_schema() -> None:
    address = {
        "type": "record",
        "name": "Address",
        "namespace": "com.acme",
        "fields": [{"name": "geo", "type": {"type": "record", "name": "Geo", "fields": []}}],
    }
    person = {
        "type": "record",
        "name": "Person",
        "namespace": "com.acme",
        "fields": [
            {"name": "home", "type": "Address"},
            {"name": "work", "type": "Address"},
            {"name": "where", "type": "Geo"},
        ],
    }
    schema = ab.Schema(json.dumps(person), references=[json.dumps(address)])
    assert "com.acme.Geo" in schema.canonical_form
    # The stored text keeps the references as names.
    assert render(person) == (
        '{"type":"record","name":"Person","namespace":"com.acme","fields":['
        '{"name":"home","type":"Address"},{"name":"work","type":"Address"},'
        '{"name":"where","type":"Geo"}]}'
    )
