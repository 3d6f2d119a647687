"""The gate relay on an LCUS-type USB serial relay board (A0 <channel> <state> <checksum>)."""

from __future__ import annotations

import logging
from typing import Any

import serial

from edge.clock import SYSTEM_CLOCK, Clock
from edge.drivers.relay_pulse import MAX_PULSE_MS, PulsedRelay
from edge.errors import RelayError

log = logging.getLogger(__name__)

START = 0xA0
BAUDRATE = 9600


def lcus_frame(channel: int, *, on: bool) -> bytes:
    """A0 <channel> <01 on | 00 off> <sum of the three bytes & 0xFF>: channel 1 on = A0 01 01 A2."""
    if not 1 <= channel <= 0xFE:
        raise ValueError(f"channel must be 1..254, got {channel}")
    body = bytes([START, channel, 1 if on else 0])
    return body + bytes([sum(body) & 0xFF])


class LcusRelay(PulsedRelay):
    """Pulses one channel of an LCUS board; the board is switched off when opened and closed."""

    def __init__(
        self,
        port: Any,
        channel: int = 1,
        *,
        pulse_ms: int = 300,
        cap_ms: int = MAX_PULSE_MS,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self._port = port
        self.channel = channel
        self._on_frame = lcus_frame(channel, on=True)
        self._off_frame = lcus_frame(channel, on=False)
        self._send(self._off_frame)
        super().__init__(
            lambda: self._send(self._on_frame),
            lambda: self._send(self._off_frame),
            pulse_ms=pulse_ms,
            cap_ms=cap_ms,
            name=f"relay(lcus channel {channel})",
            clock=clock,
        )

    @classmethod
    def open(
        cls,
        port: str,
        channel: int = 1,
        *,
        baudrate: int = BAUDRATE,
        pulse_ms: int = 300,
        cap_ms: int = MAX_PULSE_MS,
        clock: Clock = SYSTEM_CLOCK,
    ) -> LcusRelay:
        """Open `port` (a device path or a pyserial URL such as loop://) and switch it off."""
        try:
            handle = serial.serial_for_url(port, baudrate=baudrate, timeout=0.5, write_timeout=0.5)
        except (serial.SerialException, OSError, ValueError) as exc:
            raise RelayError(f"cannot open relay board {port!r}: {exc}") from exc
        try:
            return cls(handle, channel, pulse_ms=pulse_ms, cap_ms=cap_ms, clock=clock)
        except RelayError:
            handle.close()
            raise

    def _send(self, frame: bytes) -> None:
        try:
            written = self._port.write(frame)
            self._port.flush()
        except (serial.SerialException, OSError) as exc:
            raise RelayError(f"relay board write failed: {exc}") from exc
        if written is not None and written != len(frame):
            raise RelayError(f"relay board accepted {written} of {len(frame)} bytes")

    def _free(self) -> None:
        try:
            self._port.close()
        except (serial.SerialException, OSError) as exc:
            log.warning("%s: closing the port failed: %s", self.name, exc)
