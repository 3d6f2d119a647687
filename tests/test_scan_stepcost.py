"""The grid reader's step costs: learnt as steps run, and a step started only when it fits."""

from __future__ import annotations

import math

import numpy as np
import pytest

from edge.ports import GrayFrame
from edge.scan import grid, modules
from edge.scan.stepcost import StepCosts


class _Clock:
    """A timer the test moves on by hand (seconds)."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _spend(clock: _Clock, ms: float) -> None:
    clock.now += ms / 1000.0


def test_a_step_never_run_on_a_size_is_expected_to_cost_its_starting_figures() -> None:
    costs = StepCosts({"refine": (3.0, 0.01)}, timer=_Clock())
    assert costs.expected_ms("refine", 21) == pytest.approx(3.0 + 4.41)
    assert costs.expected_ms("unknown", 21) == 0.0
    assert costs.fits("refine", 21, 8.0)
    assert not costs.fits("refine", 21, 7.0)
    assert not costs.fits("unknown", 21, 0.0)  # nothing starts with no time left


def test_a_dear_run_raises_the_estimate_at_once_and_a_cheap_one_lowers_it_slowly() -> None:
    clock = _Clock()
    costs = StepCosts({"refine": (3.0, 0.0)}, timer=clock)
    costs.run("refine", 41, lambda: _spend(clock, 10.0))
    assert costs.expected_ms("refine", 41) == pytest.approx(10.0)
    costs.run("refine", 41, lambda: _spend(clock, 30.0))
    assert costs.expected_ms("refine", 41) == pytest.approx(20.0)
    costs.run("refine", 41, lambda: _spend(clock, 0.0))
    assert costs.expected_ms("refine", 41) == pytest.approx(19.0)
    assert costs.expected_ms("refine", 21) == pytest.approx(3.0)  # another size: its own


def test_a_grid_is_not_refined_when_its_refinement_would_overrun_the_deadline(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    refined: list[int] = []

    def refining(gray: GrayFrame, matrix: object, size: int, **_: object) -> modules.Values:
        refined.append(size)
        return np.zeros((size, size), dtype=np.float32)

    monkeypatch.setattr(modules, "refined_values", refining)
    monkeypatch.setattr(grid, "STEP_COSTS", StepCosts({"refine": (0.0, 0.01)}))
    gray = np.full((200, 200), 128, dtype=np.uint8)
    matrix = np.diag([2.0, 2.0, 1.0])
    values = np.zeros((77, 77), dtype=np.float32)
    grids: list[grid.Grid] = [(0.0, 77, matrix, values)]
    assert grid._read_grids(gray, grids, lambda: 50.0) is None  # 59 ms expected
    assert refined == []
    assert grid._read_grids(gray, grids, lambda: math.inf) is None
    assert refined == [77]
