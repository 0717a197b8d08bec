"""HTTP basic authentication against a users file (pure ASGI).

The file has one user per line, ``NAME:ROLE:HASH``; blank lines and ``#`` comments are
ignored. ROLE is ``readwrite`` or ``readonly``. HASH is PBKDF2-HMAC-SHA256 in the common
``pbkdf2_sha256$ITERATIONS$SALT$DIGEST`` form (salt and digest base64), made by
``avrobridge registry hash-password``.

Without valid credentials every endpoint but ``/health`` answers 401 and nothing runs; a
read-only user gets 403 for writes (reads are GETs, lookups ``POST /subjects/{s}`` and
compatibility tests). PBKDF2 is slow on purpose, so each distinct Authorization header is
verified once (off the event loop) and the verdict cached under the header's SHA-256:
passwords are neither stored nor logged.

A flood of wrong passwords must not starve valid users. Hashing therefore runs on a few
threads of its own (``hashers``, half the CPUs by default) at the lowest scheduling priority
(Linux), never on the request workers: requests of users already verified — their verdict is
cached, in a cache wrong passwords cannot evict — neither wait behind it nor lose the CPU to
it. Wrong headers are cached apart, so repeating one costs nothing. What remains is that a
user's *first* request during a flood waits its turn in the hashing queue.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import hashlib
import hmac
import os
import queue
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..errors import ConfigError
from .limits import ASGIApp, Receive, Scope, Send, send_error

__all__ = ["BasicAuth", "User", "hash_password", "load_users", "verify_password"]

ROLES = ("readwrite", "readonly")
DEFAULT_ITERATIONS = 600_000
_ALGORITHM = "pbkdf2_sha256"
_CACHE_LIMIT = 4096
_OPEN_PATHS = frozenset(["/health"])
_REALM = b'Basic realm="avrobridge-registry", charset="UTF-8"'


@dataclass(frozen=True)
class User:
    name: str
    role: str
    password_hash: str

    @property
    def can_write(self) -> bool:
        return self.role == "readwrite"


def hash_password(
    password: str, iterations: int = DEFAULT_ITERATIONS, salt: bytes | None = None
) -> str:
    salt = salt if salt is not None else os.urandom(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), salt, iterations)
    b64 = base64.b64encode
    return f"{_ALGORITHM}${iterations}${b64(salt).decode()}${b64(digest).decode()}"


def _parse_hash(encoded: str) -> tuple[int, bytes, bytes]:
    algorithm, iterations, salt, digest = encoded.split("$")
    if algorithm != _ALGORITHM:
        raise ValueError(f"unsupported algorithm {algorithm!r}")
    count = int(iterations)
    if not 1 <= count <= 10_000_000:
        raise ValueError("iterations out of range")
    return count, base64.b64decode(salt, validate=True), base64.b64decode(digest, validate=True)


def verify_password(password: str, encoded: str) -> bool:
    try:
        iterations, salt, expected = _parse_hash(encoded)
    except (ValueError, binascii.Error):
        return False
    actual = hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), salt, iterations)
    return hmac.compare_digest(actual, expected)


def load_users(path: str | Path) -> dict[str, User]:
    """The users of an auth file. ConfigError names the line, never echoes its content."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise ConfigError(f"--auth-file {path}: cannot read it ({exc.strerror})") from None
    users: dict[str, User] = {}
    for number, line in enumerate(lines, start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split(":", 2)
        if len(parts) != 3 or not parts[0]:
            raise ConfigError(f"--auth-file {path}, line {number}: expected NAME:ROLE:HASH")
        name, role, encoded = parts
        if role not in ROLES:
            raise ConfigError(
                f"--auth-file {path}, line {number}: role must be readwrite or readonly"
            )
        try:
            _parse_hash(encoded)
        except (ValueError, binascii.Error):
            raise ConfigError(
                f"--auth-file {path}, line {number}: hash must be "
                f"{_ALGORITHM}$ITERATIONS$SALT$DIGEST"
            ) from None
        if name in users:
            raise ConfigError(f"--auth-file {path}, line {number}: user listed twice")
        users[name] = User(name, role, encoded)
    if not users:
        raise ConfigError(f"--auth-file {path}: no users")
    return users


def is_read(method: str, path: str) -> bool:
    if method in ("GET", "HEAD", "OPTIONS"):
        return True
    if method != "POST":
        return False
    parts = path.strip("/").split("/")
    # POST /subjects/{s} looks a schema up; POST /compatibility/... only tests.
    return (len(parts) == 2 and parts[0] == "subjects") or parts[0] == "compatibility"


def default_hashers() -> int:
    """Threads that may hash passwords at once: half the CPUs (at least one), so the others
    keep serving requests whatever arrives."""
    return max(1, (os.cpu_count() or 2) // 2)


_Job = tuple[bytes, asyncio.AbstractEventLoop, "asyncio.Future[User | None]"]


class _Hashers:
    """Daemon threads that verify credentials one at a time each, at the lowest scheduling
    priority, for coroutines that await the verdict."""

    def __init__(self, threads: int, check: Callable[[bytes], User | None]) -> None:
        self._check = check
        self._jobs: queue.SimpleQueue[_Job] = queue.SimpleQueue()
        self._threads = threads
        self._started = False
        self._lock = threading.Lock()

    async def check(self, header: bytes) -> User | None:
        with self._lock:
            if not self._started:
                for i in range(self._threads):
                    name = f"registry-auth-{i}"
                    threading.Thread(target=self._run, name=name, daemon=True).start()
                self._started = True
        loop = asyncio.get_running_loop()
        verdict: asyncio.Future[User | None] = loop.create_future()
        self._jobs.put((header, loop, verdict))
        return await verdict

    def _run(self) -> None:
        if sys.platform.startswith("linux"):
            # Linux threads have their own nice value: hashing yields to request handling.
            with contextlib.suppress(OSError):
                os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)
        while True:
            header, loop, verdict = self._jobs.get()
            try:
                result: User | None = self._check(header)
            except Exception:  # a malformed header the check did not foresee: refused
                result = None
            with contextlib.suppress(RuntimeError):  # the loop closed: nobody is waiting
                loop.call_soon_threadsafe(_settle, verdict, result)


def _settle(verdict: asyncio.Future[User | None], result: User | None) -> None:
    if not verdict.done():
        verdict.set_result(result)


class BasicAuth:
    def __init__(self, app: ASGIApp, users: dict[str, User], hashers: int | None = None) -> None:
        self.app = app
        self.users = users
        # Verified headers, and headers known to be wrong: two caches, so a flood of wrong
        # ones never evicts a valid user's verdict.
        self._verified: dict[bytes, User] = {}
        self._refused: set[bytes] = set()
        self._lock = threading.Lock()
        self._hashers = _Hashers(hashers or default_hashers(), self._check)
        # Unknown users are checked against this too, so timing does not reveal names.
        iterations = max(_parse_hash(u.password_hash)[0] for u in users.values())
        self._decoy = hash_password("decoy", iterations=iterations)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in _OPEN_PATHS:
            await self.app(scope, receive, send)
            return
        header = next((v for k, v in scope["headers"] if k == b"authorization"), None)
        user = await self._user(header) if header is not None else None
        if user is None:
            await send_error(send, 401, "Unauthorized", headers=[(b"www-authenticate", _REALM)])
            return
        if not user.can_write and not is_read(scope["method"], scope["path"]):
            await send_error(send, 403, f"User '{user.name}' is not allowed to write")
            return
        await self.app(scope, receive, send)

    async def _user(self, header: bytes) -> User | None:
        key = hashlib.sha256(header).digest()
        with self._lock:
            known = self._verified.get(key)
            if known is not None or key in self._refused:
                return known
        user = await self._hashers.check(header)
        with self._lock:
            if user is not None:
                if len(self._verified) >= _CACHE_LIMIT:
                    self._verified.clear()
                self._verified[key] = user
            else:
                if len(self._refused) >= _CACHE_LIMIT:
                    self._refused.clear()
                self._refused.add(key)
        return user

    def _check(self, header: bytes) -> User | None:
        scheme, _, token = header.partition(b" ")
        if scheme.lower() != b"basic":
            return None
        try:
            decoded = base64.b64decode(token.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None
        name, sep, password = decoded.partition(":")
        if not sep:
            return None
        user = self.users.get(name)
        ok = verify_password(password, user.password_hash if user else self._decoy)
        return user if ok and user is not None else None
