"""The decoder chain: zxing-cpp first, then measured fallback passes inside a time budget."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Container, Sequence
from dataclasses import dataclass, field

from edge.ports import GrayFrame
from edge.scan import preprocess as pp
from edge.scan.decoders import (
    DecodedCode,
    Detection,
    LocatedGrid,
    Quad,
    read_pyzbar,
    read_zxing,
)
from edge.scan.rectify import keystoned_pass
from edge.scan.stats import followed_cost

log = logging.getLogger(__name__)

REFERENCE_PIXELS = 1280 * 720
ZOOM_CAP = 1280  # longest side of an upscaled region, so a region pass costs at most a frame pass

Pass = tuple[str, Callable[[GrayFrame, float, tuple[float, float]], Detection]]
AnytimeRun = Callable[[GrayFrame, float, tuple[float, float], Callable[[], float]], Detection]
ANYTIME_FLOOR_MS = 15.0  # what an anytime pass needs left to find anything before it stops
# an anytime pass is told its time runs out this much early: the step it is in when it asks
# (a grid's erasures, a finder search) is not interrupted and must end within the budget
ANYTIME_MARGIN_MS = 6.0
LOCATED_FLOOR_MS = 10.0  # what reading a located symbol's grid needs left to be worth starting


@dataclass(frozen=True)
class Anytime:
    """A pass whose cost depends on what it finds, not on the image's size: it takes the time
    left in the frame's budget and stops itself there, so it needs no cost estimate."""

    run: AnytimeRun

    def __call__(self, gray: GrayFrame, scale: float, offset: tuple[float, float]) -> Detection:
        """The pass with no time limit (a still checked with no budget)."""
        return self.run(gray, scale, offset, lambda: math.inf)


def _zx(
    transform: pp.Transform | None = None, binarizer: str = "local"
) -> Callable[[GrayFrame, float, tuple[float, float]], Detection]:
    def run(gray: GrayFrame, scale: float, offset: tuple[float, float]) -> Detection:
        image = transform(gray) if transform is not None else gray
        return read_zxing(image, binarizer=binarizer, scale=scale, offset=offset)

    return run


def _zoomed(
    factor: float, run: Callable[[GrayFrame, float, tuple[float, float]], Detection]
) -> Callable[[GrayFrame, float, tuple[float, float]], Detection]:
    """`run` on the region upscaled by `factor`: modules a few pixels wide, smeared by blur or
    eaten by glare, get enough pixels for the binariser to find their edges again."""

    def run_zoomed(gray: GrayFrame, scale: float, offset: tuple[float, float]) -> Detection:
        image, zoom = pp.zoom(gray, factor, ZOOM_CAP)
        return run(image, scale * zoom, offset)

    return run_zoomed


def _zx_half(gray: GrayFrame, scale: float, offset: tuple[float, float]) -> Detection:
    return read_zxing(pp.half(gray), scale=scale * 0.5, offset=offset)


def _grid(
    gray: GrayFrame, scale: float, offset: tuple[float, float], time_left: Callable[[], float]
) -> Detection:
    from edge.scan.grid import read_grid  # noqa: PLC0415 - loaded when its round first runs

    return read_grid(gray, scale, offset, time_left)


def _located(located: LocatedGrid) -> AnytimeRun:
    def run(
        gray: GrayFrame, scale: float, offset: tuple[float, float], time_left: Callable[[], float]
    ) -> Detection:
        from edge.scan.grid import read_located  # noqa: PLC0415 - loaded when first needed

        return read_located(gray, located, time_left)

    return run


def _zbar(
    transform: pp.Transform | None = None,
) -> Callable[[GrayFrame, float, tuple[float, float]], Detection]:
    def run(gray: GrayFrame, scale: float, offset: tuple[float, float]) -> Detection:
        image = transform(gray) if transform is not None else gray
        return read_pyzbar(image, scale=scale, offset=offset)

    return run


def _zbar_half(gray: GrayFrame, scale: float, offset: tuple[float, float]) -> Detection:
    return read_pyzbar(pp.half(gray), scale=scale * 0.5, offset=offset)


