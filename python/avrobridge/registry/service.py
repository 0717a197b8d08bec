"""The registry's operations, with Confluent Schema Registry's semantics: one service made
of its jobs (reads, registration, deletion, compatibility level and mode), over the state and
write path of :class:`~.service_core.ServiceCore`."""

from __future__ import annotations

from .config_mode import ConfigAndMode
from .deletion import Deletion
from .reads import Reads
from .records import schema_entity
from .registration import Registration

__all__ = ["RegistryService", "schema_entity"]


class RegistryService(Reads, Registration, Deletion, ConfigAndMode):
    """Every operation the REST API (api.py) serves; built over a log store."""
