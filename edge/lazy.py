"""A module imported when one of its names is first read, for heavy optional libraries."""

from __future__ import annotations

import importlib
import threading
from types import ModuleType
from typing import Any

__all__ = ["LoadedOnFirstUse"]


class LoadedOnFirstUse:
    """Stands for a module and imports it when one of its names is first read."""

    def __init__(self, name: str) -> None:
        self._name = name
        self._lock = threading.Lock()
        self._module: ModuleType | None = None

    def __getattr__(self, attribute: str) -> Any:
        module = self._module
        if module is None:
            with self._lock:
                module = self._module = importlib.import_module(self._name)
        return getattr(module, attribute)
