"""Symbols read from finder patterns of their own: grouped, grid sampled where edges are."""

from __future__ import annotations

import itertools
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import zxingcpp

from edge.ports import GrayFrame
from edge.scan import preprocess as pp
from edge.scan.decoders import DecodedCode, Detection, Quad, bytes_to_text, map_quad
from edge.scan.rectify import Matrix, homography, project_points

log = logging.getLogger(__name__)

Points = npt.NDArray[np.float64]
Values = npt.NDArray[np.float32]
Bits = npt.NDArray[np.bool_]

MAX_FINDERS = 5  # the most-voted finder candidates grouped into symbols (at most 60 orderings)
MAX_GROUPINGS = 8  # groupings whose grids are sampled, squarest and best-voted first
MAX_SYMBOLS = 3  # groupings whose grids are read at most, best sampled first
PROMPT_QUALITY = 0.1  # a grid with at most this many errors per module of its side is read at once
DETECTION_SIDE = 720  # a larger image is searched for finder patterns at half size
_RUN_TOLERANCE = 0.7  # a run may differ from its ideal by this many modules' share
_QUIET = 4
_QR: Any = zxingcpp.BarcodeFormat.QRCode
_PIXELS_PER_MODULE = 2
_FORMAT_MASK = 0x5412
_STRADDLE = 0.2  # module fraction each side of an edge sampled to measure its contrast
_FORMAT_GENERATOR = 0x537


@dataclass(frozen=True)
class Finder:
    """A finder pattern's centre (pixels), its module size and how many runs voted for it."""

    x: float
    y: float
    module: float
    votes: int


