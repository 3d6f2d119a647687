"""Small interfaces the controller uses; each has a real driver and a fake."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from edge.faults import Fault

GrayFrame = npt.NDArray[np.uint8]
Frame = npt.NDArray[np.uint8]
"""A camera frame as captured: grayscale (height, width) or BGR (height, width, 3). Consumers
convert to grayscale only when they need the whole picture (edge.scan.preprocess.to_gray)."""


FaultReport = Callable[[Fault, str], None]
"""Latch a fault: (fault, detail)."""
FaultClear = Callable[[Fault], None]
"""Clear a latched fault."""


# ---- optional capabilities: a device has them or not; callers test with isinstance() ----------


@runtime_checkable
class Heartbeat(Protocol):
    """A device with a thread of its own, whose liveness the watchdog checks."""

    def heartbeat(self) -> float:
        """Monotonic time of the device thread's latest round."""
        ...


@runtime_checkable
class SelfWatching(Protocol):
    """A device that notices its own faults (e.g. a board's missed heartbeats) and latches and
    clears them in the controller itself."""

    def attach_faults(self, report: FaultReport, clear: FaultClear) -> None:
        """Route the device's fault changes to `report` and `clear` from now on."""
        ...


@runtime_checkable
class Startable(Protocol):
    """A device with background activity started once the service runs."""

    def start(self) -> None:
        """Start the background activity."""
        ...


@runtime_checkable
class Closeable(Protocol):
    """A device holding an OS resource (a bus, a port) to free."""

    def close(self) -> None:
        """Free the resource."""
        ...


@runtime_checkable
class ReconnectingLineSource(Protocol):
    """A line source that reopens its port by itself and says why it is not reading."""

    @property
    def fault(self) -> str | None:
        """Why the port is not open now ("not opened yet" before the first open); None when
        it reads."""
        ...


class GateRelay(Protocol):
    """Pulses the turnstile's open input for a bounded time; never holds it."""

    def pulse(self, duration_ms: int | None = None) -> None:
        """Energise for duration_ms (clamped to the cap), then release; does not block."""
        ...

    def release(self) -> None:
        """De-energise now."""
        ...

    def close(self) -> None:
        """Release the relay and free the hardware."""
        ...


class DigitalInput(Protocol):
    """A debounced input such as the turnstile's PASS output or the manual-pass button."""

    def is_active(self) -> bool:
        """Return the debounced state."""
        ...

    def wait_for_active(self, timeout_s: float) -> bool:
        """Block until the input becomes active (True) or the timeout passes (False)."""
        ...

    def close(self) -> None:
        """Free the hardware."""
        ...


class DigitalOutput(Protocol):
    """A lamp or buzzer."""

    def on(self) -> None:
        """Switch on."""
        ...

    def off(self) -> None:
        """Switch off."""
        ...

    def close(self) -> None:
        """Switch off and free the hardware."""
        ...


class FrameSource(Protocol):
    """Delivers the newest camera frame, never a queued stale one."""

    def read(self, timeout_s: float) -> tuple[float, Frame] | None:
        """Return (capture time in monotonic seconds, frame) newer than the last read, or None
        if none arrived within the timeout. Raises CameraError when the source failed."""
        ...

    def close(self) -> None:
        """Stop capturing and free the device."""
        ...


class LineSource(Protocol):
    """A serial device that yields complete text lines (QR scanner module, document reader)."""

    def read_line(self, timeout_s: float) -> str | None:
        """Return the next complete line, or None on timeout. Survives unplug/replug."""
        ...

    def close(self) -> None:
        """Close the port."""
        ...
