"""Fake libgpiod v2 chip and line requests recording (time, value), plus fake inputs/outputs."""

from __future__ import annotations

import errno
import os
import threading
import time
from collections.abc import Mapping, Sequence
from typing import Any

from edge.clock import SYSTEM_CLOCK, Clock
from edge.drivers.gpio_lines import Direction, LineSettings, Value

Record = tuple[float, int]


class FakeLineRequest:
    """Stands in for gpiod.LineRequest: records logical (monotonic time, value) per line.

    Inputs are driven by tests with drive(); outputs start at their configured output_value.
    fail_set_value() makes set_value raise OSError(EIO), as a vanished chip would. With
    `log_path`, every change is also appended to a file ("line time value"), for child processes.
    """

    def __init__(
        self,
        config: Mapping[Any, Any],
        chip: str = "/dev/gpiochip-fake",
        consumer: str | None = None,
        clock: Clock = SYSTEM_CLOCK,
        log_path: str | None = None,
    ) -> None:
        self.chip_name = chip
        self.consumer = consumer
        self.settings: dict[int, LineSettings] = {}
        for key, line_settings in config.items():
            for line in key if isinstance(key, tuple | list) else (key,):
                self.settings[int(line)] = line_settings
        self._monotonic = clock.monotonic
        self._log_fd = (
            os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644) if log_path else None
        )
        self._lock = threading.Lock()
        self.released = False
        self._failures = 0
        self.history: dict[int, list[Record]] = {}
        self._inputs: dict[int, int] = {}
        for line, line_settings in self.settings.items():
            if _is_output(line_settings):
                self._record(line, _level(line_settings.output_value))
            else:
                self._inputs[line] = 0

    @property
    def offsets(self) -> list[int]:
        """List the line offsets this request holds, in ascending order."""
        return sorted(self.settings)

    # ---- the gpiod.LineRequest surface --------------------------------------------------------

    def set_value(self, line: int, value: Any) -> None:
        """Drive an output line, recording the change; EPERM on an input, EIO when told to fail."""
        with self._lock:
            self._check(line)
            if self._failures:
                self._failures -= 1
                raise OSError(errno.EIO, "Input/output error")
            if line in self._inputs:
                raise OSError(errno.EPERM, "line is an input")
            self._record(line, _level(value))

    def set_values(self, values: Mapping[int, Any]) -> None:
        """Drive several output lines, one after the other."""
        for line, value in values.items():
            self.set_value(line, value)

    def get_value(self, line: int) -> Value:
        """Read a line: an input's driven level, an output's last written level."""
        with self._lock:
            self._check(line)
            level = self._inputs[line] if line in self._inputs else self.history[line][-1][1]
            return Value.ACTIVE if level else Value.INACTIVE

    def release(self) -> None:
        """Give the lines back; a log file, if any, records the release and is closed."""
        with self._lock:
            self.released = True
            if self._log_fd is not None:
                os.write(self._log_fd, b"released\n")
                os.close(self._log_fd)
                self._log_fd = None

    # ---- test controls ------------------------------------------------------------------------

    def drive(self, line: int, *, active: bool) -> None:
        """Set the logical level an input line reads."""
        with self._lock:
            self._inputs[line] = int(active)

    def fail_set_value(self, count: int = 1) -> None:
        """Make the next `count` set_value calls raise OSError(EIO)."""
        with self._lock:
            self._failures = count

    def states(self, line: int) -> list[int]:
        """List the levels a line has taken, oldest first, without their times."""
        return [value for _, value in self.history[line]]

    def assert_states_and_times(
        self, line: int, expected: Sequence[tuple[float, int]], tolerance: float = 0.05
    ) -> None:
        """Like gpiozero's MockPin: (seconds since the previous change, value) pairs, first 0.0.

        A duration may be longer than expected by up to `tolerance` but never shorter than
        expected minus 5 ms.
        """
        changes = self.history[line]
        actual = [(0.0 if i == 0 else t - changes[i - 1][0], v) for i, (t, v) in enumerate(changes)]
        message = f"line {line}: expected {expected}, got {[(round(d, 4), v) for d, v in actual]}"
        assert [v for _, v in actual] == [v for _, v in expected], message
        for (got, _), (want, _) in zip(actual, expected, strict=True):
            assert want - 0.005 <= got <= want + tolerance, message

    def _check(self, line: int) -> None:
        if self.released:
            raise OSError(errno.EBADF, "request released")
        if line not in self.settings:
            raise ValueError(f"line {line} not requested")

    def _record(self, line: int, level: int) -> None:
        changes = self.history.setdefault(line, [])
        if changes and changes[-1][1] == level:
            return
        now = self._monotonic()
        changes.append((now, level))
        if self._log_fd is not None:
            os.write(self._log_fd, f"{line} {now:.6f} {level}\n".encode())


