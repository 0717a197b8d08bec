"""avrobridge.codegen: typed classes that round-trip with the codec and pass mypy --strict,
on the tutorial's schemas, the 30-field record, hand-made corner cases and generated schemas;
decode_as/encode_record; the serde with generated classes; the command."""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import decimal
import enum
import importlib.util
import itertools
import json
import subprocess
import sys
import typing
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer as ConfluentDeserializer
from confluent_kafka.schema_registry.avro import AvroSerializer as ConfluentSerializer
from confluent_kafka.serialization import MessageField, SerializationContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import avrobridge as ab
from avrobridge.codegen import (
    add_codegen_command,
    decode_as,
    encode_record,
    generate,
    generate_files,
)
from avrobridge.errors import SchemaError
from avrobridge.registry import BackgroundServer, ServerSettings
from avrobridge.serde import AvroDeserializer, AvroSerializer
from conftest import SEED_DIR as SEED
from strategies import assert_same, data_for, parse_model, schemas

SEED_FILES = sorted(SEED.glob("*.avsc"))
REPO = Path(__file__).resolve().parents[1]

_modules = itertools.count()


def load(code: str, directory: Path, stem: str = "gen") -> ModuleType:
    """Writes ``code`` to a fresh module file in ``directory`` and imports it."""
    name = f"{stem}_{next(_modules)}"
    path = directory / f"{name}.py"
    path.write_text(code, encoding="utf-8")
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def classes(module: ModuleType) -> dict[str, type]:
    return {name: getattr(module, name) for name in module.__all__}


def class_for(module: ModuleType, fullname: str) -> Any:
    for cls in classes(module).values():
        text = getattr(cls, "__avro_schema__", None)
        if text is not None and json.loads(text)["name"] == fullname:
            return cls
    raise AssertionError(f"no class for {fullname}")


def full_name(schema: dict[str, Any]) -> str:
    name = schema["name"]
    return name if "." in name or not schema.get("namespace") else f"{schema['namespace']}.{name}"


def run_mypy(*paths: Path) -> None:
    """``mypy --strict`` (and --warn-unreachable) on the files, outside the repo's config."""
    directory = paths[0].parent
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--warn-unreachable",
            "--no-incremental",
            "--cache-dir",
            "/dev/null",
            *[p.name for p in paths],
        ],
        cwd=directory,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def round_trip(cls: Any, schema: Any, value: Any) -> Any:
    """encode -> decode -> from_dict -> to_dict -> encode gives the same bytes and values."""
    encoded = ab.encode(schema, value)
    decoded = ab.decode(schema, encoded)
    obj = cls.from_dict(decoded)
    assert isinstance(obj, cls)
    again = obj.to_dict()
    assert_same(again, decoded)
    assert ab.encode(schema, again) == encoded
    assert cls.from_dict(ab.decode(schema, encode_record(obj))) == obj
    return obj


def _mixed_schema() -> dict[str, Any]:
    bench_dir = str(REPO / "benches")
    if bench_dir not in sys.path:
        sys.path.insert(0, bench_dir)
    import workloads

    schema: dict[str, Any] = workloads.MIXED_30
    return schema


MIXED_30 = _mixed_schema()


# --------------------------------------------------------------------------------------
# The tutorial's schemas and the 30-field record
# --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def seed_modules(tmp_path_factory: pytest.TempPathFactory) -> dict[str, ModuleType]:
    directory = tmp_path_factory.mktemp("seed")
    out = {}
    for path in SEED_FILES:
        out[path.stem] = load(generate_files([path]), directory, path.stem)
    out["mixed30"] = load(generate([MIXED_30], sources=["mixed30"]), directory, "mixed30")
    return out


def test_seed_modules_pass_mypy_strict(seed_modules: dict[str, ModuleType]) -> None:
    run_mypy(*(Path(str(m.__file__)) for m in seed_modules.values()))


@pytest.mark.parametrize("path", SEED_FILES, ids=lambda p: p.stem)
@settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_seed_round_trips(seed_modules: dict[str, ModuleType], path: Path, data: Any) -> None:
    schema = json.loads(path.read_text())
    cls = class_for(seed_modules[path.stem], full_name(schema))
    value = data.draw(data_for(parse_model(schema)))
    round_trip(cls, schema, value)


