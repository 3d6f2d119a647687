"""Copies the gate I/O firmware to a board with mpremote and checks the version it reports."""

from __future__ import annotations

import ast
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from edge.drivers.gateio_link import GateIoError, GateIoLink, parse_status
from edge.drivers.serial_ports import candidates_text, check_port
from edge.errors import DriverError

MAINTENANCE_WAIT_S = 10.0
MPREMOTE_TIMEOUT_S = 60.0
VERSION_WAIT_S = 15.0
DEFAULT_MPREMOTE = (sys.executable, "-m", "mpremote")

Say = Callable[[str], None]


class FlashError(DriverError):
    """A step of the flash failed; nothing after it ran."""

    def __init__(self, step: str, cause: str) -> None:
        super().__init__(f"{step} failed: {cause}")
        self.step = step
        self.cause = cause


@dataclass(frozen=True)
class FlashResult:
    """What was copied and what the board reported afterwards."""

    expected: str
    reported: str | None
    files: tuple[str, ...]

    @property
    def ok(self) -> bool:
        """True when the board reports the version that was flashed."""
        return self.reported == self.expected


def firmware_files(firmware_dir: Path) -> list[Path]:
    """The modules to copy: every .py in the directory (main.py last, so a board that loses
    power mid-copy never boots a new main.py against old modules)."""
    files = sorted(firmware_dir.glob("*.py"), key=lambda p: (p.name == "main.py", p.name))
    if not any(p.name == "main.py" for p in files):
        raise DriverError(f"{firmware_dir} holds no gate I/O firmware (main.py missing)")
    return files


def firmware_version(firmware_dir: Path) -> str:
    """FIRMWARE_VERSION as written in the firmware's gateio_proto.py."""
    source = firmware_dir / "gateio_proto.py"
    try:
        tree = ast.parse(source.read_text(encoding="utf-8"))
    except (OSError, SyntaxError) as exc:
        raise DriverError(f"cannot read the firmware version from {source}: {exc}") from exc
    for node in tree.body:
        if (
            isinstance(node, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == "FIRMWARE_VERSION" for t in node.targets)
            and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str)
        ):
            return node.value.value
    raise DriverError(f"{source} does not define FIRMWARE_VERSION")


class Flasher:
    """Runs the steps of a flash, saying each one as it goes."""

    def __init__(
        self,
        port: str,
        firmware_dir: Path,
        *,
        mpremote: Sequence[str] = DEFAULT_MPREMOTE,
        say: Say = print,
    ) -> None:
        self.port = port
        self.firmware_dir = firmware_dir
        self.mpremote = list(mpremote)
        self.say = say

    def flash(self) -> FlashResult:
        """Every step in order; the first that fails raises FlashError with its cause."""
        files = firmware_files(self.firmware_dir)
        expected = firmware_version(self.firmware_dir)
        steps = len(files) + 3
        step = f"[1/{steps}]"
        self.say(f"{step} asking the board on {self.port} for maintenance mode")
        try:
            check_port(self.port)
        except DriverError as exc:
            raise FlashError(step, str(exc)) from None
        self._maintenance(step)
        for index, path in enumerate(files, 2):
            size = path.stat().st_size
            self.say(f"[{index}/{steps}] copying {path.name} ({size} bytes)")
            self._mpremote(f"[{index}/{steps}]", "fs", "cp", str(path), f":{path.name}")
        self.say(f"[{steps - 1}/{steps}] restarting the board")
        self._mpremote(f"[{steps - 1}/{steps}]", "reset")
        self.say(f"[{steps}/{steps}] asking the board for its version (expecting {expected})")
        reported = self._reported_version()
        if reported is None:
            raise FlashError(
                f"[{steps}/{steps}]",
                f"the board on {self.port} did not answer after the restart (the files are "
                "copied): check that main.py runs (mpremote connect PORT repl shows errors), "
                "then flash again",
            )
        return FlashResult(expected, reported, tuple(p.name for p in files))

    def _maintenance(self, step: str) -> None:
        link = GateIoLink(self.port)
        try:
            link.query("MAINT")
        except GateIoError as exc:
            self.say(f"      no gate firmware answered ({exc}); copying onto plain MicroPython")
            return
        finally:
            link.close()
        self.say("      the board restarts with the relay off and its watchdog stopped")
        if not _wait_for_port(self.port, MAINTENANCE_WAIT_S):
            raise FlashError(
                step,
                f"{self.port} did not come back within {MAINTENANCE_WAIT_S:g} s after the "
                f"restart; {candidates_text()}",
            )

    def _mpremote(self, step: str, *args: str) -> None:
        command = [*self.mpremote, "connect", self.port, *args]
        try:
            result = subprocess.run(
                command, capture_output=True, text=True, timeout=MPREMOTE_TIMEOUT_S, check=False
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise FlashError(step, f"mpremote {' '.join(args)}: {exc}") from exc
        if result.returncode != 0:
            detail = (result.stderr or result.stdout).strip().splitlines()
            cause = detail[-1] if detail else "no output"
            if self.port.startswith("/") and not Path(self.port).exists():
                cause += f"; {self.port} has gone: {candidates_text()}"
            raise FlashError(step, f"mpremote {' '.join(args)} (exit {result.returncode}): {cause}")

    def _reported_version(self) -> str | None:
        deadline = time.monotonic() + VERSION_WAIT_S
        last_error = "no answer"
        while time.monotonic() < deadline:
            link = GateIoLink(self.port)
            try:
                return link.query("VERSION").split(" ")[0]
            except GateIoError as exc:
                last_error = str(exc)
            finally:
                link.close()
            time.sleep(0.5)
        self.say(f"      the board did not answer: {last_error}")
        return None


def read_status(port: str) -> dict[str, str]:
    """The board's STATUS fields (it answers without a HELLO, so the relay stays untouched)."""
    link = GateIoLink(port)
    try:
        return parse_status(link.query("STATUS"))
    finally:
        link.close()


def _wait_for_port(port: str, timeout_s: float) -> bool:
    """After a restart the USB port disappears for a moment and comes back; False if not."""
    path = Path(port)
    if not port.startswith("/"):
        return True
    time.sleep(0.5)
    deadline = time.monotonic() + timeout_s
    while not path.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    return path.exists()
