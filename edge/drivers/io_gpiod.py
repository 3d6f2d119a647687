"""Debounced GPIO inputs (passage, manual button) and outputs (lamps, buzzer) over libgpiod v2."""

from __future__ import annotations

import logging
import threading
from typing import Protocol

from edge.clock import SYSTEM_CLOCK, Clock
from edge.drivers.gpio_lines import Value
from edge.errors import DriverError

log = logging.getLogger(__name__)


class InputRequest(Protocol):
    """The part of a gpiod.LineRequest an input reads (a FakeLineRequest in tests)."""

    def get_value(self, line: int) -> Value:
        """Read the logical level of `line`; OSError or ValueError when it cannot be read."""
        ...


class OutputRequest(Protocol):
    """The part of a gpiod.LineRequest an output drives (a FakeLineRequest in tests)."""

    def set_value(self, line: int, value: Value) -> None:
        """Drive `line` to `value`; OSError or ValueError when it cannot be written."""
        ...


class Debouncer:
    """A level is accepted once the raw input has held it for `debounce_s` without a change."""

    def __init__(self, debounce_s: float, *, initial: bool = False) -> None:
        self.debounce_s = debounce_s
        self.state = initial
        self._raw = initial
        self._since = float("-inf")

    def update(self, *, raw: bool, now: float) -> bool:
        """Feed one raw sample taken at `now`; return the debounced state."""
        if raw != self._raw:
            self._raw = raw
            self._since = now
        if self._raw != self.state and now - self._since >= self.debounce_s:
            self.state = self._raw
        return self.state


class GpiodInput:
    """A DigitalInput sampled every `poll_s` on a thread and debounced.

    A read error counts as inactive (fail closed: no passage seen, no button pressed).
    wait_for_active() also returns True for an activation that ended before it looked again.
    """

    def __init__(
        self,
        request: InputRequest,
        line: int,
        *,
        debounce_ms: int = 20,
        poll_ms: int = 5,
        name: str = "input",
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self._request = request
        self.line = line
        self.name = name
        self._poll_s = poll_ms / 1000
        self._monotonic = clock.monotonic
        self._debouncer = Debouncer(debounce_ms / 1000)
        self._cond = threading.Condition()
        self._activations = 0
        self._read_failed = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"{name}-poll", daemon=True)
        self._thread.start()

    @property
    def activations(self) -> int:
        """Debounced inactive → active transitions seen so far."""
        with self._cond:
            return self._activations

    def is_active(self) -> bool:
        """Tell whether the input is active, after debouncing."""
        with self._cond:
            return self._debouncer.state

    def wait_for_active(self, timeout_s: float) -> bool:
        """Wait until the input is active or was activated since the call; False on timeout."""
        with self._cond:
            seen = self._activations
            return self._cond.wait_for(
                lambda: self._debouncer.state or self._activations != seen,
                timeout=max(0.0, timeout_s),
            )

    def close(self) -> None:
        """Stop the sampling thread (the line itself belongs to the request)."""
        self._stop.set()
        if self._thread is not threading.current_thread():
            self._thread.join(timeout=1.0)

    def _sample(self) -> bool:
        try:
            raw = bool(self._request.get_value(self.line))
        except (OSError, ValueError) as exc:
            if not self._read_failed:
                log.error("%s: reading line %d failed: %s", self.name, self.line, exc)
            self._read_failed = True
            return False
        self._read_failed = False
        return raw

    def _run(self) -> None:
        while not self._stop.is_set():
            raw = self._sample()
            with self._cond:
                before = self._debouncer.state
                after = self._debouncer.update(raw=raw, now=self._monotonic())
                if after != before:
                    self._activations += int(after)
                    self._cond.notify_all()
            self._stop.wait(self._poll_s)


class GpiodOutput:
    """A DigitalOutput (lamp, buzzer) on one requested output line."""

    def __init__(self, request: OutputRequest, line: int, name: str = "output") -> None:
        self._request = request
        self.line = line
        self.name = name

    def on(self) -> None:
        """Drive the line active; DriverError when the line cannot be written."""
        self._set(Value.ACTIVE)

    def off(self) -> None:
        """Drive the line inactive; DriverError when the line cannot be written."""
        self._set(Value.INACTIVE)

    def close(self) -> None:
        """Drive the line inactive, logging instead of raising when it cannot be written."""
        try:
            self._set(Value.INACTIVE)
        except DriverError as exc:
            log.warning("%s", exc)

    def _set(self, value: Value) -> None:
        try:
            self._request.set_value(self.line, value)
        except (OSError, ValueError) as exc:
            raise DriverError(f"{self.name} (line {self.line}): {exc}") from exc
