"""Failures -> the exceptions the native backend raises for them (the twin of
``rust/src/py/errors.rs``): ours with their offset and path, Python ones as the cause."""

from __future__ import annotations

from ..errors import DecodeError, EncodeError
from . import codec, wirecheck


def encode_error(exc: Exception, index: int | None) -> EncodeError:
    """The EncodeError Rust raises for a failure (``__cause__`` set for Python ones)."""
    if isinstance(exc, codec.EncodeFailure):
        path = exc.path()
        message = (
            f"cannot encode {path}: {exc.message}" if path else f"cannot encode: {exc.message}"
        )
        return EncodeError(message, None, path or None, index)
    if isinstance(exc, EncodeError):
        # Raised by user code (an __index__, a mapping): passed through as it is.
        return exc
    error = EncodeError(f"cannot encode: {exc}", None, None, index)
    error.__cause__ = exc  # also sets __suppress_context__, as pyo3's set_cause
    return error


def decode_error(exc: Exception, index: int | None) -> DecodeError:
    """The DecodeError Rust raises for a failure: ours at their offset, Python ones at 0."""
    if isinstance(exc, wirecheck.WireError):
        path = exc.path()
        where = f"{path} " if path else ""
        message = f"cannot decode {where}at byte {exc.offset}: {exc.message}"
        return DecodeError(message, exc.offset, path or None, index)
    cause = exc.cause if isinstance(exc, wirecheck.PythonFailure) else exc
    error = DecodeError(f"cannot decode at byte 0: {cause}", 0, None, index)
    error.__cause__ = cause
    return error
