"""``avrobridge schemas ...``: a command line for any Confluent-compatible Schema Registry.

Wired into the main command line by ``add_schemas_commands(subparsers)``. Calls go through
confluent-kafka's ``SchemaRegistryClient``; compatibility tests and the ``--default-to-global``
lookups talk HTTP directly (httpx), because the client drops the verbose compatibility
messages and knows no ``defaultToGlobal``.

Connection options (before or after the command): ``--url`` (or ``AVROBRIDGE_REGISTRY_URL``,
default http://127.0.0.1:8081), ``--user`` with the password from
``AVROBRIDGE_REGISTRY_PASSWORD`` or a prompt (never echoed, printed or logged), ``--ca-cert``
for https, ``--timeout`` and ``--json`` (machine-readable output instead of tables).

Exit codes: 0 done; 1 an error (one line on stderr: the registry's message, error code and
HTTP status), a schema that is not registered (``check``) or not compatible (``compat``);
2 wrong usage.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import re
import ssl
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
from confluent_kafka.schema_registry import (
    Schema,
    SchemaReference,
    SchemaRegistryClient,
    SchemaRegistryError,
)
from rich.console import Console
from rich.table import Table

from .registry_client import without_credentials as _without_credentials
from .schemas_copy_cli import add_copy_command

__all__ = ["DEFAULT_URL", "ENV_PASSWORD", "ENV_URL", "add_schemas_commands"]

# confluent-kafka's client uses httpx2 on Python >= 3.10 (httpx before): its network errors
# are those packages' exceptions, not ours.
_TIMEOUTS: tuple[type[Exception], ...] = (httpx.TimeoutException,)
_NETWORK: tuple[type[Exception], ...] = (httpx.HTTPError,)
try:
    import httpx2

    _TIMEOUTS += (httpx2.TimeoutException,)
    _NETWORK += (httpx2.HTTPError,)
except ImportError:  # pragma: no cover - older confluent-kafka
    pass

ENV_URL = "AVROBRIDGE_REGISTRY_URL"
ENV_PASSWORD = "AVROBRIDGE_REGISTRY_PASSWORD"
DEFAULT_URL = "http://127.0.0.1:8081"
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

Handler = Callable[["Session", argparse.Namespace], int]


class CommandError(Exception):
    """Ends the command with one line on stderr and exit code 1."""


# -- the command tree ---------------------------------------------------------------------


def add_schemas_commands(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Adds ``schemas`` and its commands; each sets ``handler=`` (args -> exit code)."""
    schemas = subparsers.add_parser(
        "schemas",
        help="list, get, register, check and delete schemas in a Confluent-compatible registry",
        description="Work with any Confluent-compatible Schema Registry.",
    )
    _connection_options(schemas, defaults=True)
    schemas.set_defaults(handler=_usage(schemas))
    commands = schemas.add_subparsers(dest="schemas_command", metavar="COMMAND")

    def command(name: str, handler: Handler, help_text: str) -> argparse.ArgumentParser:
        parser = commands.add_parser(name, help=help_text, description=help_text)
        _connection_options(parser, defaults=False)
        parser.set_defaults(handler=_run(handler))
        return parser

    p = command("subjects", _subjects, "list subjects")
    p.add_argument("--prefix", default=None, help="only subjects starting with this")
    _deleted_flags(p)

    p = command("versions", _versions, "list the versions of a subject")
    p.add_argument("subject")
    _deleted_flags(p)

    p = command("get", _get, "show a subject's version (default: the latest)")
    p.add_argument("subject")
    p.add_argument("version", nargs="?", default="latest", type=_version, help="N or latest")
    p.add_argument("--deleted", action="store_true", help="soft-deleted versions too")
    p.add_argument("--schema-only", action="store_true", help="print only the schema text")

    p = command("get-id", _get_id, "show the schema with an id, and where it is registered")
    p.add_argument("id", type=_positive_int)
    p.add_argument("--schema-only", action="store_true", help="print only the schema text")

    p = command("register", _register, "register a schema (.avsc file, - for stdin)")
    _schema_arguments(p)

    p = command("check", _check, "is this schema registered under the subject? (exit 1: no)")
    _schema_arguments(p)
    p.add_argument("--deleted", action="store_true", help="soft-deleted versions count too")

    p = command(
        "compat",
        _compat,
        "test a schema's compatibility with a version or all versions (exit 1: incompatible)",
    )
    _schema_arguments(p)
    p.add_argument(
        "--version",
        type=_version,
        default=None,
        help="test against this version (N or latest); default: all, as registering would",
    )

    p = command("config", _config, "get or set the compatibility level (global or a subject's)")
    p.add_argument("subject", nargs="?", help="a subject; none for the global level")
    p.add_argument("--set", dest="level", type=_level, metavar="LEVEL", help=", ".join(LEVELS))
    p.add_argument(
        "--default-to-global",
        action="store_true",
        help="a subject without its own level shows the global one",
    )

    p = command("mode", _mode, "get or set the mode (global or a subject's)")
    p.add_argument("subject", nargs="?", help="a subject; none for the global mode")
    p.add_argument("--set", dest="mode", type=_mode_name, metavar="MODE", help=", ".join(MODES))
    p.add_argument("--force", action="store_true", help="IMPORT even if schemas exist")
    p.add_argument(
        "--default-to-global",
        action="store_true",
        help="a subject without its own mode shows the global one",
    )

    add_copy_command(commands)

    p = command("delete", _delete, "delete a subject or one of its versions (soft by default)")
    p.add_argument("subject")
    p.add_argument("version", nargs="?", type=_version, help="N or latest; none: the subject")
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
        help=f"the registry (env {ENV_URL}, default {DEFAULT_URL}); several: comma-separated",
    )
    group.add_argument(
        "--user",
        default=default(None),
        help=f"basic auth user; the password comes from {ENV_PASSWORD} or a prompt",
    )
    group.add_argument(
        "--ca-cert",
        type=Path,
        default=default(None),
        help="CA bundle (PEM) that signed the registry's https certificate",
    )
    group.add_argument(
        "--timeout", type=float, default=default(30.0), help="seconds per request (30)"
    )
    group.add_argument(
        "--json",
        action="store_true",
        default=default(False),
        help="print JSON instead of tables",
    )


