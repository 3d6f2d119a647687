"""Serial QR scanner modules: GM65 family (command/continuous), Honeywell trigger, plain lines."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from edge.clock import Clock, SystemClock
from edge.drivers.serial_lines import TERMINATORS, ReconnectingPort, SerialLineReader
from edge.scan.settings import SerialScannerSettings

log = logging.getLogger(__name__)

HONEYWELL_TRIGGER = b"\x16\x54\x0d"
HONEYWELL_UNTRIGGER = b"\x16\x55\x0d"
GM65_HEADER = b"\x7e\x00"
GM65_REPLY = b"\x02\x00"
GM65_WRITE = 0x08
GM65_SAVE = 0x09
GM65_NO_CRC = b"\xab\xcd"


def crc16_ccitt(data: bytes, crc: int = 0) -> int:
    """CRC-16/CCITT as GM65 modules use it: polynomial 0x1021, initial value 0, no reflection."""
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return crc


def gm65_command(kind: int, address: int, data: bytes, *, with_crc: bool = True) -> bytes:
    """`7E 00 | type | len | addr_hi addr_lo | data | crc_hi crc_lo` (or `AB CD` for no CRC)."""
    if not 0 < len(data) < 256 or not 0 <= address <= 0xFFFF:
        raise ValueError("GM65 command: 1..255 data bytes and a 16-bit address")
    body = bytes([kind, len(data), address >> 8, address & 0xFF]) + data
    tail = crc16_ccitt(body).to_bytes(2, "big") if with_crc else GM65_NO_CRC
    return GM65_HEADER + body + tail


GM65_TRIGGER = gm65_command(GM65_WRITE, 0x0002, b"\x01", with_crc=False)
GM65_SAVE_SETTINGS = GM65_HEADER + bytes([GM65_SAVE, 0x01, 0x00, 0x00, 0x00, 0xDE, 0xC8])


@dataclass(frozen=True)
class Gm65Reply:
    """A `02 00 | status | len | data | crc` reply; status 0 means success."""

    status: int
    data: bytes
    crc_ok: bool


class Gm65ReplyFilter:
    """Removes `02 00` reply frames from the byte stream, keeping the decoded text around them.

    A reply may arrive split across reads; the filter holds back a possible partial reply.
    """

    def __init__(self) -> None:
        self._pending = b""
        self.replies: list[Gm65Reply] = []

    def feed(self, data: bytes) -> bytes:
        """Return the text bytes of `data` with complete replies removed (and recorded)."""
        stream = self._pending + data
        self._pending = b""
        text = bytearray()
        index = 0
        while index < len(stream):
            start = stream.find(GM65_REPLY[:1], index)
            if start < 0:
                text.extend(stream[index:])
                break
            text.extend(stream[index:start])
            frame = stream[start:]
            if len(frame) < 4 and GM65_REPLY.startswith(frame[:2]):
                self._pending = bytes(frame)  # maybe the start of a reply: wait for more
                break
            if frame[:2] != GM65_REPLY:
                index = start + 1  # a stray STX is not text either: drop it
                continue
            length = frame[3]
            total = 4 + length + 2
            if len(frame) < total:
                self._pending = bytes(frame)
                break
            body = frame[2 : 4 + length]
            crc = frame[4 + length : total]
            crc_ok = crc == GM65_NO_CRC or int.from_bytes(crc, "big") == crc16_ccitt(body)
            self.replies.append(Gm65Reply(frame[2], bytes(frame[4 : 4 + length]), crc_ok))
            del self.replies[:-16]
            index = start + total
        if len(self._pending) > 300:
            self._pending = b""
        return bytes(text)


class SerialQrScanner(SerialLineReader):
    """A LineSource for a serial QR scanner module; re-triggers it in command/trigger modes."""

    def __init__(
        self,
        port: ReconnectingPort,
        protocol: str = "gm65-continuous",
        terminator: bytes = b"\r",
        max_length: int = 4096,
        trigger_interval_s: float = 2.0,
        *,
        clock: Clock | None = None,
    ) -> None:
        if protocol not in ("gm65-command", "gm65-continuous", "honeywell", "lines"):
            raise ValueError(f"unknown scanner protocol {protocol!r}")
        super().__init__(port, terminator, max_length, clock=clock)
        self.protocol = protocol
        self._clock = clock or SystemClock()
        self._interval = trigger_interval_s
        self._next_trigger = 0.0
        self._replies = Gm65ReplyFilter() if protocol.startswith("gm65") else None

    @property
    def replies(self) -> list[Gm65Reply]:
        """Recent command replies from a GM65 module."""
        return self._replies.replies if self._replies is not None else []

    def filter_bytes(self, data: bytes) -> bytes:
        """Strip GM65 command replies out of the text stream."""
        return self._replies.feed(data) if self._replies is not None else data

    def on_poll(self) -> None:
        """In trigger modes, start a new scan every trigger interval."""
        trigger = {"gm65-command": GM65_TRIGGER, "honeywell": HONEYWELL_TRIGGER}.get(self.protocol)
        if trigger is None:
            return
        now = self._clock.monotonic()
        if now >= self._next_trigger and self.port.write(trigger):
            self._next_trigger = now + self._interval

    def read_line(self, timeout_s: float) -> str | None:
        """The next decoded text; triggers the module first when it is due."""
        self.on_poll()
        return super().read_line(timeout_s)

    def close(self) -> None:
        """Stop a Honeywell scan in progress and close the port."""
        if self.protocol == "honeywell" and self.port.healthy:
            self.port.write(HONEYWELL_UNTRIGGER)
        super().close()


def open_serial_scanner(
    settings: SerialScannerSettings, clock: Clock | None = None
) -> SerialQrScanner:
    """The scanner module the configuration describes."""
    return SerialQrScanner(
        ReconnectingPort(settings.port, settings.baudrate, clock=clock),
        settings.protocol,
        TERMINATORS[settings.terminator],
        settings.max_line_length,
        settings.trigger_interval_s,
        clock=clock,
    )
