"""Keystone correction of a located region: the nearer side of a steeply tilted code shrunk back."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import numpy.typing as npt

from edge.ports import GrayFrame
from edge.scan.decoders import DecodedCode, Detection, map_quad, read_zxing

Matrix = npt.NDArray[np.float64]
Point = tuple[float, float]


def homography(source: Sequence[Point], target: Sequence[Point]) -> Matrix:
    """The 3x3 projective map taking the 4 `source` points to the 4 `target` points."""
    rows: list[list[float]] = []
    values: list[float] = []
    for (x, y), (u, v) in zip(source, target, strict=True):
        rows.append([x, y, 1.0, 0.0, 0.0, 0.0, -u * x, -u * y])
        rows.append([0.0, 0.0, 0.0, x, y, 1.0, -v * x, -v * y])
        values += [u, v]
    solution = np.linalg.solve(np.array(rows), np.array(values))
    return np.append(solution, 1.0).reshape(3, 3)


def project_points(matrix: Matrix, points: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """An array of points (..., 2) through the projective map `matrix`."""
    mapped = points @ matrix[:2, :2].T + matrix[:2, 2]
    depth = points @ matrix[2, :2] + matrix[2, 2]
    return np.asarray(mapped / depth[..., None])


def project(matrix: Matrix, points: Sequence[Point]) -> tuple[Point, ...]:
    """`points` through the projective map `matrix`."""
    mapped = project_points(matrix, np.asarray(points, dtype=np.float64).reshape(-1, 2))
    return tuple((float(x), float(y)) for x, y in mapped)


def warp(gray: GrayFrame, to_source: Matrix) -> GrayFrame:
    """The image (of `gray`'s size) whose pixel (x, y) is `gray`'s pixel nearest `to_source`
    (x, y); outside `gray` the nearest edge pixel."""
    height, width = gray.shape[:2]
    m = to_source.astype(np.float32)
    xs = np.arange(width, dtype=np.float32)[None, :]
    ys = np.arange(height, dtype=np.float32)[:, None]
    if m[2, 1] == 0.0 and m[0, 1] == 0.0:
        # columns stay columns (a keystone of the left or right side): each output column reads
        # one source column, stretched about a row that depends on the column only
        inverse_w = 1.0 / (m[2, 0] * xs + m[2, 2])
        sx = (m[0, 0] * xs + m[0, 2]) * inverse_w
        sy = ys * (m[1, 1] * inverse_w) + (m[1, 0] * xs + m[1, 2]) * inverse_w
    elif m[2, 0] == 0.0 and m[1, 0] == 0.0:
        inverse_w = 1.0 / (m[2, 1] * ys + m[2, 2])
        sy = (m[1, 1] * ys + m[1, 2]) * inverse_w
        sx = xs * (m[0, 0] * inverse_w) + (m[0, 1] * ys + m[0, 2]) * inverse_w
    else:
        inverse_w = 1.0 / (m[2, 0] * xs + m[2, 1] * ys + m[2, 2])
        sx = (m[0, 0] * xs + m[0, 1] * ys + m[0, 2]) * inverse_w
        sy = (m[1, 0] * xs + m[1, 1] * ys + m[1, 2]) * inverse_w
    columns = np.clip(sx + 0.5, 0, width - 1).astype(np.int32)
    rows = np.clip(sy + 0.5, 0, height - 1).astype(np.int32)
    index = rows * np.int32(width) + columns  # one flat gather: cheaper than a 2-D one
    return np.asarray(np.take(np.ascontiguousarray(gray).ravel(), index), dtype=np.uint8)


def keystone(shape: tuple[int, ...], side: str, factor: float) -> Matrix:
    """The map from an image of `shape` to the same frame with its `side` edge shrunk to
    `factor` of its length about its middle (the other edges' far ends follow)."""
    height, width = float(shape[0]), float(shape[1])
    corners = [(0.0, 0.0), (width, 0.0), (width, height), (0.0, height)]
    target = list(corners)
    low_y, high_y = height * (1 - factor) / 2, height * (1 + factor) / 2
    low_x, high_x = width * (1 - factor) / 2, width * (1 + factor) / 2
    if side == "left":
        target[0], target[3] = (0.0, low_y), (0.0, high_y)
    elif side == "right":
        target[1], target[2] = (width, low_y), (width, high_y)
    elif side == "top":
        target[0], target[1] = (low_x, 0.0), (high_x, 0.0)
    elif side == "bottom":
        target[3], target[2] = (low_x, height), (high_x, height)
    else:
        raise ValueError(f"no side {side!r}")
    return homography(corners, target)


def keystoned_pass(
    side: str, factor: float
) -> Callable[[GrayFrame, float, tuple[float, float]], Detection]:
    """A region pass: zxing-cpp on the region with its `side` edge shrunk to `factor`. A code
    seen at a steep angle shows finder patterns of very different sizes and spacings, which
    zxing-cpp locates but does not group into the right symbol; a keystoned view of the region
    changes both enough that it does (measured on steep photos, with either side shrunk)."""

    def run(gray: GrayFrame, scale: float, offset: tuple[float, float]) -> Detection:
        forward = keystone(gray.shape, side, factor)
        back = np.asarray(np.linalg.inv(forward), dtype=np.float64)
        found = read_zxing(warp(gray, back))
        return Detection(
            [_moved(code, back, scale, offset) for code in found.codes],
            [map_quad(project(back, quad), scale, offset) for quad in found.failed_quads],
        )

    return run


def _moved(
    code: DecodedCode, back: Matrix, scale: float, offset: tuple[float, float]
) -> DecodedCode:
    quad = map_quad(project(back, code.quad), scale, offset)
    return DecodedCode(code.text, code.raw, code.decoder, quad)