def test_employee_class(seed_modules: dict[str, ModuleType]) -> None:
    module = seed_modules["employee"]
    assert set(module.__all__) == {"Employee", "PhoneNumber", "Status"}
    employee_cls, phone_cls, status = module.Employee, module.PhoneNumber, module.Status
    assert dataclasses.is_dataclass(module.Employee) and issubclass(status, enum.Enum)
    assert [s.value for s in status] == ["RETIRED", "SALARY", "HOURLY", "PART_TIME"]
    assert "Represents an Employee at a company" in (employee_cls.__doc__ or "")
    hints = typing.get_type_hints(employee_cls)
    assert hints["nickName"] == str | None
    assert hints["emails"] == list[str]
    assert hints["phoneNumber"] == phone_cls | None
    assert hints["status"] is status
    # Defaults: nickName None, age -1, emails [], status SALARY, countryCode "".
    bob = employee_cls(firstName="Bob", lastName="Jones", phoneNumber=None)
    assert (bob.nickName, bob.age, bob.emails, bob.status) == (None, -1, [], status.SALARY)
    other = employee_cls(firstName="Ann", lastName="Lee", phoneNumber=None)
    other.emails.append("ann@example.com")
    assert bob.emails == []  # a fresh list per instance
    schema = (SEED / "employee.avsc").read_text()
    minimal = {"firstName": "Bob", "lastName": "Jones", "phoneNumber": None}
    assert encode_record(bob) == ab.encode(schema, minimal)  # the same defaults as the schema
    phone = phone_cls(areaCode="301", prefix="555", number="1234")
    assert phone.countryCode == ""
    bob.phoneNumber, bob.status = phone, status.HOURLY
    decoded = ab.decode(schema, encode_record(bob))
    assert decoded["status"] == "HOURLY" and decoded["phoneNumber"]["areaCode"] == "301"
    again = decode_as(employee_cls, schema, encode_record(bob))
    assert again == bob and isinstance(again.phoneNumber, phone_cls)
    assert decode_as(employee_cls, None, encode_record(bob)) == bob  # the class's own schema
    with pytest.raises(TypeError):
        employee_cls(firstName="x")  # lastName and phoneNumber have no default


def test_reader_schema_with_decode_as(seed_modules: dict[str, ModuleType]) -> None:
    v1, v2 = seed_modules["employee_v1"], seed_modules["employee_v2"]
    old = v1.Employee(firstName="A", lastName="B", phoneNumber=None)
    data = encode_record(old)
    new = decode_as(v2.Employee, old.__avro_schema__, data, reader=v2.Employee.__avro_schema__)
    assert isinstance(new, v2.Employee) and new.age == -1 and new.firstName == "A"


def test_mixed30_types(seed_modules: dict[str, ModuleType]) -> None:
    module = seed_modules["mixed30"]
    cls = module.Mixed30
    hints = typing.get_type_hints(cls)
    assert hints["created"] is dt.datetime and hints["day"] is dt.date
    assert hints["ref"] is uuid.UUID and hints["amount"] is decimal.Decimal
    assert hints["digest"] is bytes and hints["kind"] is module.Kind
    assert hints["alt"] == str | int | float | None
    assert typing.get_origin(hints["contacts"]) is list
    assert typing.get_args(hints["contacts"]) == (module.Contact,)
    assert hints["counters"] == dict[str, int]
    workloads = sys.modules["workloads"]
    for i in range(20):
        obj = round_trip(cls, MIXED_30, workloads.mixed(i))
        assert isinstance(obj.address, module.Address) and isinstance(obj.kind, module.Kind)
        assert obj.created.tzinfo is not None


# --------------------------------------------------------------------------------------
# Corner cases
# --------------------------------------------------------------------------------------

