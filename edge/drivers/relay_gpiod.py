"""The gate relay on a GPIO line through libgpiod v2, requested inactive, pulsed only."""

from __future__ import annotations

import logging
from typing import Protocol

from edge.clock import SYSTEM_CLOCK, Clock
from edge.drivers.gpio_lines import Direction, GpioBackend, LineSettings, Value, libgpiod
from edge.drivers.relay_pulse import MAX_PULSE_MS, PulsedRelay
from edge.errors import RelayError

log = logging.getLogger(__name__)

CONSUMER = "gate-edge"


class LineRequestLike(Protocol):
    """The part of gpiod.LineRequest the relay uses."""

    def set_value(self, line: int, value: Value) -> None:
        """Drive the relay line to `value`; OSError when the chip is gone."""
        ...

    def release(self) -> None:
        """Give the line back to the kernel."""
        ...


def request_output(
    backend: GpioBackend, chip: str, line: int, *, active_low: bool
) -> LineRequestLike:
    """Request one output line, logically inactive from the first instant.

    `backend` is the gpiod module, or edge.drivers.fake_gpio.FakeChip for simulation.
    """
    settings = LineSettings(
        direction=Direction.OUTPUT, output_value=Value.INACTIVE, active_low=active_low
    )
    try:
        request: LineRequestLike = backend.request_lines(
            chip, consumer=CONSUMER, config={line: settings}
        )
    except (OSError, ValueError) as exc:
        raise RelayError(f"cannot request {chip} line {line}: {exc}") from exc
    return request


class GpiodRelay(PulsedRelay):
    """Pulses one GPIO line; active-high or active-low is applied by the kernel (active_low)."""

    def __init__(
        self,
        request: LineRequestLike,
        line: int,
        *,
        pulse_ms: int = 300,
        cap_ms: int = MAX_PULSE_MS,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self._request = request
        self.line = line
        super().__init__(
            lambda: request.set_value(line, Value.ACTIVE),
            lambda: request.set_value(line, Value.INACTIVE),
            pulse_ms=pulse_ms,
            cap_ms=cap_ms,
            name=f"relay(line {line})",
            clock=clock,
        )

    @classmethod
    def open(
        cls,
        chip: str,
        line: int,
        *,
        active_low: bool = False,
        pulse_ms: int = 300,
        cap_ms: int = MAX_PULSE_MS,
        backend: GpioBackend | None = None,
        clock: Clock = SYSTEM_CLOCK,
    ) -> GpiodRelay:
        """Request the line (inactive) on `chip` through `backend` and wrap it."""
        request = request_output(backend or libgpiod(), chip, line, active_low=active_low)
        return cls(request, line, pulse_ms=pulse_ms, cap_ms=cap_ms, clock=clock)

    def _free(self) -> None:
        try:
            self._request.release()
        except OSError as exc:
            log.warning("%s: freeing the line request failed: %s", self.name, exc)
