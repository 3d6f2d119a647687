"""The decoder chain's pass scheduling and its newer passes, on synthetic frames."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from edge.ports import GrayFrame
from edge.scan import chain as chain_module
from edge.scan.chain import DecoderChain
from edge.scan.decoders import Detection

EMPTY = np.full((360, 640), 200, dtype=np.uint8)


class SteppedClock:
    """A timer that moves only when a fake pass says it took time."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _costing(
    clock: SteppedClock, ms: float
) -> Callable[[GrayFrame, float, tuple[float, float]], Detection]:
    def run(gray: GrayFrame, scale: float, offset: tuple[float, float]) -> Detection:
        clock.now += ms / 1000.0
        return Detection([], [])

    return run


def test_a_pass_starts_only_when_its_learned_cost_fits_the_budget_left(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = SteppedClock()
    rounds = (
        ((), (("cheap-first", _costing(clock, 1.0)),)),
        ((), (("slow", _costing(clock, 30.0)), ("cheap", _costing(clock, 1.0)))),
        ((), (("cheap-last", _costing(clock, 1.0)),)),
    )
    monkeypatch.setattr(chain_module, "ROUNDS", rounds)
    chain = DecoderChain(budget_ms=20.0, timer=clock)
    # the first frame learns what "slow" costs, by running it (and then has nothing left)
    assert chain.decode(EMPTY).passes == ["frame", "cheap-first", "slow"]
    # later frames skip it, yet still run the cheaper passes behind it
    assert chain.decode(EMPTY).passes == ["frame", "cheap-first", "cheap", "cheap-last"]
    assert chain.expected_ms("slow", EMPTY.size) > 20.0
