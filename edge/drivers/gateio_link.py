"""One serial link to the gate I/O board: numbered requests, retries, resync and reconnect."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import serial

from edge.drivers.gateio_frames import (
    FIRMWARE_VERSION,
    PROTOCOL_VERSION,
    SEQ_MODULO,
    FrameReader,
    encode_frame,
)
from edge.errors import DriverError

log = logging.getLogger(__name__)

BAUDRATE = 115200
REPLY_TIMEOUT_S = 0.15
ATTEMPTS = 3
READ_SLICE_S = 0.01
HEARTBEAT_DEADLINE_RANGE_MS = (100, 2000)  # the protocol's range for the board's deadline
MAX_PULSE_RANGE_MS = (100, 2000)  # and for the board's own pulse cap


class GateIoError(DriverError):
    """The gate I/O board did not answer, answered with an error, or is not compatible."""


class BoardRefusedError(GateIoError):
    """The board answered ERR; `code` is its error code (NOTREADY, BUSY, ARG, CMD, PROTO) and
    `detail` what follows it."""

    def __init__(self, code: str, text: str) -> None:
        self.code = code
        self.detail = text.partition(" ")[2]
        super().__init__(f"gate I/O board refused: {text}")


@dataclass(frozen=True)
class BoardInfo:
    """What the board said in answer to HELLO."""

    protocol: int
    firmware: str
    heartbeat_deadline_ms: int
    max_pulse_ms: int


Opener = Callable[[str, int], Any]


def open_serial(port: str, baudrate: int) -> Any:
    """A pyserial port (device path or URL) with a short read timeout, locked against a second
    process (two readers on one port would steal each other's replies)."""
    return serial.serial_for_url(
        port, baudrate=baudrate, timeout=READ_SLICE_S, write_timeout=0.5, exclusive=True
    )


class GateIoLink:
    """Sends one request at a time and waits for the reply with the same sequence number.

    A request that gets no reply is sent again with the SAME number, so the board answers a
    retry of a command it already carried out from its cache instead of doing it twice. Bytes
    that are not a valid frame are skipped; a port error closes the port, and the next request
    opens it again and says HELLO (the board may have been unplugged and restarted).
    """

    def __init__(
        self,
        port: str,
        baudrate: int = BAUDRATE,
        *,
        reply_timeout_s: float = REPLY_TIMEOUT_S,
        attempts: int = ATTEMPTS,
        opener: Opener = open_serial,
    ) -> None:
        self.port_name = port
        self.baudrate = baudrate
        self.reply_timeout_s = reply_timeout_s
        self.attempts = max(1, attempts)
        self._opener = opener
        self._lock = threading.RLock()
        self._port: Any = None
        self._reader = FrameReader()
        self._seq = int(time.monotonic() * 1000) % SEQ_MODULO
        self.info: BoardInfo | None = None
        self.reconnects = 0
        self.handshakes = 0  # successful HELLOs: the board's counters start again with each
        self.retries = 0

    @property
    def connected(self) -> bool:
        """True while the port is open and the board has accepted HELLO."""
        return self._port is not None and self.info is not None

    @property
    def dropped_frames(self) -> int:
        """Received frames skipped for a bad CRC, bad shape or excess length."""
        return self._reader.dropped

    def connect(self) -> BoardInfo:
        """Open the port if needed and shake hands; GateIoError when the board is unusable."""
        with self._lock:
            if self._port is None:
                self._open()
            if self.info is None:
                self.info = self._hello()
                self.handshakes += 1
            return self.info

    def request(self, text: str) -> str:
        """Send a command; return the reply after "OK <VERB> ". BoardRefusedError for ERR,
        GateIoError when the board does not answer. Re-says HELLO once if the board lost it."""
        with self._lock:
            self.connect()
            try:
                return self._exchange(text)
            except BoardRefusedError as exc:
                if exc.code != "NOTREADY":
                    raise
                self.info = None
                self.connect()
                return self._exchange(text)

    def query(self, text: str) -> str:
        """Like request(), for STATUS and VERSION, which the board answers without HELLO."""
        with self._lock:
            if self._port is None:
                self._open()
            return self._exchange(text)

    def close(self) -> None:
        """Close the port (the board drops its relay when heartbeats stop)."""
        with self._lock:
            self._drop_port()

    def _open(self) -> None:
        try:
            self._port = self._opener(self.port_name, self.baudrate)
        except (serial.SerialException, OSError, ValueError) as exc:
            raise GateIoError(f"cannot open gate I/O board {self.port_name!r}: {exc}") from exc
        self._reader.reset()
        self.reconnects += 1
        try:
            self._port.reset_input_buffer()
        except (serial.SerialException, OSError) as exc:
            self._drop_port()
            raise GateIoError(f"gate I/O board {self.port_name!r}: {exc}") from exc

    def _hello(self) -> BoardInfo:
        try:
            reply = self._exchange(f"HELLO {PROTOCOL_VERSION}")
        except BoardRefusedError as exc:
            if exc.code == "PROTO":
                raise GateIoError(
                    f"gate I/O board speaks another protocol ({exc}); this gate-edge needs "
                    f"protocol {PROTOCOL_VERSION}: flash it with `gate-edge gateio flash`"
                ) from exc
            raise
        info = parse_hello(reply)
        if info.firmware != FIRMWARE_VERSION:
            log.warning(
                "gate I/O board runs firmware %s, this release ships %s (gate-edge gateio flash)",
                info.firmware,
                FIRMWARE_VERSION,
            )
        return info

    def _exchange(self, text: str) -> str:
        self._seq = (self._seq + 1) % SEQ_MODULO
        frame = encode_frame(self._seq, text)
        verb = text.split(" ", 1)[0]
        for attempt in range(self.attempts):
            if attempt:
                self.retries += 1
            self._write(frame)
            reply = self._await(self._seq)
            if reply is None:
                continue
            status, _, rest = reply.partition(" ")
            if status == "ERR":
                code = rest.split(" ", 1)[0]
                raise BoardRefusedError(code, rest)
            answered, _, payload = rest.partition(" ")
            if status != "OK" or answered != verb:
                raise GateIoError(f"gate I/O board answered {reply!r} to {verb}")
            return payload
        raise GateIoError(
            f"gate I/O board {self.port_name!r}: no reply to {verb} "
            f"after {self.attempts} attempt(s)"
        )

    def _write(self, frame: bytes) -> None:
        port = self._port
        if port is None:
            raise GateIoError(f"gate I/O board {self.port_name!r} is disconnected")
        try:
            port.write(frame)
            port.flush()
        except (serial.SerialException, OSError) as exc:
            self._drop_port()
            raise GateIoError(f"gate I/O board {self.port_name!r} write failed: {exc}") from exc

    def _await(self, seq: int) -> str | None:
        deadline = time.monotonic() + self.reply_timeout_s
        while time.monotonic() < deadline:
            port = self._port
            if port is None:
                raise GateIoError(f"gate I/O board {self.port_name!r} is disconnected")
            try:
                waiting = port.in_waiting
                data = port.read(min(max(waiting, 1), 512))
            except (serial.SerialException, OSError, TypeError) as exc:
                self._drop_port()
                raise GateIoError(f"gate I/O board {self.port_name!r} read failed: {exc}") from exc
            for got_seq, text in self._reader.feed(data):
                if got_seq == seq:
                    return text
                log.debug("gate I/O board: stale reply %02X %r skipped", got_seq, text)
        return None

    def _drop_port(self) -> None:
        port, self._port = self._port, None
        self.info = None
        if port is not None:
            try:
                port.close()
            except (serial.SerialException, OSError) as exc:
                log.debug("closing %s: %s", self.port_name, exc)


def parse_hello(payload: str) -> BoardInfo:
    """`<protocol> <firmware> <deadline ms> <max pulse ms>` from the HELLO reply; a board whose
    heartbeat deadline or pulse cap lies outside the protocol's range is refused."""
    parts = payload.split(" ")
    if len(parts) != 4 or not all(_digits(parts[i]) for i in (0, 2, 3)):
        raise GateIoError(f"gate I/O board sent a malformed HELLO reply {payload!r}")
    protocol, firmware, deadline, cap = int(parts[0]), parts[1], int(parts[2]), int(parts[3])
    if protocol != PROTOCOL_VERSION:
        raise GateIoError(f"gate I/O board sent an unusable HELLO reply {payload!r}")
    low, high = HEARTBEAT_DEADLINE_RANGE_MS
    if not low <= deadline <= high:
        raise GateIoError(
            f"gate I/O board refused: its heartbeat deadline {deadline} ms is outside "
            f"{low}-{high} ms (a lost host would not be noticed in time)"
        )
    low, high = MAX_PULSE_RANGE_MS
    if not low <= cap <= high:
        raise GateIoError(
            f"gate I/O board refused: its pulse cap {cap} ms is outside {low}-{high} ms"
        )
    return BoardInfo(protocol, firmware, deadline, cap)


def parse_status(payload: str) -> dict[str, str]:
    """`key=value ...` from the STATUS reply."""
    fields: dict[str, str] = {}
    for item in payload.split(" "):
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise GateIoError(f"gate I/O board sent a malformed STATUS reply {payload!r}")
        fields[key] = value
    return fields


def _digits(text: str) -> bool:
    return 0 < len(text) <= 9 and text.isascii() and text.isdigit()
