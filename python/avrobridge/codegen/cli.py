"""``avrobridge codegen``: the command."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from ..errors import SchemaError
from .generator import generate_files


def add_codegen_command(sub: Any) -> None:
    """Adds ``avrobridge codegen`` to the CLI's subparsers."""
    parser = sub.add_parser(
        "codegen",
        help="write typed Python classes (dataclasses, enums) for Avro schemas",
        description=(
            "Write one Python module with a dataclass per record and an enum.Enum per enum, "
            "with to_dict()/from_dict() for avrobridge.encode/decode. Schemas are read in "
            "order; a later one may use the named types of an earlier one."
        ),
    )
    parser.add_argument(
        "schemas",
        nargs="+",
        type=Path,
        metavar="SCHEMA.avsc",
        help="schema files, in dependency order",
    )
    parser.add_argument(
        "-o", "--output", type=Path, metavar="MODULE.py", help="output file (default: stdout)"
    )
    parser.set_defaults(handler=_run_codegen)


def _run_codegen(args: argparse.Namespace) -> int:
    """0 done; 2 a schema file that is missing or invalid, or an output that cannot be
    written (the exit statuses of every avrobridge command)."""
    try:
        code = generate_files(args.schemas, args.output)
    except OSError as exc:
        name = exc.filename if exc.filename is not None else args.output
        print(f"avrobridge codegen: {name}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    except SchemaError as exc:
        print(f"avrobridge codegen: {exc}", file=sys.stderr)
        return 2
    if args.output is None:
        sys.stdout.write(code)
    return 0