def dark_mask(gray: GrayFrame, block: int) -> Bits:
    """Pixels darker than the mean of about the `block`-wide square around them (the means
    taken over cells of a sixteenth of the block, which is all a threshold this coarse needs)."""
    height, width = gray.shape[:2]
    step = max(1, block // 16)
    tall, wide = -(-height // step) * step, -(-width // step) * step
    padded = np.pad(gray, ((0, tall - height), (0, wide - width)), mode="edge")
    cells = padded.reshape(tall // step, step, wide // step, step).mean(
        axis=(1, 3), dtype=np.float32
    )
    reach = max(1, block // (2 * step))
    extended = np.pad(cells, reach, mode="edge")
    sums = np.zeros((extended.shape[0] + 1, extended.shape[1] + 1), dtype=np.float32)
    sums[1:, 1:] = extended.cumsum(axis=0).cumsum(axis=1)
    side = 2 * reach + 1
    means = (
        sums[side:, side:] - sums[:-side, side:] - sums[side:, :-side] + sums[:-side, :-side]
    ) / (side * side)
    local = np.repeat(np.repeat(means.astype(np.float32), step, axis=0), step, axis=1)[
        :height, :width
    ]
    dark = gray < local
    # where the block is flat (inside a finder's 3-module centre, wider than the block) the
    # local mean says nothing: the image's own mean decides
    local -= gray
    flat = np.abs(local) < 4.0
    dark[flat] = gray[flat] < float(gray.mean())
    return np.asarray(dark)


def _runs(dark: Bits) -> tuple[npt.NDArray[np.intp], ...]:
    """Every run along the rows of `dark`: its row, first column, length and colour."""
    width = dark.shape[1]
    change = np.ones(dark.shape, dtype=bool)
    np.not_equal(dark[:, 1:], dark[:, :-1], out=change[:, 1:])
    rows, starts = np.nonzero(change)
    ends = np.empty_like(starts)
    ends[:-1] = starts[1:]
    last = np.ones(len(starts), dtype=bool)
    np.not_equal(rows[1:], rows[:-1], out=last[:-1])
    ends[last] = width
    return rows, starts, ends - starts, dark[rows, starts].astype(np.intp)


def _cross_sections(dark: Bits) -> tuple[npt.NDArray[np.intp], Points, Points, Points]:
    """Runs in the ratio 1:1:3:1:1 (dark first) along the rows: for each, the index of its
    middle run, the middle's centre (x, y) and the module size."""
    rows, starts, lengths, colours = _runs(dark)
    count = len(rows) - 4
    if count <= 0:
        empty = np.zeros(0)
        return np.zeros(0, dtype=np.intp), empty, empty, empty
    first = np.arange(count)
    five = np.stack([lengths[first + k] for k in range(5)]).astype(np.float64)
    module = five.sum(axis=0) / 7.0
    slack = module * _RUN_TOLERANCE
    keep = (rows[first] == rows[first + 4]) & (colours[first] == 1) & (module >= 0.8)
    for k in (0, 1, 3, 4):
        keep &= np.abs(five[k] - module) < slack
    keep &= np.abs(five[2] - 3.0 * module) < 3.0 * slack
    middle = first[keep] + 2
    centre_x = starts[middle] + lengths[middle] / 2.0
    return middle, centre_x, rows[middle] + 0.5, module[keep]


def find_finders(dark: Bits) -> list[Finder]:
    """Finder patterns: 1:1:3:1:1 runs across whose middle a 1:1:3:1:1 run also goes down,
    clustered; most-voted first."""
    height, width = dark.shape
    _, across_x, across_y, across_module = _cross_sections(dark)
    down_middle, down_y, _, down_module = _cross_sections(np.ascontiguousarray(dark.T))
    if len(across_x) == 0 or len(down_y) == 0:
        return []
    columns = np.ascontiguousarray(dark.T)
    change = np.ones(columns.shape, dtype=bool)
    np.not_equal(columns[:, 1:], columns[:, :-1], out=change[:, 1:])
    run_of_pixel = np.cumsum(change.ravel()).reshape(columns.shape) - 1
    down_of_run = np.full(int(run_of_pixel[-1, -1]) + 1, -1, dtype=np.intp)
    down_of_run[down_middle] = np.arange(len(down_middle))
    column = np.clip(across_x.astype(np.intp), 0, width - 1)
    row = np.clip(across_y.astype(np.intp), 0, height - 1)
    down = down_of_run[run_of_pixel[column, row]]
    confirmed = down >= 0
    down = down[confirmed]
    ratio = across_module[confirmed] / down_module[down]
    agree = (ratio > 0.5) & (ratio < 2.0)
    xs = across_x[confirmed][agree]
    ys = down_y[down[agree]]
    modules = (across_module[confirmed][agree] + down_module[down[agree]]) / 2.0
    return _clustered(xs, ys, modules)


def _box_sums(grid: npt.NDArray[np.float64], reach: int) -> npt.NDArray[np.float64]:
    """Sums over the (2 * reach + 1)-square around each cell of `grid`, zero outside."""
    padded = np.pad(grid, ((reach + 1, reach), (reach + 1, reach)))
    sums = padded.cumsum(axis=0).cumsum(axis=1)
    side = 2 * reach + 1
    return np.asarray(
        sums[side:, side:] - sums[:-side, side:] - sums[side:, :-side] + sums[:-side, :-side]
    )


def _clustered(xs: Points, ys: Points, modules: Points) -> list[Finder]:
    """Votes gathered into finders: per octave of module size, the votes of the cells (about a
    module wide) around each cell summed, the best-voted cells kept apart by a finder's width,
    and the votes near each averaged; finders of neighbouring octaves merged."""
    found: list[Finder] = []
    if len(xs) == 0:
        return found
    octave = np.floor(np.log2(np.maximum(modules, 2.0))).astype(np.intp)
    for band in np.flatnonzero(np.bincount(octave)).tolist():
        chosen = octave == band
        cell = float(2**band)
        bx, by, bm = xs[chosen], ys[chosen], modules[chosen]
        cx, cy = (bx / cell).astype(np.intp), (by / cell).astype(np.intp)
        width, height = int(cx.max()) + 1, int(cy.max()) + 1
        counts = np.bincount(cy * width + cx, minlength=height * width).astype(np.float64)
        votes = _box_sums(counts.reshape(height, width), 2)
        occupied = np.flatnonzero(counts)
        ranked = occupied[np.argsort(-votes.ravel()[occupied], kind="stable")]
        kept: list[tuple[int, int]] = []
        for index in ranked.tolist():
            row, column = divmod(index, width)
            if votes[row, column] < 2 or len(kept) == 2 * MAX_FINDERS:
                break
            if any(abs(row - r) <= 4 and abs(column - c) <= 4 for r, c in kept):
                continue
            kept.append((row, column))
            near = (np.abs(cy - row) <= 2) & (np.abs(cx - column) <= 2)
            found.append(
                Finder(
                    float(bx[near].mean()),
                    float(by[near].mean()),
                    float(bm[near].mean()),
                    int(near.sum()),
                )
            )
    return _merged(sorted(found, key=lambda finder: -finder.votes))


def _merged(finders: list[Finder]) -> list[Finder]:
    """Finders found in two octaves (a module size on their border) as one, votes added."""
    merged: list[Finder] = []
    for finder in finders:
        for index, kept in enumerate(merged):
            if (
                abs(finder.x - kept.x) < 1.5 * kept.module
                and abs(finder.y - kept.y) < 1.5 * kept.module
            ):
                total = kept.votes + finder.votes
                merged[index] = Finder(
                    (kept.x * kept.votes + finder.x * finder.votes) / total,
                    (kept.y * kept.votes + finder.y * finder.votes) / total,
                    (kept.module * kept.votes + finder.module * finder.votes) / total,
                    total,
                )
                break
        else:
            merged.append(finder)
    return sorted(merged, key=lambda finder: -finder.votes)


def _edge_distance(dark: Bits, start: Finder, direction: tuple[float, float]) -> float | None:
    """From a finder's centre along `direction`: how far its outer dark ring ends."""
    height, width = dark.shape
    steps = np.arange(0.0, 8.0 * start.module, 0.5)
    xs = np.clip((start.x + direction[0] * steps).astype(np.intp), 0, width - 1)
    ys = np.clip((start.y + direction[1] * steps).astype(np.intp), 0, height - 1)
    line = dark[ys, xs]
    flips = np.flatnonzero(line[1:] != line[:-1])
    if not line[0] or len(flips) < 3:
        return None
    return float(steps[flips[2] + 1])


def _modules_between(dark: Bits, first: Finder, second: Finder) -> float | None:
    """How many modules apart two finders' centres are, measured along the line joining them."""
    dx, dy = second.x - first.x, second.y - first.y
    length = math.hypot(dx, dy)
    if length < 1.0:
        return None
    ux, uy = dx / length, dy / length
    edges = [
        distance
        for finder, (sx, sy) in ((first, (ux, uy)), (second, (-ux, -uy)))
        for sign in (1.0, -1.0)
        if (distance := _edge_distance(dark, finder, (sx * sign, sy * sign))) is not None
    ]
    if not edges:
        return None
    return length / (float(np.median(edges)) / 3.5)


def _versions_near(modules_apart: float) -> list[int]:
    """Symbol sizes (modules) whose finder distance is nearest `modules_apart`, nearest first."""
    estimate = (modules_apart + 7.0 - 17.0) / 4.0
    nearest = round(estimate)
    order = sorted((nearest - 1, nearest, nearest + 1), key=lambda v: abs(v - estimate))
    return [17 + 4 * version for version in order if 1 <= version <= 40]


def bilinear(gray: GrayFrame, points: Points) -> Values:
    """Grey levels of `gray` at sub-pixel `points` (..., 2), edges clamped."""
    height, width = gray.shape[:2]
    x = np.clip(points[..., 0] - 0.5, 0.0, width - 1.001)
    y = np.clip(points[..., 1] - 0.5, 0.0, height - 1.001)
    left, top = x.astype(np.intp), y.astype(np.intp)
    fx, fy = (x - left).astype(np.float32), (y - top).astype(np.float32)
    flat = np.ascontiguousarray(gray).ravel()
    index = top * width + left
    a, b = flat[index].astype(np.float32), flat[index + 1].astype(np.float32)
    c, d = flat[index + width].astype(np.float32), flat[index + width + 1].astype(np.float32)
    upper = a + (b - a) * fx
    lower = c + (d - c) * fx
    return np.asarray(upper + (lower - upper) * fy)


_ALIGNMENT = np.ones((5, 5), dtype=np.float32)  # dark outer ring, light ring, dark centre
_ALIGNMENT[1:4, 1:4] = -1.0
_ALIGNMENT[2, 2] = 1.0
_ALIGNMENT -= _ALIGNMENT.mean()
_ALIGNMENT_NORM = float(np.sqrt((_ALIGNMENT**2).sum()))


def _alignment_guesses(gray: GrayFrame, affine: Matrix, size: int) -> list[tuple[float, float]]:
    """Where the bottom-right alignment pattern most likely is: up to 3 correlation peaks of
    its 5x5-module pattern near where the three finders put it."""
    reach = max(3.0, size / 10.0)
    steps = np.arange(-reach, reach + 1e-9, 0.5)
    oy, ox = np.meshgrid(steps, steps, indexing="ij")
    centre = size - 6.5
    candidates = np.stack([centre + ox.ravel(), centre + oy.ravel()], axis=1)
    ky, kx = np.meshgrid(np.arange(-2.0, 3.0), np.arange(-2.0, 3.0), indexing="ij")
    around = np.stack([kx.ravel(), ky.ravel()], axis=1)
    values = -bilinear(gray, project_points(affine, candidates[:, None, :] + around[None, :, :]))
    values -= values.mean(axis=1, keepdims=True)
    norms = np.sqrt((values**2).sum(axis=1)) * _ALIGNMENT_NORM + 1e-6
    scores = values @ _ALIGNMENT.ravel() / norms
    picked: list[int] = []
    for index in np.argsort(-scores).tolist():
        if scores[index] < 0.3 or len(picked) == 3:
            break
        if all(np.hypot(*(candidates[index] - candidates[other])) > 1.5 for other in picked):
            picked.append(index)
    found = project_points(affine, candidates[picked]) if picked else np.zeros((0, 2))
    return [(float(x), float(y)) for x, y in found]


def _module_centres(size: int) -> Points:
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
    centres = _module_centres(size) if centres is None else centres
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


def _otsu(values: Values) -> float:
    ordered = np.sort(values.ravel()).astype(np.float64)
    count = len(ordered)
    below = np.arange(1, count)
    sums = np.cumsum(ordered)
    low_mean = sums[:-1] / below
    high_mean = (sums[-1] - sums[:-1]) / (count - below)
    between = below * (count - below) * (low_mean - high_mean) ** 2
    split = int(np.argmax(between))
    return float((ordered[split] + ordered[split + 1]) / 2.0)


def _thresholdings(values: Values) -> list[Bits]:
    """Dark modules by one threshold for the symbol, by the mean of each 9x9-module
    neighbourhood, and half-way between (glare and shadow change the level across a symbol)."""
    overall = _otsu(values)
    sums = np.pad(np.pad(values, 4, mode="edge").cumsum(0).cumsum(1), ((1, 0), (1, 0)))
    local = (sums[9:, 9:] - sums[:-9, 9:] - sums[9:, :-9] + sums[:-9, :-9]) / 81.0
    return [values < overall, values < (local + overall) / 2.0, values < local]


def _format_words() -> npt.NDArray[np.int64]:
    words = []
    for data in range(32):
        remainder = data << 10
        for bit in range(14, 9, -1):
            if remainder & (1 << bit):
                remainder ^= _FORMAT_GENERATOR << (bit - 10)
        words.append(((data << 10) | remainder) ^ _FORMAT_MASK)
    return np.array(words, dtype=np.int64)


_FORMAT_WORDS = _format_words()


_POPCOUNT = np.zeros(1 << 15, dtype=np.uint8)  # set bits of every 15-bit word
for _bit in range(15):
    _POPCOUNT += ((np.arange(1 << 15) >> _bit) & 1).astype(np.uint8)
_BIT_WEIGHTS = 1 << np.arange(14, -1, -1)
_FIRST_COPY = (
    np.array([8] * 6 + [8, 8, 7] + list(range(5, -1, -1))),
    np.array(list(range(6)) + [7, 8, 8] + [8] * 6),
)


def _format_distance(bits: Bits, cells: tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]) -> int:
    """Bit errors between the format information read at `cells` and the nearest valid word."""
    word = int(bits[cells].astype(np.int64) @ _BIT_WEIGHTS)
    return int(_POPCOUNT[_FORMAT_WORDS ^ word].min())


def grid_quality(bits: Bits) -> int:
    """How far a sampled grid is from a symbol's fixed parts: timing-pattern modules wrong plus
    the bit errors of the nearer format-information copy (0 for a perfect grid)."""
    size = bits.shape[0]
    span = np.arange(8, size - 8)
    expected = span % 2 == 0
    timing = int((bits[6, span] != expected).sum() + (bits[span, 6] != expected).sum())
    second = (
        np.concatenate((np.arange(size - 1, size - 8, -1), np.full(8, 8))),
        np.concatenate((np.full(7, 8), np.arange(size - 8, size))),
    )
    return timing + min(_format_distance(bits, _FIRST_COPY), _format_distance(bits, second))


def _render(bits: Bits) -> GrayFrame:
    """The grid as a clean symbol: black modules on white, quiet zone, 2 pixels a module."""
    size = bits.shape[0] + 2 * _QUIET
    image = np.full((size, size), 255, dtype=np.uint8)
    image[_QUIET:-_QUIET, _QUIET:-_QUIET][bits] = 0
    return np.repeat(np.repeat(image, _PIXELS_PER_MODULE, axis=0), _PIXELS_PER_MODULE, axis=1)


def _read_pure(bits: Bits) -> bytes | None:
    for grid in (bits, bits.T):  # the transpose: a symbol seen mirrored (through glass, a screen)
        try:
            found = zxingcpp.read_barcodes(
                _render(grid),
                formats=_QR,
                try_rotate=False,
                try_downscale=False,
                try_invert=False,
                is_pure=True,
                binarizer=zxingcpp.Binarizer.FixedThreshold,
                text_mode=zxingcpp.TextMode.Plain,
            )
        except Exception as exc:  # noqa: BLE001 - a decoder fault must never stop the scanner
            log.debug("zxing-cpp failed on a sampled grid: %r", exc)
            continue
        for symbol in found:
            if symbol.valid:
                return bytes(symbol.bytes)
    return None


def _read_values(values: Values) -> bytes | None:
    for bits in _thresholdings(values):
        raw = _read_pure(bits)
        if raw is not None:
            return raw
    return None


def _groupings(finders: list[Finder]) -> list[tuple[Finder, Finder, Finder]]:
    """Triples of finders that could be one symbol's (top-left, top-right, bottom-left): the
    corner's two sides near a right angle and of like length, at least a symbol apart; the
    squarest and best-voted first."""
    triples: list[tuple[float, tuple[Finder, Finder, Finder]]] = []
    for corner, first, second in itertools.permutations(finders, 3):
        if first.votes < second.votes or (first.votes == second.votes and first.x > second.x):
            continue  # each pair of sides once
        ax, ay = first.x - corner.x, first.y - corner.y
        bx, by = second.x - corner.x, second.y - corner.y
        side_a, side_b = math.hypot(ax, ay), math.hypot(bx, by)
        if min(side_a, side_b) < 10.0 * corner.module or not 0.4 < side_a / side_b < 2.5:
            continue
        if abs(ax * bx + ay * by) / (side_a * side_b) > 0.6:
            continue
        if abs(first.module / second.module - 1.0) > 0.6:
            continue
        # clockwise from top-left in image coordinates: top-right, then bottom-left
        along, down = (first, second) if ax * by - ay * bx > 0 else (second, first)
        squareness = (1.0 - abs(ax * bx + ay * by) / (side_a * side_b)) * min(
            side_a / side_b, side_b / side_a
        )
        triples.append(
            (squareness * (corner.votes + first.votes + second.votes), (corner, along, down))
        )
    triples.sort(key=lambda scored: -scored[0])
    return [triple for _, triple in triples[:MAX_GROUPINGS]]


def _scaled(triple: tuple[Finder, Finder, Finder], factor: float) -> tuple[Finder, Finder, Finder]:
    corner, along, down = (
        Finder(f.x * factor, f.y * factor, f.module * factor, f.votes) for f in triple
    )
    return corner, along, down


def _finder_map(size: int, corner: Finder, along: Finder, down: Finder) -> Matrix:
    """The affine map from module coordinates to the image through the three finder centres."""
    source = np.array([[3.5, 3.5, 1.0], [size - 3.5, 3.5, 1.0], [3.5, size - 3.5, 1.0]])
    target = np.array([[corner.x, corner.y], [along.x, along.y], [down.x, down.y]])
    affine = np.eye(3)
    affine[:2, :] = np.linalg.solve(source, target).T
    return affine


def _aligned_maps(
    gray: GrayFrame, size: int, triple: tuple[Finder, Finder, Finder], affine: Matrix
) -> list[Matrix]:
    """Projective maps for one grouping through the alignment pattern's likeliest places."""
    if size <= 21:
        return []
    corner, along, down = triple
    source = [(3.5, 3.5), (size - 3.5, 3.5), (3.5, size - 3.5), (size - 6.5, size - 6.5)]
    finders = [(corner.x, corner.y), (along.x, along.y), (down.x, down.y)]
    maps = []
    for guess in _alignment_guesses(gray, affine, size):
        try:
            maps.append(homography(source, [*finders, guess]))
        except np.linalg.LinAlgError:
            continue
    return maps


Grid = tuple[float, int, Matrix, Values]  # errors per module of a side, size, map, grey levels


def _graded(gray: GrayFrame, matrix: Matrix, size: int) -> Grid:
    values = bilinear(gray, project_points(matrix, _module_centres(size)))
    return grid_quality(values < _otsu(values)) / (2.0 * size), size, matrix, values


@dataclass
class _Candidate:
    """One grouping's best-sampled grids."""

    triple: tuple[Finder, Finder, Finder]
    grids: list[Grid]


def _sampled(
    gray: GrayFrame, triple: tuple[Finder, Finder, Finder], modules_apart: float
) -> _Candidate | None:
    """The grouping's two best grids, of each likely size through its alignment pattern's
    likeliest places and through the finders' affine map; None when none looks like a symbol."""
    grids: list[Grid] = []
    affine_grids: list[Grid] = []
    for size in _versions_near(modules_apart):
        affine = _finder_map(size, *triple)
        maps = _aligned_maps(gray, size, triple, affine)
        grids += [_graded(gray, matrix, size) for matrix in maps]
        affine_grids.append(_graded(gray, affine, size))
    # on a tie the map through the alignment pattern goes first: it follows perspective
    grids += affine_grids
    grids.sort(key=lambda grid: grid[0])
    return _Candidate(triple, grids[:2]) if grids and grids[0][0] < 0.35 else None


def read_grid(
    gray: GrayFrame,
    scale: float = 1.0,
    offset: tuple[float, float] = (0.0, 0.0),
    time_left: Callable[[], float] = lambda: math.inf,
) -> Detection:
    """Symbols in `gray` read from finder patterns found here (not zxing-cpp's), their grid
    refined where a projective map leaves it blurred; corners mapped by `scale`/`offset`.
    Between groupings and between symbols it asks `time_left` (ms) and stops at 0 with what it
    has read."""
    height, width = gray.shape[:2]
    if min(height, width) < 21:
        return Detection([], [])
    # finders are looked for at half size in a whole frame (a quarter of the work); the grid
    # is sampled at full size
    factor = 2.0 if max(height, width) > DETECTION_SIDE else 1.0
    seen = pp.half(gray) if factor > 1.0 else gray
    dark = dark_mask(seen, max(15, (max(seen.shape[:2]) // 8) | 1))
    finders = find_finders(dark)[:MAX_FINDERS]
    codes: list[DecodedCode] = []
    used: set[Finder] = set()
    later: list[_Candidate] = []

    def read(candidate: _Candidate) -> None:
        raw, matrix, size = _read_candidate(gray, candidate, time_left)
        if raw is None:
            return
        used.update(candidate.triple)
        corners = project_points(
            matrix, np.array([[0.0, 0.0], [size, 0.0], [size, size], [0.0, size]])
        )
        quad: Quad = tuple((float(x), float(y)) for x, y in corners)
        codes.append(DecodedCode(bytes_to_text(raw), raw, "grid", map_quad(quad, scale, offset)))

    for grouped in _groupings(finders):
        triple = _scaled(grouped, factor)
        if time_left() <= 0.0 or len(codes) == MAX_SYMBOLS:
            break
        if used.intersection(triple):
            continue
        corner, along, down = grouped
        apart_a = _modules_between(dark, corner, along)
        apart_b = _modules_between(dark, corner, down)
        if apart_a is None or apart_b is None:
            continue
        candidate = _sampled(gray, triple, (apart_a + apart_b) / 2.0)
        if candidate is None:
            continue
        # a grid that fits its symbol's fixed parts this well is read at once: under a
        # deadline the likeliest symbol must not wait for every other grouping
        if candidate.grids[0][0] <= PROMPT_QUALITY:
            read(candidate)
        else:
            later.append(candidate)
    later.sort(key=lambda candidate: candidate.grids[0][0])
    for candidate in later[: max(0, MAX_SYMBOLS - len(codes))]:
        if time_left() <= 0.0:
            break
        if not used.intersection(candidate.triple):
            read(candidate)
    return Detection(codes, [])


def _read_candidate(
    gray: GrayFrame, candidate: _Candidate, time_left: Callable[[], float]
) -> tuple[bytes | None, Matrix, int]:
    """The grouping's text from its best grid as sampled, refined, or spaced by its timing
    patterns (each dearer than the one before, tried while time is left), else its second."""
    for rank, (_, size, matrix, values) in enumerate(candidate.grids):
        raw = _read_values(values)
        if raw is None and rank == 0 and time_left() > 0.0:
            raw = _read_values(refined_values(gray, matrix, size))
        if raw is None and rank == 0 and time_left() > 0.0:
            timed = timing_centres(gray, matrix, size)
            if timed is not None:
                measured, centres = timed
                raw = _read_values(bilinear(gray, project_points(matrix, centres)))
                if raw is None and time_left() > 0.0:
                    raw = _read_values(refined_values(gray, matrix, measured, centres=centres))
        if raw is not None:
            return raw, matrix, size
    _, size, matrix, _ = candidate.grids[0]
    return None, matrix, size
