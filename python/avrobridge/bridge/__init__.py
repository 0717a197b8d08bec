"""The bridge: consume Confluent-framed Avro, resolve to a target schema, republish.

The names below load on first use (PEP 562), so that the command line, which imports
``avrobridge.bridge.cli`` to build its parser, does not pay for the Kafka loop's imports.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .config import BridgeSettings, load_settings
    from .runner import Bridge, BridgeError, Summary

__all__ = ["Bridge", "BridgeError", "BridgeSettings", "Summary", "load_settings"]

_HOME = {
    "Bridge": ".runner",
    "BridgeError": ".runner",
    "Summary": ".runner",
    "BridgeSettings": ".config",
    "load_settings": ".config",
}


def __getattr__(name: str) -> Any:
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(home, __name__), name)
    globals()[name] = value
    return value
