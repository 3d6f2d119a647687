"""A symbol's modules sampled through a map, refined to its edges, and read as a clean symbol."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from edge.ports import GrayFrame
from edge.scan import codewords, layout
from edge.scan.decoders import read_zxing
from edge.scan.integral import box_sums
from edge.scan.rectify import Matrix, project_points

Points = npt.NDArray[np.float64]
Values = npt.NDArray[np.float32]
Bits = npt.NDArray[np.bool_]

_QUIET = 4
_PIXELS_PER_MODULE = 2
_STRADDLE = 0.2  # module fraction each side of an edge sampled to measure its contrast


def bilinear(gray: GrayFrame, points: Points) -> Values:
    """Grey levels of `gray` at sub-pixel `points` (..., 2), edges clamped (`gray` at least
    2 pixels each way)."""
    height, width = gray.shape[:2]
    # fmax/fmin, not clip: a point a map sends to infinity or NaN (near its vanishing line)
    # samples the edge instead of indexing outside the image
    x = np.fmin(np.fmax(points[..., 0] - 0.5, 0.0), width - 1.001)
    y = np.fmin(np.fmax(points[..., 1] - 0.5, 0.0), height - 1.001)
    left, top = x.astype(np.intp), y.astype(np.intp)
    fx, fy = (x - left).astype(np.float32), (y - top).astype(np.float32)
    flat = np.ascontiguousarray(gray).ravel()
    index = top * width + left
    a, b = flat[index].astype(np.float32), flat[index + 1].astype(np.float32)
    c, d = flat[index + width].astype(np.float32), flat[index + width + 1].astype(np.float32)
    upper = a + (b - a) * fx
    lower = c + (d - c) * fx
    return np.asarray(upper + (lower - upper) * fy)


def module_centres(size: int) -> Points:
    """Each module's centre (x, y) of a `size`-module symbol, in module coordinates."""
    centres = np.arange(size) + 0.5
    my, mx = np.meshgrid(centres, centres, indexing="ij")
    return np.stack([mx, my], axis=-1)


