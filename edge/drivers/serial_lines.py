"""Terminator-delimited text lines from a serial device that may be unplugged and replugged."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import serial

from edge.clock import Clock, SystemClock

log = logging.getLogger(__name__)

TERMINATORS = {"cr": b"\r", "lf": b"\n", "crlf": b"\r\n", "tab": b"\t", "none": b""}
PortOpener = Callable[[], Any]


class LineFramer:
    """Splits a byte stream into lines; over-long lines and undecodable garbage are discarded.

    With terminator b"\\r" or b"\\n" either line end is accepted (scanners are often reconfigured);
    "none" splits on any CR or LF as well.
    """

    def __init__(self, terminator: bytes = b"\r", max_length: int = 4096) -> None:
        self._terminators = (
            [b"\r\n", b"\r", b"\n"] if terminator in (b"\r", b"\n", b"\r\n", b"") else [terminator]
        )
        self._max = max_length
        self._buffer = bytearray()
        self._overflowed = False
        self.discarded = 0

    def feed(self, data: bytes) -> list[str]:
        """Add received bytes; return the complete, valid lines they finished."""
        self._buffer.extend(data)
        lines = []
        while True:
            cut = self._find_terminator()
            if cut is None:
                break
            end, length = cut
            raw = bytes(self._buffer[:end])
            del self._buffer[: end + length]
            if self._overflowed:
                self._overflowed = False  # the tail of an over-long line
                continue
            line = self._accept(raw)
            if line is not None:
                lines.append(line)
        if len(self._buffer) > self._max:
            self._buffer.clear()
            self._overflowed = True
            self.discarded += 1
        return lines

    def _find_terminator(self) -> tuple[int, int] | None:
        best: tuple[int, int] | None = None
        for term in self._terminators:
            index = self._buffer.find(term)
            if index >= 0 and (best is None or index < best[0]):
                best = (index, len(term))
        return best

    def _accept(self, raw: bytes) -> str | None:
        if not raw.strip():
            return None
        if len(raw) > self._max:
            self.discarded += 1
            return None
        try:
            text = raw.decode("utf-8", errors="strict")
        except UnicodeDecodeError:
            self.discarded += 1
            return None
        if any(ord(ch) < 0x20 and ch != "\t" for ch in text) or "\x7f" in text:
            self.discarded += 1
            return None
        return text

    def reset(self) -> None:
        """Forget a partial line (after a disconnect)."""
        self._buffer.clear()
        self._overflowed = False


class ReconnectingPort:
    """A pyserial port that reopens itself with backoff; I/O errors never escape."""

    def __init__(
        self,
        url: str,
        baudrate: int = 9600,
        *,
        clock: Clock | None = None,
        opener: PortOpener | None = None,
        max_backoff_s: float = 5.0,
        on_open: Callable[[ReconnectingPort], None] | None = None,
    ) -> None:
        self.url = url
        self._opener = opener or (
            lambda: serial.serial_for_url(url, baudrate=baudrate, timeout=0.05)
        )
        self._clock = clock or SystemClock()
        self._max_backoff = max_backoff_s
        self._port: Any = None
        self._backoff = 0.0
        self._next_attempt = 0.0
        self._lock = threading.Lock()
        self._on_open = on_open
        self.fault: str | None = "not opened yet"
        self.reconnects = 0

    @property
    def healthy(self) -> bool:
        """The port is open and the last I/O succeeded."""
        return self.fault is None

    def _ensure_open(self) -> bool:
        if self._port is not None:
            return True
        now = self._clock.monotonic()
        if now < self._next_attempt:
            return False
        try:
            self._port = self._opener()
        except (serial.SerialException, OSError, ValueError) as exc:
            self._fail(f"cannot open {self.url}: {exc}")
            return False
        if self.fault is not None and self.fault != "not opened yet":
            self.reconnects += 1
            log.info("serial %s reopened", self.url)
        self.fault = None
        self._backoff = 0.0
        if self._on_open is not None:
            self._on_open(self)
        return True

    def _fail(self, reason: str) -> None:
        if self.fault != reason:
            log.warning("serial %s: %s", self.url, reason)
        self.fault = reason
        self._close_port()
        self._backoff = min(self._max_backoff, max(0.25, self._backoff * 2))
        self._next_attempt = self._clock.monotonic() + self._backoff

    def read(self, timeout_s: float) -> bytes:
        """Bytes available within about `timeout_s` (b"" on timeout or while disconnected)."""
        with self._lock:
            if not self._ensure_open():
                wait = max(0.0, min(timeout_s, self._next_attempt - self._clock.monotonic()))
            else:
                try:
                    self._port.timeout = max(0.0, timeout_s)
                    first = self._port.read(1)
                    if not first:
                        return b""
                    rest = self._port.read(self._port.in_waiting) if self._port.in_waiting else b""
                    return bytes(first) + bytes(rest)
                except (serial.SerialException, OSError, ValueError, TypeError) as exc:
                    self._fail(f"read failed: {exc}")
                    return b""
        self._clock.sleep(wait)
        return b""

    def write(self, data: bytes) -> bool:
        """Send `data`; False (and a reconnect later) if the port is gone."""
        with self._lock:
            if not self._ensure_open():
                return False
            try:
                self._port.write(data)
                self._port.flush()
            except (serial.SerialException, OSError, ValueError, TypeError) as exc:
                self._fail(f"write failed: {exc}")
                return False
            return True

    def _close_port(self) -> None:
        if self._port is None:
            return
        try:
            self._port.close()
        except (serial.SerialException, OSError) as exc:
            log.debug("serial close failed: %r", exc)
        self._port = None

    def close(self) -> None:
        """Close the port for good."""
        with self._lock:
            self._close_port()
            self.fault = "closed"
            self._next_attempt = float("inf")


class SerialLineReader:
    """A LineSource over a serial port: complete, valid lines only; survives unplug/replug."""

    def __init__(
        self,
        port: ReconnectingPort,
        terminator: bytes = b"\r",
        max_length: int = 4096,
        *,
        clock: Clock | None = None,
    ) -> None:
        self.port = port
        self._clock = clock or SystemClock()
        self._framer = LineFramer(terminator, max_length)
        self._ready: list[str] = []
        self._was_healthy = True

    @property
    def healthy(self) -> bool:
        """False while the device is unplugged or failing (see `fault`)."""
        return self.port.healthy

    @property
    def fault(self) -> str | None:
        """Why the device is not healthy, or None."""
        return self.port.fault

    @property
    def discarded(self) -> int:
        """Lines thrown away as garbage or over-long."""
        return self._framer.discarded

    def filter_bytes(self, data: bytes) -> bytes:
        """Hook for protocols that interleave binary replies with text (identity here)."""
        return data

    def read_line(self, timeout_s: float) -> str | None:
        """The next complete line, or None on timeout; never raises for I/O errors.

        A timeout of 0 polls the port once without waiting."""
        deadline = self._clock.monotonic() + max(0.0, timeout_s)
        # port reads block in real time, which an injected test clock does not see
        real_deadline = time.monotonic() + max(0.0, timeout_s)
        polled = False  # a zero timeout still polls once: it opens the port and drains it
        while not self._ready:
            remaining = min(deadline - self._clock.monotonic(), real_deadline - time.monotonic())
            if remaining <= 0 and polled:
                return None
            polled = True
            data = self.port.read(min(max(0.0, remaining), 0.1))
            if not self.port.healthy:
                self._framer.reset()  # a half line from before the unplug is not trustworthy
            if data:
                self._ready.extend(self._framer.feed(self.filter_bytes(data)))
            self.on_poll()
        return self._ready.pop(0)

    def on_poll(self) -> None:
        """Hook called after every read attempt (trigger protocols re-arm here)."""

    def close(self) -> None:
        """Close the port."""
        self.port.close()


def open_line_reader(
    port: str, baudrate: int = 9600, terminator: str = "cr", max_length: int = 4096
) -> SerialLineReader:
    """A line reader on `port` (a /dev/serial/by-id path, or any pyserial URL such as loop://)."""
    return SerialLineReader(
        ReconnectingPort(port, baudrate), TERMINATORS.get(terminator, b"\r"), max_length
    )