CORNERS: dict[str, Any] = {
    "clashing-names": {
        "type": "record",
        "name": "Status",
        "namespace": "org.acme.v1",
        "fields": [
            {"name": "class", "type": "string"},
            {"name": "from", "type": "int", "default": 1},
            {"name": "int", "type": "long"},
            {"name": "Status", "type": "boolean"},
            {"name": "to_dict", "type": "string"},
            {"name": "_avro_x", "type": "string"},
            {"name": "__private", "type": "string"},
            {"name": "self", "type": "string"},
            {"name": "cls", "type": "string"},
            {"name": "data", "type": "string"},
            {
                "name": "other",
                "type": {
                    "type": "enum",
                    "name": "Status",
                    "namespace": "com.example",
                    "symbols": ["None", "name", "value", "_x", "x", "mro", "True"],
                },
                "default": "None",
            },
            {
                "name": "third",
                "type": {
                    "type": "record",
                    "name": "list",
                    "fields": [{"name": "str", "type": "string", "default": "s"}],
                },
            },
        ],
    },
    "recursive": {
        "type": "record",
        "name": "Node",
        "doc": 'A """tricky""" doc\\ with "quotes"',
        "fields": [
            {"name": "value", "type": "int"},
            {"name": "next", "type": ["null", "Node"], "default": None},
            {"name": "children", "type": {"type": "array", "items": "Node"}, "default": []},
            {"name": "index", "type": {"type": "map", "values": "Node"}, "default": {}},
        ],
    },
    "unions": {
        "type": "record",
        "name": "U",
        "fields": [
            {
                "name": "same_fields",
                "type": [
                    {"type": "record", "name": "A", "fields": [{"name": "x", "type": "int"}]},
                    {"type": "record", "name": "B", "fields": [{"name": "x", "type": "string"}]},
                    {
                        "type": "record",
                        "name": "C",
                        "fields": [
                            {"name": "x", "type": "int"},
                            {"name": "y", "type": "int"},
                        ],
                    },
                ],
            },
            {
                "name": "record_or_map",
                "type": ["A", {"type": "map", "values": "string"}, "null"],
            },
            {
                "name": "enum_or_string",
                "type": [
                    {"type": "enum", "name": "E1", "symbols": ["P", "Q"]},
                    {"type": "enum", "name": "E2", "symbols": ["Q", "R"]},
                    "string",
                ],
            },
            {
                "name": "deep",
                "type": [
                    "null",
                    {"type": "array", "items": ["null", "A", "E1"]},
                    {"type": "map", "values": {"type": "array", "items": "B"}},
                ],
            },
            {"name": "empty_ok", "type": ["null"], "default": None},
        ],
    },
    "logical": {
        "type": "record",
        "name": "L",
        "fields": [
            {"name": "d", "type": {"type": "int", "logicalType": "date"}, "default": 19000},
            {"name": "tm", "type": {"type": "int", "logicalType": "time-millis"}, "default": 5},
            {"name": "tu", "type": {"type": "long", "logicalType": "time-micros"}},
            {"name": "ts", "type": {"type": "long", "logicalType": "timestamp-millis"}},
            {
                "name": "tsu",
                "type": {"type": "long", "logicalType": "timestamp-micros"},
                "default": 1700000000000000,
            },
            {"name": "lts", "type": {"type": "long", "logicalType": "local-timestamp-millis"}},
            {"name": "nanos", "type": {"type": "long", "logicalType": "timestamp-nanos"}},
            {
                "name": "dec",
                "type": {"type": "bytes", "logicalType": "decimal", "precision": 9, "scale": 2},
                "default": "\u0000\u00ff",
            },
            {
                "name": "fdec",
                "type": {
                    "type": "fixed",
                    "name": "F8",
                    "size": 8,
                    "logicalType": "decimal",
                    "precision": 10,
                    "scale": 3,
                },
            },
            {
                "name": "id",
                "type": {"type": "string", "logicalType": "uuid"},
                "default": "00000000-0000-0000-0000-000000000001",
            },
            {"name": "bad_decimal", "type": {"type": "bytes", "logicalType": "decimal"}},
            {"name": "f", "type": "float", "default": 0.1},
            {"name": "nan", "type": "double", "default": 1},
            {"name": "raw", "type": "bytes", "default": "\u00ffA"},
            {"name": "maybe_day", "type": ["null", {"type": "int", "logicalType": "date"}]},
        ],
    },
    "record-defaults": {
        "type": "record",
        "name": "Outer",
        "fields": [
            {
                "name": "inner",
                "type": {
                    "type": "record",
                    "name": "Inner",
                    "fields": [
                        {"name": "a", "type": "int", "default": 7},
                        {"name": "tags", "type": {"type": "array", "items": "string"}},
                        {
                            "name": "color",
                            "type": {"type": "enum", "name": "Color", "symbols": ["R", "G"]},
                            "default": "G",
                        },
                    ],
                },
                "default": {"tags": ["x"]},
            },
            {
                "name": "items",
                "type": {"type": "array", "items": ["null", "Inner"]},
                "default": [None, {"tags": []}],
            },
            {"name": "counts", "type": {"type": "map", "values": "long"}, "default": {"a": 1}},
            {"name": "choice", "type": ["string", "null"], "default": "first"},
        ],
    },
}


