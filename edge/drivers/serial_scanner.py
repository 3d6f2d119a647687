"""Serial QR scanner modules: GM65 family (command/continuous), Honeywell trigger, plain lines."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from edge.clock import Clock, SystemClock
from edge.drivers.serial_lines import TERMINATORS, ReconnectingPort, SerialLineReader
from edge.drivers.settings import SerialScannerSettings

log = logging.getLogger(__name__)

HONEYWELL_TRIGGER = b"\x16\x54\x0d"
HONEYWELL_UNTRIGGER = b"\x16\x55\x0d"
GM65_HEADER = b"\x7e\x00"
GM65_REPLY = b"\x02\x00"
GM65_READ = 0x07
GM65_WRITE = 0x08
GM65_SAVE = 0x09
GM65_MODE_ZONE = 0x0000  # bits 1-0: 00 manual, 01 command-triggered, 10 continuous, 11 induction
GM65_MODE_BITS = {"gm65-command": 0b01, "gm65-continuous": 0b10}
SETUP_REPLY_TIMEOUT_S = 1.0
SETUP_ATTEMPTS = 3
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
GM65_READ_MODE = gm65_command(GM65_READ, GM65_MODE_ZONE, b"\x01")  # read one byte


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
        self.received = 0  # replies seen in all (the list keeps only the latest)

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
            self.received += 1
            del self.replies[:-16]
            index = start + total
        if len(self._pending) > 300:
            self._pending = b""
        return bytes(text)


class Gm65ModeSetup:
    """Puts a GM65 module into the configured scan mode after every (re)open of its port.

    Reads the mode zone, changes only its two mode bits (read-modify-write keeps the module's
    other settings) and writes it back with a CRC, checking each reply. The change is not saved
    to the module's flash: it is applied again after every replug, which spares the flash.
    A module that never answers is reported in `problem`; its text is still read.
    """

    def __init__(self, protocol: str, send: Callable[[bytes], bool], clock: Clock) -> None:
        self._mode_bits = GM65_MODE_BITS[protocol]
        self._protocol = protocol
        self._send = send
        self._clock = clock
        self.state: Literal["idle", "reading", "writing", "done", "failed"] = "idle"
        self.problem: str | None = None
        self._deadline = 0.0
        self._attempts = 0

    @property
    def busy(self) -> bool:
        """A command is awaiting its reply (scan triggers would be confused with it)."""
        return self.state in ("reading", "writing")

    def restart(self) -> None:
        """The port was (re)opened: set the mode again."""
        self._attempts = 0
        self._read()

    def _read(self) -> None:
        self._attempts += 1
        self.state = "reading"
        self._deadline = self._clock.monotonic() + SETUP_REPLY_TIMEOUT_S
        self._send(GM65_READ_MODE)

    def on_reply(self, reply: Gm65Reply) -> None:
        """Advance on a reply from the module."""
        if not self.busy:
            return
        if reply.status != 0 or not reply.crc_ok:
            self._fail(
                f"module refused the mode setup (status {reply.status}, crc ok {reply.crc_ok})"
            )
            return
        if self.state == "writing":
            self.state = "done"
            log.info("GM65 module set to %s mode", self._protocol)
            return
        if len(reply.data) != 1:
            self._fail(f"unexpected mode zone reply {reply.data.hex()}")
            return
        current = reply.data[0]
        wanted = (current & ~0b11) | self._mode_bits
        if wanted == current:
            self.state = "done"
            log.info("GM65 module already in %s mode", self._protocol)
            return
        self.state = "writing"
        self._deadline = self._clock.monotonic() + SETUP_REPLY_TIMEOUT_S
        self._send(gm65_command(GM65_WRITE, GM65_MODE_ZONE, bytes([wanted])))

    def on_poll(self) -> None:
        """Retry a command whose reply did not come in time."""
        if not self.busy or self._clock.monotonic() < self._deadline:
            return
        if self._attempts < SETUP_ATTEMPTS:
            self._read()
        else:
            self._fail("no reply to the mode setup (serial mode, 9600 baud?)")

    def _fail(self, problem: str) -> None:
        self.state = "failed"
        self.problem = problem
        log.warning("GM65 module: %s; reading its text anyway", problem)


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
        self._seen_replies = 0
        self.mode_setup = (
            Gm65ModeSetup(protocol, port.write, self._clock) if protocol in GM65_MODE_BITS else None
        )
        self._opened_as = -1  # port.reconnects when the mode was last set up

    @property
    def replies(self) -> list[Gm65Reply]:
        """Recent command replies from a GM65 module."""
        return self._replies.replies if self._replies is not None else []

    def filter_bytes(self, data: bytes) -> bytes:
        """Strip GM65 command replies out of the text stream."""
        return self._replies.feed(data) if self._replies is not None else data

    def on_poll(self) -> None:
        """Set a GM65 module's mode after each (re)open; in trigger modes, start a new scan
        every trigger interval."""
        if self.mode_setup is not None:
            self._advance_setup(self.mode_setup)
            if self.mode_setup.busy or self.mode_setup.state == "idle":
                return  # a trigger's reply would be taken for the setup's
        trigger = {"gm65-command": GM65_TRIGGER, "honeywell": HONEYWELL_TRIGGER}.get(self.protocol)
        if trigger is None:
            return
        now = self._clock.monotonic()
        if now >= self._next_trigger and self.port.write(trigger):
            self._next_trigger = now + self._interval

    def _advance_setup(self, setup: Gm65ModeSetup) -> None:
        if self._replies is not None and self._replies.received > self._seen_replies:
            fresh = min(self._replies.received - self._seen_replies, len(self._replies.replies))
            self._seen_replies = self._replies.received
            for reply in self._replies.replies[-fresh:]:
                setup.on_reply(reply)
        if self.port.healthy and self.port.reconnects != self._opened_as:
            self._opened_as = self.port.reconnects
            setup.restart()
        elif self.port.healthy or setup.busy:
            setup.on_poll()

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
