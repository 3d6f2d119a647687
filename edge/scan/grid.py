"""Symbols read from finder patterns of their own: grouped by geometry, their grid sampled."""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from edge.ports import GrayFrame
from edge.scan import modules as sampling
from edge.scan import preprocess as pp
from edge.scan.decoders import (
    DecodedCode,
    Detection,
    LocatedGrid,
    Quad,
    bytes_to_text,
    map_quad,
)
from edge.scan.finders import (
    MAX_FINDERS,
    Bits,
    Finder,
    dark_mask,
    find_finders,
    modules_between,
)
from edge.scan.layout import ALIGNMENT, grid_quality, size_of
from edge.scan.modules import Points, Values, bilinear, module_centres, read_values
from edge.scan.rectify import Matrix, homography, project_points
from edge.scan.stepcost import StepCosts

MAX_GROUPINGS = 8  # groupings whose grids are sampled, squarest and best-voted first
MAX_SYMBOLS = 3  # groupings whose grids are read at most, best sampled first
PROMPT_QUALITY = 0.1  # a grid with at most this many errors per module of its side is read at once
PLACING_QUALITY = 0.25  # a grouping with a placed finder this near a symbol has it placed better
MAX_PAIRED = 4  # best-voted finders paired when a symbol's third finder may be missing
MAX_COMPLETED = 4  # groupings with a placed finder sampled at most
# ms fixed and per module (a side squared) of a grid's steps as measured on the development
# machine (2 cores): what they are expected to cost before they have run on a size here
STEP_COSTS = StepCosts({"read": (3.0, 0.0003), "erase": (5.0, 0.001), "refine": (3.0, 0.007)})
DETECTION_SIDE = 720  # a larger image is searched for finder patterns at half size


def _versions_near(modules_apart: float) -> list[int]:
    """Symbol sizes (modules) whose finder distance is nearest `modules_apart`, nearest first."""
    estimate = (modules_apart + 7.0 - 17.0) / 4.0
    nearest = round(estimate)
    order = sorted((nearest - 1, nearest, nearest + 1), key=lambda v: abs(v - estimate))
    return [size_of(version) for version in order if 1 <= version <= 40]


_ALIGNMENT = np.where(ALIGNMENT, 1.0, -1.0).astype(np.float32)  # a correlation kernel
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
        skew = abs(ax * bx + ay * by) / (side_a * side_b)  # |cos| of the corner's angle
        if skew > 0.6:
            continue
        if not _like_modules(first, second):
            continue
        squareness = (1.0 - skew) * min(side_a / side_b, side_b / side_a)
        triples.append(
            (
                squareness * (corner.votes + first.votes + second.votes),
                _clockwise(corner, first, second),
            )
        )
    triples.sort(key=lambda scored: -scored[0])
    return [triple for _, triple in triples[:MAX_GROUPINGS]]


def _like_modules(first: Finder, second: Finder) -> bool:
    """Whether two finders' module sizes are alike enough to be one symbol's."""
    return abs(first.module / second.module - 1.0) <= 0.6


def _clockwise(corner: Finder, first: Finder, second: Finder) -> tuple[Finder, Finder, Finder]:
    """The corner finder and the other two clockwise from it in image coordinates: (top-left,
    top-right, bottom-left) as the symbol is oriented."""
    ax, ay = first.x - corner.x, first.y - corner.y
    bx, by = second.x - corner.x, second.y - corner.y
    return (corner, first, second) if ax * by - ay * bx > 0 else (corner, second, first)


