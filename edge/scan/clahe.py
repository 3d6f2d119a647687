"""Contrast-limited adaptive histogram equalisation (OpenCV's CLAHE) in numpy alone."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from edge.ports import GrayFrame
from edge.scan.bands import row_bands

TILES = 8
_LEVELS = 256


def _tile_luts(gray: GrayFrame, clip_limit: float) -> tuple[npt.NDArray[np.uint8], int, int]:
    """Each tile's clipped, equalised mapping (tiles x tiles x 256) and the tile size."""
    height, width = gray.shape
    if height % TILES or width % TILES:
        # as OpenCV: the image is extended by reflection to a whole number of tiles
        extended = np.pad(
            gray, ((0, TILES - height % TILES), (0, TILES - width % TILES)), mode="reflect"
        )
    else:
        extended = gray
    tile_h, tile_w = extended.shape[0] // TILES, extended.shape[1] // TILES
    tile_area = tile_h * tile_w
    tile_of_row = (np.arange(TILES * tile_h, dtype=np.int32) // tile_h) * (TILES * _LEVELS)
    tile_of_col = (np.arange(TILES * tile_w, dtype=np.int32) // tile_w) * _LEVELS
    histograms = np.zeros(TILES * TILES * _LEVELS, dtype=np.int64)
    for top, bottom in row_bands(extended.shape[0]):
        band = extended[top:bottom]
        index = tile_of_row[top:bottom, None] + tile_of_col[None, :] + band
        histograms += np.bincount(index.ravel(), minlength=histograms.size)
    hist = histograms.reshape(TILES * TILES, _LEVELS)
    limit = max(int(clip_limit * tile_area / _LEVELS), 1)
    excess = np.maximum(hist - limit, 0).sum(axis=1)
    hist = np.minimum(hist, limit) + (excess // _LEVELS)[:, None]
    # the remainder, one count each on every `step`-th level from 0 (OpenCV's residual pass)
    residual = excess % _LEVELS
    step = np.maximum(_LEVELS // np.maximum(residual, 1), 1)
    levels = np.arange(_LEVELS)
    hist += (levels[None, :] % step[:, None] == 0) & (
        levels[None, :] // step[:, None] < residual[:, None]
    )
    luts = np.cumsum(hist, axis=1) * (255.0 / tile_area)
    # OpenCV rounds each mapping to uint8 before interpolating between tiles
    rounded = np.clip(np.rint(luts), 0, 255).astype(np.uint8)
    return rounded.reshape(TILES, TILES, _LEVELS), tile_h, tile_w


def _neighbours(length: int, tile: int) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.uint32]]:
    """For each pixel along one axis: which pair of tile centres surrounds it (0 before the
    first centre, 8 after the last) and the weight of the second, in 1/256."""
    position = np.arange(length, dtype=np.float32) * np.float32(1.0 / tile) - np.float32(0.5)
    first = np.floor(position)
    weight = np.rint((position - first) * 256.0).astype(np.uint32)
    return (first + 1).astype(np.intp), weight


def clahe(gray: GrayFrame, clip_limit: float) -> GrayFrame:
    """CLAHE with 8x8 tiles as cv2.createCLAHE(clip_limit, (8, 8)).apply computes it."""
    height, width = gray.shape
    luts, tile_h, tile_w = _tile_luts(gray, clip_limit)
    # the four mappings around every pair of tile centres, packed one byte each, so that each
    # pixel reads all four with one lookup
    pairs = np.arange(-1, TILES)
    low, high = np.clip(pairs, 0, TILES - 1), np.clip(pairs + 1, 0, TILES - 1)
    mapping = luts.astype(np.uint32)
    packed = (
        mapping[low[:, None], low[None, :]]
        | mapping[low[:, None], high[None, :]] << 8
        | mapping[high[:, None], low[None, :]] << 16
        | mapping[high[:, None], high[None, :]] << 24
    ).reshape(-1)
    column_pair, right_weight = _neighbours(width, tile_w)
    row_pair, bottom_weight = _neighbours(height, tile_h)
    column_base = (column_pair * _LEVELS)[None, :]
    left_weight = 256 - right_weight
    out = np.empty_like(gray)
    for top, bottom in row_bands(height):
        rows = slice(top, bottom)
        index = gray[rows] + column_base
        index += (row_pair[rows] * ((TILES + 1) * _LEVELS))[:, None]
        four = packed[index]
        upper = (four & 255) * left_weight
        upper += ((four >> 8) & 255) * right_weight
        lower = ((four >> 16) & 255) * left_weight
        lower += (four >> 24) * right_weight
        upper *= (256 - bottom_weight[rows])[:, None]
        lower *= bottom_weight[rows, None]
        upper += lower
        upper += 1 << 15
        upper >>= 16
        out[rows] = upper
    return out
