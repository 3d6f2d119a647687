"""Gate I/O board entry point: relay off, then serve the host over USB serial under a watchdog."""

import os
import select
import sys
import time

import gateio_hw
from gateio_core import GateBoard

try:
    from typing import Any  # for the type checker only: MicroPython ignores annotations
except ImportError:
    pass

POLL_MS = 2
READ_CHUNK = 64
EPOCH = time.ticks_ms()


def now_ms() -> int:
    """Milliseconds since start, wrapping like ticks_ms (the logic compares them modulo 2**30)."""
    return time.ticks_diff(time.ticks_ms(), EPOCH)


def maintenance_requested() -> bool:
    """True once after a MAINT command: the flag is removed so the next reset runs normally."""
    try:
        os.remove(gateio_hw.MAINTENANCE_FLAG)
    except OSError:
        return False
    return True


def pump(
    board: GateBoard, poller: Any, stdin: Any, stdout: Any, watchdog: Any, clock: Any = None
) -> None:
    """One round of the loop: read what the host sent, answer, tick the logic, feed the dog.

    Nothing that one round meets may stop the board serving: an unforeseen error drops the
    relay, counts as a bad frame, and the next round runs as usual."""
    clock = clock or now_ms
    try:
        data = b""
        while poller.poll(0 if data else POLL_MS) and len(data) < READ_CHUNK:
            data += stdin.read(1)
        now = clock()
        if data:
            reply = board.receive(data, now)
            if reply:
                stdout.write(reply)
        board.tick(now)
    except Exception:  # the board must outlive any surprise; the relay drops
        try:
            board.fail_safe(clock())
        except Exception:  # even a failing relay pin must not stop the loop
            pass
    watchdog.feed()


def serve(io: gateio_hw.PicoIO) -> None:
    """Serve the host over the USB serial port until the board resets."""
    board = GateBoard(io, now_ms(), gateio_hw.reset_cause())
    watchdog = gateio_hw.start_watchdog()
    poller = select.poll()
    poller.register(sys.stdin, select.POLLIN)
    while True:
        pump(board, poller, sys.stdin.buffer, sys.stdout.buffer, watchdog)


def main() -> None:
    """Relay off first; in maintenance mode stop there (REPL free for mpremote, no watchdog)."""
    io = gateio_hw.PicoIO()
    if maintenance_requested():
        io.set_output("F", on=True)
        print("gateio: maintenance mode, relay off")
        return
    serve(io)


main()
