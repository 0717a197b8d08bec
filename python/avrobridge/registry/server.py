"""Running the registry: settings, the uvicorn server, and an embeddable background server.

uvicorn picks uvloop and httptools when they are installed (``loop="auto"``,
``http="auto"``); the access log is off unless asked for, since it costs more than the
``/schemas/ids/{id}`` fast path itself.
"""

from __future__ import annotations

import logging
import signal
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import FrameType, TracebackType
from typing import TYPE_CHECKING

import uvicorn

from ..errors import ConfigError
from .api import build_asgi
from .auth import load_users
from .limits import ASGIApp
from .service import RegistryService
from .store import StoreError, open_store

if TYPE_CHECKING:  # imported when a Kafka store is used (confluent_kafka is heavier)
    from .forwarding import LeaderForwarding

__all__ = ["BackgroundServer", "ServerSettings", "StoreError", "build", "serve"]

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
    #: Kafka store: the URL other instances forward writes to while this one leads
    #: (default: scheme://host:port as listened on, the machine's name for 0.0.0.0/::).
    advertise_url: str | None = None
    #: Kafka store: CA bundle to verify the leader's certificate when forwarding over https.
    leader_ca: Path | None = None

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
        if self.advertise_url is not None and not self.advertise_url.startswith(
            ("http://", "https://")
        ):
            raise ConfigError(f"--advertise-url {self.advertise_url!r}: give http(s)://host:port")
        if self.leader_ca is not None and not self.leader_ca.is_file():
            raise ConfigError(f"--leader-ca {self.leader_ca} does not exist")

    def url_for_port(self, port: int) -> str:
        """The URL this instance advertises once it listens on ``port``."""
        if self.advertise_url is not None:
            return self.advertise_url.rstrip("/")
        scheme = "https" if self.tls_cert else "http"
        host = self.host
        if host in ("", "0.0.0.0", "::"):
            host = socket.getfqdn()
        if ":" in host:
            host = f"[{host}]"
        return f"{scheme}://{host}:{port}"


class _Server(uvicorn.Server):
    """uvicorn, telling the store once it listens (a Kafka store then joins the election:
    an instance must be reachable before it can lead) and closing the forwarder at the end."""

    def __init__(
        self,
        config: uvicorn.Config,
        on_listening: Callable[[int], None] | None = None,
        forwarding: LeaderForwarding | None = None,
    ) -> None:
        super().__init__(config)
        self._on_listening = on_listening
        self._forwarding = forwarding

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        if self.started and self._on_listening is not None and self.servers:
            port = int(self.servers[0].sockets[0].getsockname()[1])
            self._on_listening(port)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        await super().shutdown(sockets=sockets)
        if self._forwarding is not None:
            await self._forwarding.aclose()


def build(settings: ServerSettings) -> tuple[uvicorn.Server, RegistryService]:
    """The uvicorn server and the service behind it (the store is opened and replayed).

    ConfigError for bad settings, StoreError when the store cannot be used (Kafka down)."""
    settings.check()
    users = load_users(settings.auth_file) if settings.auth_file is not None else None
    store = open_store(settings.store)
    kafka = None
    if settings.store.startswith("kafka://"):
        from .forwarding import LeaderForwarding
        from .kafkastore import KafkaStore

        assert isinstance(store, KafkaStore)
        kafka = store
    service = RegistryService(
        store,
        max_schema_bytes=settings.max_schema_bytes,
        write_timeout=kafka.config.timeout if kafka is not None else 30.0,
    )
    forwarder: LeaderForwarding | None = None
    on_listening: Callable[[int], None] | None = None
    if kafka is not None:
        store_ = kafka

        def wrap(app: ASGIApp) -> ASGIApp:
            nonlocal forwarder
            forwarder = LeaderForwarding(app, store_, leader_ca=settings.leader_ca)
            return forwarder

        def on_listening(port: int) -> None:
            store_.join_election(settings.url_for_port(port))

    app = build_asgi(
        service,
        users=users,
        max_body_bytes=settings.max_body_bytes,
        forwarding=wrap if kafka is not None else None,
    )
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
    return _Server(config, on_listening, forwarder), service


def serve(settings: ServerSettings) -> int:
    """Runs until SIGINT/SIGTERM (0). ConfigError/StoreError when it cannot start."""
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
