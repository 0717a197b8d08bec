"""The hot read path (pure ASGI): ``GET /schemas/ids/{id}`` from pre-encoded bytes.

Deserializers fetch schemas by id, so this one request dominates a registry's traffic. It
skips routing, parsing and JSON encoding: the answer for an id is encoded once and kept until
the state changes (any applied record bumps ``state.generation`` and empties the cache).
Anything unusual — a query string, an unknown id — goes to the full application, which
answers exactly the same way.
"""

from __future__ import annotations

from .limits import ASGIApp, Receive, Scope, Send
from .records import encode_json
from .responses import MEDIA_TYPE
from .rest_errors import RestError
from .service import RegistryService

__all__ = ["FastPath"]

_PREFIX = "/schemas/ids/"
_MAX_CACHED = 100_000


class FastPath:
    def __init__(self, app: ASGIApp, service: RegistryService) -> None:
        self.app = app
        self.service = service
        self._bodies: dict[int, bytes] = {}
        self._generation = -1

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET" and not scope["query_string"]:
            path: str = scope["path"]
            if path.startswith(_PREFIX):
                digits = path[len(_PREFIX) :]
                if digits.isascii() and digits.isdigit() and len(digits) <= 9:
                    body = self._body(int(digits))
                    if body is not None:
                        await send(
                            {
                                "type": "http.response.start",
                                "status": 200,
                                "headers": [
                                    (b"content-type", MEDIA_TYPE.encode()),
                                    (b"content-length", str(len(body)).encode()),
                                ],
                            }
                        )
                        await send({"type": "http.response.body", "body": body})
                        return
        await self.app(scope, receive, send)

    def _body(self, schema_id: int) -> bytes | None:
        generation = self.service.state.generation
        if generation != self._generation or len(self._bodies) > _MAX_CACHED:
            self._bodies.clear()
            self._generation = generation
        body = self._bodies.get(schema_id)
        if body is None:
            try:
                body = encode_json(self.service.schema_by_id(schema_id))
            except RestError:
                return None  # the application answers 40403
            self._bodies[schema_id] = body
        return body
