"""Where ``avrobridge schemas`` finds its registry when no option names it: the environment
variables and the default URL (shared by the parser and the commands)."""

from __future__ import annotations

__all__ = ["DEFAULT_URL", "ENV_PASSWORD", "ENV_URL"]

ENV_URL = "AVROBRIDGE_REGISTRY_URL"
ENV_PASSWORD = "AVROBRIDGE_REGISTRY_PASSWORD"
DEFAULT_URL = "http://127.0.0.1:8081"
