"""The gate's inputs and indicators as one bundle, opened from configuration."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from edge.clock import SYSTEM_CLOCK, Clock
from edge.drivers.fake_gpio import FakeInput, FakeOutput
from edge.drivers.gpio_lines import Bias, Direction, GpioBackend, LineSettings, Value, libgpiod
from edge.drivers.io_gpiod import GpiodInput, GpiodOutput
from edge.drivers.relay_gpiod import CONSUMER
from edge.drivers.settings import IoSettings
from edge.errors import DriverError
from edge.ports import Closeable, DigitalInput, DigitalOutput

log = logging.getLogger(__name__)


@dataclass
class GateIo:
    """Optional inputs and outputs; None where the configuration has no line (-1)."""

    passage: DigitalInput | None = None
    manual_button: DigitalInput | None = None
    presence: DigitalInput | None = None
    green_lamp: DigitalOutput | None = None
    red_lamp: DigitalOutput | None = None
    buzzer: DigitalOutput | None = None
    _request: Any = field(default=None, repr=False)
    owner: Closeable | None = field(default=None, repr=False)  # closed last (the gate I/O board)

    def inputs(self) -> dict[str, DigitalInput]:
        """The fitted inputs by name (passage, manual_button, presence)."""
        named = {"passage": self.passage, "manual_button": self.manual_button}
        named["presence"] = self.presence
        return {name: part for name, part in named.items() if part is not None}

    def outputs(self) -> dict[str, DigitalOutput]:
        """The fitted outputs by name (green_lamp, red_lamp, buzzer)."""
        named = {"green_lamp": self.green_lamp, "red_lamp": self.red_lamp, "buzzer": self.buzzer}
        return {name: part for name, part in named.items() if part is not None}

    def close(self) -> None:
        """Switch outputs off, stop inputs and free the lines; never raises."""
        parts = (self.passage, self.manual_button, self.presence)
        for part in (*parts, self.green_lamp, self.red_lamp, self.buzzer):
            if part is not None:
                try:
                    part.close()
                except DriverError as exc:
                    log.warning("closing I/O: %s", exc)
        if self._request is not None:
            try:
                self._request.release()
            except OSError as exc:
                log.warning("releasing I/O lines: %s", exc)
            self._request = None
        if self.owner is not None:
            owner, self.owner = self.owner, None
            try:
                owner.close()
            except DriverError as exc:
                log.warning("closing I/O: %s", exc)


def open_io(
    settings: IoSettings, gpio: GpioBackend | None = None, *, clock: Clock = SYSTEM_CLOCK
) -> GateIo:
    """Request every configured line in one request. backend "fake" (and no `gpio`) gives
    FakeInput/FakeOutput objects for the configured lines; `gpio` replaces the gpiod module
    (e.g. a FakeChip) so the real GPIO code runs on fake lines."""
    inputs = {
        "passage": settings.passage_line,
        "manual_button": settings.manual_button_line,
        "presence": settings.presence_line,
    }
    outputs = {
        "green_lamp": settings.green_lamp_line,
        "red_lamp": settings.red_lamp_line,
        "buzzer": settings.buzzer_line,
    }
    if settings.backend == "gateio":
        raise DriverError('io.backend "gateio" is opened with its relay (relay.backend "gateio")')
    inputs = {name: line for name, line in inputs.items() if line >= 0}
    outputs = {name: line for name, line in outputs.items() if line >= 0}
    lines = list(inputs.values()) + list(outputs.values())
    if len(set(lines)) != len(lines):
        raise DriverError(f"I/O lines must be distinct, got {sorted(lines)}")
    if settings.backend == "fake" and gpio is None:
        parts: dict[str, Any] = {name: FakeInput(name) for name in inputs}
        parts.update({name: FakeOutput(name) for name in outputs})
        return GateIo(**parts)
    if not lines:
        return GateIo()
    in_settings = LineSettings(
        direction=Direction.INPUT,
        active_low=settings.inputs_active_low,
        bias=Bias.PULL_UP if settings.inputs_active_low else Bias.PULL_DOWN,
    )
    out_settings = LineSettings(direction=Direction.OUTPUT, output_value=Value.INACTIVE)
    config: dict[Any, Any] = {line: in_settings for line in inputs.values()}
    config.update({line: out_settings for line in outputs.values()})
    backend = gpio if gpio is not None else libgpiod()
    try:
        request = backend.request_lines(settings.chip, consumer=CONSUMER, config=config)
    except (OSError, ValueError) as exc:
        raise DriverError(f"cannot request {settings.chip} lines {sorted(lines)}: {exc}") from exc
    parts = {
        name: GpiodInput(
            request,
            line,
            debounce_ms=settings.debounce_ms,
            poll_ms=settings.poll_ms,
            name=name,
            clock=clock,
        )
        for name, line in inputs.items()
    }
    parts.update({name: GpiodOutput(request, line, name) for name, line in outputs.items()})
    return GateIo(**parts, _request=request)
