"""``avrobridge schemas ...``: a command line for any Confluent-compatible Schema Registry.

Wired into the main command line by ``add_schemas_commands(subparsers)``. Calls go through
confluent-kafka's ``SchemaRegistryClient``; compatibility tests and the ``--default-to-global``
lookups talk HTTP directly (httpx), because the client drops the verbose compatibility
messages and knows no ``defaultToGlobal``.

Connection options (before or after the command): ``--url`` (or ``AVROBRIDGE_REGISTRY_URL``,
default http://127.0.0.1:8081), ``--user`` with the password from
``AVROBRIDGE_REGISTRY_PASSWORD`` or a prompt (never echoed, printed or logged), ``--ca-cert``
for https, ``--timeout`` and ``--json`` (machine-readable output instead of tables).

Exit codes (as every avrobridge command): 0 done; 1 an error (one line on stderr: the
registry's message, error code and HTTP status), a schema that is not registered (``check``)
or not compatible (``compat``); 2 wrong usage, or a local file (schema, CA bundle) that is
missing or not JSON.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .cliparser import EXIT_STATUS_HELP, EXIT_USAGE, subject_version
from .schemas_copy_cli import add_copy_command
from .schemas_env import DEFAULT_URL, ENV_PASSWORD, ENV_URL

__all__ = ["add_schemas_commands"]
LEVELS = (
    "NONE",
    "BACKWARD",
    "BACKWARD_TRANSITIVE",
    "FORWARD",
    "FORWARD_TRANSITIVE",
    "FULL",
    "FULL_TRANSITIVE",
)
MODES = ("READWRITE", "READONLY", "READONLY_OVERRIDE", "IMPORT")


# -- the command tree ---------------------------------------------------------------------


def add_schemas_commands(subparsers: Any) -> None:
    """Adds ``schemas`` and its commands; each sets ``handler=`` (args -> exit code)."""
    schemas = subparsers.add_parser(
        "schemas",
        help="list, get, register, check and delete schemas in a Confluent-compatible registry",
        description=(
            "Work with any Confluent-compatible Schema Registry (avrobridge registry serve, "
            "Confluent's, or another): list subjects and their versions, show a schema by "
            "subject version or by id, register a schema file, check whether it is registered, "
            "test its compatibility (with Confluent's reasons), get or set compatibility levels "
            "and modes, delete. Tables by default, JSON with --json. The connection options "
            "go before or after the command."
        ),
        epilog=EXIT_STATUS_HELP,
    )
    _connection_options(schemas, defaults=True)
    schemas.set_defaults(handler=_usage(schemas))
    commands = schemas.add_subparsers(dest="schemas_command", metavar="COMMAND")

    def command(name: str, handler: str, help_text: str) -> argparse.ArgumentParser:
        parser: argparse.ArgumentParser = commands.add_parser(
            name, help=help_text, description=help_text
        )
        _connection_options(parser, defaults=False)
        parser.set_defaults(handler=_handler(handler))
        return parser

    p = command("subjects", "subjects", "list subjects")
    p.add_argument("--prefix", default=None, help="only subjects starting with this")
    _deleted_flags(p)

    p = command("versions", "versions", "list the versions of a subject")
    p.add_argument("subject", help="the subject")
    _deleted_flags(p)

    p = command("get", "get", "show a subject's version (default: the latest)")
    p.add_argument("subject", help="the subject")
    p.add_argument("version", nargs="?", default="latest", type=subject_version, help="N or latest")
    p.add_argument("--deleted", action="store_true", help="soft-deleted versions too")
    p.add_argument("--schema-only", action="store_true", help="print only the schema text")

    p = command("get-id", "get_id", "show the schema with an id, and where it is registered")
    p.add_argument("id", type=_positive_int, help="the schema id")
    p.add_argument("--schema-only", action="store_true", help="print only the schema text")

    p = command("register", "register", "register a schema (.avsc file, - for stdin)")
    _schema_arguments(p)

    p = command("check", "check", "is this schema registered under the subject? (exit 1: no)")
    _schema_arguments(p)
    p.add_argument("--deleted", action="store_true", help="soft-deleted versions count too")

    p = command(
        "compat",
        "compat",
        "test a schema's compatibility with a version or all versions (exit 1: incompatible)",
    )
    _schema_arguments(p)
    p.add_argument(
        "--version",
        type=subject_version,
        default=None,
        help="test against this version, N or latest (default: all, as registering would)",
    )

    p = command("config", "config", "get or set the compatibility level (global or a subject's)")
    p.add_argument("subject", nargs="?", help="a subject (default: the global level)")
    p.add_argument(
        "--set",
        dest="level",
        type=_level,
        metavar="LEVEL",
        help=f"set it: {', '.join(LEVELS)} (default: only show it)",
    )
    p.add_argument(
        "--default-to-global",
        action="store_true",
        help="a subject without its own level shows the global one",
    )

    p = command("mode", "mode", "get or set the mode (global or a subject's)")
    p.add_argument("subject", nargs="?", help="a subject (default: the global mode)")
    p.add_argument(
        "--set",
        dest="mode",
        type=_mode_name,
        metavar="MODE",
        help=f"set it: {', '.join(MODES)} (default: only show it)",
    )
    p.add_argument("--force", action="store_true", help="IMPORT even if schemas exist")
    p.add_argument(
        "--default-to-global",
        action="store_true",
        help="a subject without its own mode shows the global one",
    )

    add_copy_command(commands)

    p = command("delete", "delete", "delete a subject or one of its versions (soft by default)")
    p.add_argument("subject", help="the subject")
    p.add_argument(
        "version", nargs="?", type=subject_version, help="N or latest (default: the whole subject)"
    )
    p.add_argument(
        "--permanent", action="store_true", help="hard delete (after a soft delete), frees ids"
    )


def _connection_options(parser: argparse.ArgumentParser, *, defaults: bool) -> None:
    # On the subcommands the defaults are suppressed, so an option given before the command
    # is not overwritten by the subcommand's default.
    def default(value: object) -> object:
        return value if defaults else argparse.SUPPRESS

    group = parser.add_argument_group("registry connection")
    group.add_argument(
        "--url",
        default=default(None),
        help=f"the registry; several: comma-separated (default: ${ENV_URL}, else {DEFAULT_URL})",
    )
    group.add_argument(
        "--user",
        default=default(None),
        help=f"basic auth user; the password comes from {ENV_PASSWORD} or a prompt "
        "(default: none, no authentication)",
    )
    group.add_argument(
        "--ca-cert",
        type=Path,
        default=default(None),
        help="CA bundle (PEM) that signed the registry's https certificate (default: the "
        "system's CAs)",
    )
    group.add_argument(
        "--timeout",
        type=float,
        default=default(30.0),
        help="seconds per request (default: 30)",
    )
    group.add_argument(
        "--json",
        action="store_true",
        default=default(False),
        help="print JSON instead of tables (default: off)",
    )


def _deleted_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--deleted", action="store_true", help="include soft-deleted ones")
    parser.add_argument("--deleted-only", action="store_true", help="only soft-deleted ones")


def _schema_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("subject", help="the subject")
    parser.add_argument("file", help="the schema (.avsc); - reads stdin")
    parser.add_argument(
        "--references",
        action="extend",
        default=[],
        type=_references,
        metavar="NAME=SUBJECT:VERSION[,...]",
        help="named types the schema uses, defined by registered schemas (repeatable)",
    )
    parser.add_argument("--normalize", action="store_true", help="normalize the schema first")


def _usage(parser: argparse.ArgumentParser) -> Callable[[argparse.Namespace], int]:
    def show(_args: argparse.Namespace) -> int:
        parser.print_help(sys.stderr)
        return EXIT_USAGE

    return show


def _handler(name: str) -> Callable[[argparse.Namespace], int]:
    """The command `name` of schemas_commands.py, imported when it runs (building the parser
    stays cheap: no HTTP or registry client libraries)."""

    def handler(args: argparse.Namespace) -> int:
        from . import schemas_commands

        return schemas_commands.run(getattr(schemas_commands, name), args)

    return handler


# -- argument types -----------------------------------------------------------------------


def _positive_int(text: str) -> int:
    try:
        number = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if number < 0:
        raise argparse.ArgumentTypeError(f"{text!r} is negative")
    return number


def _references(text: str) -> list[Any]:
    from confluent_kafka.schema_registry import SchemaReference

    refs = []
    for item in text.split(","):
        name, eq, rest = item.strip().partition("=")
        subject, colon, version = rest.rpartition(":")
        if not (eq and colon and name and subject) or not version.isdigit() or int(version) < 1:
            raise argparse.ArgumentTypeError(
                f"{item!r}: a reference is NAME=SUBJECT:VERSION, e.g. com.acme.Address=address:1"
            )
        refs.append(SchemaReference(name=name, subject=subject, version=int(version)))
    return refs


def _level(text: str) -> str:
    if text.upper() not in LEVELS:
        raise argparse.ArgumentTypeError(f"{text!r}: use one of {', '.join(LEVELS)}")
    return text.upper()


def _mode_name(text: str) -> str:
    if text.upper() not in MODES:
        raise argparse.ArgumentTypeError(f"{text!r}: use one of {', '.join(MODES)}")
    return text.upper()
