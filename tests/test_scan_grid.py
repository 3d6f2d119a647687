"""The grid reader: finder patterns of its own, grouped, and a module grid refined to the edges."""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
import pytest
import segno
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from edge.ports import GrayFrame
from edge.scan import codewords, finders, grid, layout, modules
from edge.scan.chain import ROUNDS, Anytime, ChainResult, DecoderChain
from edge.scan.decoders import LocatedGrid, read_zxing
from edge.scan.rectify import homography, project_points

TEXT = "HC1:NCFOXN%TS3DH3ZSUZK+.V0ETD%65NL-AH-R6IOO6+IUKQ"
PIXELS = 8
MARGIN = 20
Warp = tuple[float, float]


def _truth(text: str = TEXT) -> npt.NDArray[np.bool_]:
    return np.array(segno.make_qr(text, error="l").matrix, dtype=bool)


def _render(
    modules: npt.NDArray[np.bool_], *, amplitude: float = 0.0, period: float = 16.0
) -> GrayFrame:
    """The symbol drawn 8 pixels a module with a 4-module quiet zone, each point displaced by a
    sine wave of `amplitude` modules across `period` modules (a wrinkled card)."""
    size = modules.shape[0]
    side = (size + 8) * PIXELS + 2 * MARGIN
    ys, xs = np.mgrid[0:side, 0:side].astype(np.float64)
    wave = 2.0 * np.pi / (period * PIXELS)
    u = (xs - MARGIN) / PIXELS - 4 + amplitude * np.sin(wave * ys)
    v = (ys - MARGIN) / PIXELS - 4 + amplitude * np.sin(wave * xs + 1.0)
    inside = (u >= 0) & (v >= 0) & (u < size) & (v < size)
    image = np.full((side, side), 230.0)
    column = np.clip(u.astype(int), 0, size - 1)
    row = np.clip(v.astype(int), 0, size - 1)
    image[inside & modules[row, column]] = 30.0
    return image.astype(np.uint8)


def _wrapped(modules: npt.NDArray[np.bool_], bulge: float) -> GrayFrame:
    """The symbol round a can seen from the front: its columns wide in the middle and narrow
    at the sides (`bulge`: how far the spacing departs from even, as a share of the width)."""
    size = modules.shape[0]
    total = size + 8
    side = total * PIXELS + 2 * MARGIN
    ys, xs = np.mgrid[0:side, 0:side].astype(np.float64)
    across = (xs - MARGIN) / (total * PIXELS)
    u = total * (across - bulge * np.sin(2 * np.pi * across) / (2 * np.pi)) - 4
    v = (ys - MARGIN) / PIXELS - 4
    inside = (u >= 0) & (v >= 0) & (u < size) & (v < size) & (across >= 0) & (across <= 1)
    image = np.full((side, side), 230.0)
    row = np.clip(v.astype(int), 0, size - 1)
    column = np.clip(u.astype(int), 0, size - 1)
    image[inside & modules[row, column]] = 30.0
    return image.astype(np.uint8)


def _to_image(size: int, shift: Warp = (0.0, 0.0)) -> npt.NDArray[np.float64]:
    """The exact module-to-pixel map of `_render`, off by `shift` modules."""
    origin = MARGIN + 4 * PIXELS
    return np.array(
        [
            [PIXELS, 0.0, origin - shift[0] * PIXELS],
            [0.0, PIXELS, origin - shift[1] * PIXELS],
            [0.0, 0.0, 1.0],
        ]
    )


def _box_blur(image: GrayFrame, width: int) -> GrayFrame:
    kernel = np.ones(width) / width
    rows = np.apply_along_axis(np.convolve, 1, image.astype(np.float64), kernel, mode="same")
    both = np.apply_along_axis(np.convolve, 0, rows, kernel, mode="same")
    return np.asarray(np.clip(both, 0, 255), dtype=np.uint8)


def _errors(values: npt.NDArray[np.float32], truth: npt.NDArray[np.bool_]) -> int:
    return int(((values < np.median(values)) != truth).sum())


