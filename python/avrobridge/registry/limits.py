"""Request gate (pure ASGI): body size cap and accepted content types.

Bodies are counted while they arrive, so a client cannot make the server buffer more than
``max_body_bytes`` whatever its Content-Length says; beyond the cap the answer is 413 with
``error_code`` 413 and the request never reaches the registry.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from .responses import ACCEPTED_TYPES, MEDIA_TYPE, error_bytes

__all__ = ["RequestLimits", "send_error"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


async def send_error(
    send: Send,
    status: int,
    message: str,
    error_code: int | None = None,
    headers: list[tuple[bytes, bytes]] | None = None,
) -> None:
    body = error_bytes(status, message, error_code)
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", MEDIA_TYPE.encode()),
                (b"content-length", str(len(body)).encode()),
                *(headers or []),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class RequestLimits:
    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("POST", "PUT", "PATCH", "DELETE"):
            await self.app(scope, receive, send)
            return
        content_type = b""
        declared = None
        for name, value in scope["headers"]:
            if name == b"content-type":
                content_type = value
            elif name == b"content-length":
                declared = value
        media = content_type.split(b";", 1)[0].strip().lower().decode("latin-1")
        if media and media not in ACCEPTED_TYPES:
            await send_error(send, 415, "HTTP 415 Unsupported Media Type")
            return
        if declared is not None and declared.isdigit() and int(declared) > self.max_body_bytes:
            await send_error(send, 413, self._message())
            return
        # Buffer the (capped) body here, so the cap holds however the body is framed and
        # the application never sees a partial one.
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                await send_error(send, 413, self._message())
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": b"".join(chunks), "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    def _message(self) -> str:
        return f"Request body is larger than the limit of {self.max_body_bytes} bytes"
