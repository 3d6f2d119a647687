"""Opens the configured gate relay: GPIO (libgpiod v2), LCUS serial board, gate I/O board or a
fake line."""

from __future__ import annotations

from edge.clock import SYSTEM_CLOCK, Clock
from edge.drivers.fake_gpio import FakeChip
from edge.drivers.gateio import GateIoBoard
from edge.drivers.gpio_lines import GpioBackend, libgpiod
from edge.drivers.relay_gpiod import GpiodRelay
from edge.drivers.relay_lcus import LcusRelay
from edge.drivers.settings import RelaySettings
from edge.errors import RelayError
from edge.ports import GateRelay


def open_relay(
    settings: RelaySettings, gpio: GpioBackend | None = None, *, clock: Clock = SYSTEM_CLOCK
) -> GateRelay:
    """The relay per `settings`. `gpio` replaces the gpiod module (e.g. a FakeChip to inspect).

    backend "fake" runs the real GPIO relay code on a FakeChip line. Every relay opened here is
    released at interpreter exit; the service also calls install_release_handlers() for signals.
    """
    cap = settings.max_pulse_ms
    pulse = min(settings.pulse_ms, cap)
    if settings.backend == "serial":
        if not settings.port:
            raise RelayError("relay.port must name the relay board's serial port")
        return LcusRelay.open(
            settings.port,
            settings.channel,
            baudrate=settings.baudrate,
            pulse_ms=pulse,
            cap_ms=cap,
            clock=clock,
        )
    if settings.backend == "gateio":
        if not settings.port:
            raise RelayError("relay.port must name the gate I/O board's serial port")
        board = GateIoBoard.open(
            settings.port, baudrate=settings.baudrate, pulse_ms=pulse, cap_ms=cap
        )
        return board.relay
    if gpio is None:
        gpio = FakeChip() if settings.backend == "fake" else libgpiod()
    return GpiodRelay.open(
        settings.chip,
        settings.line,
        active_low=settings.active_low,
        pulse_ms=pulse,
        cap_ms=cap,
        backend=gpio,
        clock=clock,
    )
