"""The gate relay on real GPIO (timed through a loopback input) and on a real LCUS board."""

from __future__ import annotations

import itertools
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import gpiod
from gpiod.line import Direction

from edge.drivers.relay_gpiod import GpiodRelay
from edge.drivers.relay_lcus import LcusRelay
from hil_tests.conftest import RelayTarget

TOLERANCE_S = 0.03


def watch(
    target: RelayTarget, seconds: float, action: Callable[[], None] = lambda: None
) -> list[tuple[float, bool]]:
    """Start polling the loopback input, run `action`, return (time, active) at each change."""
    assert target.loopback_line is not None
    settings = gpiod.LineSettings(direction=Direction.INPUT, active_low=target.active_low)
    changes: list[tuple[float, bool]] = []
    with gpiod.request_lines(
        target.chip, consumer="gate-edge-hil", config={target.loopback_line: settings}
    ) as request:
        changes.append((time.monotonic(), bool(request.get_value(target.loopback_line))))
        action()
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            level = bool(request.get_value(target.loopback_line))
            if changes[-1][1] != level:
                changes.append((time.monotonic(), level))
            time.sleep(0.0005)
    return changes


def pulse_lengths(changes: list[tuple[float, bool]]) -> list[float]:
    """Lengths of complete active periods."""
    lengths = []
    for (start, level), (end, _) in itertools.pairwise(changes):
        if level:
            lengths.append(end - start)
    return lengths


def test_relay_is_inactive_after_open(relay_target: RelayTarget) -> None:
    relay = GpiodRelay.open(
        relay_target.chip, relay_target.line, active_low=relay_target.active_low
    )
    relay.close()


def test_pulse_length_and_cap_on_hardware(loopback: RelayTarget) -> None:
    relay = GpiodRelay.open(
        loopback.chip, loopback.line, active_low=loopback.active_low, cap_ms=500
    )
    try:
        first = pulse_lengths(watch(loopback, 0.8, lambda: relay.pulse(300)))

        def overlapping() -> None:
            relay.pulse(300)
            time.sleep(0.1)
            relay.pulse(2000)  # must still end at the 500 ms cap from the first energise

        second = pulse_lengths(watch(loopback, 1.0, overlapping))
    finally:
        relay.close()
    assert len(first) == 1 and abs(first[0] - 0.3) <= TOLERANCE_S
    assert len(second) == 1 and second[0] <= 0.5 + TOLERANCE_S


CHILD = """
import sys, time
from edge.drivers.relay_pulse import install_release_handlers
from edge.drivers.relay_gpiod import GpiodRelay
relay = GpiodRelay.open(sys.argv[1], int(sys.argv[2]), active_low=sys.argv[3] == "1")
install_release_handlers()
relay.pulse(2000)
print("energised", flush=True)
time.sleep(30)
"""


def test_sigterm_mid_pulse_releases_on_hardware(loopback: RelayTarget) -> None:
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            CHILD,
            loopback.chip,
            str(loopback.line),
            "1" if loopback.active_low else "0",
        ],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parent.parent,
    )
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "energised"
    changes = watch(loopback, 0.5, lambda: child.send_signal(signal.SIGTERM))
    child.wait(timeout=10)
    assert changes[0][1] is True  # energised when the signal was sent
    assert changes[-1][1] is False  # released by the handler, long before the 2 s pulse ends


def test_lcus_board_pulses(lcus_port: str) -> None:
    relay = LcusRelay.open(lcus_port, pulse_ms=200)
    try:
        relay.pulse()
        time.sleep(0.5)
        assert not relay.energised
    finally:
        relay.close()