def _deleted_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--deleted", action="store_true", help="include soft-deleted ones")
    parser.add_argument("--deleted-only", action="store_true", help="only soft-deleted ones")


def _schema_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("subject")
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
        parser.print_help()
        return 2

    return show


# -- argument types -----------------------------------------------------------------------


def _version(text: str) -> int | str:
    if text.lower() == "latest":
        return "latest"
    try:
        number = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a version (N or latest)") from None
    if number == -1:
        return "latest"
    if number < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a version (1, 2, ... or latest)")
    return number


def _positive_int(text: str) -> int:
    try:
        number = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if number < 0:
        raise argparse.ArgumentTypeError(f"{text!r} is negative")
    return number


def _references(text: str) -> list[SchemaReference]:
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


# -- session: clients, output, errors -----------------------------------------------------


@dataclass
class Session:
    url: str
    shown_url: str  # without credentials, for messages
    client: SchemaRegistryClient
    http: httpx.Client
    console: Console
    as_json: bool

    def emit_json(self, value: Any) -> None:
        print(json.dumps(value, indent=2, ensure_ascii=False))

    def table(self, *columns: str) -> Table:
        table = Table()
        for column in columns:
            table.add_column(column, overflow="fold")  # long values wrap, never cut
        return table

    def show(self, table: Table, headline: str | None = None) -> None:
        if headline:
            self.console.print(headline, soft_wrap=True, highlight=False)
        self.console.print(table)

    def http_json(self, method: str, path: str, **kwargs: Any) -> Any:
        """A direct call; the registry's errors become SchemaRegistryError, as the client's."""
        response = self.http.request(method, path, **kwargs)
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.status_code >= 400:
            if isinstance(body, dict) and "message" in body:
                code = body.get("error_code")
                raise SchemaRegistryError(
                    response.status_code,
                    code if isinstance(code, int) else -1,
                    str(body["message"]),
                )
            raise SchemaRegistryError(
                response.status_code, -1, f"HTTP {response.status_code} {response.reason_phrase}"
            )
        return body


