"""Raspberry Pi Pico wiring of the gate I/O board: relay, inputs, lamps and the watchdog."""

import machine
from gateio_core import BoardIO

RELAY_PIN = 15
PASSAGE_PIN = 14
BUTTON_PIN = 13
OUTPUT_PINS = {"G": 16, "R": 17, "Z": 18, "F": 25}  # green, red, buzzer, fault (on-board LED)
WATCHDOG_MS = 2000
MAINTENANCE_FLAG = "maintenance"

_RESET_CAUSES = {
    machine.PWRON_RESET: "power",
    machine.WDT_RESET: "watchdog",
}


class PicoIO(BoardIO):
    """BoardIO on the Pico's pins. The relay pin is driven low before anything else happens;
    inputs are pulled up and active low (a dry contact to ground)."""

    def __init__(self) -> None:
        self._relay = machine.Pin(RELAY_PIN, machine.Pin.OUT, value=0)
        self._passage = machine.Pin(PASSAGE_PIN, machine.Pin.IN, machine.Pin.PULL_UP)
        self._button = machine.Pin(BUTTON_PIN, machine.Pin.IN, machine.Pin.PULL_UP)
        self._outputs = {
            name: machine.Pin(pin, machine.Pin.OUT, value=0) for name, pin in OUTPUT_PINS.items()
        }

    def set_relay(self, *, on: bool) -> None:
        """Drive the relay pin high (energised) or low."""
        self._relay.value(1 if on else 0)

    def set_output(self, name: str, *, on: bool) -> None:
        """Drive the indicator's pin high (on) or low."""
        self._outputs[name].value(1 if on else 0)

    def read_passage(self) -> bool:
        """True while the passage contact is closed (pin pulled low)."""
        return self._passage.value() == 0

    def read_button(self) -> bool:
        """True while the button is pressed (pin pulled low)."""
        return self._button.value() == 0

    def enter_maintenance(self) -> None:
        """Release the relay, write the maintenance flag file and reset the board."""
        self._relay.value(0)
        with open(MAINTENANCE_FLAG, "w") as flag:
            flag.write("1")
        machine.reset()


def reset_cause() -> str:
    """Why the board last started: power, watchdog or other."""
    return _RESET_CAUSES.get(machine.reset_cause(), "other")


def start_watchdog() -> machine.WDT:
    """Start the hardware watchdog; once started it cannot be stopped until the next reset."""
    return machine.WDT(timeout=WATCHDOG_MS)
