"""Injectable clocks: wall time for codes and events, monotonic time for timeouts."""

from __future__ import annotations

import threading
import time
from typing import Protocol


class Clock(Protocol):
    """A source of wall-clock (epoch seconds) and monotonic time."""

    def now(self) -> float:
        """Return the wall-clock time in epoch seconds."""
        ...

    def monotonic(self) -> float:
        """Return a monotonic time in seconds for measuring intervals."""
        ...

    def sleep(self, seconds: float) -> None:
        """Wait for the given number of seconds."""
        ...


class SystemClock:
    """The real clock of the machine."""

    def now(self) -> float:
        return time.time()

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)


SYSTEM_CLOCK = SystemClock()
"""The machine's clock, for drivers built without one (a tool, a test of the driver alone)."""


class StoppedClock:
    """A clock standing at one instant: verifying as of a given time."""

    def __init__(self, epoch: float) -> None:
        self._epoch = epoch

    def now(self) -> float:
        return self._epoch

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


class FakeClock:
    """A manually advanced clock for tests; sleep() advances time instantly."""

    def __init__(self, start: float = 1_767_225_600.0) -> None:
        self._wall = start
        self._mono = 1000.0
        self._lock = threading.Lock()

    def now(self) -> float:
        with self._lock:
            return self._wall

    def monotonic(self) -> float:
        with self._lock:
            return self._mono

    def sleep(self, seconds: float) -> None:
        self.advance(max(0.0, seconds))

    def advance(self, seconds: float) -> None:
        """Move both wall and monotonic time forward."""
        with self._lock:
            self._wall += seconds
            self._mono += seconds

    def set_wall(self, epoch: float) -> None:
        """Jump the wall clock (as an NTP step would) without touching monotonic time."""
        with self._lock:
            self._wall = epoch
