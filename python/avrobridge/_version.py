"""The package version. Its one source is ``version`` in the workspace Cargo.toml: maturin
writes it into the wheel's metadata, and the native module reports the same number."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("avrobridge")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"
