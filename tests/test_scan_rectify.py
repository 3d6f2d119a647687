"""Keystone correction of steeply tilted codes, on synthetic perspective views."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import zxingcpp

from edge.ports import GrayFrame
from edge.scan import chain as chain_module
from edge.scan import preprocess as pp
from edge.scan import rectify
from edge.scan.chain import DecoderChain
from edge.scan.decoders import Quad, read_zxing

TEXT = "TEST 10 CM TEST 10 CM"
KEYSTONE_PASSES = ("roi-keystone-left", "roi-keystone-right")


def _modules(text: str) -> GrayFrame:
    with warnings.catch_warnings():  # the older one-call API, kept by zxing-cpp
        warnings.simplefilter("ignore", DeprecationWarning)
        image = zxingcpp.write_barcode(zxingcpp.BarcodeFormat.QRCode, text, quiet_zone=0)
    return np.pad(np.asarray(image, dtype=np.uint8), 4, constant_values=255)


def _steep_view(yaw_deg: float, distance: float, size: float) -> tuple[GrayFrame, Quad]:
    """A 1280x720 frame of the code turned `yaw_deg` about its vertical axis in front of a pinhole
    camera at `distance` code widths (the near side larger, the far side foreshortened); rendered
    at twice the size and averaged down; with the symbol's corners in the frame."""
    code = _modules(TEXT)
    side = float(code.shape[0])
    symbol = 0.5 * (side - 8) / side  # half the symbol's width, in code widths (4 modules around)
    yaw = math.radians(yaw_deg)

    def seen(u: float, v: float) -> tuple[float, float]:
        depth = distance + u * math.sin(yaw)
        return 640 + size * u * math.cos(yaw) * distance / depth, 360 + size * v * distance / depth

    corners = (seen(-0.5, -0.5), seen(0.5, -0.5), seen(0.5, 0.5), seen(-0.5, 0.5))
    to_code = rectify.homography(
        [(2 * x, 2 * y) for x, y in corners], [(0.0, 0.0), (side, 0.0), (side, side), (0.0, side)]
    )
    ys, xs = np.mgrid[0:1440, 0:2560].astype(np.float64)
    w = to_code[2, 0] * xs + to_code[2, 1] * ys + to_code[2, 2]
    cx = (to_code[0, 0] * xs + to_code[0, 1] * ys + to_code[0, 2]) / w
    cy = (to_code[1, 0] * xs + to_code[1, 1] * ys + to_code[1, 2]) / w
    inside = (cx >= 0) & (cx < side) & (cy >= 0) & (cy < side)
    big = np.full((1440, 2560), 230.0)
    big[inside] = code[cy[inside].astype(int), cx[inside].astype(int)]
    frame = big.reshape(720, 2, 1280, 2).mean(axis=(1, 3)) * 0.8 + 20
    noise = np.random.default_rng(0).normal(0.0, 2.0, frame.shape)
    inner = (
        seen(-symbol, -symbol),
        seen(symbol, -symbol),
        seen(symbol, symbol),
        seen(-symbol, symbol),
    )
    return np.clip(frame + noise, 0, 255).astype(np.uint8), inner


def _centre(quad: Quad) -> tuple[float, float]:
    return sum(p[0] for p in quad) / len(quad), sum(p[1] for p in quad) / len(quad)


@pytest.mark.parametrize(
    ("yaw", "distance", "size"), [(65.0, 1.0, 350.0), (65.0, 1.3, 250.0), (70.0, 1.3, 350.0)]
)
def test_a_steeply_tilted_code_zxing_cpp_only_locates_is_read_keystoned(
    yaw: float, distance: float, size: float
) -> None:
    frame, corners = _steep_view(yaw, distance, size)
    located = read_zxing(frame)
    assert located.codes == [] and located.failed_quads
    reads = []
    for quad in located.failed_quads:
        crop = pp.crop_quad(frame, quad, margin=0.25)
        if crop is None:
            continue
        region, scale = pp.scale_for_code(crop[0], 640, 360)  # as the chain prepares a region
        for side in ("left", "right"):
            reads += rectify.keystoned_pass(side, 0.35)(region, scale, crop[1]).codes
    assert reads and {code.text for code in reads} == {TEXT}
    x, y = _centre(corners)
    for code in reads:
        cx, cy = _centre(code.quad)
        assert abs(cx - x) < 8 and abs(cy - y) < 8