def _run(handler: Handler) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        try:
            session = _open_session(args)
        except CommandError as exc:
            return _fail(str(exc))
        try:
            return handler(session, args)
        except SchemaRegistryError as exc:
            return _fail(
                f"{exc.error_message} (error code {exc.error_code}, HTTP {exc.http_status_code})"
            )
        except _TIMEOUTS:
            return _fail(f"the schema registry at {session.shown_url} did not answer in time")
        except _NETWORK as exc:
            return _fail(f"cannot reach the schema registry at {session.shown_url}: {exc}")
        except CommandError as exc:
            return _fail(str(exc))
        finally:
            session.client.close()
            session.http.close()

    return run


def _fail(message: str) -> int:
    # One line, also when the registry quotes a multi-line schema back.
    line = re.sub(r"\s*[\r\n]+\s*", " ", message).strip()
    print(f"avrobridge schemas: error: {line}", file=sys.stderr)
    return 1


def _open_session(args: argparse.Namespace) -> Session:
    url = (args.url or os.environ.get(ENV_URL) or DEFAULT_URL).strip()
    first = url.split(",")[0].strip().rstrip("/")
    shown = _without_credentials(first)
    if not first.startswith(("http://", "https://")):
        raise CommandError(f"--url {shown!r}: give http(s)://host:port")
    conf: dict[str, Any] = {"url": url, "timeout": args.timeout, "max.retries": 0}
    verify: ssl.SSLContext | bool = True
    if args.ca_cert is not None:
        if not args.ca_cert.is_file():
            raise CommandError(f"--ca-cert {args.ca_cert}: no such file")
        conf["ssl.ca.location"] = str(args.ca_cert)
        verify = ssl.create_default_context(cafile=str(args.ca_cert))
    auth: tuple[str, str] | None = None
    if args.user:
        password = os.environ.get(ENV_PASSWORD)
        if password is None:
            if not sys.stdin.isatty():
                raise CommandError(f"--user {args.user}: set {ENV_PASSWORD} (no terminal to ask)")
            password = getpass.getpass(f"Password for {args.user}: ")
        auth = (args.user, password)
        conf["basic.auth.user.info"] = f"{args.user}:{password}"
        # The client refuses credentials in both places: the flags win.
        conf["url"] = ",".join(_without_credentials(u.strip()) for u in url.split(","))
    try:
        client = SchemaRegistryClient(conf)
    except ValueError as exc:
        raise CommandError(f"--url {shown!r}: {exc}") from None
    http = httpx.Client(
        base_url=_without_credentials(first) if auth else first,
        auth=auth,
        verify=verify,
        timeout=args.timeout,
        headers={"Accept": "application/vnd.schemaregistry.v1+json, application/json"},
    )
    return Session(
        url=first,
        shown_url=shown,
        client=client,
        http=http,
        console=Console(soft_wrap=False),
        as_json=bool(args.json),
    )


def _path(*segments: str | int) -> str:
    return "/" + "/".join(quote(str(s), safe="") for s in segments)


def _read_schema(args: argparse.Namespace) -> Schema:
    try:
        text = sys.stdin.read() if args.file == "-" else Path(args.file).read_text("utf-8")
    except OSError as exc:
        raise CommandError(f"cannot read {args.file}: {exc.strerror or exc}") from None
    try:
        json.loads(text)
    except ValueError as exc:
        raise CommandError(f"{args.file} is not JSON: {exc}") from None
    return Schema(text, "AVRO", references=list(args.references))


def _references_json(refs: Sequence[Any] | None) -> list[dict[str, Any]]:
    return [{"name": r.name, "subject": r.subject, "version": r.version} for r in refs or []]


def _references_text(refs: Sequence[Any] | None) -> str:
    return ", ".join(f"{r.name}={r.subject}:{r.version}" for r in refs or []) or "-"


def _pretty_schema(text: str) -> str:
    try:
        return json.dumps(json.loads(text), indent=2, ensure_ascii=False)
    except ValueError:
        return text


def _scope(subject: str | None) -> str:
    return subject if subject is not None else "(global)"