# Fallback rounds, cheapest and most productive first (order measured on real photos). Each round
# runs its ROI passes on the crop around every symbol zxing-cpp located but could not decode (small
# crops, so a fraction of a full-frame pass), then, while nothing at all is decoded, its passes on
# the whole size-capped frame.
ROUNDS: tuple[tuple[tuple[Pass, ...], tuple[Pass, ...]], ...] = (
    (
        (("roi-plain", _zx()), ("roi-darken", _zx(pp.darken))),
        (
            ("frame-darken", _zx(pp.darken)),
            ("frame-global", _zx(binarizer="global")),
            ("frame-half", _zx_half),
        ),
    ),
    (
        (("roi-clahe", _zx(pp.clahe)), ("roi-sharpen", _zx(pp.sharpen))),
        (("frame-adaptive", _zx(pp.adaptive, "fixed")), ("frame-median", _zx(pp.median))),
    ),
    (
        (
            ("roi-adaptive", _zx(pp.adaptive, "fixed")),
            ("roi-otsu", _zx(pp.otsu)),
            # a code seen at a steep angle, keystoned back (either side may be the nearer)
            ("roi-keystone-left", keystoned_pass("left", 0.35)),
            ("roi-keystone-right", keystoned_pass("right", 0.35)),
        ),
        (("frame-sharpen", _zx(pp.sharpen)), ("frame-clahe", _zx(pp.clahe))),
    ),
    (
        (("roi-pyzbar", _zbar()), ("roi-smooth", _zx(pp.smooth))),
        (
            ("frame-pyzbar-half", _zbar_half),
            ("frame-pyzbar", _zbar()),
            ("frame-clahe-strong", _zx(pp.clahe_strong)),
        ),
    ),
    # regions only, last: they spend what the whole-frame passes of the round a frame names left
    (
        (
            ("roi-zoom-darken", _zoomed(1.5, _zx(pp.darken))),
            ("roi-pyzbar-smooth", _zbar(pp.smooth)),
            ("roi-zoom-sharpen", _zoomed(1.5, _zx(pp.sharpen, "global"))),
            ("roi-zoom-clahe", _zoomed(2.5, _zx(pp.clahe))),
            ("roi-zoom-pyzbar-smooth", _zoomed(2.0, _zbar(pp.smooth))),
        ),
        (),
    ),
    # a curved or wrinkled code: its grid sampled from finder patterns found here, in a round of
    # its own, so the frames that name it give it the budget the first round leaves
    ((("roi-grid", Anytime(_grid)),), (("frame-grid", Anytime(_grid)),)),
)
# Round 0 is cheap (a few ms on a 1280x720 frame) and reads most of what the fallbacks read, so
# it always runs: a busy processor must not make the result depend on the clock.
GUARANTEED_ROUNDS = 1
FIRST_RUN_PATIENCE = 30


@dataclass
class ChainResult:
    """Decoded codes (distinct texts) with the pass that found each, and the cost."""

    codes: list[DecodedCode] = field(default_factory=list)
    passes: list[str] = field(default_factory=list)
    found_by: dict[str, str] = field(default_factory=dict)
    ms: float = 0.0
    located: list[Quad] = field(default_factory=list)
    located_grids: list[LocatedGrid] = field(default_factory=list)  # of those, sized ones
    faulted: list[str] = field(default_factory=list)  # passes that raised on this frame


