"""The REST API (FastAPI): Confluent Schema Registry's endpoints over :class:`RegistryService`.

Handlers only translate HTTP to service calls; parameters arrive as strings and are parsed
the way Confluent's Jersey parses them (``requests.py``). Calls that parse or compare schemas
run in the thread pool so the event loop keeps serving reads.

The ASGI stack, outermost first: one optional trailing slash taken off the path -> basic
auth (when configured) -> request limits (content type, body size) -> [forwarding writes to
the leader, Kafka store] -> the ``/schemas/ids/{id}`` fast path -> this application.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

from fastapi import Depends, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from .._version import __version__
from .auth import BasicAuth, User
from .fastpath import FastPath
from .limits import ASGIApp, Receive, RequestLimits, Scope, Send
from .requests import Page, parse_body, parse_bool, parse_path_int
from .responses import MEDIA_TYPE, RegistryResponse, json_response
from .rest_errors import RestError
from .service import RegistryService

__all__ = ["OptionalTrailingSlash", "build_asgi", "create_app"]

log = logging.getLogger(__name__)
T = TypeVar("T")

_REFERENCE = {
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "subject": {"type": "string"},
        "version": {"type": "integer"},
    },
}
_SCHEMA_BODY = {
    "type": "object",
    "properties": {
        "schema": {"type": "string"},
        "schemaType": {"type": "string", "enum": ["AVRO", "JSON", "PROTOBUF"]},
        "references": {"type": "array", "items": _REFERENCE},
        "id": {"type": "integer"},
        "version": {"type": "integer"},
    },
}
_CONFIG_BODY = {"type": "object", "properties": {"compatibility": {"type": "string"}}}
_MODE_BODY = {"type": "object", "properties": {"mode": {"type": "string"}}}


def _body_doc(schema: dict[str, Any]) -> dict[str, Any]:
    content = {t: {"schema": schema} for t in (MEDIA_TYPE, "application/json")}
    return {"requestBody": {"required": True, "content": content}}


async def _threaded(fn: Callable[..., T], *args: Any) -> T:
    return await run_in_threadpool(fn, *args)


def _page(offset: str | None = None, limit: str | None = None) -> Page:
    """The ``offset`` and ``limit`` query parameters of a list endpoint."""
    return Page.parse(offset, limit)


def _deleted_only(
    deleted_only: str | None = Query(None, alias="deletedOnly"),
    deleted_only_snake: str | None = Query(None, alias="deleted_only"),
) -> bool:
    """``deletedOnly``, also accepted as ``deleted_only`` (as Confluent does)."""
    return parse_bool(deleted_only) or parse_bool(deleted_only_snake)


def create_app(service: RegistryService) -> FastAPI:
    app = FastAPI(
        title="avrobridge Schema Registry",
        version=__version__,
        description="A Confluent-compatible Schema Registry for Avro.",
        default_response_class=RegistryResponse,
        # OptionalTrailingSlash serves "/x/" as "/x"; no route may answer with a redirect.
        redirect_slashes=False,
    )

    @app.exception_handler(RestError)
    async def _rest_error(_: Request, exc: RestError) -> RegistryResponse:
        return json_response(exc.body(), exc.status)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_: Request, exc: StarletteHTTPException) -> RegistryResponse:
        reason = {404: "Not Found", 405: "Method Not Allowed"}.get(exc.status_code, "Error")
        return json_response(RestError.http(exc.status_code, reason).body(), exc.status_code)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_: Request, exc: RequestValidationError) -> RegistryResponse:
        return json_response({"error_code": 422, "message": "Unprocessable Entity"}, 422)

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> RegistryResponse:
        log.exception("unexpected error while serving a request")
        return json_response({"error_code": 500, "message": "Internal Server Error"}, 500)

    # -- root -----------------------------------------------------------------------------

    @app.get("/")
    async def root() -> RegistryResponse:
        return json_response({})

    @app.get("/health")
    async def health() -> RegistryResponse:
        return json_response({"status": "UP"})

    # -- subjects -------------------------------------------------------------------------

    @app.get("/subjects")
    async def list_subjects(
        subject_prefix: str | None = Query(None, alias="subjectPrefix"),
        deleted: str | None = None,
        deleted_only: bool = Depends(_deleted_only),
        page: Page = Depends(_page),
    ) -> RegistryResponse:
        return json_response(
            service.list_subjects(subject_prefix or "", parse_bool(deleted), deleted_only, page)
        )

    @app.post("/subjects/{subject}", openapi_extra=_body_doc(_SCHEMA_BODY))
    async def lookup(
        subject: str,
        request: Request,
        normalize: str | None = None,
        deleted: str | None = None,
    ) -> RegistryResponse:
        body = parse_body(await request.body())
        return json_response(
            await _threaded(
                service.lookup, subject, body, parse_bool(normalize), parse_bool(deleted)
            )
        )

    @app.delete("/subjects/{subject}")
    async def delete_subject(subject: str, permanent: str | None = None) -> RegistryResponse:
        return json_response(
            await _threaded(service.delete_subject, subject, parse_bool(permanent))
        )

    @app.get("/subjects/{subject}/versions")
    async def list_versions(
        subject: str,
        deleted: str | None = None,
        deleted_only: bool = Depends(_deleted_only),
        page: Page = Depends(_page),
    ) -> RegistryResponse:
        return json_response(
            service.list_versions(subject, parse_bool(deleted), deleted_only, page)
        )

    @app.post("/subjects/{subject}/versions", openapi_extra=_body_doc(_SCHEMA_BODY))
    async def register(
        subject: str, request: Request, normalize: str | None = None
    ) -> RegistryResponse:
        body = parse_body(await request.body())
        return json_response(
            await _threaded(service.register, subject, body, parse_bool(normalize))
        )

    @app.get("/subjects/{subject}/versions/{version}")
    async def get_version(
        subject: str, version: str, deleted: str | None = None
    ) -> RegistryResponse:
        return json_response(service.get_version(subject, version, parse_bool(deleted)))

    @app.get("/subjects/{subject}/versions/{version}/schema")
    async def get_version_schema(
        subject: str, version: str, deleted: str | None = None
    ) -> RegistryResponse:
        return json_response(service.get_version_schema(subject, version, parse_bool(deleted)))

    @app.delete("/subjects/{subject}/versions/{version}")
    async def delete_version(
        subject: str, version: str, permanent: str | None = None
    ) -> RegistryResponse:
        return json_response(
            await _threaded(service.delete_version, subject, version, parse_bool(permanent))
        )

    @app.get("/subjects/{subject}/versions/{version}/referencedby")
    async def referenced_by(
        subject: str, version: str, page: Page = Depends(_page)
    ) -> RegistryResponse:
        return json_response(service.referenced_by(subject, version, page))

    # -- schemas --------------------------------------------------------------------------

    @app.get("/schemas")
    async def list_schemas(
        subject_prefix: str | None = Query(None, alias="subjectPrefix"),
        deleted: str | None = None,
        latest_only: str | None = Query(None, alias="latestOnly"),
        page: Page = Depends(_page),
    ) -> RegistryResponse:
        return json_response(
            service.list_schemas(
                subject_prefix or "", parse_bool(deleted), parse_bool(latest_only), page
            )
        )

    @app.get("/schemas/types")
    async def schema_types() -> RegistryResponse:
        return json_response(["AVRO"])

    @app.get("/schemas/ids/{schema_id}")
    async def schema_by_id(
        schema_id: str,
        subject: str | None = None,
        fetch_max_id: str | None = Query(None, alias="fetchMaxId"),
    ) -> RegistryResponse:
        number = parse_path_int(schema_id)
        return json_response(service.schema_by_id(number, parse_bool(fetch_max_id)))

    @app.get("/schemas/ids/{schema_id}/schema")
    async def schema_text_by_id(schema_id: str, subject: str | None = None) -> RegistryResponse:
        return json_response(service.schema_text_by_id(parse_path_int(schema_id)))

    @app.get("/schemas/ids/{schema_id}/subjects")
    async def subjects_for_id(
        schema_id: str,
        subject: str | None = None,
        deleted: str | None = None,
        page: Page = Depends(_page),
    ) -> RegistryResponse:
        return json_response(
            service.subjects_for_id(parse_path_int(schema_id), subject, parse_bool(deleted), page)
        )

    @app.get("/schemas/ids/{schema_id}/versions")
    async def versions_for_id(
        schema_id: str,
        subject: str | None = None,
        deleted: str | None = None,
        page: Page = Depends(_page),
    ) -> RegistryResponse:
        return json_response(
            service.versions_for_id(parse_path_int(schema_id), subject, parse_bool(deleted), page)
        )

    # -- compatibility --------------------------------------------------------------------

    @app.post(
        "/compatibility/subjects/{subject}/versions/{version}",
        openapi_extra=_body_doc(_SCHEMA_BODY),
    )
    async def compatibility_with_version(
        subject: str,
        version: str,
        request: Request,
        verbose: str | None = None,
        normalize: str | None = None,
    ) -> RegistryResponse:
        body = parse_body(await request.body())
        return json_response(
            await _threaded(
                service.test_compatibility,
                subject,
                version,
                body,
                parse_bool(normalize),
                parse_bool(verbose),
            )
        )

    @app.post("/compatibility/subjects/{subject}/versions", openapi_extra=_body_doc(_SCHEMA_BODY))
    async def compatibility_with_subject(
        subject: str,
        request: Request,
        verbose: str | None = None,
        normalize: str | None = None,
    ) -> RegistryResponse:
        body = parse_body(await request.body())
        return json_response(
            await _threaded(
                service.test_compatibility,
                subject,
                None,
                body,
                parse_bool(normalize),
                parse_bool(verbose),
            )
        )

    # -- config ---------------------------------------------------------------------------

    @app.get("/config")
    async def get_global_config() -> RegistryResponse:
        return json_response(service.get_config(None, True))

    @app.put("/config", openapi_extra=_body_doc(_CONFIG_BODY))
    async def set_global_config(request: Request) -> RegistryResponse:
        body = parse_body(await request.body())
        return json_response(await _threaded(service.set_config, None, body))

    @app.delete("/config")
    async def delete_global_config() -> RegistryResponse:
        return json_response(await _threaded(service.delete_config, None))

    @app.get("/config/{subject}")
    async def get_config(
        subject: str, default_to_global: str | None = Query(None, alias="defaultToGlobal")
    ) -> RegistryResponse:
        return json_response(service.get_config(subject, parse_bool(default_to_global)))

    @app.put("/config/{subject}", openapi_extra=_body_doc(_CONFIG_BODY))
    async def set_config(subject: str, request: Request) -> RegistryResponse:
        body = parse_body(await request.body())
        return json_response(await _threaded(service.set_config, subject, body))

    @app.delete("/config/{subject}")
    async def delete_config(subject: str) -> RegistryResponse:
        return json_response(await _threaded(service.delete_config, subject))

    # -- mode -----------------------------------------------------------------------------

    @app.get("/mode")
    async def get_global_mode() -> RegistryResponse:
        return json_response(service.get_mode(None, True))

    @app.put("/mode", openapi_extra=_body_doc(_MODE_BODY))
    async def set_global_mode(request: Request, force: str | None = None) -> RegistryResponse:
        body = parse_body(await request.body())
        return json_response(await _threaded(service.set_mode, None, body, parse_bool(force)))

    @app.get("/mode/{subject}")
    async def get_mode(
        subject: str, default_to_global: str | None = Query(None, alias="defaultToGlobal")
    ) -> RegistryResponse:
        return json_response(service.get_mode(subject, parse_bool(default_to_global)))

    @app.put("/mode/{subject}", openapi_extra=_body_doc(_MODE_BODY))
    async def set_mode(
        subject: str, request: Request, force: str | None = None
    ) -> RegistryResponse:
        body = parse_body(await request.body())
        return json_response(await _threaded(service.set_mode, subject, body, parse_bool(force)))

    @app.delete("/mode/{subject}")
    async def delete_mode(subject: str) -> RegistryResponse:
        return json_response(await _threaded(service.delete_mode, subject))

    return app


class OptionalTrailingSlash:
    """Serves a path with one trailing slash exactly as the path without it (pure ASGI), as
    Confluent's Jersey does (JAX-RS matches every resource path with an optional final "/").
    The slash goes before anything else sees the path: auth, limits, forwarding, routing."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] == "http" and len(path) > 1 and path.endswith("/"):
            scope = dict(scope, path=path[:-1])
            raw = scope.get("raw_path")
            if isinstance(raw, bytes) and raw.endswith(b"/"):
                scope["raw_path"] = raw[:-1]
        await self.app(scope, receive, send)


def build_asgi(
    service: RegistryService,
    *,
    users: dict[str, User] | None = None,
    max_body_bytes: int = 4 << 20,
    forwarding: Callable[[ASGIApp], ASGIApp] | None = None,
) -> ASGIApp:
    """The whole server application: trailing slashes, auth, limits, [leader forwarding,] fast
    path and the API.

    ``forwarding`` wraps the application inside the limits (a Kafka store's followers send
    writes on to the leader there, see ``forwarding.py``)."""
    app: ASGIApp = create_app(service)
    app = FastPath(app, service)
    if forwarding is not None:
        app = forwarding(app)
    app = RequestLimits(app, max_body_bytes)
    if users:
        app = BasicAuth(app, users)
    return OptionalTrailingSlash(app)
