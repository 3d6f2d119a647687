"""A simulated gate I/O board: the firmware's own logic served over a pseudo-terminal."""

from __future__ import annotations

import contextlib
import importlib
import os
import select
import sys
import threading
import time
import tty
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

from edge.drivers.gateio_frames import default_firmware_dir
from edge.errors import DriverError

TICKS_MASK = (1 << 30) - 1
LOOP_WAIT_S = 0.002

Filter = Callable[[bytes], bytes]


def load_firmware(firmware_dir: Path | None = None) -> ModuleType:
    """Import the firmware's board logic (gateio_core) from `firmware_dir` under CPython."""
    directory = str(firmware_dir or default_firmware_dir())
    if not Path(directory, "gateio_core.py").is_file():
        raise DriverError(f"no gate I/O firmware in {directory}")
    if directory not in sys.path:
        sys.path.insert(0, directory)
    return importlib.import_module("gateio_core")


def real_ms() -> int:
    """Milliseconds like the board's ticks_ms, from the host's monotonic clock."""
    return int(time.monotonic() * 1000) & TICKS_MASK


class SimBoardIO:
    """The board's pins: the relay's history, settable raw inputs, the indicators."""

    def __init__(self, clock_ms: Callable[[], int]) -> None:
        self._clock_ms = clock_ms
        self.relay = False
        self.relay_changes: list[tuple[int, bool]] = []  # (board ms, energised)
        self.loop_ms: int | None = None  # the time the board's loop is acting on, if inside it
        self.outputs: dict[str, bool] = {}
        self.passage = False
        self.button = False
        self.maintenance_requests = 0
        self.on_relay: Callable[[bool], None] | None = None

    # The BoardIO of firmware/gateio_core.py, whose board logic calls io.set_relay(on).
    def set_relay(self, on: bool) -> None:  # noqa: FBT001
        """Energise or drop the relay, recording each change with the board's time."""
        if on != self.relay or not self.relay_changes:
            # Stamped with the loop's time, as the logic timed it: a fresh clock read could be
            # later by however long this thread was held, and make a full pulse look short.
            stamp = self.loop_ms if self.loop_ms is not None else self._clock_ms()
            self.relay_changes.append((stamp, on))
        self.relay = on
        if self.on_relay is not None:
            self.on_relay(on)

    def set_output(self, name: str, on: bool) -> None:  # noqa: FBT001 - BoardIO, as set_relay
        """Switch the indicator `name` (lamp or buzzer) on or off."""
        self.outputs[name] = on

    def read_passage(self) -> bool:
        """Read the raw passage contact, as set by the test."""
        return self.passage

    def read_button(self) -> bool:
        """Read the raw manual-pass button, as set by the test."""
        return self.button

    def enter_maintenance(self) -> None:
        """Count a request to reboot into the maintenance (flashing) mode."""
        self.maintenance_requests += 1

    def press(self, name: str, hold_s: float = 0.1) -> None:
        """Hold the passage contact or the button closed for `hold_s` (real time)."""
        setattr(self, name, True)
        timer = threading.Timer(hold_s, setattr, args=(self, name, False))
        timer.daemon = True
        timer.start()


class SimGateIoBoard:
    """Serves the firmware's GateBoard on a pty whose slave is reachable at `link`, a symlink
    like /dev/serial/by-id/... . unplug() and plug() model pulling and re-inserting the USB
    cable: the port disappears, and the board starts afresh (relay off, no host)."""

    def __init__(
        self,
        link: Path,
        *,
        clock_ms: Callable[[], int] = real_ms,
        firmware_dir: Path | None = None,
        firmware_version: str | None = None,
    ) -> None:
        self.link = Path(link)
        self.clock_ms = clock_ms
        self.core = load_firmware(firmware_dir)
        self.firmware_version = firmware_version
        self.io = SimBoardIO(clock_ms)
        self.to_board: Filter | None = None  # mangles bytes from the host
        self.to_host: Filter | None = None  # mangles bytes to the host
        self.received = bytearray()
        self._lock = threading.RLock()
        self._cond = threading.Condition(self._lock)
        self._master = -1
        self._slave = -1
        self._board: Any = None
        self._rounds = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def board(self) -> Any:
        """The firmware's GateBoard currently running."""
        return self._board

    def start(self) -> SimGateIoBoard:
        """Plug the board in and run its loop on a thread; returns the board itself."""
        self.plug()
        self._thread = threading.Thread(target=self._run, name="sim-gateio", daemon=True)
        self._thread.start()
        return self

    def plug(self) -> None:
        """Connect the board: a fresh pty and a freshly started board."""
        with self._lock:
            master, slave = os.openpty()
            tty.setraw(slave)
            tty.setraw(master)
            os.set_blocking(master, False)
            self._master, self._slave = master, slave
            self._board = self.core.GateBoard(self.io, self.clock_ms())
            if self.firmware_version is not None:
                self._board.version = self.firmware_version
            tmp = self.link.with_name(self.link.name + ".new")
            tmp.unlink(missing_ok=True)
            tmp.symlink_to(os.ttyname(slave))
            tmp.replace(self.link)

    def unplug(self) -> None:
        """Pull the cable: the port goes away and the board loses power (relay off)."""
        with self._lock:
            self.link.unlink(missing_ok=True)
            for fd in (self._master, self._slave):
                if fd >= 0:
                    os.close(fd)
            self._master = self._slave = -1
            if self._board is not None:
                self.io.set_relay(False)
            self._board = None

    def sync(self, rounds: int = 2) -> None:
        """Wait until the board's loop has run `rounds` more times (reads done, tick done)."""
        with self._cond:
            target = self._rounds + rounds
            self._cond.wait_for(lambda: self._rounds >= target or self._stop.is_set(), 5.0)

    def stop(self) -> None:
        """Stop the board's loop and unplug it."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(2.0)
        self.unplug()

    def __enter__(self) -> SimGateIoBoard:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _run(self) -> None:
        while not self._stop.is_set():
            master = self._master
            if master >= 0:
                try:
                    ready, _, _ = select.select([master], [], [], LOOP_WAIT_S)
                except (OSError, ValueError):
                    ready = []
            else:
                ready = []
                time.sleep(LOOP_WAIT_S)
            with self._cond:
                self._serve(readable=bool(ready))
                self._rounds += 1
                self._cond.notify_all()

    def _serve(self, *, readable: bool) -> None:
        if self._board is None or self._master < 0:
            return
        now = self.clock_ms()
        self.io.loop_ms = now
        try:
            self._serve_at(now, readable=readable)
        finally:
            self.io.loop_ms = None

    def _serve_at(self, now: int, *, readable: bool) -> None:
        if readable:
            try:
                data = os.read(self._master, 4096)
            except OSError:
                data = b""
            if self.to_board is not None:
                data = self.to_board(data)
            self.received += data
            reply = self._board.receive(data, now) if data else b""
            if self.to_host is not None:
                reply = self.to_host(reply)
            if reply:
                with contextlib.suppress(OSError):
                    os.write(self._master, reply)
        self._board.tick(now)