# -- commands -----------------------------------------------------------------------------


def _subjects(s: Session, args: argparse.Namespace) -> int:
    names = s.client.get_subjects(
        subject_prefix=args.prefix, deleted=args.deleted, deleted_only=args.deleted_only
    )
    if s.as_json:
        s.emit_json(names)
        return 0
    table = s.table("Subject")
    for name in names:
        table.add_row(name)
    s.show(table, f"{len(names)} subject(s) at {s.shown_url}")
    return 0


def _versions(s: Session, args: argparse.Namespace) -> int:
    versions = s.client.get_versions(
        args.subject, deleted=args.deleted, deleted_only=args.deleted_only
    )
    if s.as_json:
        s.emit_json(versions)
        return 0
    table = s.table("Version")
    for version in versions:
        table.add_row(str(version))
    s.show(table, f"{len(versions)} version(s) of {args.subject}")
    return 0


def _get(s: Session, args: argparse.Namespace) -> int:
    found = s.client.get_version(args.subject, args.version, deleted=args.deleted)
    schema = found.schema
    text = schema.schema_str or "" if schema is not None else ""
    schema_type = (schema.schema_type if schema is not None else None) or "AVRO"
    references = schema.references if schema is not None else None
    if args.schema_only:
        print(text if s.as_json else _pretty_schema(text))
        return 0
    if s.as_json:
        s.emit_json(
            {
                "subject": found.subject,
                "version": found.version,
                "id": found.schema_id,
                "schemaType": schema_type,
                "references": _references_json(references),
                "schema": text,
            }
        )
        return 0
    table = s.table("Subject", "Version", "Id", "Type", "References")
    table.add_row(
        str(found.subject),
        str(found.version),
        str(found.schema_id),
        schema_type,
        _references_text(references),
    )
    s.show(table)
    print(_pretty_schema(text))
    return 0


def _get_id(s: Session, args: argparse.Namespace) -> int:
    schema = s.client.get_schema(args.id)
    text = schema.schema_str or ""
    schema_type = schema.schema_type or "AVRO"
    if args.schema_only:
        print(text if s.as_json else _pretty_schema(text))
        return 0
    where = s.client.get_schema_versions(args.id)
    if s.as_json:
        s.emit_json(
            {
                "id": args.id,
                "schemaType": schema_type,
                "references": _references_json(schema.references),
                "versions": [{"subject": v.subject, "version": v.version} for v in where],
                "schema": text,
            }
        )
        return 0
    table = s.table("Subject", "Version")
    for v in where:
        table.add_row(str(v.subject), str(v.version))
    s.show(table, f"Schema {args.id} ({schema_type}), registered as:")
    if schema.references:
        print(f"References: {_references_text(schema.references)}")
    print(_pretty_schema(text))
    return 0


def _register(s: Session, args: argparse.Namespace) -> int:
    schema = _read_schema(args)
    schema_id = s.client.register_schema(args.subject, schema, normalize_schemas=args.normalize)
    # Confluent's answer carries only the id: the version comes from a lookup.
    version: int | None
    try:
        version = s.client.lookup_schema(
            args.subject, schema, normalize_schemas=args.normalize
        ).version
    except SchemaRegistryError:
        version = None
    if s.as_json:
        s.emit_json({"subject": args.subject, "id": schema_id, "version": version})
        return 0
    table = s.table("Subject", "Version", "Id")
    table.add_row(args.subject, "?" if version is None else str(version), str(schema_id))
    s.show(table, f"Registered {args.file}")
    return 0


def _check(s: Session, args: argparse.Namespace) -> int:
    schema = _read_schema(args)
    try:
        found = s.client.lookup_schema(
            args.subject, schema, normalize_schemas=args.normalize, deleted=args.deleted
        )
    except SchemaRegistryError as exc:
        if exc.error_code not in (40401, 40403):  # no such subject / schema
            raise
        if s.as_json:
            s.emit_json({"registered": False, "subject": args.subject})
        else:
            s.console.print(f"{args.file} is not registered under {args.subject}", soft_wrap=True)
        return 1
    if s.as_json:
        s.emit_json(
            {
                "registered": True,
                "subject": found.subject or args.subject,
                "version": found.version,
                "id": found.schema_id,
            }
        )
        return 0
    table = s.table("Subject", "Version", "Id")
    table.add_row(found.subject or args.subject, str(found.version), str(found.schema_id))
    s.show(table, f"{args.file} is registered")
    return 0


