"""Running the registry: settings, the uvicorn server, and an embeddable background server.

uvicorn picks uvloop and httptools when they are installed (``loop="auto"``,
``http="auto"``); the access log is off unless asked for, since it costs more than the
``/schemas/ids/{id}`` fast path itself.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from types import FrameType, TracebackType

import uvicorn

from ..errors import ConfigError
from .api import build_asgi
from .auth import load_users
from .service import RegistryService
from .store import open_store

__all__ = ["BackgroundServer", "ServerSettings", "build", "serve"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ServerSettings:
    host: str = "127.0.0.1"
    port: int = 8081
    store: str = "memory://"
    auth_file: Path | None = None
    tls_cert: Path | None = None
    tls_key: Path | None = None
    max_body_bytes: int = 4 << 20
    max_schema_bytes: int = 1 << 20
    access_log: bool = False
    log_level: str = "info"

    def check(self) -> None:
        if (self.tls_cert is None) != (self.tls_key is None):
            raise ConfigError("--tls-cert and --tls-key go together")
        for path in (self.tls_cert, self.tls_key):
            if path is not None and not path.is_file():
                raise ConfigError(f"TLS file {path} does not exist")
        if not 0 <= self.port <= 65535:
            raise ConfigError(f"--port {self.port}: not a TCP port")
        if self.max_schema_bytes <= 0 or self.max_body_bytes <= 0:
            raise ConfigError("size limits must be positive")


def build(settings: ServerSettings) -> tuple[uvicorn.Server, RegistryService]:
    """The uvicorn server and the service behind it (the store is opened and replayed)."""
    settings.check()
    users = load_users(settings.auth_file) if settings.auth_file is not None else None
    service = RegistryService(
        open_store(settings.store), max_schema_bytes=settings.max_schema_bytes
    )
    app = build_asgi(service, users=users, max_body_bytes=settings.max_body_bytes)
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        lifespan="off",
        access_log=settings.access_log,
        log_level=settings.log_level,
        ssl_certfile=str(settings.tls_cert) if settings.tls_cert else None,
        ssl_keyfile=str(settings.tls_key) if settings.tls_key else None,
        proxy_headers=False,
    )
    return uvicorn.Server(config), service


def serve(settings: ServerSettings) -> int:
    server, service = build(settings)
    scheme = "https" if settings.tls_cert else "http"
    log.info(
        "schema registry on %s://%s:%d, store %s, %d schemas",
        scheme,
        settings.host,
        settings.port,
        settings.store.split("://", 1)[0],
        len(service.state.id_keys),
    )
    # uvicorn shuts down gracefully on SIGINT/SIGTERM and then re-raises the signal to the
    # handler that was installed before it started; a no-op one makes that a clean exit 0.
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, _after_shutdown)
    try:
        server.run()
    finally:
        service.close()
    return 0


def _after_shutdown(signum: int, frame: FrameType | None) -> None:
    log.info("schema registry stopped (signal %d)", signum)


class BackgroundServer:
    """The registry in a daemon thread, for tests and embedding: ``with BackgroundServer(s)
    as srv: srv.url``. Port 0 picks a free port."""

    def __init__(self, settings: ServerSettings) -> None:
        self.settings = settings
        self.server, self.service = build(settings)
        self._thread = threading.Thread(target=self.server.run, name="schema-registry", daemon=True)

    @property
    def port(self) -> int:
        sockets = self.server.servers[0].sockets
        return int(sockets[0].getsockname()[1])

    @property
    def url(self) -> str:
        scheme = "https" if self.settings.tls_cert else "http"
        return f"{scheme}://{self.settings.host}:{self.port}"

    def start(self, timeout: float = 20.0) -> BackgroundServer:
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the schema registry did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self._thread.join(timeout=20)
        self.service.close()

    def __enter__(self) -> BackgroundServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
