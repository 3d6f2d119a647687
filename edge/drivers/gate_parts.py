"""The relay and the inputs/indicators as the technician's tools open them: on the gate I/O board
they are one device, so the inputs and lamps are reached through the board the relay opens."""

from __future__ import annotations

from edge.clock import SYSTEM_CLOCK, Clock
from edge.drivers.gateio import GateIoRelay
from edge.drivers.io import GateIo, open_io
from edge.drivers.relay import open_relay
from edge.drivers.settings import IoSettings, RelaySettings
from edge.errors import DriverError, GateEdgeError

# Where the firmware (firmware/gateio_hw.py) wires each part on the board.
BOARD_PINS = {
    "passage": "GP14",
    "manual_button": "GP13",
    "green_lamp": "GP16",
    "red_lamp": "GP17",
    "buzzer": "GP18",
}


def describe_relay(settings: RelaySettings) -> str:
    """Where the relay is, in the technician's terms."""
    if settings.backend == "serial":
        return f"LCUS board {settings.port or '(no port)'} channel {settings.channel}"
    if settings.backend == "gateio":
        return f"gate I/O board {settings.port or '(no port)'}"
    polarity = "active-low" if settings.active_low else "active-high"
    kind = "fake line" if settings.backend == "fake" else "GPIO"
    return f"{kind} {settings.chip} line {settings.line} ({polarity})"


def describe_io(relay: RelaySettings, io: IoSettings) -> str:
    """Where the inputs and indicators are."""
    if io.backend == "gateio":
        return f"gate I/O board {relay.port or '(no port)'}"
    return f"{'fake lines' if io.backend == 'fake' else 'GPIO'} {io.chip}"


def io_places(io: IoSettings) -> dict[str, str]:
    """Each fitted input and output by name, with its pin or line."""
    if io.backend == "gateio":
        return dict(BOARD_PINS)
    lines = {
        "passage": io.passage_line,
        "manual_button": io.manual_button_line,
        "presence": io.presence_line,
        "green_lamp": io.green_lamp_line,
        "red_lamp": io.red_lamp_line,
        "buzzer": io.buzzer_line,
    }
    return {name: f"line {line}" for name, line in lines.items() if line >= 0}


def open_gate_io(relay: RelaySettings, io: IoSettings, *, clock: Clock = SYSTEM_CLOCK) -> GateIo:
    """The inputs and indicators alone. With io.backend "gateio" the board is opened (through
    its relay, which stays released) and closing the GateIo closes the board."""
    if io.backend != "gateio":
        return open_io(io, clock=clock)
    if relay.backend != "gateio":
        raise DriverError('io.backend "gateio" needs relay.backend "gateio" (one board owns both)')
    board_relay = open_relay(relay, clock=clock)
    if not isinstance(board_relay, GateIoRelay):  # pragma: no cover - open_relay's contract
        board_relay.close()
        raise DriverError("relay.backend gateio did not open a gate I/O board")
    try:
        parts = board_relay.board.gate_io()
    except GateEdgeError:
        board_relay.close()
        raise
    parts.owner = board_relay
    return parts