def _completions(
    finders: list[Finder], dark: Bits
) -> list[tuple[tuple[Finder, Finder, Finder], float]]:
    """Groupings for symbols whose third finder pattern was not found (glare on it, a
    thumb): each pair of like finders as a side or as the diagonal, the missing one placed
    where a square symbol has it; with how many modules apart the pair says the finders are."""
    height, width = dark.shape[:2]
    strongest = sorted(finders, key=lambda f: -f.votes)[:MAX_PAIRED]
    found: list[tuple[tuple[Finder, Finder, Finder], float]] = []
    for first, second in itertools.combinations(strongest, 2):
        if not _like_modules(first, second):
            continue
        apart = modules_between(dark, first, second)
        if apart is None or not 10.0 <= apart <= 180.0:
            continue
        dx, dy = second.x - first.x, second.y - first.y
        module = (first.module + second.module) / 2.0
        placements = [  # (where the missing finder is, whether the pair is the diagonal)
            (first.x + sign * dy, first.y - sign * dx, False) for sign in (1.0, -1.0)
        ] + [(second.x + sign * dy, second.y - sign * dx, False) for sign in (1.0, -1.0)]
        middle_x, middle_y = (first.x + second.x) / 2.0, (first.y + second.y) / 2.0
        placements += [
            (middle_x + sign * dy / 2.0, middle_y - sign * dx / 2.0, True) for sign in (1.0, -1.0)
        ]
        for x, y, diagonal in placements:
            inside = 3.5 * module <= x <= width - 3.5 * module
            if not inside or not 3.5 * module <= y <= height - 3.5 * module:
                continue
            if any(math.hypot(f.x - x, f.y - y) < 4.0 * module for f in finders):
                continue  # a finder found there: the pair's groupings already had it
            missing = Finder(x, y, module, 0)
            corner = missing if diagonal else _nearer(missing, first, second)
            ends = [f for f in (first, second, missing) if f is not corner]
            triple = _clockwise(corner, ends[0], ends[1])
            found.append((triple, apart / math.sqrt(2.0) if diagonal else apart))
    return found


def _placed(
    gray: GrayFrame,
    triple: tuple[Finder, Finder, Finder],
    size: int,
    time_left: Callable[[], float] = lambda: math.inf,
) -> tuple[Finder, Finder, Finder]:
    """The grouping with its placed finder (no votes) moved, within two modules, to where the
    grid through the three best fits the symbol's fixed parts: a square's corner is only a
    guess on a symbol seen at an angle."""
    placed = next(i for i, finder in enumerate(triple) if finder.votes == 0)
    best = (_graded(gray, _finder_map(size, *triple), size)[0], triple)
    for step in (1.0, 0.5):
        if time_left() <= 0.0:
            break
        centre = best[1][placed]
        for dx, dy in itertools.product((-2.0 * step, -step, 0.0, step, 2.0 * step), repeat=2):
            moved = list(best[1])
            moved[placed] = Finder(
                centre.x + dx * centre.module, centre.y + dy * centre.module, centre.module, 0
            )
            tried = (moved[0], moved[1], moved[2])
            quality = _graded(gray, _finder_map(size, *tried), size)[0]
            if quality < best[0]:
                best = (quality, tried)
    return best[1]


def _nearer(missing: Finder, first: Finder, second: Finder) -> Finder:
    """Of a side's two finders, the one at the corner: the one nearer the missing finder."""
    near_first = math.hypot(first.x - missing.x, first.y - missing.y)
    near_second = math.hypot(second.x - missing.x, second.y - missing.y)
    return first if near_first < near_second else second


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
    values = bilinear(gray, project_points(matrix, module_centres(size)))
    return grid_quality(values < sampling.otsu(values)) / (2.0 * size), size, matrix, values


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
        found = _read_grids(gray, candidate.grids, time_left)
        if found is None:
            return
        raw, (_, size, matrix, _) = found
        used.update(candidate.triple)
        corners = project_points(
            matrix, np.array([[0.0, 0.0], [size, 0.0], [size, size], [0.0, size]])
        )
        quad: Quad = tuple((float(x), float(y)) for x, y in corners)
        codes.append(DecodedCode(bytes_to_text(raw), raw, "grid", map_quad(quad, scale, offset)))

    def read_best(candidates: list[_Candidate]) -> None:
        candidates.sort(key=lambda candidate: candidate.grids[0][0])
        for candidate in candidates[: max(0, MAX_SYMBOLS - len(codes))]:
            if time_left() <= 0.0:
                break
            if not used.intersection(candidate.triple):
                read(candidate)

    for grouped in _groupings(finders):
        triple = _scaled(grouped, factor)
        if time_left() <= 0.0 or len(codes) == MAX_SYMBOLS:
            break
        if used.intersection(triple):
            continue
        corner, along, down = grouped
        apart_a = modules_between(dark, corner, along)
        apart_b = modules_between(dark, corner, down)
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
    read_best(later)
    # then symbols with a finder pattern missing, once every grouping of found ones was tried
    if len(codes) < MAX_SYMBOLS:
        read_best(_completed(gray, finders, dark, factor, used=used, time_left=time_left))
    return Detection(codes, [])


