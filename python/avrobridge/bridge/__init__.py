"""The bridge: consume Confluent-framed Avro, resolve to a target schema, republish.

The names below load on first use (PEP 562), so that the command line, which imports
``avrobridge.bridge.cli`` to build its parser, does not pay for the Kafka loop's imports.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_names

if TYPE_CHECKING:
    from ..errors import BridgeError
    from .config import BridgeSettings, load_settings
    from .runner import Bridge
    from .summary import Summary

__all__ = ["Bridge", "BridgeError", "BridgeSettings", "Summary", "load_settings"]

_HOME = {
    "Bridge": ".runner",
    "BridgeError": "..errors",
    "Summary": ".summary",
    "BridgeSettings": ".config",
    "load_settings": ".config",
}


__getattr__ = lazy_names(__name__, _HOME)