def _compat(s: Session, args: argparse.Namespace) -> int:
    # Direct HTTP: the client's test_compatibility returns only the verdict, not the reasons.
    schema = _read_schema(args)
    path = _path("compatibility", "subjects", args.subject, "versions")
    if args.version is not None:
        path += _path(args.version)
    body: dict[str, Any] = {"schema": schema.schema_str}
    if schema.references:
        body["references"] = _references_json(schema.references)
    result = s.http_json(
        "POST",
        path,
        params={"verbose": "true", "normalize": str(args.normalize).lower()},
        content=json.dumps(body),
        headers={"Content-Type": "application/vnd.schemaregistry.v1+json"},
    )
    if not isinstance(result, dict):
        raise CommandError(f"unexpected answer from {s.shown_url}: {result!r}")
    compatible = result.get("is_compatible") is True
    messages = [str(m) for m in result.get("messages") or []]
    if s.as_json:
        s.emit_json({"is_compatible": compatible, "messages": messages})
        return 0 if compatible else 1
    against = "all versions" if args.version is None else f"version {args.version}"
    verdict = "compatible" if compatible else "NOT compatible"
    headline = f"{args.file} is {verdict} with {args.subject} ({against})"
    if not messages:
        s.console.print(headline, soft_wrap=True, highlight=False)
    else:
        table = s.table("#", "Reason")
        for i, message in enumerate(messages, start=1):
            table.add_row(str(i), message)
        s.show(table, headline)
    return 0 if compatible else 1


def _config(s: Session, args: argparse.Namespace) -> int:
    subject: str | None = args.subject
    if args.level is not None:
        s.client.set_compatibility(subject_name=subject, level=args.level)
        level = args.level
    elif subject is not None and args.default_to_global:
        # Direct HTTP: the client knows no defaultToGlobal.
        found = s.http_json("GET", _path("config", subject), params={"defaultToGlobal": "true"})
        level = str(found["compatibilityLevel"])
    else:
        level = s.client.get_compatibility(subject)
    if s.as_json:
        s.emit_json({"subject": subject, "compatibilityLevel": level})
        return 0
    table = s.table("Scope", "Compatibility")
    table.add_row(_scope(subject), level)
    s.show(table)
    return 0


def _mode(s: Session, args: argparse.Namespace) -> int:
    subject: str | None = args.subject
    if args.mode is not None:
        if subject is None:
            s.client.update_global_mode(args.mode, force=args.force)
        else:
            s.client.update_mode(subject, args.mode, force=args.force)
        mode = args.mode
    elif subject is None:
        mode = s.client.get_global_mode()
    elif args.default_to_global:
        found = s.http_json("GET", _path("mode", subject), params={"defaultToGlobal": "true"})
        mode = str(found["mode"])
    else:
        mode = s.client.get_mode(subject)
    if s.as_json:
        s.emit_json({"subject": subject, "mode": mode})
        return 0
    table = s.table("Scope", "Mode")
    table.add_row(_scope(subject), mode)
    s.show(table)
    return 0


def _delete(s: Session, args: argparse.Namespace) -> int:
    if args.version is None:
        versions = list(s.client.delete_subject(args.subject, permanent=args.permanent))
    else:
        version = args.version
        if version == "latest":
            # A permanent delete targets the newest version, soft-deleted ones included.
            found = s.client.get_version(args.subject, "latest", deleted=args.permanent)
            version = found.version
        versions = [s.client.delete_version(args.subject, int(version), permanent=args.permanent)]
    if s.as_json:
        s.emit_json({"subject": args.subject, "deleted": versions, "permanent": args.permanent})
        return 0
    table = s.table("Version")
    for number in versions:
        table.add_row(str(number))
    kind = "permanently" if args.permanent else "soft"
    s.show(table, f"Deleted ({kind}) from {args.subject}:")
    return 0