class DecoderChain:
    """Decodes QR codes in a grayscale frame as reliably as a per-frame time budget allows."""

    def __init__(
        self,
        budget_ms: float = 40.0,
        *,
        fallbacks: bool = True,
        frame_side: int = 1280,
        roi_side: int = 640,
        roi_small: int = 360,
        max_rois: int = 3,
        timer: Callable[[], float] = time.perf_counter,
        scale_budget: bool = True,
    ) -> None:
        """`scale_budget`: an image larger than a camera frame of `REFERENCE_PIXELS` gets
        proportionally more budget (stills checked with `gate-edge decode`); off for a live loop,
        whose frames arrive at the camera's rate whatever their size."""
        self.budget_ms = budget_ms
        self._scale_budget = scale_budget
        self.fallbacks = fallbacks
        self._frame_side = frame_side
        self._roi_side = roi_side
        self._roi_small = roi_small
        self._max_rois = max_rois
        self._timer = timer
        # what each pass has cost so far, in ms per megapixel: a later pass starts only when its
        # expected cost fits in what is left of the frame's budget
        self._cost: dict[str, float] = {}
        self._waited: dict[str, int] = {}  # times a pass never run was held back for its budget
        self.faulted: dict[str, int] = {}  # passes that raised, and how often

    def decode(
        self,
        gray: GrayFrame,
        hint: Quad | None = None,
        frame_rounds: Sequence[int] | None = None,
    ) -> ChainResult:
        """Decode `gray`; `hint` is where a code was last seen (tried first, cheaply).

        `frame_rounds` limits the whole-frame fallback passes to those rounds (indices taken
        modulo the number of rounds) and runs those rounds right after the guaranteed ones: a
        live loop names one round per frame, so a code held up for a few frames meets every pass
        first in some frame's budget, while no single frame pays for all of them."""
        start = self._timer()
        result = ChainResult()
        budget_ms = self.budget_ms
        if self._scale_budget:
            budget_ms *= max(1.0, gray.size / REFERENCE_PIXELS)

        def spent_ms() -> float:
            return (self._timer() - start) * 1000.0

        if hint is not None:
            crop = pp.crop_quad(gray, hint, margin=0.5)
            if crop is not None:
                # the code was upright and dark-on-light a frame ago: skip rotations/inversion
                hinted = read_zxing(crop[0], try_harder=False, offset=crop[1])
                self._absorb(result, "hint", hinted)
        # the whole frame even when the hint read its code: another code beside it (a second
        # phone, a document with two) would otherwise never be looked for while one is held
        self._absorb(result, "frame", read_zxing(gray))
        if self.fallbacks:
            rounds = (
                range(len(ROUNDS))
                if frame_rounds is None
                else {index % len(ROUNDS) for index in frame_rounds}
            )
            self._run_fallbacks(gray, result, lambda: budget_ms - spent_ms(), rounds)
        result.ms = spent_ms()
        return result

    def expected_ms(self, name: str, pixels: int) -> float:
        """What pass `name` is expected to cost on an image of `pixels` (0 before its first run)."""
        return self._cost.get(name, 0.0) * pixels / 1e6

    def _fits(
        self,
        name: str,
        pixels: int,
        left_ms: float,
        run: Callable[[GrayFrame, float, tuple[float, float]], Detection],
    ) -> bool:
        if isinstance(run, Anytime):
            return left_ms >= ANYTIME_FLOOR_MS
        if name not in self._cost:
            # a pass never run costs anything from 1 to 70 ms: it first runs in a frame with
            # at least half the budget left, so learning its cost seldom overruns a frame, or
            # after it has waited `FIRST_RUN_PATIENCE` times, so it is never shut out for good
            waited = self._waited.get(name, 0)
            if left_ms >= self.budget_ms / 2.0 or (left_ms > 0.0 and waited >= FIRST_RUN_PATIENCE):
                return True
            self._waited[name] = waited + 1
            return False
        return left_ms > 0.0 and self.expected_ms(name, pixels) <= left_ms

    def _run_pass(
        self,
        name: str,
        run: Callable[[GrayFrame, float, tuple[float, float]], Detection],
        image: GrayFrame,
        scale: float,
        offset: tuple[float, float],
        *,
        left_ms: Callable[[], float],
        result: ChainResult,
    ) -> Detection:
        started = self._timer()
        try:
            if isinstance(run, Anytime):
                detection = run.run(image, scale, offset, lambda: left_ms() - ANYTIME_MARGIN_MS)
            else:
                detection = run(image, scale, offset)
        except Exception:  # a fallback pass's fault costs its reading, not the frame
            # the first round (zxing-cpp and its cheap passes) has read the frame already, so
            # a fault in a later pass loses only what that pass might have read
            if name not in self.faulted:
                log.exception("decoder pass %s failed; the chain goes on without its reading", name)
            self.faulted[name] = self.faulted.get(name, 0) + 1
            result.faulted.append(name)
            detection = Detection([], [])
        per_megapixel = (self._timer() - started) * 1000.0 * 1e6 / max(1, image.size)
        # a pass's running cost is in ms per megapixel, followed at its slow end
        known = self._cost.get(name)
        self._cost[name] = per_megapixel if known is None else followed_cost(known, per_megapixel)
        return detection

    def _run_fallbacks(
        self,
        gray: GrayFrame,
        result: ChainResult,
        left_ms: Callable[[], float],
        frame_rounds: Container[int],
    ) -> None:
        covered: list[Quad] = [code.quad for code in result.codes]
        rois = self._prepare_rois(gray, result.located, covered, self._max_rois)
        frame, frame_scale = pp.resize_to(gray, self._frame_side)
        if max(frame.shape) < self._roi_side:
            frame, frame_scale = pp.scale_for_code(frame, self._roi_side, self._roi_small)
        chosen = [index for index in range(len(ROUNDS)) if index in frame_rounds]
        order = sorted(range(len(ROUNDS)), key=lambda i: (i >= GUARANTEED_ROUNDS, i not in chosen))
        tried: list[Quad] = []
        for round_index in order:
            roi_passes, frame_passes = ROUNDS[round_index]
            guaranteed = round_index < GUARANTEED_ROUNDS
            if not guaranteed:
                self._read_located(gray, result, left_ms, tried)
            room = self._max_rois - len(rois)
            if room > 0:
                # symbols the whole-frame passes located since: their regions get the later rounds
                covered += [code.quad for code in result.codes if code.quad not in covered]
                rois += self._prepare_rois(gray, result.located, covered, room)
            for index, (image, scale, offset) in enumerate(rois):
                if image is None:
                    continue
                for name, run in roi_passes:
                    if not guaranteed and not self._fits(name, image.size, left_ms(), run):
                        continue
                    found = self._run_pass(
                        name, run, image, scale, offset, left_ms=left_ms, result=result
                    )
                    if self._absorb(result, name, found):
                        rois[index] = (None, scale, offset)
                        break
            for name, run in frame_passes:
                if result.codes or round_index not in frame_rounds:
                    break
                if not guaranteed and not self._fits(name, frame.size, left_ms(), run):
                    continue
                found = self._run_pass(
                    name, run, frame, frame_scale, (0, 0), left_ms=left_ms, result=result
                )
                self._absorb(result, name, found)
        self._read_located(gray, result, left_ms, tried)

    def _read_located(
        self,
        gray: GrayFrame,
        result: ChainResult,
        left_ms: Callable[[], float],
        tried: list[Quad],
    ) -> None:
        """Symbols a pass located and sized but could not read, read from their grids (their
        fixed parts redrawn, unsure codewords erased): each once a frame, while time is left."""
        for located in _by_consensus(result.located_grids):
            if left_ms() < LOCATED_FLOOR_MS or len(tried) >= self._max_rois:
                return
            if _read_at(result, located.quad):
                continue
            # the same symbol located by another pass (a quad that merely contains it may be
            # a wrong grouping of finders from several symbols, and must not hide it)
            if any(_alike(quad, located.quad) for quad in tried):
                continue
            tried.append(located.quad)
            found = self._run_pass(
                "located-grid",
                Anytime(_located(located)),
                gray,
                1.0,
                (0.0, 0.0),
                left_ms=left_ms,
                result=result,
            )
            self._absorb(result, "located-grid", found)

    def _prepare_rois(
        self, gray: GrayFrame, located: Sequence[Quad], done: list[Quad], limit: int
    ) -> list[tuple[GrayFrame | None, float, tuple[float, float]]]:
        """Crops (scaled for decoding) around located symbols outside every quad of `done`
        (decoded codes, regions already cropped), overlaps merged; each cropped quad joins it."""
        rois: list[tuple[GrayFrame | None, float, tuple[float, float]]] = []
        for quad in list(located):
            if len(rois) >= limit:
                break
            if any(_contains(box, _centre(quad)) for box in done):
                continue
            done.append(quad)
            crop = pp.crop_quad(gray, quad, margin=0.25)
            if crop is None:
                continue
            image, scale = pp.scale_for_code(crop[0], self._roi_side, self._roi_small)
            rois.append((image, scale, crop[1]))
        return rois

    @staticmethod
    def _absorb(result: ChainResult, name: str, detection: Detection) -> bool:
        """Merge one pass's output; True if it added a new text."""
        result.passes.append(name)
        added = False
        known = {code.text for code in result.codes}
        for code in detection.codes:
            if code.text not in known:
                known.add(code.text)
                result.codes.append(code)
                result.found_by[code.text] = name
                added = True
        result.located.extend(detection.failed_quads)
        result.located_grids.extend(detection.located_grids)
        return added


