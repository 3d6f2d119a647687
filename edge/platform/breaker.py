"""A circuit breaker per platform route: stop waiting for a platform that keeps failing."""

from __future__ import annotations

import threading
from typing import Literal

from edge.clock import Clock

BreakerState = Literal["closed", "open", "half_open"]


class CircuitBreaker:
    """Closed: requests go through. After `threshold` consecutive failures it opens: callers get
    no request for `open_s`. Then one caller probes (half open); success closes, failure reopens.
    """

    def __init__(self, clock: Clock, threshold: int = 3, open_s: float = 30.0) -> None:
        self._clock = clock
        self._threshold = threshold
        self._open_s = open_s
        self._lock = threading.Lock()
        self._failures = 0
        self._opened_at: float | None = None
        self._probing = False
        self.openings = 0

    def allow(self) -> bool:
        """May a request be sent now? A True in the half-open state reserves the single probe."""
        with self._lock:
            if self._opened_at is None:
                return True
            if self._probing or self._clock.monotonic() - self._opened_at < self._open_s:
                return False
            self._probing = True
            return True

    def success(self) -> None:
        """A trusted answer arrived: close."""
        with self._lock:
            self._failures = 0
            self._opened_at = None
            self._probing = False

    def failure(self) -> None:
        """No trusted answer: count it, and open (again) at the threshold or after a probe."""
        with self._lock:
            self._failures += 1
            if self._probing or (self._opened_at is None and self._failures >= self._threshold):
                if self._opened_at is None:
                    self.openings += 1
                self._opened_at = self._clock.monotonic()
            self._probing = False

    def abandon(self) -> None:
        """A reserved probe was not sent after all (no time left): let the next caller probe."""
        with self._lock:
            self._probing = False

    @property
    def state(self) -> BreakerState:
        """closed, open, or half_open (open time over: the next request probes)."""
        with self._lock:
            if self._opened_at is None:
                return "closed"
            if self._probing or self._clock.monotonic() - self._opened_at >= self._open_s:
                return "half_open"
            return "open"
