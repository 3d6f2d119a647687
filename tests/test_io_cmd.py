"""`gate-edge relay pulse` and `gate-edge io watch` running the real drivers on fake GPIO lines."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import threading
import time
import tomllib
from pathlib import Path

import pytest

from edge.cli import io_cmd, main
from edge.drivers import gate_parts
from edge.drivers import io as io_driver
from edge.drivers import relay as relay_driver
from edge.drivers.fake_gpio import FakeChip, FakeLineRequest
from edge.drivers.io import GateIo
from edge.drivers.settings import IoSettings, RelaySettings
from edge.ports import GateRelay
from tests.gate_support import GateConfig
from tests.waiting import wait_until

RELAY_LINE = 17
PASSAGE_LINE = 27
BUTTON_LINE = 22


def write_config(gate_config: GateConfig, relay: str = "", io: str = "") -> Path:
    return gate_config.file(
        site="s1",
        gate="g1",
        relay={"line": RELAY_LINE, **tomllib.loads(relay)},
        io=tomllib.loads(io),
    )


@pytest.fixture
def relay_chip(monkeypatch: pytest.MonkeyPatch) -> FakeChip:
    """The command's relay opened by the real open_relay on a FakeChip the test can inspect."""
    chip = FakeChip()

    def opener(settings: RelaySettings) -> GateRelay:
        return relay_driver.open_relay(settings, gpio=chip)

    monkeypatch.setattr(io_cmd, "open_relay", opener)
    return chip


@pytest.fixture
def io_chip(monkeypatch: pytest.MonkeyPatch) -> FakeChip:
    """The command's inputs opened by the real open_io (debounced gpiod code) on a FakeChip."""
    chip = FakeChip()

    def opener(settings: IoSettings, **_: object) -> GateIo:
        return io_driver.open_io(settings, gpio=chip)

    monkeypatch.setattr(gate_parts, "open_io", opener)
    return chip


def on_time_s(request: FakeLineRequest) -> float:
    (t_on, on), (t_off, off) = request.history[RELAY_LINE][1:3]
    assert (on, off) == (1, 0)
    return t_off - t_on


