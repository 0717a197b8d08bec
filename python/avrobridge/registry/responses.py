"""Response bodies: compact JSON with Confluent's media type."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from .records import encode_json

__all__ = ["ACCEPTED_TYPES", "MEDIA_TYPE", "RegistryResponse", "error_bytes", "json_response"]

MEDIA_TYPE = "application/vnd.schemaregistry.v1+json"
#: Request content types Confluent consumes (the last is Jersey's GENERIC_REQUEST).
ACCEPTED_TYPES = frozenset(
    [
        "application/vnd.schemaregistry.v1+json",
        "application/vnd.schemaregistry+json",
        "application/json",
        "application/octet-stream",
    ]
)


class RegistryResponse(Response):
    media_type = MEDIA_TYPE

    def render(self, content: Any) -> bytes:
        if isinstance(content, bytes):
            return content
        if isinstance(content, str):
            # Raw schema text (".../schema" endpoints answer the schema itself).
            return content.encode("utf-8", "backslashreplace")
        return encode_json(content)


def json_response(content: Any, status: int = 200) -> RegistryResponse:
    return RegistryResponse(content, status_code=status)


def error_bytes(status: int, message: str, error_code: int | None = None) -> bytes:
    return encode_json({"error_code": error_code or status, "message": message})
