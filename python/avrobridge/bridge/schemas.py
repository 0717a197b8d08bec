"""Schemas from a Confluent-compatible registry, for the bridge: writer schemas by id (with
their references), target versions, registration. Infrastructure failures (unreachable,
5xx) are retried with bounded exponential backoff; a schema that does not exist is a data
problem of the records that name it (they go to the dead-letter topic)."""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from confluent_kafka.schema_registry import Schema as RegistrySchema
from confluent_kafka.schema_registry import SchemaRegistryClient, SchemaRegistryError
from confluent_kafka.schema_registry.common import _httpx_compat

from .._backend import Schema
from ..errors import RegistryError
from .config import ErrorSettings, RegistrySettings
from .retry import Backoff

# The HTTP library confluent-kafka's client uses (httpx2 where installed, else httpx).
TransportError: type[Exception] = _httpx_compat.httpx.TransportError

log = logging.getLogger("avrobridge.bridge")

T = TypeVar("T")


class SchemaNotFound(RegistryError):
    """The registry has no schema (or subject/version) by that name: a per-record problem."""


class RegistryUnavailable(RegistryError):
    """The registry could not be reached or failed for longer than the retry budget."""


def client_config(settings: RegistrySettings) -> dict[str, Any]:
    conf: dict[str, Any] = {
        "url": settings.url,
        "timeout": settings.timeout_s,
        # Our own loop retries with the configured budget; keep the client's short.
        "max.retries": 1,
        "retries.wait.ms": 100,
        "retries.max.wait.ms": 500,
    }
    if settings.basic_auth_user_info is not None:
        conf["basic.auth.user.info"] = settings.basic_auth_user_info.get_secret_value()
    if settings.ssl_ca_location:
        conf["ssl.ca.location"] = settings.ssl_ca_location
    if settings.ssl_certificate_location:
        conf["ssl.certificate.location"] = settings.ssl_certificate_location
    if settings.ssl_key_location:
        conf["ssl.key.location"] = settings.ssl_key_location
    if settings.ssl_key_password is not None:
        conf["ssl.key.password"] = settings.ssl_key_password.get_secret_value()
    return conf


