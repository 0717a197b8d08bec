"""The bridge: consume Confluent-framed Avro, resolve to a target schema, republish."""

from __future__ import annotations

from ..errors import BridgeError
from .config import BridgeSettings, load_settings
from .runner import Bridge
from .summary import Summary

__all__ = ["Bridge", "BridgeError", "BridgeSettings", "Summary", "load_settings"]
