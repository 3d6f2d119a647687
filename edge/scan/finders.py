"""Finder patterns found by their 1:1:3:1:1 runs across and down, their votes gathered."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from edge.ports import GrayFrame
from edge.scan.integral import box_sums

Points = npt.NDArray[np.float64]
Bits = npt.NDArray[np.bool_]

MAX_FINDERS = 5  # the most-voted finder candidates kept per octave of module size, halved
_RUN_TOLERANCE = 0.7  # a run may differ from its ideal by this many modules' share


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
    means = box_sums(cells, reach, outside="edge") / (2 * reach + 1) ** 2
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


def _changes(dark: Bits) -> Bits:
    """Where a run starts along the rows of `dark`: each row's first pixel and every change."""
    change = np.ones(dark.shape, dtype=bool)
    np.not_equal(dark[:, 1:], dark[:, :-1], out=change[:, 1:])
    return change


def _runs(dark: Bits, change: Bits) -> tuple[npt.NDArray[np.intp], ...]:
    """Every run along the rows of `dark` (starting where `change` is set): its row, first
    column, length and colour."""
    width = dark.shape[1]
    rows, starts = np.nonzero(change)
    ends = np.empty_like(starts)
    ends[:-1] = starts[1:]
    last = np.ones(len(starts), dtype=bool)
    np.not_equal(rows[1:], rows[:-1], out=last[:-1])
    ends[last] = width
    return rows, starts, ends - starts, dark[rows, starts].astype(np.intp)


def _cross_sections(
    dark: Bits, change: Bits
) -> tuple[npt.NDArray[np.intp], Points, Points, Points]:
    """Runs in the ratio 1:1:3:1:1 (dark first) along the rows: for each, the index of its
    middle run, the middle's centre (x, y) and the module size."""
    rows, starts, lengths, colours = _runs(dark, change)
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
    _, across_x, across_y, across_module = _cross_sections(dark, _changes(dark))
    columns = np.ascontiguousarray(dark.T)
    down_change = _changes(columns)
    down_middle, down_y, _, down_module = _cross_sections(columns, down_change)
    if len(across_x) == 0 or len(down_y) == 0:
        return []
    # the runs down the columns are numbered in the order _runs found them
    run_of_pixel = np.cumsum(down_change.ravel()).reshape(columns.shape) - 1
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
        votes = box_sums(counts.reshape(height, width), 2)
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


def modules_between(dark: Bits, first: Finder, second: Finder) -> float | None:
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