class FakeChip:
    """An injectable replacement for the gpiod module: request_lines() returns FakeLineRequest."""

    def __init__(self, log_path: str | None = None) -> None:
        self.requests: list[FakeLineRequest] = []
        self._log_path = log_path

    def request_lines(
        self, path: str, config: Mapping[Any, Any], consumer: str | None = None, **_: Any
    ) -> FakeLineRequest:
        """Request lines on the fake chip at `path`, as gpiod.request_lines() does."""
        request = FakeLineRequest(config, chip=path, consumer=consumer, log_path=self._log_path)
        self.requests.append(request)
        return request

    def request_for(self, line: int) -> FakeLineRequest:
        """The newest request holding `line`."""
        for request in reversed(self.requests):
            if line in request.settings:
                return request
        raise KeyError(line)


class FakeInput:
    """A DigitalInput driven by code: set_active(), press()."""

    def __init__(self, name: str = "input") -> None:
        self.name = name
        self._cond = threading.Condition()
        self._active = False
        self._edges = 0
        self.closed = False

    def set_active(self, *, active: bool) -> None:
        """Set the input's level; going active counts as an activation."""
        with self._cond:
            if active and not self._active:
                self._edges += 1
            self._active = active
            self._cond.notify_all()

    def press(self, hold_s: float = 0.0) -> None:
        """Activate then release (after hold_s seconds, on a timer, without blocking)."""
        self.set_active(active=True)
        if hold_s <= 0:
            self.set_active(active=False)
        else:
            threading.Timer(hold_s, self.set_active, kwargs={"active": False}).start()

    def is_active(self) -> bool:
        """Tell whether the input is active now."""
        with self._cond:
            return self._active

    def wait_for_active(self, timeout_s: float) -> bool:
        """Wait until the input is active or has been activated since the call; False on timeout."""
        with self._cond:
            edges = self._edges
            return self._cond.wait_for(
                lambda: self._active or self._edges != edges, timeout=max(0.0, timeout_s)
            )

    def close(self) -> None:
        """Mark the input closed."""
        self.closed = True


class FakeOutput:
    """A DigitalOutput recording (monotonic time, on) changes."""

    def __init__(self, name: str = "output") -> None:
        self.name = name
        self.history: list[tuple[float, bool]] = []
        self.closed = False

    @property
    def is_on(self) -> bool:
        """Tell whether the last recorded change switched the output on."""
        return bool(self.history) and self.history[-1][1]

    def on(self) -> None:
        """Switch on, recording the change."""
        self._set(on=True)

    def off(self) -> None:
        """Switch off, recording the change."""
        self._set(on=False)

    def close(self) -> None:
        """Switch off and mark the output closed."""
        self._set(on=False)
        self.closed = True

    def _set(self, *, on: bool) -> None:
        if self.is_on != on or not self.history:
            self.history.append((time.monotonic(), on))


def _is_output(line_settings: LineSettings) -> bool:
    return bool(line_settings.direction == Direction.OUTPUT)


def _level(value: Any) -> int:
    return 1 if value else 0
