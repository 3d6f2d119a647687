"""Contrast-limited adaptive histogram equalisation (OpenCV's CLAHE) in numpy alone."""

from __future__ import annotations

from collections.abc import Iterator
from itertools import pairwise

import numpy as np
import numpy.typing as npt

from edge.ports import GrayFrame
from edge.scan.bands import BAND_ROWS, row_bands

TILES = 8
_LEVELS = 256
# two mappings side by side in the 16-bit halves of one uint32
_LANES = np.uint32(0x00FF00FF)


def _reflected(length: int, extended: int) -> npt.NDArray[np.intp]:
    """The source of each of `extended` positions along an axis of `length` pixels, past the
    end by reflection (as OpenCV extends the image to a whole number of tiles)."""
    period = max(2 * (length - 1), 1)
    position = np.arange(extended) % period
    return np.where(position < length, position, period - position)


def _extended_bands(
    gray: GrayFrame, tile_h: int, tile_w: int
) -> Iterator[tuple[int, GrayFrame, npt.NDArray[np.intp] | None]]:
    """Bands of rows of the image extended to TILES x TILES whole tiles, none straddling two
    tile rows: (tile row, the band's rows of `gray`, the extension's source columns or None);
    the extension is read from `gray` in place, never copied out whole."""
    height, width = gray.shape
    rows = _reflected(height, TILES * tile_h)
    columns = _reflected(width, TILES * tile_w)[width:] if TILES * tile_w > width else None
    for tile_row in range(TILES):
        start = tile_row * tile_h
        for first, last in row_bands(tile_h):
            top, bottom = start + first, start + last
            band = gray[top:bottom] if bottom <= height else gray[rows[top:bottom]]
            yield tile_row, band, columns


def _tile_histograms(gray: GrayFrame, tile_h: int, tile_w: int) -> npt.NDArray[np.int64]:
    """Each tile's histogram (tiles*tiles x 256), a band of rows at a time: the level offset
    by the tile column, counted once for the band."""
    width = gray.shape[1]
    tile_of_column = (np.arange(TILES * tile_w) // tile_w * _LEVELS).astype(np.intp)
    index = np.empty((BAND_ROWS, TILES * tile_w), dtype=np.intp)
    histograms = np.zeros((TILES, TILES * _LEVELS), dtype=np.int64)
    for tile_row, band, columns in _extended_bands(gray, tile_h, tile_w):
        levels = index[: band.shape[0]]
        levels[:, :width] = band
        if columns is not None:
            levels[:, width:] = band[:, columns]
        levels += tile_of_column
        histograms[tile_row] += np.bincount(levels.ravel(), minlength=TILES * _LEVELS)
    return histograms.reshape(TILES * TILES, _LEVELS)


def _tile_luts(gray: GrayFrame, clip_limit: float) -> tuple[npt.NDArray[np.uint8], int, int]:
    """Each tile's clipped, equalised mapping (tiles x tiles x 256) and the tile size."""
    height, width = gray.shape
    if height % TILES or width % TILES:
        # as OpenCV: the image is extended by reflection to a whole number of tiles, by 1 to
        # TILES rows and columns (a whole tile more along an axis that needed none)
        height, width = height + TILES - height % TILES, width + TILES - width % TILES
    tile_h, tile_w = height // TILES, width // TILES
    tile_area = tile_h * tile_w
    hist = _tile_histograms(gray, tile_h, tile_w)
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


def _pair_bands(row_pair: npt.NDArray[np.intp]) -> Iterator[tuple[int, int]]:
    """Bands of rows, none straddling two pairs of tile centres."""
    edges = [0, *(np.flatnonzero(np.diff(row_pair)) + 1).tolist(), row_pair.size]
    for start, stop in pairwise(edges):
        for top, bottom in row_bands(stop - start):
            yield start + top, start + bottom


def clahe(gray: GrayFrame, clip_limit: float) -> GrayFrame:
    """CLAHE with 8x8 tiles as cv2.createCLAHE(clip_limit, (8, 8)).apply computes it."""
    height, width = gray.shape
    luts, tile_h, tile_w = _tile_luts(gray, clip_limit)
    # the four mappings around every pair of tile centres, packed one byte each (top left,
    # top right, bottom left, bottom right), so that each pixel reads all four with one lookup
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
    column_base = column_pair * _LEVELS
    left_weight = 256 - right_weight
    top_weight = 256 - bottom_weight
    index = np.empty((BAND_ROWS, width), dtype=np.intp)
    left = np.empty((BAND_ROWS, width), dtype=np.uint32)
    right = np.empty_like(left)
    out = np.empty_like(gray)
    for top, bottom in _pair_bands(row_pair):
        count = bottom - top
        four = index[:count]
        four[...] = gray[top:bottom]
        four += column_base + row_pair[top] * ((TILES + 1) * _LEVELS)
        mappings = np.take(packed, four, out=right[:count], mode="clip")
        # both rows of tiles at once: top mappings in the low 16 bits, bottom in the high
        upper = np.bitwise_and(mappings, _LANES, out=left[:count])
        mappings >>= 8
        mappings &= _LANES
        upper *= left_weight
        mappings *= right_weight
        upper += mappings
        lower = np.right_shift(upper, 16, out=mappings)
        upper &= np.uint32(0xFFFF)
        upper *= top_weight[top:bottom, None]
        lower *= bottom_weight[top:bottom, None]
        upper += lower
        upper += np.uint32(1 << 15)
        upper >>= 16
        out[top:bottom] = upper
    return out
