"""A small HTTP/1.1 load generator for measuring the registry (requests/s, p50/p99).

Each connection keeps one request in flight on a keep-alive socket and times it from write
to the last body byte. It is bounded by a request count and a duration, speaks plain HTTP
only, and is meant for servers on this machine (127.0.0.1).
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import cast

__all__ = ["LoadResult", "Request", "run_load_sync"]


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    body: bytes = b""

    def encode(self, host: str, auth: str | None) -> bytes:
        lines = [f"{self.method} {self.path} HTTP/1.1", f"Host: {host}"]
        if auth:
            lines.append(f"Authorization: Basic {auth}")
        if self.body or self.method in ("POST", "PUT"):
            lines.append("Content-Type: application/vnd.schemaregistry.v1+json")
            lines.append(f"Content-Length: {len(self.body)}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + self.body


@dataclass
class LoadResult:
    requests: int = 0
    errors: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile(self, p: float) -> float:
        """Latency in milliseconds at percentile ``p`` (0..100)."""
        if not self.latencies:
            return 0.0
        ordered = sorted(self.latencies)
        index = min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))
        return ordered[index] * 1000

    def summary(self) -> str:
        return (
            f"{self.requests} requests in {self.seconds:.2f} s: {self.rate:,.0f} req/s, "
            f"p50 {self.percentile(50):.2f} ms, p99 {self.percentile(99):.2f} ms, "
            f"{self.errors} errors, statuses {dict(sorted(self.statuses.items()))}"
        )


class _Connection(asyncio.Protocol):
    def __init__(self) -> None:
        self.buffer = bytearray()
        self.waiter: asyncio.Future[int] | None = None
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses, only duck-typed ones.
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0 or self.waiter is None or self.waiter.done():
            return
        head = bytes(self.buffer[:end]).decode("latin-1").split("\r\n")
        length = 0
        for line in head[1:]:
            name, _, value = line.partition(":")
            if name.strip().lower() == "content-length":
                length = int(value.strip())
        if len(self.buffer) >= end + 4 + length:
            del self.buffer[: end + 4 + length]
            self.waiter.set_result(int(head[0].split(" ", 2)[1]))

    def connection_lost(self, exc: Exception | None) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(ConnectionError("connection closed"))


async def _load(
    host: str, port: int, encoded: Sequence[bytes], connections: int, total: int, duration: float
) -> LoadResult:
    order = itertools.cycle(range(len(encoded)))
    result = LoadResult()
    loop = asyncio.get_running_loop()
    deadline = time.perf_counter() + duration
    budget = total

    async def worker() -> None:
        nonlocal budget
        _, conn = await loop.create_connection(_Connection, host, port)
        try:
            while budget > 0 and time.perf_counter() < deadline:
                budget -= 1
                payload = encoded[next(order)]
                conn.waiter = loop.create_future()
                started = time.perf_counter()
                assert conn.transport is not None
                conn.transport.write(payload)
                try:
                    status = await conn.waiter
                except ConnectionError:
                    result.errors += 1
                    return
                result.latencies.append(time.perf_counter() - started)
                result.requests += 1
                result.statuses[status] = result.statuses.get(status, 0) + 1
                if status >= 500:
                    result.errors += 1
        finally:
            if conn.transport is not None:
                conn.transport.close()

    began = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(connections)))
    result.seconds = time.perf_counter() - began
    return result


def run_load_sync(
    host: str,
    port: int,
    requests: Sequence[Request],
    *,
    connections: int = 32,
    total: int = 20_000,
    duration: float = 10.0,
    user: str | None = None,
    password: str | None = None,
) -> LoadResult:
    """Sends ``requests`` round-robin over ``connections`` connections until ``total`` are
    done or ``duration`` passes, on a fresh event loop (uvloop when installed)."""
    auth = base64.b64encode(f"{user}:{password}".encode()).decode() if user else None
    encoded = [r.encode(f"{host}:{port}", auth) for r in requests]
    main = _load(host, port, encoded, connections, total, duration)
    try:
        import uvloop
    except ImportError:  # uvloop is optional
        return asyncio.run(main)
    return uvloop.run(main)
