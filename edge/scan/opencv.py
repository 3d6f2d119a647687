"""OpenCV loaded on first use, so a gate whose frames never need it does not carry it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from edge.lazy import LoadedOnFirstUse

__all__ = ["cv2"]

# OpenCV and the libraries it links (FFmpeg, its own OpenBLAS) add about 38 MB to the running
# service's RSS. Change detection, replay, BGR conversion and every decoding pass (their images
# are prepared with numpy) need none of it: replayed videos and images other than 8-bit PGM are
# decoded by OpenCV in a child process (edge/drivers/replay_decode.py). USB capture loads it.

if TYPE_CHECKING:
    import cv2
else:
    cv2 = LoadedOnFirstUse("cv2")
