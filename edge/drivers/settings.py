"""Configuration of the devices: thermometer, relay, inputs, camera, serial scanner, document
reader."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from edge.configschema import setting
from edge.thermo.settings import BodyTemperatureSettings


@dataclass(frozen=True)
class ThermometerSettings:
    """The MLX90614 infrared thermometer on its I2C bus."""

    backend: Literal["mlx90614", "fake"] = setting("mlx90614", doc="Thermometer driver.")
    bus: int = setting(1, minimum=0, maximum=255, doc="I2C bus number (/dev/i2c-N).")
    address: int = setting(0x5A, minimum=0x03, maximum=0x77, doc="I2C address.")


@dataclass(frozen=True)
class ThermoSettings(BodyTemperatureSettings, ThermometerSettings):
    """The [thermo] section: the thermometer on its bus, then the body-temperature model."""


@dataclass(frozen=True)
class RelaySettings:
    """The relay that pulses the turnstile's open input."""

    backend: Literal["gpiod", "serial", "gateio", "fake"] = setting(
        "gpiod", doc="Relay driver; gateio: the fail-safe gate I/O board (docs/gateio-protocol.md)."
    )
    chip: str = setting("/dev/gpiochip0", doc="GPIO chip (gpiod).")
    line: int = setting(17, minimum=0, maximum=511, doc="GPIO line offset (gpiod).")
    active_low: bool = setting(False, doc="Relay board energises on a low level.")
    port: str = setting(
        "", doc="Serial port of an LCUS relay board (serial) or of the gate I/O board (gateio)."
    )
    channel: int = setting(1, minimum=1, maximum=8, doc="Relay channel (serial).")
    pulse_ms: int = setting(300, minimum=100, maximum=2000, doc="Open pulse length.")
    max_pulse_ms: int = setting(
        2000,
        minimum=100,
        maximum=2000,
        doc="Longest energised time from the first pulse, however requests overlap.",
    )
    baudrate: int = setting(9600, minimum=1200, maximum=115200, doc="Relay board baud (serial).")


@dataclass(frozen=True)
class IoSettings:
    """Inputs (passage confirmation, manual-pass button, lane presence) and outputs (lamps,
    buzzer)."""

    backend: Literal["gpiod", "gateio", "fake"] = setting(
        "gpiod",
        doc="Driver for inputs/outputs; gateio: passage, button and lamps on the gate I/O board "
        "(needs relay.backend gateio; the line settings are then unused).",
    )
    chip: str = setting("/dev/gpiochip0", doc="GPIO chip.")
    passage_line: int = setting(-1, minimum=-1, maximum=511, doc="Turnstile PASS input; -1 off.")
    manual_button_line: int = setting(-1, minimum=-1, maximum=511, doc="Manual button; -1 off.")
    presence_line: int = setting(
        -1, minimum=-1, maximum=511, doc="Lane sensor: a person at the thermometer; -1 off."
    )
    inputs_active_low: bool = setting(True, doc="Inputs are active when pulled low.")
    debounce_ms: int = setting(20, minimum=0, maximum=500, doc="Input debounce time.")
    poll_ms: int = setting(5, minimum=1, maximum=100, doc="Input sampling period.")
    green_lamp_line: int = setting(-1, minimum=-1, maximum=511, doc="Green lamp; -1 off.")
    red_lamp_line: int = setting(-1, minimum=-1, maximum=511, doc="Red lamp; -1 off.")
    buzzer_line: int = setting(-1, minimum=-1, maximum=511, doc="Buzzer; -1 off.")


@dataclass(frozen=True)
class DocumentReaderSettings:
    """A serial document reader that sends the document number as one line."""

    enabled: bool = setting(False, doc="A document reader is fitted.")
    port: str = setting("/dev/serial/by-id/", doc="Serial port.")
    baudrate: int = setting(9600, minimum=1200, maximum=921600, doc="Baud rate (8N1).")
    terminator: Literal["cr", "lf", "crlf", "tab"] = setting(
        "cr", doc="Terminator after each document number."
    )


@dataclass(frozen=True)
class CameraSettings:
    """The frame source."""

    source: Literal["usb", "csi", "replay", "none"] = setting("usb", doc="Frame source kind.")
    device: str = setting("/dev/video0", doc="USB camera device (usb).")
    width: int = setting(1280, minimum=160, maximum=4096, doc="Capture width in pixels.")
    height: int = setting(720, minimum=120, maximum=3072, doc="Capture height in pixels.")
    fps: int = setting(30, minimum=1, maximum=120, doc="Capture frame rate.")
    replay_path: str = setting("", doc="Video file or image folder (replay).")
    replay_fps: float = setting(15.0, minimum=0.1, maximum=240.0, doc="Replay frame rate.")
    replay_loop: bool = setting(True, doc="Restart the replay at its end.")


@dataclass(frozen=True)
class SerialScannerSettings:
    """An optional serial QR scanner module as a second code source."""

    enabled: bool = setting(False, doc="Use a serial scanner module.")
    port: str = setting("/dev/serial/by-id/", doc="Serial port; prefer /dev/serial/by-id/...")
    baudrate: int = setting(9600, minimum=1200, maximum=921600, doc="Baud rate (8N1).")
    protocol: Literal["gm65-command", "gm65-continuous", "honeywell", "lines"] = setting(
        "gm65-continuous", doc="Scanner protocol."
    )
    terminator: Literal["cr", "lf", "crlf", "tab", "none"] = setting(
        "cr", doc="Terminator after each decoded text."
    )
    trigger_interval_s: float = setting(
        2.0, minimum=0.2, maximum=60.0, doc="Re-trigger period in command/trigger modes."
    )
    max_line_length: int = setting(
        4096, minimum=16, maximum=65536, doc="Longer lines are discarded as garbage."
    )
