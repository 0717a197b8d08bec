"""Schemas shipped with the package: the Schema Registry tutorial's Employee records."""

from __future__ import annotations

from importlib.resources import files


def schema_text(name: str) -> str:
    """The text of a bundled schema: "employee", "employee_v1", "employee_v2", "employee_simple"."""
    return files(__package__).joinpath(f"{name}.avsc").read_text(encoding="utf-8")