def test_the_three_finder_patterns_are_found_at_their_centres() -> None:
    truth = _truth()
    image = _render(truth)
    dark = finders.dark_mask(image, max(15, (max(image.shape) // 8) | 1))
    found = finders.find_finders(dark)[:3]
    centre = 3.5 * PIXELS + MARGIN + 4 * PIXELS
    far = (truth.shape[0] - 3.5) * PIXELS + MARGIN + 4 * PIXELS
    expected = {(centre, centre), (far, centre), (centre, far)}
    assert {(round(f.x), round(f.y)) for f in found} == {(round(x), round(y)) for x, y in expected}
    assert all(abs(f.module - PIXELS) < 1.0 for f in found)


def test_a_clean_symbol_reads_with_its_corners_in_the_frame() -> None:
    truth = _truth()
    image = _render(truth)
    detection = grid.read_grid(image, scale=2.0, offset=(100.0, 50.0))
    assert [code.text for code in detection.codes] == [TEXT]
    code = detection.codes[0]
    assert code.decoder == "grid"
    corner = (MARGIN + 4 * PIXELS) / 2.0
    assert code.quad[0] == (100.0 + corner, 50.0 + corner)


def test_a_rotated_and_tilted_symbol_reads() -> None:
    image = _render(_truth())
    side = float(image.shape[0])
    corners = [(0.0, 0.0), (side, 0.0), (side, side), (0.0, side)]
    seen = [(60.0, 90.0), (330.0, 20.0), (400.0, 300.0), (110.0, 360.0)]
    to_symbol = homography(seen, corners)
    ys, xs = np.mgrid[0:440, 0:440].astype(np.float64)
    points = project_points(to_symbol, np.stack([xs, ys], axis=-1) + 0.5)
    view = modules.bilinear(image, points)
    outside = (points < 0).any(axis=-1) | (points >= side).any(axis=-1)
    view[outside] = 200.0
    frame = _box_blur(view.astype(np.uint8), 3)
    assert [code.text for code in grid.read_grid(frame).codes] == [TEXT]


def test_a_wrinkled_symbol_zxing_cannot_read_is_read_from_its_own_grid() -> None:
    image = _render(_truth(), amplitude=0.3, period=16.0)
    assert read_zxing(image).codes == []
    assert [code.text for code in grid.read_grid(image).codes] == [TEXT]


def _glare_on_the_top_right_finder(truth: npt.NDArray[np.bool_]) -> GrayFrame:
    image = _render(truth)
    origin = MARGIN + 4 * PIXELS
    right = origin + truth.shape[0] * PIXELS
    image[origin - 2 * PIXELS : origin + 9 * PIXELS, right - 9 * PIXELS : right + 2 * PIXELS] = 250
    return image


def test_a_symbol_whose_third_finder_glare_hides_is_read_from_the_other_two() -> None:
    truth = _truth()
    image = _glare_on_the_top_right_finder(truth)
    assert read_zxing(image).codes == []
    dark = finders.dark_mask(image, max(15, (max(image.shape) // 8) | 1))
    far = (truth.shape[0] - 3.5) * PIXELS + MARGIN + 4 * PIXELS
    centre = 3.5 * PIXELS + MARGIN + 4 * PIXELS
    found = finders.find_finders(dark)
    assert all(math.hypot(f.x - far, f.y - centre) > 2 * PIXELS for f in found)
    assert [code.text for code in grid.read_grid(image).codes] == [TEXT]


def test_the_missing_finder_is_placed_where_a_square_symbol_has_it() -> None:
    truth = _truth()
    image = _glare_on_the_top_right_finder(truth)
    dark = finders.dark_mask(image, max(15, (max(image.shape) // 8) | 1))
    far = (truth.shape[0] - 3.5) * PIXELS + MARGIN + 4 * PIXELS
    centre = 3.5 * PIXELS + MARGIN + 4 * PIXELS
    placed = [
        next(f for f in triple if f.votes == 0)
        for triple, _ in grid._completions(finders.find_finders(dark), dark)
    ]
    assert any(math.hypot(f.x - far, f.y - centre) < PIXELS for f in placed)


def test_a_blurred_grid_half_a_module_off_reads_only_once_refined() -> None:
    truth = _truth()
    size = truth.shape[0]
    for blur, shift in ((9, (0.5, 0.3)), (7, (0.35, 0.35))):
        blurred = _box_blur(_render(truth), blur)
        misplaced = _to_image(size, shift)
        plain = modules.bilinear(blurred, project_points(misplaced, modules.module_centres(size)))
        assert modules.read_values(plain) is None
        refined = modules.refined_values(blurred, misplaced, size)
        assert modules.read_values(refined) == TEXT.encode()


def test_refining_leaves_a_right_grid_where_it_is() -> None:
    truth = _truth()
    image = _render(truth)
    refined = modules.refined_values(image, _to_image(truth.shape[0]), truth.shape[0])
    assert _errors(refined, truth) == 0


def test_grid_quality_is_zero_for_a_symbol_and_high_for_noise() -> None:
    truth = _truth()
    assert layout.grid_quality(truth) == 0
    noise = np.random.default_rng(3).random(truth.shape) < 0.5
    assert layout.grid_quality(noise) > 8


def test_a_misjudged_symbol_size_is_among_the_sizes_tried() -> None:
    # 29 modules: finder centres 22 modules apart; a 1.5-module misjudgement still tries 29
    assert 29 in grid._versions_near(22.0)
    assert 29 in grid._versions_near(23.5)
    assert 29 in grid._versions_near(20.5)
    assert all((size - 17) % 4 == 0 and size >= 21 for size in grid._versions_near(5.0))


def test_a_reading_comes_with_the_grid_that_gave_it_not_the_first_tried() -> None:
    truth = _truth()
    size = truth.shape[0]
    image = _render(truth)
    centres = modules.module_centres(size)
    off, right = _to_image(size, shift=(3.0, 3.0)), _to_image(size)
    tried_first = (0.0, size, off, modules.bilinear(image, project_points(off, centres)))
    reads = (1.0, size, right, modules.bilinear(image, project_points(right, centres)))
    assert grid._read_grids(image, [tried_first], lambda: 0.0) is None
    found = grid._read_grids(image, [tried_first, reads], lambda: 0.0)
    assert found is not None
    raw, (_, _, matrix, _) = found
    assert raw.decode() == TEXT
    assert matrix is right


def test_the_grid_reader_has_a_round_of_its_own_on_regions_and_frames() -> None:
    own = [
        (roi_passes, frame_passes)
        for roi_passes, frame_passes in ROUNDS
        if any(name == "roi-grid" for name, _ in roi_passes)
    ]
    assert len(own) == 1
    (((roi_name, on_regions),), ((frame_name, on_frames),)) = own[0]
    assert (roi_name, frame_name) == ("roi-grid", "frame-grid")
    assert isinstance(on_regions, Anytime) and isinstance(on_frames, Anytime)
    image = _render(_truth())
    assert [code.text for code in on_frames(image, 1.0, (0.0, 0.0)).codes] == [TEXT]


@settings(max_examples=60, deadline=None)
@given(arrays(np.uint8, st.tuples(st.integers(1, 90), st.integers(1, 90))))
def test_any_image_gives_a_detection_and_noise_never_a_code(image: GrayFrame) -> None:
    detection = grid.read_grid(image)
    assert detection.codes == []


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**32 - 1), st.floats(0.0, 0.6))
def test_a_damaged_symbol_gives_its_own_text_or_nothing(seed: int, damage: float) -> None:
    truth = _truth()
    image = _render(truth)
    rng = np.random.default_rng(seed)
    spots = rng.random(image.shape) < damage * 0.2
    image[spots] = rng.integers(0, 256, int(spots.sum()), dtype=np.uint8)
    texts = [code.text for code in grid.read_grid(image).codes]
    assert texts in ([], [TEXT])


def test_finder_distance_is_measured_along_the_line_joining_them() -> None:
    image = _render(_truth())
    dark = finders.dark_mask(image, max(15, (max(image.shape) // 8) | 1))
    first, second, third = finders.find_finders(dark)[:3]
    pair = sorted((first, second, third), key=lambda f: (f.y, f.x))[:2]
    apart = finders.modules_between(dark, pair[0], pair[1])
    assert apart is not None
    assert math.isclose(apart, 22.0, abs_tol=1.0)


def test_a_code_round_a_can_is_read_by_the_spacing_of_its_timing_patterns(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    text = "HC1:" + "NCFOXN%TS3DH3ZSUZK+.V0ETD%65NL-AH-R6IOO6+IUKQ" * 2
    image = _wrapped(_truth(text), 0.3)
    assert read_zxing(image).codes == []
    assert [code.text for code in grid.read_grid(image).codes] == [text]
    monkeypatch.setattr(modules, "timing_centres", lambda *_: None)
    assert grid.read_grid(image).codes == []


def test_timing_patterns_of_a_flat_symbol_space_its_modules_evenly() -> None:
    truth = _truth()
    size = truth.shape[0]
    found = modules.timing_centres(_render(truth), _to_image(size), size)
    assert found is not None
    measured, centres = found
    assert measured == size
    assert np.abs(centres - modules.module_centres(size)).max() < 0.1


_FINDER = np.ones((7, 7), dtype=bool)
_FINDER[1:6, 1:6] = False
_FINDER[2:5, 2:5] = True


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 300), st.integers(0, 300), st.integers(1, 12)),
        min_size=2,
        max_size=6,
    )
)
def test_finder_patterns_anywhere_at_any_size_never_break_the_reader(
    placed: list[tuple[int, int, int]],
) -> None:
    canvas = np.full((360, 360), 220, dtype=np.uint8)
    for x, y, module in placed:
        pattern = np.kron(_FINDER, np.ones((module, module), dtype=bool))
        tile = canvas[y : y + pattern.shape[0], x : x + pattern.shape[1]]
        tile[pattern[: tile.shape[0], : tile.shape[1]]] = 30
    assert grid.read_grid(canvas).codes == []


@settings(max_examples=60, deadline=None)
@given(st.floats(-50.0, 400.0, allow_nan=False))
def test_any_finder_distance_gives_sizes_a_symbol_can_have(modules_apart: float) -> None:
    assert all(21 <= size <= 177 and size % 4 == 1 for size in grid._versions_near(modules_apart))


def test_a_grouping_whose_finders_seem_too_close_for_any_symbol_is_dropped() -> None:
    image = _render(_truth())
    dark = finders.dark_mask(image, max(15, (max(image.shape) // 8) | 1))
    triple = grid._groupings(finders.find_finders(dark))[0]
    assert grid._versions_near(2.0) == []
    assert grid._sampled(image, triple, 2.0) is None


def _located_but_unreadable(text: str = "GATE-7 ENTRANCE") -> GrayFrame:
    """A symbol zxing-cpp finds but cannot read: 7 of its 26 codewords (5 correctable) are
    wrong, each module only just across the threshold, as glare or a crease leaves them."""
    truth = np.array(segno.make_qr(text, version=1, error="m", boost_error=False).matrix)
    values = np.where(truth, 30.0, 230.0)
    rows, columns = codewords.data_order(1)
    for index in (0, 3, 5, 9, 12, 17, 20):
        cells = rows[index * 8 : index * 8 + 8], columns[index * 8 : index * 8 + 8]
        values[cells] = np.where(truth[cells], 140.0, 120.0)
    image = np.full(((21 + 8) * PIXELS, (21 + 8) * PIXELS), 230.0)
    image[4 * PIXELS : 25 * PIXELS, 4 * PIXELS : 25 * PIXELS] = np.kron(
        values, np.ones((PIXELS, PIXELS))
    )
    return image.astype(np.uint8)


def test_a_symbol_zxing_locates_but_cannot_read_is_read_through_its_corners() -> None:
    image = _located_but_unreadable()
    found = read_zxing(image)
    assert found.codes == []
    assert [located.size for located in found.located_grids] == [21]
    read = grid.read_located(image, found.located_grids[0])
    assert [code.text for code in read.codes] == ["GATE-7 ENTRANCE"]
    assert read.codes[0].quad == found.located_grids[0].quad


def test_the_chain_reads_a_located_symbol_from_its_grid() -> None:
    result = DecoderChain(budget_ms=math.inf).decode(_located_but_unreadable())
    assert result.found_by == {"GATE-7 ENTRANCE": "located-grid"}


def test_a_located_symbol_of_the_wrong_size_gives_nothing() -> None:
    image = _located_but_unreadable()
    located = read_zxing(image).located_grids[0]
    assert grid.read_located(image, LocatedGrid(located.quad, 25)).codes == []
    degenerate = LocatedGrid(((5.0, 5.0), (5.0, 5.0), (5.0, 5.0), (5.0, 5.0)), 21)
    assert grid.read_located(image, degenerate).codes == []


def test_a_located_symbol_inside_a_wrongly_grouped_larger_one_is_still_read() -> None:
    image = _located_but_unreadable()
    real = read_zxing(image).located_grids[0]
    # finders of several symbols grouped wrongly: a quad round the whole frame, tried first
    side = float(image.shape[0])
    wrong = LocatedGrid(((0.0, 0.0), (side, 0.0), (side, side), (0.0, side)), 29)
    result = ChainResult(located_grids=[wrong, real])
    chain = DecoderChain(budget_ms=math.inf)
    chain._read_located(image, result, lambda: math.inf, [])
    assert [code.text for code in result.codes] == ["GATE-7 ENTRANCE"]
    assert result.passes == ["located-grid", "located-grid"]


@settings(max_examples=60, deadline=None)
@given(
    arrays(np.uint8, st.tuples(st.integers(1, 120), st.integers(1, 120))),
    st.lists(st.tuples(st.floats(-50, 200), st.floats(-50, 200)), min_size=4, max_size=4),
    st.integers(1, 40),
)
def test_any_located_quad_on_any_image_gives_a_detection_and_noise_never_a_code(
    image: GrayFrame, corners: list[tuple[float, float]], version: int
) -> None:
    located = LocatedGrid(tuple(corners), 17 + 4 * version)
    assert grid.read_located(image, located).codes == []
