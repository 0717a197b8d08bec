"""Writes go to the leader (pure ASGI), as Confluent's followers forward them.

With a Kafka store, only the leader writes. On any other instance, a write — anything but
GETs, lookups (``POST /subjects/{s}``) and compatibility tests — is sent on to the leader's
announced URL with its method, path, query, body and headers (``Authorization`` included),
and the leader's answer is returned as it is. Before answering, the follower waits (briefly)
until it has applied the leader's write itself, so a client that writes through one instance
reads its write back from the same instance at once.

While no leader is known (an election is running) the request waits for one; a leader that
cannot be reached is retried until the store's timeout. Then the answer is Confluent's:
``500`` with error code 50004 "Leader not known." or 50003 "Error while forwarding ... request
to the leader". A leader never forwards again (a forwarded request that reaches an instance
that is not the leader is 50004, and the sender looks the leader up anew).
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from pathlib import Path

import httpx

from .auth import is_read
from .kafkastore import KafkaStore, Leader
from .limits import ASGIApp, Message, Receive, Scope, Send, send_error
from .rest_errors import RestError

__all__ = ["FORWARDED_HEADER", "OFFSET_HEADER", "LeaderForwarding", "operation_name"]

log = logging.getLogger(__name__)

#: Marks a request one instance forwarded to another (its value is the sender's instance id).
FORWARDED_HEADER = b"x-avrobridge-forwarded"
#: On answers to forwarded requests: the leader's last applied `_schemas` offset.
OFFSET_HEADER = b"x-avrobridge-applied-offset"

_HOP_BY_HOP = frozenset(
    [
        b"host",
        b"connection",
        b"keep-alive",
        b"content-length",
        b"transfer-encoding",
        b"te",
        b"trailer",
        b"upgrade",
        b"proxy-authorization",
        b"proxy-connection",
        FORWARDED_HEADER,
    ]
)
#: Response headers not passed back (uvicorn writes its own date and server).
_NOT_RELAYED = _HOP_BY_HOP | {b"date", b"server", OFFSET_HEADER}
_CATCH_UP_SECONDS = 2.0


def operation_name(method: str, path: str) -> str:
    """Confluent's wording for a write, as in "Error while forwarding <it> request"."""
    parts = [p for p in path.split("/") if p]
    head = parts[0] if parts else ""
    if head == "subjects":
        if method == "POST":
            return "register schema"
        return "delete schema version" if len(parts) >= 4 else "delete subject"
    if head == "config":
        return "update config" if method == "PUT" else "delete config"
    if head == "mode":
        return "update mode" if method == "PUT" else "delete subject mode"
    return f"{method} {path}"


class LeaderForwarding:
    def __init__(
        self,
        app: ASGIApp,
        store: KafkaStore,
        *,
        timeout: float | None = None,
        leader_ca: Path | None = None,
    ) -> None:
        self.app = app
        self.store = store
        self.timeout = timeout if timeout is not None else store.config.timeout
        self._verify: ssl.SSLContext | bool = (
            ssl.create_default_context(cafile=str(leader_ca)) if leader_ca is not None else True
        )
        self._client: httpx.AsyncClient | None = None

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(
                verify=self._verify,
                timeout=httpx.Timeout(2 * self.timeout + 5, connect=min(self.timeout, 5.0)),
                follow_redirects=False,
                trust_env=False,
            )
        return self._client

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or is_read(scope["method"], scope["path"]):
            await self.app(scope, receive, send)
            return
        forwarded = any(name == FORWARDED_HEADER for name, _ in scope["headers"])
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.timeout
        operation = operation_name(scope["method"], scope["path"])
        body: bytes | None = None
        problem = "unknown leader"
        while True:
            leader = self.store.leader()
            if leader is not None and leader.is_self:
                replay = receive if body is None else _replay(body, receive)
                await self.app(scope, replay, self._with_offset(send) if forwarded else send)
                return
            if forwarded and not self._becoming_leader():
                # The sender thinks this instance leads; it does not (any more).
                await _send(send, RestError.unknown_leader())
                return
            if leader is not None and not forwarded:
                if body is None:
                    body = await _read_body(receive)
                    if body is None:
                        return  # the client went away
                done, problem = await self._forward(scope, body, send, leader, operation)
                if done:
                    return
            if loop.time() >= deadline:
                break
            await asyncio.sleep(0.05)
        if problem == "unknown leader":
            await _send(send, RestError.unknown_leader())
        else:
            await _send(send, _forwarding_failed(operation))

    def _becoming_leader(self) -> bool:
        leader = self.store.leader()
        return leader is None or leader.is_self

    async def _forward(
        self, scope: Scope, body: bytes, send: Send, leader: Leader, operation: str
    ) -> tuple[bool, str]:
        """Sends the request to the leader: (answered, what went wrong otherwise)."""
        target = leader.url + (scope.get("raw_path") or scope["path"].encode()).decode("latin-1")
        if scope["query_string"]:
            target += "?" + scope["query_string"].decode("latin-1")
        headers = [(k, v) for k, v in scope["headers"] if k.lower() not in _HOP_BY_HOP]
        headers.append((FORWARDED_HEADER, self.store.instance_id.encode()))
        try:
            response = await self._http().request(
                scope["method"], target, content=body, headers=headers
            )
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            # Nothing was sent: retry, the leader may be changing.
            log.info("leader %s unreachable (%s); retrying", leader.url, exc)
            return False, "unreachable"
        except httpx.HTTPError as exc:
            log.warning("forwarding %s to %s failed: %s", operation, leader.url, exc)
            await _send(send, _forwarding_failed(operation))
            return True, ""
        if response.status_code == 500 and _error_code(response) == 50004:
            return False, "unknown leader"  # that instance no longer leads
        offset = response.headers.get(OFFSET_HEADER.decode())
        if offset is not None and offset.lstrip("-").isdigit():
            await self._catch_up(int(offset))
        out = [
            (k.encode("latin-1"), v.encode("latin-1"))
            for k, v in response.headers.items()
            if k.encode("latin-1") not in _NOT_RELAYED
        ]
        out.append((b"content-length", str(len(response.content)).encode()))
        await send({"type": "http.response.start", "status": response.status_code, "headers": out})
        await send({"type": "http.response.body", "body": response.content})
        return True, ""

    async def _catch_up(self, offset: int) -> None:
        """Waits (a little) until this instance has applied the leader's write."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + _CATCH_UP_SECONDS
        while self.store.applied_offset < offset and loop.time() < deadline:
            await asyncio.sleep(0.005)

    def _with_offset(self, send: Send) -> Send:
        async def wrapped(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers.append((OFFSET_HEADER, str(self.store.applied_offset).encode()))
                message = {**message, "headers": headers}
            await send(message)

        return wrapped


def _forwarding_failed(operation: str) -> RestError:
    return RestError.forwarding_failed(f"Error while forwarding {operation} request to the leader")


async def _send(send: Send, error: RestError) -> None:
    await send_error(send, error.status, error.message, error.error_code)


async def _read_body(receive: Receive) -> bytes | None:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return None
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


def _error_code(response: httpx.Response) -> int | None:
    try:
        data = response.json()
    except ValueError:
        return None
    code = data.get("error_code") if isinstance(data, dict) else None
    return code if isinstance(code, int) else None
