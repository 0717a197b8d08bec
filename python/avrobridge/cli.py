"""The ``avrobridge`` command line."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from ._version import __version__


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="avrobridge",
        description=(
            "Move Avro records between Kafka topics and re-encode them into a target schema."
        ),
    )
    parser.add_argument("--version", action="version", version=f"avrobridge {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    demo = sub.add_parser(
        "demo",
        help="bridge the tutorial's Employee records on an embedded Kafka and registry",
    )
    demo.add_argument("--records", type=int, default=50_000, help="employees to bridge")
    demo.set_defaults(handler=_demo)
    from .bridge.cli import add_run_command
    from .registry.cli import add_registry_commands

    add_run_command(sub)
    add_registry_commands(sub)
    from .schemas_cli import add_schemas_commands

    add_schemas_commands(sub)
    from .bench import add_bench_command

    add_bench_command(sub)
    from .codegen import add_codegen_command

    add_codegen_command(sub)
    return parser


def _demo(args: argparse.Namespace) -> int:
    from .demo import run_demo

    return run_demo(records=args.records)


def main(argv: Sequence[str] | None = None) -> int:
    parser = _build_parser()
    args = parser.parse_args(argv)
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 2
    return int(handler(args))


if __name__ == "__main__":
    sys.exit(main())
