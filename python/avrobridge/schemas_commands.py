"""The commands of ``avrobridge schemas`` (its option tree is ``schemas_cli.py``): a session
with confluent-kafka's ``SchemaRegistryClient`` and an httpx client for the calls the client
does not make (verbose compatibility, ``defaultToGlobal``), and one function per command."""

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
    SchemaRegistryClient,
    SchemaRegistryError,
)
from rich.console import Console
from rich.table import Table

from .cliparser import EXIT_FAILED, EXIT_USAGE
from .errors import AvroBridgeError
from .registry_client import without_credentials as _without_credentials
from .schemas_env import DEFAULT_URL, ENV_PASSWORD, ENV_URL

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

Handler = Callable[["Session", argparse.Namespace], int]


class CommandError(AvroBridgeError):
    """Ends the command with one line on stderr and exit code 1."""

    status = EXIT_FAILED


class UsageError(CommandError):
    """A mistake in the options or a local file: exit code 2."""

    status = EXIT_USAGE


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


def run(handler: Handler, args: argparse.Namespace) -> int:
    """Runs one command: opens the session, turns every failure into one line on stderr and
    its exit status."""
    try:
        session = _open_session(args)
    except CommandError as exc:
        return _fail(str(exc), exc.status)
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
        return _fail(str(exc), exc.status)
    finally:
        session.client.close()
        session.http.close()


def _fail(message: str, status: int = EXIT_FAILED) -> int:
    # One line, also when the registry quotes a multi-line schema back.
    line = re.sub(r"\s*[\r\n]+\s*", " ", message).strip()
    print(f"avrobridge schemas: error: {line}", file=sys.stderr)
    return status


def _open_session(args: argparse.Namespace) -> Session:
    url = (args.url or os.environ.get(ENV_URL) or DEFAULT_URL).strip()
    first = url.split(",")[0].strip().rstrip("/")
    shown = _without_credentials(first)
    if not first.startswith(("http://", "https://")):
        raise UsageError(f"--url {shown!r}: give http(s)://host:port")
    conf: dict[str, Any] = {"url": url, "timeout": args.timeout, "max.retries": 0}
    verify: ssl.SSLContext | bool = True
    if args.ca_cert is not None:
        if not args.ca_cert.is_file():
            raise UsageError(f"--ca-cert {args.ca_cert}: no such file")
        conf["ssl.ca.location"] = str(args.ca_cert)
        verify = ssl.create_default_context(cafile=str(args.ca_cert))
    auth: tuple[str, str] | None = None
    if args.user:
        password = os.environ.get(ENV_PASSWORD)
        if password is None:
            if not sys.stdin.isatty():
                raise UsageError(f"--user {args.user}: set {ENV_PASSWORD} (no terminal to ask)")
            password = getpass.getpass(f"Password for {args.user}: ")
        auth = (args.user, password)
        conf["basic.auth.user.info"] = f"{args.user}:{password}"
        # The client refuses credentials in both places: the flags win.
        conf["url"] = ",".join(_without_credentials(u.strip()) for u in url.split(","))
    try:
        client = SchemaRegistryClient(conf)
    except ValueError as exc:
        raise UsageError(f"--url {shown!r}: {exc}") from None
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
        raise UsageError(f"cannot read {args.file}: {exc.strerror or exc}") from None
    try:
        json.loads(text)
    except ValueError as exc:
        raise UsageError(f"{args.file} is not JSON: {exc}") from None
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


def subjects(s: Session, args: argparse.Namespace) -> int:
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


def versions(s: Session, args: argparse.Namespace) -> int:
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


def get(s: Session, args: argparse.Namespace) -> int:
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


def get_id(s: Session, args: argparse.Namespace) -> int:
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


def register(s: Session, args: argparse.Namespace) -> int:
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


def check(s: Session, args: argparse.Namespace) -> int:
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


def compat(s: Session, args: argparse.Namespace) -> int:
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


def _show_setting(s: Session, subject: str | None, key: str, title: str, value: str) -> int:
    """A scope's compatibility level or mode, as JSON or as a one-row table."""
    if s.as_json:
        s.emit_json({"subject": subject, key: value})
        return 0
    table = s.table("Scope", title)
    table.add_row(_scope(subject), value)
    s.show(table)
    return 0


def config(s: Session, args: argparse.Namespace) -> int:
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
    return _show_setting(s, subject, "compatibilityLevel", "Compatibility", level)


def mode(s: Session, args: argparse.Namespace) -> int:
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
    return _show_setting(s, subject, "mode", "Mode", mode)


def delete(s: Session, args: argparse.Namespace) -> int:
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