def unread_regions(result: ChainResult) -> list[Quad]:
    """Symbols the chain located but read nowhere in the frame (outside every decoded code)."""
    return [quad for quad in result.located if not _read_at(result, quad)]


def _read_at(result: ChainResult, quad: Quad) -> bool:
    """Whether a code the chain read lies where `quad`'s centre is."""
    return any(_contains(code.quad, _centre(quad)) for code in result.codes)


def _by_consensus(located: Sequence[LocatedGrid]) -> list[LocatedGrid]:
    """One of each symbol's located grids, the symbols most passes located first: a real
    symbol is found by pass after pass, a wrong grouping of finders by few."""
    groups: list[list[LocatedGrid]] = []
    for grid in located:
        group = next((g for g in groups if _alike(g[0].quad, grid.quad)), None)
        if group is None:
            groups.append([grid])
        else:
            group.append(grid)
    groups.sort(key=lambda group: -len(group))
    return [group[0] for group in groups]


def _alike(first: Quad, second: Quad) -> bool:
    """Whether two quads are one symbol's: each corner within a tenth of a side of the other's."""
    side = math.dist(first[0], first[1])
    return all(math.dist(a, b) <= 0.1 * side for a, b in zip(first, second, strict=True))


def _centre(quad: Quad) -> tuple[float, float]:
    return (sum(p[0] for p in quad) / len(quad), sum(p[1] for p in quad) / len(quad))


def _contains(quad: Quad, point: tuple[float, float]) -> bool:
    xs: Sequence[float] = [p[0] for p in quad]
    ys: Sequence[float] = [p[1] for p in quad]
    return min(xs) <= point[0] <= max(xs) and min(ys) <= point[1] <= max(ys)
