"""The chain's image passes (numpy alone) against the OpenCV calls they stand for."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from edge.ports import GrayFrame
from edge.scan import chain as chain_module
from edge.scan import preprocess as pp
from edge.scan.decoders import read_zxing
from edge.sim.screens import ScreenStyle, render_scene

# even and odd sizes, sizes not divisible by CLAHE's 8 tiles, a camera frame and a region
SHAPES = [(720, 1280), (480, 640), (257, 333), (101, 77)]
TEXT = "HC1:6BFOXN%TS3DH0YOJ58S S-W5HDC *M0II5XHC9B5G2+$N IOP-IA%NFQGRJPC%OQHIZC4.OI1RM8ZA"


def _scene(shape: tuple[int, int], seed: int = 1) -> GrayFrame:
    """Uneven light, sharp-edged modules and sensor noise: what the passes are for."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0 : shape[0], 0 : shape[1]]
    light = 90 + 80 * np.sin(x / 37.0) * np.cos(y / 53.0)
    modules = 60 * (((x // 7) + (y // 9)) % 2)
    noisy = light + modules + rng.normal(0.0, 10.0, shape)
    return np.asarray(np.clip(noisy, 0, 255), dtype=np.uint8)


def _difference(ours: GrayFrame, theirs: object) -> np.ndarray:
    reference = np.asarray(theirs, dtype=np.uint8)
    assert ours.dtype == np.uint8 and ours.shape == reference.shape
    return np.abs(ours.astype(np.int16) - reference.astype(np.int16))


@pytest.mark.parametrize("shape", SHAPES)
def test_darken_and_otsu_and_adaptive_equal_opencv(shape: tuple[int, int]) -> None:
    gray = _scene(shape)
    gamma = (np.linspace(0.0, 1.0, 256) ** 2.0 * 255.0).round().astype(np.uint8)
    assert _difference(pp.darken(gray), cv2.LUT(gray, gamma)).max() == 0
    blurred = cv2.GaussianBlur(gray, (3, 3), 0)
    otsu = cv2.threshold(blurred, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)[1]
    assert _difference(pp.otsu(gray), otsu).max() == 0
    block = max(11, (max(shape) // 32) | 1)
    adaptive = cv2.adaptiveThreshold(
        gray, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY, block, 7
    )
    assert _difference(pp.adaptive(gray), adaptive).max() == 0


def test_darken_is_the_gamma_table_at_every_level() -> None:
    levels = np.arange(256, dtype=np.uint8).reshape(16, 16)
    gamma = (np.linspace(0.0, 1.0, 256) ** 2.0 * 255.0).round().astype(np.uint8)
    assert _difference(pp.darken(levels), cv2.LUT(levels, gamma)).max() == 0


@pytest.mark.parametrize("shape", SHAPES)
def test_half_is_opencvs_area_halving(shape: tuple[int, int]) -> None:
    gray = _scene(shape)
    even = gray[: shape[0] // 2 * 2, : shape[1] // 2 * 2]
    halved = cv2.resize(even, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)
    assert _difference(pp.half(gray), halved).max() == 0


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("longest", [640, 97])
def test_resize_to_is_opencvs_area_shrink_within_rounding(
    shape: tuple[int, int], longest: int
) -> None:
    gray = _scene(shape)
    shrunk, scale = pp.resize_to(gray, longest)
    if max(shape) <= longest:
        assert shrunk is gray and scale == 1.0
        return
    theirs = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    assert max(shrunk.shape) == longest
    assert _difference(shrunk, theirs).max() <= 1


@pytest.mark.parametrize("shape", [(101, 77), (300, 240), (33, 50)])
@pytest.mark.parametrize("factor", [1.5, 2.0, 2.5, 4.0])
def test_zoom_is_opencvs_cubic_upscale_within_rounding(
    shape: tuple[int, int], factor: float
) -> None:
    gray = _scene(shape)
    zoomed, scale = pp.zoom(gray, factor, 1280)
    theirs = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)
    assert _difference(zoomed, theirs).max() <= 1
    region, region_scale = pp.scale_for_code(gray, 640, 360)
    assert region_scale > 1.0
    theirs = cv2.resize(gray, None, fx=region_scale, fy=region_scale, interpolation=cv2.INTER_CUBIC)
    assert _difference(region, theirs).max() <= 1


@pytest.mark.parametrize("shape", SHAPES)
def test_clahe_is_opencvs_within_one_level(shape: tuple[int, int]) -> None:
    gray = _scene(shape)
    for ours, clip in ((pp.clahe, 2.0), (pp.clahe_strong, 4.0)):
        theirs = cv2.createCLAHE(clipLimit=clip, tileGridSize=(8, 8)).apply(gray)
        difference = _difference(ours(gray), theirs)
        # the tiles' mappings are equal; blending them rounds weights to 1/256
        assert difference.max() <= 1
        assert difference.mean() < 0.1


def test_clahe_redistributes_what_the_clip_cuts_as_opencv_does() -> None:
    # a nearly flat image: every tile's histogram is one tall peak, clipped hard
    gray = np.full((64, 64), 120, dtype=np.uint8)
    gray[::5, ::3] = 121
    theirs = cv2.createCLAHE(clipLimit=2.0, tileGridSize=(8, 8)).apply(gray)
    assert _difference(pp.clahe(gray), theirs).max() <= 1


@pytest.mark.parametrize("shape", SHAPES)
def test_the_blurs_are_close_to_opencvs_gaussians(shape: tuple[int, int]) -> None:
    # three box blurs stand for each Gaussian (sigma 1.41 for 1.5, 1.83 for 2): close on
    # average, a few levels apart at the steepest module edges
    gray = _scene(shape)
    smooth = _difference(pp.smooth(gray), cv2.GaussianBlur(gray, (0, 0), 1.5))
    assert smooth.mean() < 1.0 and smooth.max() <= 4
    blurred = cv2.GaussianBlur(gray, (0, 0), 2.0)
    sharpen = _difference(pp.sharpen(gray), cv2.addWeighted(gray, 1.8, blurred, -0.8, 0))
    assert sharpen.mean() < 1.0 and np.percentile(sharpen, 99) <= 4


@pytest.mark.parametrize("shape", SHAPES)
def test_median_is_opencvs_3x3_median(shape: tuple[int, int]) -> None:
    gray = _scene(shape)
    assert _difference(pp.median(gray), cv2.medianBlur(gray, 3)).max() == 0


def test_median_removes_speckle_as_well_as_a_5x5_median() -> None:
    squares = np.indices((240, 320)) // 16
    clean = np.where(squares.sum(axis=0) % 2 == 0, 40, 210).astype(np.uint8)
    rng = np.random.default_rng(3)
    speckled = clean.copy()
    salt = rng.random(clean.shape) < 0.08
    speckled[salt] = rng.choice(np.array([0, 255], dtype=np.uint8), int(salt.sum()))
    # judged inside the squares: both medians round their corners off
    within = np.indices((240, 320)) % 16
    inside = ((within >= 3) & (within <= 12)).all(axis=0)
    ours = _difference(pp.median(speckled), clean)[inside]
    five = _difference(np.asarray(cv2.medianBlur(speckled, 5), np.uint8), clean)[inside]
    assert (_difference(speckled, clean)[inside] > 60).mean() > 0.03
    assert (ours > 60).mean() <= max((five > 60).mean() * 2, 0.001)


def test_colour_frames_turn_gray_as_opencv_turns_them_without_loading_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rng = np.random.default_rng(5)
    bgr = rng.integers(0, 256, (48, 64, 3), dtype=np.uint8)
    bgra = rng.integers(0, 256, (48, 64, 4), dtype=np.uint8)
    expected = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY), cv2.cvtColor(bgra, cv2.COLOR_BGRA2GRAY)
    monkeypatch.delitem(sys.modules, "cv2")
    assert _difference(pp.to_gray(bgr), expected[0]).max() == 0
    assert _difference(pp.to_gray(bgra), expected[1]).max() == 0
    assert "cv2" not in sys.modules


_CHAIN_PROBE = """import json, sys
import numpy as np
from edge.scan import chain
frame = np.load(sys.argv[1])
result = chain.DecoderChain(budget_ms=1e9).decode(frame)
print(json.dumps({"passes": result.passes, "codes": len(result.codes),
                  "cv2": "cv2" in sys.modules}))
"""


def test_every_round_of_the_chain_runs_without_loading_opencv(tmp_path: Path) -> None:
    # a code the chain locates and cannot read (the middle of its data scrambled), in a frame
    # larger than the chain's frame side: every region and frame pass, the shrink of the frame
    # and the cubic upscale of the small region all run
    style = ScreenStyle(code_width=200.0, centre=(640.0, 360.0))
    frame = np.asarray(cv2.cvtColor(render_scene(TEXT, style, 1), cv2.COLOR_BGR2GRAY), np.uint8)
    (x0, y0), _, (x1, y1), _ = read_zxing(frame).codes[0].quad
    top, bottom, left, right = int(y0), int(y1), int(x0), int(x1)
    third, quarter = (bottom - top) // 3, (right - left) // 4
    scrambled = np.random.default_rng(0).integers(
        0, 2, (bottom - top - 2 * third, right - left - 2 * quarter), dtype=np.uint8
    )
    frame[top + third : bottom - third, left + quarter : right - quarter] = scrambled * 255
    large = cv2.resize(frame, None, fx=1.5, fy=1.5, interpolation=cv2.INTER_LINEAR)
    np.save(tmp_path / "frame.npy", np.asarray(large, np.uint8))
    probe = subprocess.run(
        [sys.executable, "-c", _CHAIN_PROBE, str(tmp_path / "frame.npy")],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=Path(__file__).resolve().parent.parent,
    )
    assert probe.returncode == 0, probe.stderr[-2000:]
    report = json.loads(probe.stdout)
    every_pass = {name for rois, frames in chain_module.ROUNDS for name, _ in (*rois, *frames)}
    assert report["codes"] == 0
    assert every_pass <= set(report["passes"])
    assert report["cv2"] is False
