"""OpenCV loaded on first use, so a gate whose frames never need it does not carry it."""

from __future__ import annotations

import importlib
import threading
from types import ModuleType
from typing import TYPE_CHECKING, Any

__all__ = ["cv2"]

# OpenCV and the libraries it links (FFmpeg, its own OpenBLAS) add about 38 MB to the running
# service's RSS. Change detection, 8-bit PGM replay and the zxing-cpp passes need none of it; BGR
# conversion, USB capture, video and other image replay, and the image-preparing fallback passes
# load it when they first run.


class _LoadedOnFirstUse:
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


if TYPE_CHECKING:
    import cv2
else:
    cv2 = _LoadedOnFirstUse("cv2")
