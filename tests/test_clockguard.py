"""The clock mark: raised only from a synchronised clock, by a bounded step, and recoverable."""

from __future__ import annotations

from pathlib import Path

import pytest

from edge.clock import SystemClock
from edge.service.clockguard import EARLIEST_PLAUSIBLE_EPOCH, MAX_MARK_STEP_S, ClockWatch
from tests.test_app import Rig

NOW = EARLIEST_PLAUSIBLE_EPOCH + 30 * 86400.0
YEAR_2100 = 4_102_444_800.0
SYNCED = (True, 40.0, 0.0)
UNSYNCED = (False, 16000.0, 0.0)


class Kernel:
    """What adjtimex says, switchable by the test."""

    def __init__(self, *, synchronised: bool) -> None:
        self.synchronised = synchronised

    def __call__(self) -> tuple[bool, float, float]:
        return SYNCED if self.synchronised else UNSYNCED


def _mark(path: Path) -> float:
    return float(path.read_text())


def test_an_unsynchronised_far_future_reading_never_raises_the_mark(tmp_path: Path) -> None:
    mark = tmp_path / "clock-mark"
    kernel = Kernel(synchronised=True)
    watch = ClockWatch(mark, 30, read_sync=kernel)
    assert watch.check(NOW, 10.0).usable
    kernel.synchronised = False  # `date -s 2100` marks the kernel clock unsynchronised
    assert watch.check(YEAR_2100, 70.0).usable
    assert _mark(mark) == NOW
    assert watch.check(NOW + 130.0, 140.0).usable  # back to the right time: no clock_fault
    restarted = ClockWatch(mark, 30, read_sync=kernel)
    assert restarted.check(NOW + 200.0, 5.0).usable


def test_one_synchronised_reading_raises_the_mark_by_a_bounded_step(tmp_path: Path) -> None:
    mark = tmp_path / "clock-mark"
    watch = ClockWatch(mark, 30, read_sync=Kernel(synchronised=True))
    assert watch.check(NOW, 10.0).usable
    assert watch.check(YEAR_2100, 70.0).usable
    assert _mark(mark) == NOW + 60.0 + MAX_MARK_STEP_S
    assert watch.check(YEAR_2100, 130.0).usable
    assert _mark(mark) == NOW + 120.0 + 2 * MAX_MARK_STEP_S


def test_a_synchronised_clock_below_a_bogus_mark_lowers_it(tmp_path: Path) -> None:
    mark = tmp_path / "clock-mark"
    mark.write_text(f"{YEAR_2100:.3f}\n")  # left by a bogus clock, across restarts
    kernel = Kernel(synchronised=False)
    watch = ClockWatch(mark, 30, read_sync=kernel)
    verdict = watch.check(NOW, 10.0)
    assert not verdict.usable and verdict.problem is not None
    assert "behind trusted time" in verdict.problem
    kernel.synchronised = True  # network time is back
    assert watch.check(NOW + 60.0, 70.0).usable
    assert _mark(mark) == NOW + 60.0
    kernel.synchronised = False
    assert not watch.check(NOW - 3600.0, 80.0).usable  # the guard still works afterwards


def test_a_gate_started_with_a_bogus_mark_clears_once_the_clock_is_synchronised(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("edge.service.clockguard.kernel_sync_state", lambda: SYNCED)
    made = Rig(tmp_path)
    mark = made.state / "clock-mark"
    mark.write_text(f"{YEAR_2100:.3f}\n")
    made.service.start()
    try:
        assert "clock_fault" not in made.service.controller.faults
        assert _mark(mark) <= SystemClock().now()
    finally:
        made.service.stop()


def test_the_mark_is_replaced_atomically(tmp_path: Path) -> None:
    mark = tmp_path / "clock-mark"
    watch = ClockWatch(mark, 30, read_sync=Kernel(synchronised=True))
    watch.check(NOW, 1.0)
    watch.check(NOW + 60.0, 61.0)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clock-mark"]
    assert mark.read_text() == f"{NOW + 60.0:.3f}\n"