def refined_values(
    gray: GrayFrame,
    to_image: Matrix,
    size: int,
    *,
    centres: Points | None = None,
    block: int = 5,
    rounds: int = 2,
) -> Values:
    """Module-centre grey levels with each `block`-square of modules shifted (within half a
    module, coarse to fine) to where its module edges contrast most, the shifts smoothed across
    blocks: a curved or wrinkled symbol drifts off any one projective map. `centres`: where
    to start (module coordinates), by default each module's centre under the map."""
    centres = module_centres(size) if centres is None else centres
    shift = np.zeros_like(centres)
    blocks = -(-size // block)
    padded = blocks * block
    position = np.clip(
        np.interp(np.arange(size) + 0.5, (np.arange(blocks) + 0.5) * block, np.arange(blocks)),
        0,
        blocks - 1,
    )
    low = np.floor(position).astype(np.intp)
    high = np.minimum(low + 1, blocks - 1)
    weight = position - low
    reach, step = 0.4, 0.2
    for _ in range(rounds):
        offsets = np.arange(-reach, reach + 1e-9, step)
        oy, ox = np.meshgrid(offsets, offsets, indexing="ij")
        tries = np.stack([ox.ravel(), oy.ravel()], axis=1)
        # the map is near enough to affine within a module or two of each centre: its local
        # axes place every try without projecting each one
        anchor = project_points(to_image, centres + shift)
        unit_x = project_points(to_image, centres + shift + (0.5, 0.0)) - anchor
        unit_y = project_points(to_image, centres + shift + (0.0, 0.5)) - anchor
        # contrast across each module's left and top edges: the grid's lines sit on the
        # symbol's edges where the two samples straddling them differ most
        edges = np.zeros((len(tries), padded, padded), dtype=np.float32)
        for axis in (0, 1):
            straddles = []
            for reach_out in (0.5 - _STRADDLE, 0.5 + _STRADDLE):
                moved = tries.copy()
                moved[:, axis] -= reach_out
                points = (
                    anchor[None]
                    + 2.0 * moved[:, 0, None, None, None] * unit_x[None]
                    + 2.0 * moved[:, 1, None, None, None] * unit_y[None]
                )
                straddles.append(bilinear(gray, points))
            edges[:, :size, :size] += np.abs(straddles[0] - straddles[1])
        contrast = edges.reshape(len(tries), blocks, block, blocks, block).sum(axis=(2, 4))
        # a small pull towards no shift, so a flat block keeps the map's own position
        contrast -= 0.05 * (tries**2).sum(axis=1)[:, None, None] * contrast.max(axis=0)[None]
        field = tries[np.argmax(contrast, axis=0)]
        edge = np.pad(field, ((1, 1), (1, 1), (0, 0)), mode="edge")
        smooth = (
            2.0 * edge[1:-1, 1:-1]
            + edge[:-2, 1:-1]
            + edge[2:, 1:-1]
            + edge[1:-1, :-2]
            + edge[1:-1, 2:]
        ) / 6.0
        rows = smooth[low] * (1 - weight)[:, None, None] + smooth[high] * weight[:, None, None]
        shift += rows[:, low] * (1 - weight)[None, :, None] + rows[:, high] * weight[None, :, None]
        reach, step = reach / 2.0, step / 2.0
    return bilinear(gray, project_points(to_image, centres + shift))


def _timing_edges(gray: GrayFrame, to_image: Matrix, size: int, axis: int) -> Points | None:
    """Where the edges of the timing pattern along `axis` (0: row 6, 1: column 6) lie, in the
    map's module coordinates: one per module boundary from the finder's separator to the
    other's, or None when they cannot all be told apart."""
    steps = np.arange(6.0, size - 6.0, 0.05)
    profile = np.zeros(len(steps), dtype=np.float32)
    for across in (6.3, 6.5, 6.7):
        line = np.stack([steps, np.full_like(steps, across)], axis=-1)
        profile += bilinear(gray, project_points(to_image, line if axis == 0 else line[:, ::-1]))
    level = (np.percentile(profile, 90) + np.percentile(profile, 10)) / 2.0
    dark = profile < level
    flips = np.flatnonzero(dark[1:] != dark[:-1])
    if len(flips) < 8 or not dark[0] or not dark[-1]:
        return None
    return np.asarray(steps[flips] + 0.025)


def timing_centres(gray: GrayFrame, to_image: Matrix, size: int) -> tuple[int, Points] | None:
    """The symbol's size and module centres (in the map's module coordinates) as its timing
    patterns space them: on a code wrapped round a can or a curled page the modules are not
    evenly spaced, but the timing pattern's alternate modules show where each column and row
    lies. None when neither timing pattern can be followed, or the two disagree on the size."""
    axes = [_timing_edges(gray, to_image, size, axis) for axis in (0, 1)]
    sizes = {len(edges) + 13 for edges in axes if edges is not None}
    if len(sizes) != 1:
        return None
    measured = sizes.pop()
    if measured < 21 or measured % 4 != 1:
        return None
    target = np.arange(measured) + 0.5
    evenly = 3.5 + (target - 3.5) * (size - 7.0) / (measured - 7.0)
    knots = np.concatenate(([3.5], np.arange(7.0, measured - 6.0), [measured - 3.5]))
    spacing = []
    for edges in axes:
        seen = None if edges is None else np.concatenate(([3.5], edges, [size - 3.5]))
        if seen is None or np.any(np.diff(seen) <= 0):
            spacing.append(evenly)
            continue
        between = np.interp(target, knots, seen)
        spacing.append(np.where((target < 3.5) | (target > measured - 3.5), evenly, between))
    columns, rows = spacing
    my, mx = np.meshgrid(rows, columns, indexing="ij")
    return measured, np.stack([mx, my], axis=-1)


def otsu(values: Values) -> float:
    """The threshold that best splits `values` in two (Otsu's between-class variance)."""
    ordered = np.sort(values.ravel()).astype(np.float64)
    count = len(ordered)
    below = np.arange(1, count)
    sums = np.cumsum(ordered)
    low_mean = sums[:-1] / below
    high_mean = (sums[-1] - sums[:-1]) / (count - below)
    between = below * (count - below) * (low_mean - high_mean) ** 2
    split = int(np.argmax(between))
    return float((ordered[split] + ordered[split + 1]) / 2.0)


def _thresholds(values: Values) -> list[npt.NDArray[np.floating[Any]]]:
    """One threshold for the symbol, the mean of each 9x9-module neighbourhood, and half-way
    between (glare and shadow change the level across a symbol)."""
    overall = np.full_like(values, otsu(values))
    local = box_sums(values, 4, outside="edge") / 81.0
    return [overall, (local + overall) / 2.0, local]


def _render(bits: Bits) -> GrayFrame:
    """The grid as a clean symbol: black modules on white, quiet zone, 2 pixels a module."""
    size = bits.shape[0] + 2 * _QUIET
    image = np.full((size, size), 255, dtype=np.uint8)
    image[_QUIET:-_QUIET, _QUIET:-_QUIET][bits] = 0
    return np.repeat(np.repeat(image, _PIXELS_PER_MODULE, axis=0), _PIXELS_PER_MODULE, axis=1)


def _read_clean(grid: Bits) -> bytes | None:
    found = read_zxing(_render(grid), binarizer="fixed", try_harder=False, pure=True)
    return found.codes[0].raw if found.codes else None


def _read_pure(bits: Bits) -> bytes | None:
    """The grid read as sampled, then with its fixed parts redrawn, as is and transposed (a
    symbol seen mirrored, through glass or a screen)."""
    for grid in (bits, bits.T):
        raw = _read_clean(grid)
        if raw is None and layout.version_of(grid.shape[0]) is not None:
            raw = _read_clean(layout.redrawn(grid, layout.format_information(grid)))
        if raw is not None:
            return raw
    return None


def _read_erasing(bits: Bits, unsure: Values) -> bytes | None:
    """The symbol read with its blocks corrected here, the least sure codewords erased; as
    sampled or transposed, whichever has the nearer format information."""
    version = layout.version_of(bits.shape[0])
    if version is None:
        return None
    views = [(bits, unsure), (bits.T, unsure.T)]
    formats = [layout.nearest_format(grid) for grid, _ in views]
    nearest = min(distance for _, distance in formats)
    for (grid, doubt), (format_data, distance) in zip(views, formats, strict=True):
        if distance > layout.FORMAT_REACH or distance > nearest:
            continue
        fixed = codewords.corrected(grid, doubt, version, format_data)
        if fixed is not None:
            raw = _read_clean(layout.redrawn(fixed, format_data))
            if raw is not None:
                return raw
    return None


def read_values(values: Values, *, erasing: bool = True) -> bytes | None:
    """The symbol's bytes from its modules' grey levels, under the first thresholding that
    decodes, or None. With `erasing`, a symbol that does not decode as thresholded is then
    corrected with its least sure modules' codewords erased."""
    thresholds = _thresholds(values)
    for threshold in thresholds:
        raw = _read_pure(values < threshold)
        if raw is not None:
            return raw
    if not erasing:
        return None
    spread = max(float(np.percentile(values, 90) - np.percentile(values, 10)), 1.0)
    for threshold in thresholds:
        unsure = (-np.abs(values - threshold) / spread).astype(np.float32)
        raw = _read_erasing(values < threshold, unsure)
        if raw is not None:
            return raw
    return None