def corner_values(name: str) -> list[dict[str, Any]]:
    if name == "unions":
        return [
            {
                "same_fields": {"x": 1},
                "record_or_map": {"x": 2},
                "enum_or_string": "P",
                "deep": [None, {"x": 3}, "Q"],
                "empty_ok": None,
            },
            {
                "same_fields": {"x": "s"},
                "record_or_map": {"k": "five"},
                "enum_or_string": "Q",
                "deep": {"m": [{"x": "b"}]},
                "empty_ok": None,
            },
            {
                "same_fields": {"x": 1, "y": 2},
                "record_or_map": None,
                "enum_or_string": "R",
                "deep": None,
                "empty_ok": None,
            },
            {
                "same_fields": {"x": 0},
                "record_or_map": {},
                "enum_or_string": "free text",
                "deep": [],
                "empty_ok": None,
            },
        ]
    return []


@pytest.fixture(scope="module")
def corner_modules(tmp_path_factory: pytest.TempPathFactory) -> dict[str, ModuleType]:
    directory = tmp_path_factory.mktemp("corners")
    return {
        name: load(generate([schema]), directory, name.replace("-", "_"))
        for name, schema in CORNERS.items()
    }


def test_corner_modules_pass_mypy_strict(corner_modules: dict[str, ModuleType]) -> None:
    run_mypy(*(Path(str(m.__file__)) for m in corner_modules.values()))


@pytest.mark.parametrize("name", list(CORNERS))
@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_corner_round_trips(corner_modules: dict[str, ModuleType], name: str, data: Any) -> None:
    schema = CORNERS[name]
    cls = class_for(corner_modules[name], full_name(schema))
    value = data.draw(data_for(parse_model(schema), max_depth=4))
    round_trip(cls, schema, value)


def test_clashing_names(corner_modules: dict[str, ModuleType]) -> None:
    module = corner_modules["clashing-names"]
    assert set(module.__all__) == {"V1Status", "ExampleStatus", "V1list"}
    record, status = module.V1Status, module.ExampleStatus
    names = [f.name for f in dataclasses.fields(record)]
    assert names == [
        "class_",
        "from_",
        "int_",
        "Status",
        "to_dict_",
        "f_avro_x",
        "f__private",
        "self",
        "cls",
        "data",
        "other",
        "third",
    ]
    members = {m.name: m.value for m in status}
    assert members == {
        "None_": "None",
        "name_": "name",
        "value_": "value",
        "x_": "_x",
        "x": "x",
        "mro_": "mro",
        "True_": "True",
    }
    obj = record.from_dict(
        {
            "class": "c",
            "from": 2,
            "int": 3,
            "Status": True,
            "to_dict": "t",
            "_avro_x": "a",
            "__private": "p",
            "self": "s",
            "cls": "k",
            "data": "d",
            "other": "_x",
            "third": {"str": "q"},
        }
    )
    assert obj.class_ == "c" and obj.other is status.x_ and obj.third.str_ == "q"
    assert obj.to_dict()["other"] == "_x" and obj.to_dict()["class"] == "c"
    assert (
        record(
            **{
                **{k: "" for k in ["class_", "to_dict_", "f_avro_x", "f__private"]},
                "int_": 1,
                "Status": False,
                "self": "",
                "cls": "",
                "data": "",
                "third": module.V1list(),
            }
        ).other
        is status.None_
    )


def test_unions_pick_the_written_branch(corner_modules: dict[str, ModuleType]) -> None:
    module = corner_modules["unions"]
    schema = CORNERS["unions"]
    objs = [round_trip(module.U, schema, v) for v in corner_values("unions")]
    assert type(objs[0].same_fields) is module.A and objs[0].record_or_map == module.A(x=2)
    assert objs[0].enum_or_string is module.E1.P
    assert objs[0].deep == [None, module.A(x=3), module.E1.Q]
    assert type(objs[1].same_fields) is module.B and objs[1].record_or_map == {"k": "five"}
    assert objs[1].enum_or_string is module.E1.Q  # the first enum with the symbol
    assert objs[1].deep == {"m": [module.B(x="b")]}
    assert type(objs[2].same_fields) is module.C and objs[2].enum_or_string is module.E2.R
    assert objs[3].enum_or_string == "free text" and objs[3].record_or_map == {}


