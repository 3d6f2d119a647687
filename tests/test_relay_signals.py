"""A child process pulsing a relay is interrupted mid-pulse: the line log shows the release."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest

CHILD = """
import sys, time
from edge.drivers.fake_gpio import FakeChip
from edge.drivers.relay_pulse import install_release_handlers
from edge.drivers.relay_gpiod import GpiodRelay

chip = FakeChip(log_path=sys.argv[1])
relay = GpiodRelay.open("/dev/gpiochip0", 17, backend=chip, pulse_ms=2000)
install_release_handlers()
relay.pulse()
print("energised", flush=True)
if sys.argv[2] == "exit":
    sys.exit(0)
time.sleep(30)
"""


def run_child(tmp_path: Path, mode: str, sig: signal.Signals | None) -> tuple[int, list[str]]:
    log = tmp_path / "line.log"
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(log), mode],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parent.parent,
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "energised"
        if sig is not None:
            child.send_signal(sig)
        code = child.wait(timeout=20)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    return code, log.read_text().splitlines()


def levels(lines: list[str]) -> list[tuple[float, int]]:
    out = []
    for line in lines:
        parts = line.split()
        if len(parts) == 3 and parts[0] == "17":
            out.append((float(parts[1]), int(parts[2])))
    return out


@pytest.mark.parametrize(
    ("sig", "expected_code"),
    [(signal.SIGTERM, -signal.SIGTERM), (signal.SIGINT, -signal.SIGINT)],
)
def test_signal_mid_pulse_releases_the_line(
    tmp_path: Path, sig: signal.Signals, expected_code: int
) -> None:
    code, lines = run_child(tmp_path, "sleep", sig)
    changes = levels(lines)
    assert [value for _, value in changes] == [0, 1, 0]
    assert code == expected_code
    # Released by the signal, well before the 2 s pulse would have ended by itself.
    assert changes[2][0] - changes[1][0] < 2.0


def test_exit_mid_pulse_releases_the_line(tmp_path: Path) -> None:
    code, lines = run_child(tmp_path, "exit", None)
    assert code == 0
    assert [value for _, value in levels(lines)] == [0, 1, 0]
