"""Schemas shipped with the package: the Schema Registry tutorial's Employee records (the
project starts from that tutorial; the tests, benchmarks and demo use them).

- ``employee.avsc``: the full ``Employee`` record (namespace ``com.cloudurable.phonebook``): a
  nullable nick name, ``age`` with default -1, an ``emails`` array with default [], a nullable
  nested ``PhoneNumber`` record, and a ``Status`` enum with default ``SALARY``.
- ``employee_v1.avsc`` / ``employee_v2.avsc``: the evolution scenario. Version 1 has no
  ``age``; version 2 adds ``age`` with default -1. A producer writes v2 with age 42; a consumer
  reading with v1 drops ``age``; a client reading that v1 data with v2 sees age -1.
- ``employee_simple.avsc``: the smaller record the tutorial registers through the REST API
  (fName, lName, age, phoneNumber, all required).

The tutorial's producer sends 99 records (keys 1..99, Long) of one employee, Bob Jones, age 35,
phone 301 / 1 / 555 / 1234, to topic ``new-employees``; the consumer reads them back with the
registry.
"""

from __future__ import annotations

from importlib.resources import files


def schema_text(name: str) -> str:
    """The text of a bundled schema: "employee", "employee_v1", "employee_v2", "employee_simple"."""
    return files(__package__).joinpath(f"{name}.avsc").read_text(encoding="utf-8")