class SchemaSource:
    """Cached, retrying access to the registry for one bridge."""

    def __init__(
        self,
        settings: RegistrySettings,
        errors: ErrorSettings,
        client: SchemaRegistryClient | None = None,
        on_retry: Callable[[str], None] | None = None,
        stopping: threading.Event | None = None,
    ) -> None:
        self.client = client or SchemaRegistryClient(client_config(settings))
        self.url = settings.url
        self.errors = errors
        self.on_retry = on_retry
        self.stopping = stopping or threading.Event()
        self._by_id: dict[int, Schema] = {}
        self._by_guid: dict[str, tuple[int | None, Schema]] = {}

    def _call(self, what: str, fn: Callable[[], T]) -> T:
        """Runs `fn`, retrying infrastructure failures with exponential backoff and jitter."""
        e = self.errors
        backoff = Backoff(
            e.retry_backoff_initial_ms / 1000, e.retry_backoff_max_ms / 1000, e.retry_timeout_s
        )
        while True:
            attempt = time.monotonic()
            try:
                return fn()
            except SchemaRegistryError as exc:
                if exc.http_status_code == 404:
                    raise SchemaNotFound(
                        f"{what}: {exc.error_message}", exc.http_status_code, exc.error_code
                    ) from None
                if exc.http_status_code < 500 and exc.http_status_code not in (408, 429):
                    raise RegistryError(
                        f"{what}: registry answered {exc.http_status_code} "
                        f"(error {exc.error_code}): {exc.error_message}",
                        exc.http_status_code,
                        exc.error_code,
                    ) from None
                reason = f"registry answered {exc.http_status_code}: {exc.error_message}"
            except (TransportError, OSError) as exc:
                reason = f"registry unreachable ({type(exc).__name__}: {exc})"
            except RegistryUnavailable:
                raise
            except RegistryError as exc:  # raised by IdTranslator (idmap.py): no retries there
                if exc.status is not None and exc.status < 500 and exc.status not in (408, 429):
                    raise
                reason = exc.message
            wait = None if self.stopping.is_set() else backoff.next_wait()
            if wait is None or self.stopping.is_set():
                how = "stopped" if self.stopping.is_set() else "gave up"
                raise RegistryUnavailable(
                    f"{what}: {reason} (registry {self.url}); {how} after "
                    f"{backoff.elapsed:.1f} s of retries"
                )
            log.warning(
                "%s: %s (registry %s; the attempt took %.2f s); retrying in %.2f s",
                what,
                reason,
                self.url,
                time.monotonic() - attempt,
                wait,
            )
            if self.on_retry is not None:
                self.on_retry("registry")
            self.stopping.wait(wait)

    def call(self, what: str, fn: Callable[[], T]) -> T:
        """`fn()` (registry calls), retried as every call of this source is."""
        return self._call(what, fn)

    def _resolve_references(self, registered: RegistrySchema, depth: int = 0) -> list[str]:
        """The texts of every schema `registered` refers to, dependencies first."""
        if depth > 32:
            raise RegistryError("schema references nest deeper than 32 levels")
        texts: list[str] = []
        for ref in registered.references or []:
            subject, number = str(ref.subject), int(ref.version or 0)
            version: Any = self._call(
                f"reference {subject} version {number}",
                functools.partial(self.client.get_version, subject, number),
            )
            texts.extend(self._resolve_references(version.schema, depth + 1))
            texts.append(str(version.schema.schema_str))
        return texts

    def _parse(self, registered: RegistrySchema, what: str) -> Schema:
        if (registered.schema_type or "AVRO") != "AVRO":
            raise SchemaNotFound(f"{what} is a {registered.schema_type} schema, not Avro")
        if registered.schema_str is None:
            raise SchemaNotFound(f"{what}: the registry gave no schema text")
        refs = self._resolve_references(registered)
        return Schema(registered.schema_str, references=refs or None, validate_defaults=False)

    def by_id(self, schema_id: int) -> Schema:
        cached = self._by_id.get(schema_id)
        if cached is not None:
            return cached
        what = f"schema id {schema_id}"
        registered = self._call(what, lambda: self.client.get_schema(schema_id))
        schema = self._parse(registered, what)
        self._by_id[schema_id] = schema
        return schema

    def by_guid(self, guid: str) -> tuple[int | None, Schema]:
        cached = self._by_guid.get(guid)
        if cached is not None:
            return cached
        what = f"schema guid {guid}"
        registered = self._call(what, lambda: self.client.get_schema_by_guid(guid))
        entry = (None, self._parse(registered, what))
        self._by_guid[guid] = entry
        return entry

    def version(self, subject: str, version: int | str) -> tuple[int, int, Schema]:
        """(schema id, version number, schema) of a subject version ("latest" allowed)."""
        what = f"subject {subject!r} version {version}"
        registered: Any
        if version == "latest":
            registered = self._call(what, lambda: self.client.get_latest_version(subject))
        else:
            registered = self._call(what, lambda: self.client.get_version(subject, int(version)))
        schema = self._parse(registered.schema, what)
        schema_id, number = int(registered.schema_id), int(registered.version)
        self._by_id.setdefault(schema_id, schema)
        return schema_id, number, schema

    def live_versions(self, subject: str) -> list[int]:
        """The subject's versions that are not deleted; empty when the subject is unknown."""
        try:
            return list(
                self._call(f"versions of {subject!r}", lambda: self.client.get_versions(subject))
            )
        except SchemaNotFound:
            return []

    def register(self, subject: str, schema_text: str) -> int:
        return self._call(
            f"registering the target under {subject!r}",
            lambda: self.client.register_schema(subject, RegistrySchema(schema_text, "AVRO")),
        )

    def guid_of(self, schema_id: int) -> str | None:
        """The GUID the registry gives a schema id, when it gives one."""
        registered = self._call(f"schema id {schema_id}", lambda: self.client.get_schema(schema_id))
        guid = getattr(registered, "guid", None)
        return str(guid) if guid else None

    # -- what `avrobridge plan` asks about the sink subject ----------------------------------

    def level(self, subject: str) -> str:
        """The subject's compatibility level (the global one when it has none of its own)."""
        try:
            return str(
                self._call(
                    f"the compatibility level of {subject!r}",
                    lambda: self.client.get_compatibility(subject),
                )
            )
        except SchemaNotFound:
            return str(self._call("the global compatibility level", self.client.get_compatibility))

    def lookup(self, subject: str, schema_text: str) -> tuple[int, int] | None:
        """(schema id, version) when `schema_text` is registered under `subject`."""
        try:
            found: Any = self._call(
                f"looking up the sink schema under {subject!r}",
                lambda: self.client.lookup_schema(subject, RegistrySchema(schema_text, "AVRO")),
            )
        except SchemaNotFound:
            return None
        return int(found.schema_id), int(found.version)

    def compatible(self, subject: str, schema_text: str) -> bool:
        """The registry's verdict: may `schema_text` be registered under `subject`?"""
        return bool(
            self._call(
                f"testing the sink schema against {subject!r}",
                lambda: self.client.test_compatibility_all_versions(
                    subject, RegistrySchema(schema_text, "AVRO")
                ),
            )
        )
