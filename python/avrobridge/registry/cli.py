"""``avrobridge registry ...``: serve, hash-password, loadgen.

Wired into the main command line by ``add_registry_commands(subparsers)``.
"""

from __future__ import annotations

import argparse
import getpass
import json
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..cliparser import EXIT_FAILED, EXIT_STATUS_HELP, EXIT_USAGE, Parser
from ..errors import ConfigError

__all__ = ["add_registry_commands", "main"]


def add_registry_commands(subparsers: Any) -> None:
    registry = subparsers.add_parser(
        "registry",
        help="a Confluent-compatible Schema Registry",
        description=(
            "A Confluent-compatible Schema Registry: serve runs it (memory, SQLite or Kafka "
            "store), hash-password writes a line of its users file, loadgen measures a running "
            "one."
        ),
        epilog=EXIT_STATUS_HELP,
    )
    commands = registry.add_subparsers(dest="registry_command", metavar="COMMAND")
    registry.set_defaults(handler=_usage(registry))

    serve = commands.add_parser(
        "serve",
        help="run the schema registry HTTP server",
        description=(
            "Run a Confluent-compatible Schema Registry over HTTP(S) until SIGINT or SIGTERM: "
            "Confluent's REST API, compatibility levels and modes, schema references, basic "
            "auth from a users file, TLS. The store keeps the schemas: in memory (lost on "
            "exit), in SQLite (durable), or in a compacted Kafka topic in Confluent's own "
            "format, shared by several instances that elect a leader for writes. Exit "
            "status 2 on bad options or files, 1 when the store cannot be used."
        ),
        epilog=EXIT_STATUS_HELP,
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on")
    serve.add_argument("--port", type=int, default=8081, help="TCP port (0 picks a free one)")
    serve.add_argument(
        "--store",
        default="memory://",
        help=(
            "memory:// (lost on exit), sqlite:///path/to/registry.db (durable) or "
            "kafka://host:port[,host:port]/_schemas (a compacted topic in Confluent's format, "
            "shared by several instances)"
        ),
    )
    serve.add_argument(
        "--advertise-url",
        help="kafka store: the URL other instances forward writes to while this one leads "
        "(default: http(s)://HOST:PORT)",
    )
    serve.add_argument(
        "--leader-ca",
        type=Path,
        help="kafka store: CA bundle for the leader's https certificate (default: the "
        "system's CAs)",
    )
    serve.add_argument(
        "--auth-file",
        type=Path,
        help="users file for HTTP basic auth, lines from hash-password (default: none, no "
        "authentication)",
    )
    serve.add_argument(
        "--tls-cert", type=Path, help="PEM certificate, with --tls-key (default: none, http)"
    )
    serve.add_argument(
        "--tls-key", type=Path, help="PEM private key, with --tls-cert (default: none, http)"
    )
    serve.add_argument(
        "--max-body-bytes", type=int, default=4 << 20, help="largest request body accepted"
    )
    serve.add_argument(
        "--max-schema-bytes", type=int, default=1 << 20, help="largest schema text accepted"
    )
    serve.add_argument("--access-log", action="store_true", help="log every request")
    serve.add_argument(
        "--log-level",
        default="info",
        choices=["debug", "info", "warning", "error"],
        help="the server's log level",
    )
    serve.set_defaults(handler=_serve)

    hasher = commands.add_parser(
        "hash-password",
        help="print a users-file line (the password is read from stdin)",
        description=(
            "Print a line for serve's --auth-file: USER:ROLE:PBKDF2 hash. The password is read "
            "from stdin, or asked for on a terminal (never echoed)."
        ),
    )
    hasher.add_argument("user", help="the user name (no ':')")
    hasher.add_argument(
        "--role",
        choices=["readwrite", "readonly"],
        default="readwrite",
        help="what the user may do",
    )
    hasher.add_argument("--iterations", type=int, default=600_000, help="PBKDF2-SHA256 iterations")
    hasher.set_defaults(handler=_hash_password)

    load = commands.add_parser(
        "loadgen",
        help="measure a running registry (127.0.0.1 only)",
        description=(
            "Send GET requests to a registry on this machine over keep-alive connections and "
            "print the rate and latency percentiles (and one JSON line). Exit status 1 when "
            "any request failed."
        ),
    )
    load.add_argument("--host", default="127.0.0.1", help="the registry's address")
    load.add_argument("--port", type=int, default=8081, help="the registry's port")
    load.add_argument(
        "--path",
        action="append",
        help="GET path, repeatable (default: /schemas/ids/1)",
    )
    load.add_argument("--connections", type=int, default=32, help="concurrent connections")
    load.add_argument("--requests", type=int, default=50_000, help="requests to send at most")
    load.add_argument("--duration", type=float, default=10.0, help="seconds to send at most")
    load.set_defaults(handler=_loadgen)


def _usage(parser: argparse.ArgumentParser) -> Callable[[argparse.Namespace], int]:
    def show(_args: argparse.Namespace) -> int:
        parser.print_help(sys.stderr)
        return EXIT_USAGE

    return show


def _serve(args: argparse.Namespace) -> int:
    from .server import ServerSettings, StoreError, serve

    logging.basicConfig(level=args.log_level.upper(), format="%(levelname)s %(name)s: %(message)s")
    try:
        settings = ServerSettings(
            host=args.host,
            port=args.port,
            store=args.store,
            auth_file=args.auth_file,
            tls_cert=args.tls_cert,
            tls_key=args.tls_key,
            max_body_bytes=args.max_body_bytes,
            max_schema_bytes=args.max_schema_bytes,
            access_log=args.access_log,
            log_level=args.log_level,
            advertise_url=args.advertise_url,
            leader_ca=args.leader_ca,
        )
        return serve(settings)
    except ConfigError as exc:
        print(f"avrobridge registry serve: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except StoreError as exc:
        print(f"avrobridge registry serve: {exc}", file=sys.stderr)
        return EXIT_FAILED


_HASH = "avrobridge registry hash-password"


def _hash_password(args: argparse.Namespace) -> int:
    from .auth import hash_password

    if ":" in args.user or not args.user:
        print(f"{_HASH}: the user name must be non-empty and contain no ':'", file=sys.stderr)
        return EXIT_USAGE
    if sys.stdin.isatty():
        password = getpass.getpass(f"password for {args.user}: ")
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        print(f"{_HASH}: empty password", file=sys.stderr)
        return EXIT_USAGE
    print(f"{args.user}:{args.role}:{hash_password(password, args.iterations)}")
    return 0


def _loadgen(args: argparse.Namespace) -> int:
    from .loadgen import Request, run_load_sync

    if args.host not in ("127.0.0.1", "localhost", "::1"):
        print(
            "avrobridge registry loadgen: --host: only this machine (127.0.0.1, localhost, ::1)",
            file=sys.stderr,
        )
        return EXIT_USAGE
    paths = args.path or ["/schemas/ids/1"]
    result = run_load_sync(
        args.host,
        args.port,
        [Request("GET", p) for p in paths],
        connections=args.connections,
        total=args.requests,
        duration=args.duration,
    )
    print(result.summary())
    print(
        json.dumps(
            {"rate": result.rate, "p50_ms": result.percentile(50), "p99_ms": result.percentile(99)}
        )
    )
    return 0 if result.errors == 0 else EXIT_FAILED


def main(argv: list[str] | None = None) -> int:
    """``python -m avrobridge.registry`` (the same commands without the ``registry`` word)."""
    parser = Parser(prog="avrobridge")
    sub = parser.add_subparsers(dest="command")
    add_registry_commands(sub)
    args = parser.parse_args(["registry", *(argv if argv is not None else sys.argv[1:])])
    return int(args.handler(args))