def test_pulse_energises_once_then_releases_and_closes(
    gate_config: GateConfig, relay_chip: FakeChip, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(gate_config, relay="pulse_ms = 250")
    assert main(["relay", "pulse", "--config", str(config)]) == 0
    request = relay_chip.request_for(RELAY_LINE)
    assert request.states(RELAY_LINE) == [0, 1, 0]
    assert request.released
    assert on_time_s(request) >= 0.25 - 0.005
    out = capsys.readouterr().out
    assert f"line {RELAY_LINE} (active-high): energised for 250 ms" in out
    assert "released and closed" in out


def test_pulse_length_is_bounded_by_the_configured_cap(
    gate_config: GateConfig, relay_chip: FakeChip, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(gate_config, relay="max_pulse_ms = 150\nactive_low = true")
    assert main(["relay", "pulse", "--config", str(config), "--ms", "60000"]) == 0
    request = relay_chip.request_for(RELAY_LINE)
    assert request.settings[RELAY_LINE].active_low is True
    assert request.states(RELAY_LINE) == [0, 1, 0]
    assert "energised for 150 ms (requested 60000 ms, clamped)" in capsys.readouterr().out


def test_pulse_refuses_a_non_positive_length(
    gate_config: GateConfig, relay_chip: FakeChip, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(gate_config)
    assert main(["relay", "pulse", "--config", str(config), "--ms", "0"]) == 2
    assert "--ms must be a positive" in capsys.readouterr().err
    assert relay_chip.requests == []


def test_pulse_with_the_built_in_fake_backend(
    gate_config: GateConfig, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["relay", "pulse", "--config", str(write_config(gate_config)), "--ms", "100"]) == 0
    assert "fake line /dev/gpiochip0 line 17 (active-high): energised for 100 ms" in (
        capsys.readouterr().out
    )


def test_invalid_config_is_reported_before_any_hardware_is_touched(
    gate_config: GateConfig, relay_chip: FakeChip, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(gate_config, relay="pulse_ms = 5")
    assert main(["relay", "pulse", "--config", str(config)]) == 2
    assert "relay.pulse_ms" in capsys.readouterr().err
    assert relay_chip.requests == []


def test_serial_relay_without_a_port_is_a_clear_error(
    gate_config: GateConfig, capsys: pytest.CaptureFixture[str]
) -> None:
    path = gate_config.file(site="s", relay={"backend": "serial"})
    assert main(["relay", "pulse", "--config", str(path)]) == 2
    assert "relay.port: must name" in capsys.readouterr().err


CHILD = """
import sys
from edge.cli import io_cmd, main
from edge.drivers import relay
from edge.drivers.fake_gpio import FakeChip

chip = FakeChip(log_path=sys.argv[1])
io_cmd.open_relay = lambda settings: relay.open_relay(settings, gpio=chip)
sys.exit(main(["relay", "pulse", "--config", sys.argv[2], "--ms", "2000"]))
"""


def test_ctrl_c_mid_pulse_releases_the_relay(tmp_path: Path, gate_config: GateConfig) -> None:
    log = tmp_path / "line.log"
    config = write_config(gate_config)
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(log), str(config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parent.parent,
    )
    try:
        assert child.stdout is not None
        assert "energised for 2000 ms" in child.stdout.readline()
        child.send_signal(signal.SIGINT)
        code = child.wait(timeout=20)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert code == 130
    lines = log.read_text().splitlines()
    levels = [int(line.split()[2]) for line in lines if line.startswith(f"{RELAY_LINE} ")]
    assert levels == [0, 1, 0]
    assert lines[-1] == "released"


def drive_after_open(chip: FakeChip, steps: list[tuple[int, bool, float]]) -> threading.Thread:
    """Once the command has requested its lines, drive (line, level) and hold for seconds."""

    def run() -> None:
        wait_until(lambda: bool(chip.requests), 10)
        request = chip.requests[0]
        time.sleep(0.1)
        for line, active, hold_s in steps:
            request.drive(line, active=active)
            time.sleep(hold_s)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def changes(out: str) -> list[tuple[str, str]]:
    return re.findall(r"(\w+) \(line \d+\) -> (ACTIVE|inactive)", out)


def test_watch_prints_each_change_of_both_inputs_with_a_timestamp(
    gate_config: GateConfig, io_chip: FakeChip, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(
        gate_config,
        io=f"passage_line = {PASSAGE_LINE}\nmanual_button_line = {BUTTON_LINE}\n"
        "inputs_active_low = false\nred_lamp_line = 6",
    )
    steps = [
        (PASSAGE_LINE, True, 0.15),
        (PASSAGE_LINE, False, 0.15),
        (BUTTON_LINE, True, 0.15),
        (BUTTON_LINE, False, 0.15),
    ]
    thread = drive_after_open(io_chip, steps)
    assert main(["io", "watch", "--config", str(config), "--seconds", "1.5"]) == 0
    thread.join()
    out = capsys.readouterr().out
    assert changes(out) == [
        ("passage", "ACTIVE"),
        ("passage", "inactive"),
        ("manual_button", "ACTIVE"),
        ("manual_button", "inactive"),
    ]
    first = out.splitlines()[0]
    assert re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\S* \+\s*\d+\.\d{3} s  passage", first)
    assert "passage 1 activation(s), manual_button 1 activation(s)" in out
    assert io_chip.requests[0].released


def test_watch_ignores_a_bounce_shorter_than_the_debounce_time(
    gate_config: GateConfig, io_chip: FakeChip, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(gate_config, io=f"passage_line = {PASSAGE_LINE}\ndebounce_ms = 200")
    thread = drive_after_open(io_chip, [(PASSAGE_LINE, True, 0.02), (PASSAGE_LINE, False, 0.0)])
    assert main(["io", "watch", "--config", str(config), "--seconds", "0.6"]) == 0
    thread.join()
    out = capsys.readouterr().out
    assert changes(out) == []
    assert "passage (line 27) now inactive" in out
    assert "manual_button" not in out


def test_watch_without_configured_inputs_says_so(
    gate_config: GateConfig, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["io", "watch", "--config", str(write_config(gate_config)), "--seconds", "1"]) == 1
    assert "no input configured" in capsys.readouterr().err


def test_watch_with_the_built_in_fake_backend(
    gate_config: GateConfig, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(gate_config, io=f"manual_button_line = {BUTTON_LINE}")
    assert main(["io", "watch", "--config", str(config), "--seconds", "0.1"]) == 0
    out = capsys.readouterr().out
    assert "manual_button (line 22) now inactive" in out
    assert "manual_button 0 activation(s)" in out


@pytest.mark.parametrize("seconds", ["0", "-1"])
def test_watch_refuses_a_non_positive_duration(
    gate_config: GateConfig, seconds: str, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(gate_config, io=f"passage_line = {PASSAGE_LINE}")
    assert main(["io", "watch", "--config", str(config), "--seconds", seconds]) == 2
    assert "--seconds must be more than 0" in capsys.readouterr().err


def test_watch_reports_duplicate_lines_as_a_configuration_error(
    gate_config: GateConfig, io_chip: FakeChip, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(gate_config, io="passage_line = 5\nmanual_button_line = 5")
    assert main(["io", "watch", "--config", str(config)]) == 2
    assert "io.manual_button_line: line 5 is also io.passage_line" in capsys.readouterr().err
