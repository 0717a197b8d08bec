"""The ``avrobridge`` command line. Every command shares one exit-status scheme
(`cliparser.EXIT_STATUS_HELP`): 0 done, 1 failed at run time, 2 bad usage or settings."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from ._version import __version__
from .cliparser import EXIT_FAILED, EXIT_STATUS_HELP, EXIT_USAGE, Parser


def _build_parser() -> Parser:
    parser = Parser(
        prog="avrobridge",
        description=(
            "Move Avro records between Kafka topics and re-encode them into a target schema."
        ),
        epilog=EXIT_STATUS_HELP,
    )
    parser.add_argument("--version", action="version", version=f"avrobridge {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    demo = sub.add_parser(
        "demo",
        help="bridge the tutorial's Employee records on an embedded Kafka and registry",
        description=(
            "Bridge the Schema Registry tutorial's Employee records (v2 to v1, with two poison "
            "records for the dead-letter topic) on an embedded Kafka (librdkafka's mock "
            "cluster) and an in-process registry, then read them back and check them. Nothing "
            "to install or start."
        ),
    )
    demo.add_argument("--records", type=int, default=50_000, help="employees to bridge")
    demo.set_defaults(handler=_demo)
    from .bridge.cli import add_plan_command, add_run_command
    from .registry.cli import add_registry_commands

    add_run_command(sub)
    add_plan_command(sub)
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
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        return int(handler(args))
    except KeyboardInterrupt:
        print(f"{parser.prog} {getattr(args, 'command', '')}: interrupted", file=sys.stderr)
        return EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
