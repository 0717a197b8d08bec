"""Backend selection (``AVROBRIDGE_BACKEND=auto|native|fastavro``)."""

from __future__ import annotations

import os
from types import ModuleType

from ._version import __version__
from .errors import ConfigError

_CHOICES = ("auto", "native", "fastavro")


def _load_native() -> ModuleType:
    from . import _native

    if __version__ != "0+unknown" and _native.__version__ != __version__:
        # A stale build in the source tree next to a newer install (or the reverse) would
        # behave in ways nobody tested; refuse it.
        raise ImportError(
            f"avrobridge._native is version {_native.__version__} but the package is "
            f"{__version__}; rebuild it (pip install -e .)"
        )
    return _native


def _select(choice: str) -> tuple[str, ModuleType]:
    if choice not in _CHOICES:
        raise ConfigError(f"AVROBRIDGE_BACKEND={choice!r} is not one of {', '.join(_CHOICES)}")
    if choice in ("auto", "native"):
        try:
            return "native", _load_native()
        except ImportError:
            if choice == "native":
                raise
    from . import _fallback

    return "fastavro", _fallback


BACKEND, impl = _select(os.environ.get("AVROBRIDGE_BACKEND", "auto").strip().lower() or "auto")
