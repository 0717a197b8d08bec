"""A Confluent-compatible Schema Registry for Avro (``avrobridge registry serve``).

The state is a fold over a log of `_schemas`-topic records (``records``, ``state``) kept by a
store (``store``: memory or SQLite; ``kafkastore``: a compacted Kafka topic shared by several
instances, with leader election and ``forwarding`` of writes); ``service`` implements
Confluent's semantics over it and ``api`` serves them over HTTP. See docs/registry.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_names

if TYPE_CHECKING:
    from .api import build_asgi, create_app
    from .server import BackgroundServer, ServerSettings, serve
    from .service import RegistryService
    from .store import MemoryStore, SqliteStore, open_store

__all__ = [
    "BackgroundServer",
    "MemoryStore",
    "RegistryService",
    "ServerSettings",
    "SqliteStore",
    "build_asgi",
    "create_app",
    "open_store",
    "serve",
]

# Loaded on first use (PEP 562): the command line imports ``registry.cli`` to build its
# parser and should not pay for the HTTP server's imports.
_HOME = {
    "build_asgi": ".api",
    "create_app": ".api",
    "BackgroundServer": ".server",
    "ServerSettings": ".server",
    "serve": ".server",
    "RegistryService": ".service",
    "MemoryStore": ".store",
    "SqliteStore": ".store",
    "open_store": ".store",
}


__getattr__ = lazy_names(__name__, _HOME)
