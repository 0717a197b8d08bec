"""A small client for Confluent Schema Registry's REST API over httpx.

For the calls confluent-kafka's ``SchemaRegistryClient`` does not make (registering with an
explicit id and version in IMPORT mode, looking up soft-deleted versions) and for tools whose
answers must not come from its caches (``avrobridge schemas copy``). Only Confluent's
documented endpoints are used, so any Confluent-compatible registry serves.

Every failure is a :class:`~avrobridge.errors.RegistryError` carrying the HTTP status and
Confluent's ``error_code``, with a message naming the registry (never its credentials).
"""

from __future__ import annotations

import json
import ssl
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import httpx

from .errors import ConfigError, RegistryError

__all__ = ["RegistryEndpoint", "RestClient", "without_credentials"]

_MEDIA_TYPE = "application/vnd.schemaregistry.v1+json"


def without_credentials(url: str) -> str:
    """The URL without ``user:password@``, for messages."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


@dataclass(frozen=True)
class RegistryEndpoint:
    """Where a registry is and how to reach it. The password never shows in ``repr``."""

    url: str
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    ca_cert: Path | None = None
    timeout: float = 30.0

    def check(self, option: str) -> None:
        """ConfigError naming ``option`` when the endpoint cannot be used."""
        shown = without_credentials(self.url)
        if not self.url.startswith(("http://", "https://")):
            raise ConfigError(f"{option} {shown!r}: give http(s)://host:port")
        if self.ca_cert is not None and not self.ca_cert.is_file():
            raise ConfigError(f"{option}: CA file {self.ca_cert} does not exist")
        if self.timeout <= 0:
            raise ConfigError(f"{option}: the timeout must be positive")


class RestClient:
    """Calls one registry; ``name`` ("source", "target") says which one in messages."""

    def __init__(self, endpoint: RegistryEndpoint, name: str) -> None:
        self.name = name
        self.url = endpoint.url.rstrip("/")
        self.shown_url = without_credentials(self.url)
        verify: ssl.SSLContext | bool = True
        if endpoint.ca_cert is not None:
            verify = ssl.create_default_context(cafile=str(endpoint.ca_cert))
        auth = (endpoint.user, endpoint.password or "") if endpoint.user else None
        self._http = httpx.Client(
            base_url=self.shown_url if auth else self.url,
            auth=auth,
            verify=verify,
            timeout=endpoint.timeout,
            headers={"Accept": f"{_MEDIA_TYPE}, application/json"},
        )

    def call(
        self,
        method: str,
        *segments: str | int,
        params: dict[str, str] | None = None,
        body: Any = None,
        absent: tuple[int, ...] = (),
    ) -> Any:
        """The JSON answer of ``METHOD /seg/ments``; None when the registry answers one of
        the ``absent`` error codes (e.g. 40401: no such subject)."""
        path = "/" + "/".join(quote(str(s), safe="") for s in segments)
        content = None if body is None else json.dumps(body)
        headers = {} if body is None else {"Content-Type": _MEDIA_TYPE}
        try:
            response = self._http.request(
                method, path, params=params, content=content, headers=headers
            )
        except httpx.TimeoutException:
            raise RegistryError(
                f"the {self.name} registry at {self.shown_url} did not answer {method} {path} "
                "in time"
            ) from None
        except httpx.HTTPError as exc:
            raise RegistryError(
                f"cannot reach the {self.name} registry at {self.shown_url}: {exc}"
            ) from None
        try:
            answer = response.json()
        except ValueError:
            answer = None
        if response.status_code < 400:
            return answer
        code = answer.get("error_code") if isinstance(answer, dict) else None
        code = code if isinstance(code, int) else None
        if code is not None and code in absent:
            return None
        message = (
            str(answer["message"])
            if isinstance(answer, dict) and "message" in answer
            else f"HTTP {response.status_code} {response.reason_phrase}"
        )
        raise RegistryError(
            f"the {self.name} registry at {self.shown_url} answered {method} {path}: {message} "
            f"(error code {code if code is not None else '-'}, HTTP {response.status_code})",
            response.status_code,
            code,
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> RestClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
