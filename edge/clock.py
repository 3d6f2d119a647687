"""Injectable clocks: wall time for codes and events, monotonic time for timeouts."""

from __future__ import annotations

import datetime
import math
import threading
import time
from typing import Protocol


def parse_instant(text: str) -> float:
    """Epoch seconds from an epoch number or an ISO 8601 date-time (UTC when no offset is
    given); ValueError for anything else."""
    try:
        epoch = float(text)
    except ValueError:
        pass
    else:
        if not math.isfinite(epoch):
            raise ValueError(f"not a finite time: {text!r}")
        return epoch
    try:
        moment = datetime.datetime.fromisoformat(text.strip().replace("z", "Z"))
    except ValueError:
        raise ValueError(f"not an epoch or ISO 8601 time: {text!r}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.UTC)
    return moment.timestamp()


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
        """Read the machine's wall clock, in epoch seconds."""
        return time.time()

    def monotonic(self) -> float:
        """Read the machine's monotonic clock, in seconds."""
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        """Block for `seconds`; zero or a negative duration returns at once."""
        if seconds > 0:
            time.sleep(seconds)


SYSTEM_CLOCK = SystemClock()
"""The machine's clock, for drivers built without one (a tool, a test of the driver alone)."""


class StoppedClock:
    """A clock standing at one instant: verifying as of a given time."""

    def __init__(self, epoch: float) -> None:
        self._epoch = epoch

    def now(self) -> float:
        """Give the fixed instant, whatever the real time."""
        return self._epoch

    def monotonic(self) -> float:
        """Read the machine's monotonic clock, so timeouts still run."""
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        """Block for `seconds` of real time; the fixed instant does not move."""
        time.sleep(seconds)


class FakeClock:
    """A manually advanced clock for tests; sleep() advances time instantly."""

    def __init__(self, start: float = 1_767_225_600.0) -> None:
        self._wall = start
        self._mono = 1000.0
        self._lock = threading.Lock()

    def now(self) -> float:
        """Give the current fake wall time."""
        with self._lock:
            return self._wall

    def monotonic(self) -> float:
        """Give the current fake monotonic time."""
        with self._lock:
            return self._mono

    def sleep(self, seconds: float) -> None:
        """Advance both clocks by `seconds` at once, without blocking."""
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