def test_the_chain_reads_a_steep_code_only_a_keystone_pass_reads(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    frame, _ = _steep_view(65.0, 1.3, 250.0)
    assert {name for roi, _ in chain_module.ROUNDS for name, _ in roi} >= set(KEYSTONE_PASSES)
    # zxing-cpp locates and sizes it, so its grid read through the located corners reads it
    # first; without that, only a keystone pass does
    result = DecoderChain(budget_ms=1e9).decode(frame)
    assert result.found_by == {TEXT: "located-grid"}
    monkeypatch.setattr(chain_module, "LOCATED_FLOOR_MS", math.inf)
    result = DecoderChain(budget_ms=1e9).decode(frame)
    assert [code.text for code in result.codes] == [TEXT]
    assert result.found_by[TEXT] in KEYSTONE_PASSES


def test_homography_maps_its_four_points_and_project_follows_it() -> None:
    source = [(0.0, 0.0), (100.0, 0.0), (100.0, 80.0), (0.0, 80.0)]
    target = [(10.0, 20.0), (90.0, 5.0), (120.0, 95.0), (-5.0, 70.0)]
    matrix = rectify.homography(source, target)
    np.testing.assert_allclose(rectify.project(matrix, source), target, atol=1e-9)
    back = rectify.project(np.asarray(np.linalg.inv(matrix), dtype=np.float64), target)
    np.testing.assert_allclose(back, source, atol=1e-9)


def test_warp_samples_the_source_where_the_map_points() -> None:
    image = np.arange(48, dtype=np.uint8).reshape(6, 8)
    assert np.array_equal(rectify.warp(image, np.eye(3)), image)
    shift = np.array([[1.0, 0.0, 2.0], [0.0, 1.0, 1.0], [0.0, 0.0, 1.0]])
    shifted = rectify.warp(image, shift)  # pixel (x, y) is the source's (x + 2, y + 1)
    assert np.array_equal(shifted[:5, :6], image[1:, 2:])
    assert np.array_equal(shifted[5, :6], image[5, 2:])  # beyond the edge: the edge pixel


@pytest.mark.parametrize(
    "to_source",
    [
        [[0.9, 0.2, 3.0], [-0.1, 1.1, 2.0], [0.001, 0.002, 1.0]],  # any projective map
        [[2.0, 0.0, 1.0], [0.5, 1.5, -4.0], [0.003, 0.0, 1.0]],  # columns stay columns
        [[1.5, 0.5, -4.0], [0.0, 2.0, 1.0], [0.0, 0.003, 1.0]],  # rows stay rows
    ],
)
def test_warp_takes_the_nearest_source_pixel_of_every_output_pixel(
    to_source: list[list[float]],
) -> None:
    image = np.random.default_rng(3).integers(0, 256, (30, 40), dtype=np.uint8)
    matrix = np.array(to_source)
    warped = rectify.warp(image, matrix)
    for y in range(0, 30, 3):
        for x in range(0, 40, 3):
            sx, sy = rectify.project(matrix, [(float(x), float(y))])[0]
            column = min(max(int(sx + 0.5), 0), 39)
            row = min(max(int(sy + 0.5), 0), 29)
            assert warped[y, x] == image[row, column], (x, y)


@pytest.mark.parametrize(
    ("side", "moved"),
    [
        ("left", {0: (0.0, 65.0), 3: (0.0, 135.0)}),
        ("right", {1: (300.0, 65.0), 2: (300.0, 135.0)}),
        ("top", {0: (97.5, 0.0), 1: (202.5, 0.0)}),
        ("bottom", {3: (97.5, 200.0), 2: (202.5, 200.0)}),
    ],
)
def test_keystone_shrinks_one_side_about_its_middle(
    side: str, moved: dict[int, tuple[float, float]]
) -> None:
    corners = ((0.0, 0.0), (300.0, 0.0), (300.0, 200.0), (0.0, 200.0))
    mapped = rectify.project(rectify.keystone((200, 300), side, 0.35), corners)
    for index, corner in enumerate(corners):
        np.testing.assert_allclose(mapped[index], moved.get(index, corner), atol=1e-9)


def test_keystone_names_only_the_four_sides() -> None:
    with pytest.raises(ValueError, match="middle"):
        rectify.keystone((10, 10), "middle", 0.5)