def test_logical_types_and_defaults(corner_modules: dict[str, ModuleType]) -> None:
    module = corner_modules["logical"]
    hints = typing.get_type_hints(module.L)
    assert hints["d"] is dt.date and hints["tm"] is dt.time and hints["tu"] is dt.time
    assert hints["ts"] is dt.datetime and hints["lts"] is dt.datetime
    assert hints["nanos"] is int and hints["bad_decimal"] is bytes
    assert hints["dec"] is decimal.Decimal and hints["fdec"] is decimal.Decimal
    assert hints["id"] is uuid.UUID and hints["maybe_day"] == dt.date | None
    fields = {f.name: f.default for f in dataclasses.fields(module.L)}
    assert fields["d"] == dt.date(2022, 1, 8)
    assert fields["tm"] == dt.time(0, 0, 0, 5000)
    assert fields["tsu"] == dt.datetime(2023, 11, 14, 22, 13, 20, tzinfo=dt.timezone.utc)
    assert fields["dec"] == decimal.Decimal("2.55")
    assert fields["id"] == uuid.UUID(int=1)
    assert fields["f"] == ab.decode('"float"', ab.encode('"float"', 0.1))
    assert fields["nan"] == 1.0 and isinstance(fields["nan"], float)
    assert fields["raw"] == b"\xffA"
    now = dt.datetime(2024, 1, 2, 3, 4, 5, 6000, tzinfo=dt.timezone.utc)
    obj = module.L(
        tu=dt.time(1, 2, 3, 4),
        ts=now,
        lts=now.replace(tzinfo=None),
        nanos=5,
        fdec=decimal.Decimal("1.250"),
        bad_decimal=b"\x01",
        maybe_day=None,
    )
    decoded = ab.decode(CORNERS["logical"], encode_record(obj))
    assert module.L.from_dict(decoded) == obj


def test_record_defaults(corner_modules: dict[str, ModuleType]) -> None:
    module = corner_modules["record-defaults"]
    a, b = module.Outer(), module.Outer()
    assert a.inner == module.Inner(a=7, tags=["x"], color=module.Color.G)
    assert a.items == [None, module.Inner(tags=[])] and a.counts == {"a": 1}
    assert a.choice == "first"
    a.inner.tags.append("y")
    a.items.append(None)
    a.counts["b"] = 2
    assert b.inner.tags == ["x"] and len(b.items) == 2 and b.counts == {"a": 1}
    # The dataclass defaults are the schema's: encoding a default object is encoding {}.
    assert encode_record(module.Outer()) == ab.encode(CORNERS["record-defaults"], {})


def test_standalone_schemas(corner_modules: dict[str, ModuleType]) -> None:
    for name, module in corner_modules.items():
        for cls in classes(module).values():
            text = getattr(cls, "__avro_schema__", None)
            if text is not None:
                ab.Schema(text)  # every class's schema stands alone
        root = class_for(module, full_name(CORNERS[name]))
        assert (
            ab.Schema(root.__avro_schema__).canonical_form
            == ab.Schema(CORNERS[name]).canonical_form
        )


# --------------------------------------------------------------------------------------
# Generated schemas
# --------------------------------------------------------------------------------------


def test_generated_schemas_round_trip_and_pass_mypy(tmp_path: Path) -> None:
    files: list[Path] = []

    @settings(
        max_examples=120,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
    )
    @given(data=st.data())
    def check(data: Any) -> None:
        schema = data.draw(schemas(top="record"))
        code = generate([schema])
        module = load(code, tmp_path)
        files.append(Path(str(module.__file__)))
        cls = class_for(module, full_name(schema))
        assert ab.Schema(cls.__avro_schema__).canonical_form == ab.Schema(schema).canonical_form
        for other in classes(module).values():
            if hasattr(other, "__avro_schema__"):
                ab.Schema(other.__avro_schema__)
        values = data.draw(st.lists(data_for(parse_model(schema)), min_size=1, max_size=3))
        for value in values:
            round_trip(cls, schema, value)

    check()
    assert len(files) >= 100
    run_mypy(*files)


# --------------------------------------------------------------------------------------
# Several files, the command, errors
# --------------------------------------------------------------------------------------

