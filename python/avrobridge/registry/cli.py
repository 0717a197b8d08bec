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

from ..errors import ConfigError

__all__ = ["add_registry_commands", "main"]


def add_registry_commands(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    registry = subparsers.add_parser("registry", help="a Confluent-compatible Schema Registry")
    commands = registry.add_subparsers(dest="registry_command", metavar="COMMAND")
    registry.set_defaults(handler=_usage(registry))

    serve = commands.add_parser("serve", help="run the schema registry HTTP server")
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
        "(default http(s)://HOST:PORT)",
    )
    serve.add_argument(
        "--leader-ca", type=Path, help="kafka store: CA bundle for the leader's https certificate"
    )
    serve.add_argument("--auth-file", type=Path, help="users file for HTTP basic auth")
    serve.add_argument("--tls-cert", type=Path, help="PEM certificate (with --tls-key)")
    serve.add_argument("--tls-key", type=Path, help="PEM private key (with --tls-cert)")
    serve.add_argument("--max-body-bytes", type=int, default=4 << 20, help="request body cap")
    serve.add_argument("--max-schema-bytes", type=int, default=1 << 20, help="schema text cap")
    serve.add_argument("--access-log", action="store_true", help="log every request")
    serve.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    serve.set_defaults(handler=_serve)

    hasher = commands.add_parser(
        "hash-password", help="print a users-file line (the password is read from stdin)"
    )
    hasher.add_argument("user")
    hasher.add_argument("--role", choices=["readwrite", "readonly"], default="readwrite")
    hasher.add_argument("--iterations", type=int, default=600_000)
    hasher.set_defaults(handler=_hash_password)

    load = commands.add_parser("loadgen", help="measure a running registry (127.0.0.1 only)")
    load.add_argument("--host", default="127.0.0.1")
    load.add_argument("--port", type=int, default=8081)
    load.add_argument("--path", action="append", help="GET path(s); default /schemas/ids/1")
    load.add_argument("--connections", type=int, default=32)
    load.add_argument("--requests", type=int, default=50_000)
    load.add_argument("--duration", type=float, default=10.0)
    load.set_defaults(handler=_loadgen)


def _usage(parser: argparse.ArgumentParser) -> Callable[[argparse.Namespace], int]:
    def show(_args: argparse.Namespace) -> int:
        parser.print_help()
        return 2

    return show


def _serve(args: argparse.Namespace) -> int:
    from .server import ServerSettings, StoreError, serve

    logging.basicConfig(level=args.log_level.upper(), format="%(levelname)s %(name)s: %(message)s")
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
    try:
        return serve(settings)
    except ConfigError as exc:
        print(f"avrobridge registry serve: {exc}", file=sys.stderr)
        return 2
    except StoreError as exc:
        print(f"avrobridge registry serve: {exc}", file=sys.stderr)
        return 1


def _hash_password(args: argparse.Namespace) -> int:
    from .auth import hash_password

    if ":" in args.user or not args.user:
        print("the user name must be non-empty and contain no ':'", file=sys.stderr)
        return 2
    if sys.stdin.isatty():
        password = getpass.getpass(f"password for {args.user}: ")
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        print("empty password", file=sys.stderr)
        return 2
    print(f"{args.user}:{args.role}:{hash_password(password, args.iterations)}")
    return 0


def _loadgen(args: argparse.Namespace) -> int:
    from .loadgen import Request, run_load_sync

    if args.host not in ("127.0.0.1", "localhost", "::1"):
        print("loadgen only targets this machine (127.0.0.1, localhost, ::1)", file=sys.stderr)
        return 2
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
    return 0 if result.errors == 0 else 1


def main(argv: list[str] | None = None) -> int:
    """``python -m avrobridge.registry`` (the same commands without the ``registry`` word)."""
    parser = argparse.ArgumentParser(prog="avrobridge")
    sub = parser.add_subparsers(dest="command")
    add_registry_commands(sub)
    args = parser.parse_args(["registry", *(argv if argv is not None else sys.argv[1:])])
    return int(args.handler(args))
