"""Package names that load on first use (PEP 562): a package whose ``__init__`` would import
heavy modules names them here instead, so importing one of its light submodules (the command
line's parser) stays cheap."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_names(package: str, homes: Mapping[str, str]) -> Callable[[str], Any]:
    """The package's ``__getattr__``: `homes` maps each name to its (relative) module."""

    def getattr_(name: str) -> Any:
        home = homes.get(name)
        if home is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        module = importlib.import_module(home, package)
        value = getattr(module, name)
        setattr(importlib.import_module(package), name, value)
        return value

    return getattr_