ADDRESS = {
    "type": "record",
    "name": "Address",
    "namespace": "com.acme.common",
    "fields": [{"name": "city", "type": "string"}],
}
PERSON = {
    "type": "record",
    "name": "Person",
    "namespace": "com.acme",
    "fields": [
        {"name": "name", "type": "string"},
        {"name": "home", "type": "com.acme.common.Address"},
        {"name": "work", "type": ["null", "com.acme.common.Address"], "default": None},
    ],
}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="avrobridge")
    add_codegen_command(parser.add_subparsers(dest="command"))
    return parser


def test_command_with_several_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "address.avsc").write_text(json.dumps(ADDRESS))
    (tmp_path / "person.avsc").write_text(json.dumps(PERSON))
    out = tmp_path / "people.py"
    args = _parser().parse_args(
        ["codegen", str(tmp_path / "address.avsc"), str(tmp_path / "person.avsc"), "-o", str(out)]
    )
    assert args.handler(args) == 0
    code = out.read_text()
    assert "address.avsc, person.avsc" in code
    run_mypy(out)
    module = load(code, tmp_path)
    person = module.Person(name="A", home=module.Address(city="X"))
    standalone = ab.Schema(module.Person.__avro_schema__)
    assert decode_as(module.Person, standalone, encode_record(person)) == person
    # Without -o the module goes to stdout.
    args = _parser().parse_args(["codegen", str(tmp_path / "address.avsc")])
    assert args.handler(args) == 0
    assert "class Address:" in capsys.readouterr().out


def test_command_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "bad.avsc").write_text('{"type": "record", "name": "X", "fields": [{}]}')
    (tmp_path / "v1.avsc").write_text((SEED / "employee_v1.avsc").read_text())
    (tmp_path / "v2.avsc").write_text((SEED / "employee_v2.avsc").read_text())
    # A bad or missing input file is a usage error (exit 2) naming the file.
    for files, named in (
        (["bad.avsc"], "bad.avsc: "),
        (["missing.avsc"], "missing.avsc: No such file"),
        (["v1.avsc", "v2.avsc"], "v2.avsc: "),
    ):
        args = _parser().parse_args(["codegen", *(str(tmp_path / f) for f in files)])
        assert args.handler(args) == 2
        err = capsys.readouterr().err
        assert err.startswith("avrobridge codegen: ") and named in err, err
    with pytest.raises(SchemaError, match="already defined"):
        generate([(SEED / "employee_v1.avsc").read_text(), (SEED / "employee_v2.avsc").read_text()])
    with pytest.raises(SchemaError):
        generate(['{"type": "record", "name": "P", "fields": [{"name": "a", "type": "Nope"}]}'])


# --------------------------------------------------------------------------------------
# With the serde
# --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sr() -> Iterator[SchemaRegistryClient]:
    with (
        BackgroundServer(ServerSettings(port=0, log_level="warning")) as server,
        SchemaRegistryClient({"url": server.url}) as client,
    ):
        yield client


def test_serde_with_generated_classes(
    sr: SchemaRegistryClient, seed_modules: dict[str, ModuleType]
) -> None:
    module = seed_modules["employee"]
    schema = (SEED / "employee.avsc").read_text()
    ctx = SerializationContext(f"codegen-{uuid.uuid4().hex[:8]}", MessageField.VALUE)
    bob = module.Employee(
        firstName="Bob",
        lastName="Jones",
        emails=["bob@example.com"],
        phoneNumber=module.PhoneNumber(areaCode="301", prefix="555", number="1234"),
        status=module.Status.HOURLY,
    )
    data = AvroSerializer(sr, schema)(bob, ctx)  # takes the instance (calls to_dict)
    assert data == ConfluentSerializer(sr, schema)(bob.to_dict(), ctx)
    got = AvroDeserializer(sr, record_type=module.Employee)(data, ctx)
    assert got == bob and isinstance(got, module.Employee)
    # With a reader schema (v2, as the class of that version).
    v2 = seed_modules["employee_v2"]
    got_v2 = AvroDeserializer(sr, (SEED / "employee_v2.avsc").read_text(), record_type=v2.Employee)(
        data, ctx
    )
    assert isinstance(got_v2, v2.Employee) and got_v2.status is v2.Status.HOURLY
    # confluent-kafka's from_dict hook does the same with the generated class.
    theirs = ConfluentDeserializer(sr, from_dict=lambda d, c: module.Employee.from_dict(d))
    assert theirs(data, ctx) == bob
