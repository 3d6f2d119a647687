"""The decoder chain's pass scheduling and its newer passes, on synthetic frames."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import numpy as np
import pytest

from edge.ports import GrayFrame
from edge.scan import chain as chain_module
from edge.scan import preprocess as pp
from edge.scan.chain import DecoderChain
from edge.scan.decoders import Detection, Quad, read_zxing
from edge.scan.preprocess import to_gray
from edge.sim.screens import ScreenStyle, render_scene

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


def _anytime(clock: SteppedClock, ms: float, asked: list[float]) -> chain_module.Anytime:
    """An anytime pass that notes the time it was given and takes `ms`."""

    def run(
        gray: GrayFrame, scale: float, offset: tuple[float, float], time_left: Callable[[], float]
    ) -> Detection:
        asked.append(time_left())
        clock.now += ms / 1000.0
        return Detection([], [])

    return chain_module.Anytime(run)


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


def test_a_symbol_a_whole_frame_pass_locates_gets_the_later_region_passes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    located = ((100.0, 100.0), (200.0, 100.0), (200.0, 200.0), (100.0, 200.0))
    tried: list[tuple[int, ...]] = []

    def locating(gray: GrayFrame, scale: float, offset: tuple[float, float]) -> Detection:
        return Detection([], [located])

    def region(gray: GrayFrame, scale: float, offset: tuple[float, float]) -> Detection:
        tried.append(gray.shape)
        return Detection([], [])

    # the primary pass locates nothing; the first round's whole-frame pass does
    monkeypatch.setattr(chain_module, "read_zxing", lambda *_, **__: Detection([], []))
    rounds = (((), (("frame-locating", locating),)), ((("roi-later", region),), ()))
    monkeypatch.setattr(chain_module, "ROUNDS", rounds)
    frame = np.full((360, 640), 200, dtype=np.uint8)
    result = DecoderChain(budget_ms=1e9).decode(frame)
    assert result.passes == ["frame", "frame-locating", "roi-later"]
    assert len(tried) == 1


TEXT = "HC1:6BFOXN%TS3DH0YOJ58S S-W5HDC *M0II5XHC9B5G2+$N IOP-IA%NFQGRJPC%OQHIZC4.OI1RM8ZA"
CENTRE = (900.0, 300.0)
REGION_PASSES = (
    "roi-zoom-darken",
    "roi-zoom-clahe",
    "roi-zoom-sharpen",
    "roi-pyzbar-smooth",
    "roi-zoom-pyzbar-smooth",
)


def _located_region(
    style: ScreenStyle, seed: int
) -> tuple[GrayFrame, tuple[float, float], tuple[float, float]]:
    """The region around the code of `style` as the chain crops it, its offset, and the code's
    centre in the frame (located on a clean copy)."""
    frame = to_gray(render_scene(TEXT, style, seed))
    clean = to_gray(render_scene(TEXT, replace(style, blur_sigma=0.0, noise_sigma=0.0), seed))
    quad = read_zxing(clean).codes[0].quad
    crop = pp.crop_quad(frame, quad, margin=0.25)
    assert crop is not None
    return crop[0], crop[1], _centre(quad)


def _centre(quad: Quad) -> tuple[float, float]:
    return sum(p[0] for p in quad) / 4, sum(p[1] for p in quad) / 4


def test_each_zoom_and_pyzbar_region_pass_reads_a_located_code_and_keeps_it_in_place() -> None:
    image, offset, centre = _located_region(ScreenStyle(code_width=260.0, centre=CENTRE), 2)
    region, scale = pp.scale_for_code(image, 640, 360)  # as the chain prepares a region
    passes = [(n, run) for roi, _ in chain_module.ROUNDS for n, run in roi if n in REGION_PASSES]
    assert sorted(n for n, _ in passes) == sorted(REGION_PASSES)
    for name, run in passes:
        found = run(region, scale, offset).codes
        assert [code.text for code in found] == [TEXT], name
        x, y = _centre(found[0].quad)
        assert abs(x - centre[0]) < 10 and abs(y - centre[1]) < 10, name


def test_a_zoomed_region_pass_reads_a_small_soft_code_the_region_at_its_own_size_does_not() -> None:
    # modules under 2 px, smeared: upscaled, the binariser finds their edges again
    image, offset, centre = _located_region(
        ScreenStyle(code_width=80.0, blur_sigma=0.9, noise_sigma=2.0, centre=CENTRE), 0
    )
    same_size = chain_module._zx(pp.sharpen, "global")
    zoomed = chain_module._zoomed(1.5, same_size)
    assert same_size(image, 1.0, offset).codes == []
    assert chain_module._zx()(image, 1.0, offset).codes == []
    found = zoomed(image, 1.0, offset).codes
    assert [code.text for code in found] == [TEXT]
    x, y = _centre(found[0].quad)
    assert abs(x - centre[0]) < 10 and abs(y - centre[1]) < 10


def test_zoom_upscales_within_its_cap_and_never_shrinks() -> None:
    region = np.zeros((200, 300), dtype=np.uint8)
    assert pp.zoom(region, 2.0, 1280)[0].shape == (400, 600)
    capped, scale = pp.zoom(region, 8.0, 900)
    assert capped.shape == (600, 900) and scale == 3.0
    assert pp.zoom(region, 2.0, 250) == (region, 1.0)


def test_a_live_loop_budget_is_per_frame_whatever_the_frame_size(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = SteppedClock()
    rounds = (((), ()), ((), (("a", _costing(clock, 15.0)), ("b", _costing(clock, 15.0)))))
    monkeypatch.setattr(chain_module, "ROUNDS", rounds)
    large = np.zeros((1440, 1280), dtype=np.uint8)  # twice a 1280x720 camera frame
    still = DecoderChain(budget_ms=20.0, timer=clock)
    live = DecoderChain(budget_ms=20.0, timer=clock, scale_budget=False)
    # a still twice the reference size gets twice the budget; a live frame keeps its 20 ms
    assert still.decode(large).passes == ["frame", "a", "b"]
    assert live.decode(large).passes == ["frame", "a"]


def test_a_pass_never_run_waits_for_half_the_budget_but_not_for_ever(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = SteppedClock()
    rounds = (((), ()), ((), (("first", _costing(clock, 12.0)), ("unknown", _costing(clock, 1.0)))))
    monkeypatch.setattr(chain_module, "ROUNDS", rounds)
    monkeypatch.setattr(chain_module, "FIRST_RUN_PATIENCE", 3)
    chain = DecoderChain(budget_ms=20.0, timer=clock)
    # 8 ms left after "first": too little for a pass whose cost is not known yet ...
    for _ in range(3):
        assert chain.decode(EMPTY).passes == ["frame", "first"]
    # ... until it has waited its turn; from then on its learned cost decides
    assert chain.decode(EMPTY).passes == ["frame", "first", "unknown"]
    assert chain.decode(EMPTY).passes == ["frame", "first", "unknown"]


def test_an_anytime_pass_gets_the_budget_left_and_no_cost_estimate_shuts_it_out(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = SteppedClock()
    given: list[float] = []
    # far over any budget: an estimate would never let it run again
    anytime = _anytime(clock, 200.0, given)
    rounds = (
        ((), ()),
        ((), (("first", _costing(clock, 4.0)), ("grid", anytime))),
        ((), (("after", _costing(clock, 1.0)),)),
    )
    monkeypatch.setattr(chain_module, "ROUNDS", rounds)
    chain = DecoderChain(budget_ms=20.0, timer=clock)
    assert chain.decode(EMPTY).passes == ["frame", "first", "grid"]
    assert chain.decode(EMPTY).passes == ["frame", "first", "grid"]
    # what is left after "first", less the margin for the step it is in when time runs out
    left = 16.0 - chain_module.ANYTIME_MARGIN_MS
    assert given == [pytest.approx(left), pytest.approx(left)]


def test_an_anytime_pass_does_not_start_with_less_than_its_floor_left(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = SteppedClock()
    started: list[float] = []
    anytime = _anytime(clock, 0.0, started)
    spend = 20.0 - chain_module.ANYTIME_FLOOR_MS + 1.0
    rounds = (((), ()), ((), (("first", _costing(clock, spend)), ("grid", anytime))))
    monkeypatch.setattr(chain_module, "ROUNDS", rounds)
    assert DecoderChain(budget_ms=20.0, timer=clock).decode(EMPTY).passes == ["frame", "first"]
    assert started == []
    # with no budget at all (a still checked without a limit) it runs unbounded
    assert anytime(EMPTY, 1.0, (0.0, 0.0)).codes == []
    assert started == [float("inf")]


def test_the_grid_reader_stops_when_the_time_left_runs_out() -> None:
    from edge.scan import grid  # noqa: PLC0415 - only this test needs the reader itself

    frame = np.random.default_rng(5).integers(0, 256, (400, 400), dtype=np.uint8)
    asked: list[int] = []

    def out_of_time() -> float:
        asked.append(1)
        return 0.0

    assert grid.read_grid(frame, time_left=out_of_time).codes == []
    assert len(asked) <= 1 + grid.MAX_SYMBOLS


def test_a_pass_that_raises_costs_its_reading_and_not_the_frame(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    clock = SteppedClock()

    def broken(gray: GrayFrame, scale: float, offset: tuple[float, float]) -> Detection:
        raise IndexError("a bug on an unusual frame")

    rounds = (((), ()), ((), (("broken", broken), ("after", _costing(clock, 1.0)))))
    monkeypatch.setattr(chain_module, "ROUNDS", rounds)
    chain = DecoderChain(budget_ms=20.0, timer=clock)
    assert chain.decode(EMPTY).passes == ["frame", "broken", "after"]
    outcome = chain.decode(EMPTY)
    assert outcome.passes == ["frame", "broken", "after"]
    assert outcome.faulted == ["broken"]
    assert chain.faulted == {"broken": 2}
    assert sum("broken" in record.getMessage() for record in caplog.records) == 1
