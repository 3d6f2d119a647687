"""Benchmark: gate I/O request round trips (host driver ↔ firmware logic on a pty) beside a raw
echo of the same bytes over the same kind of pty, and the time from OPEN sent to relay energised.

Usage: python bench/gateio.py [--quick]. The pty hides USB latency (about 1 ms per USB frame on a
real Pico), so the figures show the protocol's own cost, not the cable's.
"""

from __future__ import annotations

import argparse
import os
import select
import statistics
import tempfile
import threading
import time
import tty
from pathlib import Path

from edge.drivers.gateio_frames import encode_frame
from edge.drivers.gateio_link import BoardRefusedError, GateIoLink
from edge.sim.gateio_board import SimGateIoBoard


def percentile(values: list[float], fraction: float) -> float:
    """The value at `fraction` (0..1) of `values`, nearest rank rounded down."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def raw_echo_round_trips(count: int) -> list[float]:
    """Write one HB-sized frame, read the same number of bytes back from an echoing peer."""
    master, slave = os.openpty()
    tty.setraw(master)
    tty.setraw(slave)
    stop = threading.Event()

    def echo() -> None:
        while not stop.is_set():
            ready, _, _ = select.select([master], [], [], 0.05)
            if ready:
                os.write(master, os.read(master, 4096))

    thread = threading.Thread(target=echo, daemon=True)
    thread.start()
    frame = encode_frame(1, "HB")
    times = []
    try:
        for _ in range(count):
            start = time.perf_counter()
            os.write(slave, frame)
            got = b""
            while len(got) < len(frame):
                got += os.read(slave, 4096)
            times.append(time.perf_counter() - start)
    finally:
        stop.set()
        thread.join()
        os.close(master)
        os.close(slave)
    return times


def driver_round_trips(link: GateIoLink, text: str, count: int) -> list[float]:
    """Time `count` request/reply round trips of `text` through the driver's link, s."""
    times = []
    for _ in range(count):
        start = time.perf_counter()
        link.request(text)
        times.append(time.perf_counter() - start)
    return times


def open_to_energised(sim: SimGateIoBoard, link: GateIoLink, count: int) -> list[float]:
    """Time from sending OPEN to the simulated board energising its relay, `count` times, s."""
    times = []
    energised = threading.Event()
    sim.io.on_relay = lambda on: energised.set() if on else None
    for _ in range(count):
        energised.clear()
        while True:
            start = time.perf_counter()
            try:
                link.request("OPEN 100")
                break
            except BoardRefusedError as exc:  # the board's off time after a pulse (BUSY <ms>)
                if exc.code != "BUSY":
                    raise
                time.sleep((int(exc.detail) + 1) / 1000)
        energised.wait(1.0)
        times.append(time.perf_counter() - start)
        link.request("CLOSE")
    sim.io.on_relay = None
    return times


def report(name: str, times: list[float], baseline: float | None = None) -> None:
    """Print median and p95 of `times` in ms, and the ratio to `baseline` when given."""
    median = statistics.median(times) * 1000
    p95 = percentile(times, 0.95) * 1000
    ratio = f"  ({median / baseline:.1f}× the raw echo)" if baseline else ""
    print(f"{name:<36} median {median:6.3f} ms  p95 {p95:6.3f} ms  n={len(times)}{ratio}")


def main() -> None:
    """Run the gate I/O link benches against a simulated board and print one row each."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a few seconds' smoke run")
    count = 40 if parser.parse_args().quick else 2000
    raw = raw_echo_round_trips(count)
    baseline = statistics.median(raw) * 1000
    with tempfile.TemporaryDirectory() as tmp, SimGateIoBoard(Path(tmp) / "tty") as sim:
        link = GateIoLink(str(sim.link))
        link.connect()
        heartbeat = driver_round_trips(link, "HB", count)
        opened = open_to_energised(sim, link, 5 if count < 100 else count // 10)
        link.close()
    report("raw pty echo of an HB frame (baseline)", raw)
    report("HB request → parsed reply", heartbeat, baseline)
    report("OPEN request → relay energised", opened, baseline)
    print(f"retries needed: {link.retries}")


if __name__ == "__main__":
    main()
