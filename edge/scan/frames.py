"""Change detection on camera frames: a tiny gray thumbnail read from sparse samples only."""

from __future__ import annotations

import functools

import numpy as np
import numpy.typing as npt

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
    rows = _area_weights(sparse.shape[0], THUMB_SIZE[1])
    columns = _area_weights(sparse.shape[1], THUMB_SIZE[0])
    return np.rint(rows @ sparse @ columns.T).clip(0, 255).astype(np.uint8)


@functools.lru_cache(maxsize=16)
def _area_weights(size: int, out: int) -> npt.NDArray[np.float64]:
    """Each output sample's share of every input sample, by overlap (an area resize, as
    OpenCV's INTER_AREA shrinks): numpy alone, so watching for change needs no OpenCV."""
    scale = size / out
    edges = np.arange(out + 1) * scale
    starts = np.arange(size)
    overlap = np.minimum(edges[1:, None], starts[None, :] + 1) - np.maximum(
        edges[:-1, None], starts[None, :]
    )
    weights: npt.NDArray[np.float64] = np.clip(overlap, 0.0, None) / scale
    weights.setflags(write=False)
    return weights
