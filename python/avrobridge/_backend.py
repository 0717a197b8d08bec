"""Backend selection (``AVROBRIDGE_BACKEND=auto|native|fastavro``)."""

from __future__ import annotations

import os
from types import ModuleType
from typing import TYPE_CHECKING

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

# The codec's names, typed by the native stubs whichever backend is active: internal modules
# import them from here (never from the package façade, which re-exports them).
if TYPE_CHECKING:
    from ._native import (
        DEFAULT_MAX_ZERO_BYTE_ITEMS,
        ContainerReader,
        ContainerWriter,
        Schema,
        Transcoder,
        decode,
        decode_many,
        encode,
        encode_many,
    )
else:
    Schema = impl.Schema
    encode = impl.encode
    decode = impl.decode
    encode_many = impl.encode_many
    decode_many = impl.decode_many
    Transcoder = impl.Transcoder
    ContainerReader = impl.ContainerReader
    ContainerWriter = impl.ContainerWriter
    #: How many items that take no bytes (null, empty records, fixed of size 0) one decode or
    #: transcode call may read in total; raise it with ``max_zero_byte_items=``.
    DEFAULT_MAX_ZERO_BYTE_ITEMS = impl.DEFAULT_MAX_ZERO_BYTE_ITEMS

__all__ = [
    "BACKEND",
    "DEFAULT_MAX_ZERO_BYTE_ITEMS",
    "ContainerReader",
    "ContainerWriter",
    "Schema",
    "Transcoder",
    "decode",
    "decode_many",
    "encode",
    "encode_many",
    "impl",
]
