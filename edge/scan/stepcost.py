"""What the grid reader's dearer steps cost, learnt as they run, so each fits its deadline."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from edge.scan.stats import COST_FALL, followed_cost

T = TypeVar("T")


class StepCosts:
    """Milliseconds each named step costs on a symbol of each size. A step starts only when what
    it is expected to cost is left: refining a 77-module grid costs tens of ms, which a frame's
    last few ms cannot hold."""

    def __init__(
        self,
        start: dict[str, tuple[float, float]],
        timer: Callable[[], float] = time.perf_counter,
    ) -> None:
        """`start`: per step, ms fixed and ms per module (a side squared) before the step has run
        on a size (measured on a development machine; a slower board raises them as it runs)."""
        self._start = dict(start)
        self._learnt: dict[tuple[str, int], float] = {}
        self._timer = timer

    def expected_ms(self, step: str, size: int) -> float:
        """What `step` is expected to cost on a symbol `size` modules a side."""
        learnt = self._learnt.get((step, size))
        if learnt is not None:
            return learnt
        fixed, per_module = self._start.get(step, (0.0, 0.0))
        return fixed + per_module * size * size

    def fits(self, step: str, size: int, left_ms: float) -> bool:
        """Whether `step` on a `size`-module symbol is expected to end within `left_ms`."""
        return left_ms > 0.0 and self.expected_ms(step, size) <= left_ms

    def run(self, step: str, size: int, work: Callable[[], T]) -> T:
        """`work`, its cost learnt for `step` on this size."""
        started = self._timer()
        result = work()
        measured = (self._timer() - started) * 1000.0
        known = self._learnt.get((step, size))
        if known is None:
            self._learnt[step, size] = max(measured, self.expected_ms(step, size) * COST_FALL)
        else:
            self._learnt[step, size] = followed_cost(known, measured)
        return result
