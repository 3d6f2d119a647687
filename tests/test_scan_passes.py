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


def test_the_round_a_live_frame_names_runs_right_after_the_guaranteed_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = SteppedClock()
    located = ((100.0, 100.0), (200.0, 100.0), (200.0, 200.0), (100.0, 200.0))
    monkeypatch.setattr(chain_module, "read_zxing", lambda *_, **__: Detection([], [located]))
    rounds = tuple(((name, _costing(clock, 1.0)),) for name in ("roi-0", "roi-1", "roi-2"))
    monkeypatch.setattr(chain_module, "ROUNDS", tuple((roi, ()) for roi in rounds))
    chain = DecoderChain(budget_ms=100.0, timer=clock)
    # a symbol was located but not read: every round's passes try its region
    assert chain.decode(EMPTY, frame_rounds=[2]).passes == ["frame", "roi-0", "roi-2", "roi-1"]
    assert chain.decode(EMPTY).passes == ["frame", "roi-0", "roi-1", "roi-2"]
