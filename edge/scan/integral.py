"""Sums over the square around each cell of a grid, from one integral image."""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import numpy.typing as npt


def box_sums(
    grid: npt.NDArray[Any], reach: int, *, outside: Literal["zero", "edge"] = "zero"
) -> npt.NDArray[Any]:
    """Sums over the (2 * reach + 1)-square around each cell of `grid` (same shape), cells
    outside the grid counted as zero or as the nearest edge cell; in `grid`'s dtype."""
    extended = np.pad(grid, reach, mode="constant" if outside == "zero" else "edge")
    sums = np.zeros((extended.shape[0] + 1, extended.shape[1] + 1), dtype=extended.dtype)
    sums[1:, 1:] = extended.cumsum(axis=0).cumsum(axis=1)
    side = 2 * reach + 1
    return np.asarray(
        sums[side:, side:] - sums[:-side, side:] - sums[side:, :-side] + sums[:-side, :-side]
    )
