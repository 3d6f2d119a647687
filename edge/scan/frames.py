"""Change detection on camera frames: a tiny gray thumbnail read from sparse samples only."""

from __future__ import annotations

import cv2
import numpy as np

from edge.ports import Frame, GrayFrame
from edge.scan.preprocess import to_gray

THUMB_SIZE = (32, 18)  # 16:9, a few hundred pixels: differencing costs microseconds


def thumbnail(frame: Frame) -> GrayFrame:
    """A tiny gray copy of a gray or BGR frame for change detection, from sparse samples only.

    Only about one pixel in a hundred is read, so a colour frame costs little more than a gray
    one and an idle frame is judged without converting the whole picture."""
    height, width = frame.shape[:2]
    step = max(1, min(height // (THUMB_SIZE[1] * 4), width // (THUMB_SIZE[0] * 4)))
    sparse = to_gray(np.ascontiguousarray(frame[::step, ::step]))
    return np.asarray(cv2.resize(sparse, THUMB_SIZE, interpolation=cv2.INTER_AREA), dtype=np.uint8)
