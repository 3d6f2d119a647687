"""Where libgpiod is missing (macOS, Windows, a bare CI image) the demo and the fakes still run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Importing gpiod (or gpiod.line) raises ImportError, as it does where it is not installed.
_BLOCK_GPIOD = "import sys; sys.modules['gpiod'] = None; sys.modules['gpiod.line'] = None\n"

FAKE_HARDWARE_TESTS = [
    "tests/test_relay.py",
    "tests/test_io.py",
    "tests/test_controller.py",
    "tests/test_app.py",
]


def _run(code: str, timeout_s: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", _BLOCK_GPIOD + code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
    )


def test_gpiod_is_really_blocked_in_the_child() -> None:
    done = _run("import gpiod", 60)
    assert done.returncode != 0
    assert "ImportError" in done.stderr or "ModuleNotFoundError" in done.stderr


@pytest.mark.slow
def test_the_demo_runs_without_gpiod() -> None:
    done = _run("from edge.cli import main; sys.exit(main(['demo']))", 240)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "demo finished: all decisions as expected" in done.stdout


@pytest.mark.slow
def test_the_fake_hardware_tests_run_without_gpiod() -> None:
    args = [*FAKE_HARDWARE_TESTS, "-p", "no:cacheprovider", "-x"]
    done = _run(f"import pytest; sys.exit(pytest.main({args!r}))", 600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert " passed" in done.stdout


def test_the_real_gpio_backend_says_what_is_missing_without_gpiod() -> None:
    code = (
        "from edge.drivers.relay import open_relay\n"
        "from edge.drivers.settings import RelaySettings\n"
        "from edge.errors import GateEdgeError\n"
        "try:\n"
        "    open_relay(RelaySettings(backend='gpiod'))\n"
        "except GateEdgeError as exc:\n"
        "    print(exc)\n"
    )
    done = _run(code, 60)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "libgpiod" in done.stdout