def _completed(
    gray: GrayFrame,
    finders: list[Finder],
    dark: Bits,
    factor: float,
    *,
    used: set[Finder],
    time_left: Callable[[], float],
) -> list[_Candidate]:
    """Candidates for symbols with a finder pattern missing: the likeliest few by their
    finders' affine grid (cheap), their placed finder then moved to where the grid fits best
    and their grids sampled as any grouping's."""
    hopeful: list[tuple[float, int, tuple[Finder, Finder, Finder], float]] = []
    for grouped, apart in _completions(finders, dark):
        triple = _scaled(grouped, factor)
        if time_left() <= 0.0:
            break
        if used.intersection(triple):
            continue
        graded = [
            (_graded(gray, _finder_map(size, *triple), size)[0], size)
            for size in _versions_near(apart)
        ]
        if graded and min(graded)[0] <= PLACING_QUALITY:
            quality, size = min(graded)
            hopeful.append((quality, size, triple, apart))
    completed: list[_Candidate] = []
    for _, size, triple, apart in sorted(hopeful, key=lambda hope: hope[0])[:MAX_COMPLETED]:
        if time_left() <= 0.0:
            break
        candidate = _sampled(gray, _placed(gray, triple, size, time_left), apart)
        if candidate is not None:
            completed.append(candidate)
    return completed


def read_located(
    gray: GrayFrame,
    located: LocatedGrid,
    time_left: Callable[[], float] = lambda: math.inf,
) -> Detection:
    """The symbol another decoder located and sized but could not read, read from its grid
    through the located corners (outer corners, top-left first, as the symbol is oriented)."""
    size = located.size
    if min(gray.shape[:2]) < 21 or not _plausible(located.quad, size):
        return Detection([], [])
    corners = [(0.0, 0.0), (float(size), 0.0), (float(size), float(size)), (0.0, float(size))]
    try:
        matrix = homography(corners, list(located.quad))
    except np.linalg.LinAlgError:
        return Detection([], [])
    values = bilinear(gray, project_points(matrix, module_centres(size)))
    found = _read_grids(gray, [(0.0, size, matrix, values)], time_left)
    if found is None:
        return Detection([], [])
    raw = found[0]
    return Detection([DecodedCode(bytes_to_text(raw), raw, "grid", located.quad)], [])


def _plausible(quad: Quad, size: int) -> bool:
    """Whether `quad` can be a symbol `size` modules a side: convex, turning one way, and no
    side under half a pixel a module (its map then has no vanishing line near the symbol)."""
    corners = np.asarray(quad, dtype=np.float64)
    if corners.shape != (4, 2) or not np.isfinite(corners).all():
        return False
    sides = np.roll(corners, -1, axis=0) - corners
    turns = (
        sides[:, 0] * np.roll(sides, -1, axis=0)[:, 1]
        - sides[:, 1] * np.roll(sides, -1, axis=0)[:, 0]
    )
    lengths = np.hypot(sides[:, 0], sides[:, 1])
    return bool((np.all(turns > 0) or np.all(turns < 0)) and lengths.min() >= size / 2.0)


def _read_grids(
    gray: GrayFrame, grids: list[Grid], time_left: Callable[[], float]
) -> tuple[bytes, Grid] | None:
    """The text of the first grid that reads as sampled, refined, or spaced by its timing
    patterns (the first grid only; each dearer than the one before), with the grid it came
    from; each step started only when what it is expected to cost is left."""

    def read(values: Values, size: int) -> bytes | None:
        erasing = STEP_COSTS.fits("erase", size, time_left())
        return STEP_COSTS.run(
            "erase" if erasing else "read", size, lambda: read_values(values, erasing=erasing)
        )

    def refined(matrix: Matrix, size: int, centres: Points | None = None) -> Values | None:
        if not STEP_COSTS.fits("refine", size, time_left()):
            return None
        return STEP_COSTS.run(
            "refine", size, lambda: sampling.refined_values(gray, matrix, size, centres=centres)
        )

    for rank, grid in enumerate(grids):
        _, size, matrix, values = grid
        raw = read(values, size)
        if raw is None and rank == 0 and (sharper := refined(matrix, size)) is not None:
            raw = read(sharper, size)
        if raw is None and rank == 0 and time_left() > 0.0:
            timed = sampling.timing_centres(gray, matrix, size)
            if timed is not None:
                measured, centres = timed
                raw = read(bilinear(gray, project_points(matrix, centres)), measured)
                if raw is None and (sharper := refined(matrix, measured, centres)) is not None:
                    raw = read(sharper, measured)
        if raw is not None:
            return raw, grid
    return None
