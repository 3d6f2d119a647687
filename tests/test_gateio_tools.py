"""The technician's tools with the recommended fail-safe setup: relay and I/O on the gate I/O
board (a simulated board on a pty), and the output test on plain lines."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from edge.cli import main
from edge.doctor.runner import run_doctor
from edge.sim.credentials import SimCredentials
from edge.sim.gateio_board import SimGateIoBoard
from tests.gate_support import GateConfig


@pytest.fixture
def sim(tmp_path: Path) -> Iterator[SimGateIoBoard]:
    with SimGateIoBoard(tmp_path / "usb-MicroPython_Board-if00") as board:
        yield board


def board_config(gate_config: GateConfig, port: Path) -> Path:
    root = SimCredentials.generate().write(gate_config.directory / "state", time.time())
    return gate_config.file(
        root=root,
        site="s1",
        gate="g1",
        relay={"backend": "gateio", "port": str(port)},
        io={"backend": "gateio"},
    )


def test_doctor_passes_the_board_for_relay_and_io(
    sim: SimGateIoBoard, gate_config: GateConfig
) -> None:
    config = board_config(gate_config, sim.link)
    report = run_doctor(str(config))
    checks = {r.name: r for r in report.results}
    assert checks["device.relay"].status == "pass", checks["device.relay"]
    assert f"gate I/O board {sim.link} (firmware 1.0.0)" in checks["device.relay"].detail
    assert "gpiochip" not in checks["device.relay"].detail
    io = checks["device.io"]
    assert io.status == "pass", io
    assert "passage (GP14) inactive" in io.detail and "buzzer (GP18) off" in io.detail
    assert sim.io.relay is False  # never pulsed
    device_failures = [name for name in report.failures if name.startswith("device.")]
    assert device_failures == []
    simulated = checks["config.warnings"]  # a gate left on a simulated part never looks done
    assert simulated.status == "warn" and "thermo.backend: fake" in simulated.detail


def test_doctor_names_an_old_board_firmware_with_the_flash_command(
    tmp_path: Path, gate_config: GateConfig
) -> None:
    with SimGateIoBoard(tmp_path / "ttyACM-old", firmware_version="0.9.0") as old:
        config = board_config(gate_config, old.link)
        relay = {r.name: r for r in run_doctor(str(config)).results}["device.relay"]
    assert relay.status == "warn" and "firmware 0.9.0" in relay.detail
    assert f"gate-edge gateio flash --config {config}" in relay.fix


def test_doctor_names_a_missing_board_and_how_to_find_it(
    tmp_path: Path, gate_config: GateConfig
) -> None:
    config = board_config(gate_config, tmp_path / "unplugged")
    checks = {r.name: r for r in run_doctor(str(config)).results}
    assert checks["device.relay"].status == "fail"
    assert "gateio status" in checks["device.relay"].fix
    assert checks["device.io"].status == "fail" and "relay.port" in checks["device.io"].fix


def test_io_watch_sees_the_board_inputs(
    sim: SimGateIoBoard, gate_config: GateConfig, capsys: pytest.CaptureFixture[str]
) -> None:
    config = board_config(gate_config, sim.link)

    def press_once_armed() -> None:
        for _ in range(2000):
            sim.sync(1)
            if sim.board is not None and sim.board.armed:
                sim.io.press("passage", 0.2)
                return

    presser = threading.Thread(target=press_once_armed, daemon=True)
    presser.start()
    assert main(["io", "watch", "--config", str(config), "--seconds", "1.2", "--json"]) == 0
    presser.join()
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert lines[0]["input"] == "passage" and lines[0]["at"] == "GP14"
    assert lines[-1]["activations"]["passage"] == 1
    assert any(line.get("active") is True for line in lines[:-1])


def test_io_test_lights_each_output_on_the_board(
    sim: SimGateIoBoard, gate_config: GateConfig, capsys: pytest.CaptureFixture[str]
) -> None:
    config = board_config(gate_config, sim.link)
    switched: list[tuple[str, bool]] = []
    original = sim.io.set_output

    def record(name: str, on: bool) -> None:
        if name != "F":
            switched.append((name, on))
        original(name, on)

    sim.io.set_output = record  # type: ignore[method-assign]
    assert main(["io", "test", "--config", str(config), "--seconds", "0.05"]) == 0
    out = capsys.readouterr().out
    assert "green lamp (GP16) on for 0.05 s" in out and "buzzer (GP18)" in out
    ons = [name for name, on in switched if on]
    assert ons == ["G", "R", "Z"]
    assert all(not sim.io.outputs[name] for name in "GRZ")


def test_io_test_on_gpio_lines(gate_config: GateConfig, capsys: pytest.CaptureFixture[str]) -> None:
    config = gate_config.file(site="s", io={"green_lamp_line": 5, "buzzer_line": 6})
    assert main(["io", "test", "--config", str(config), "--seconds", "0.01", "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["tested"] == [
        {"output": "green_lamp", "at": "line 5"},
        {"output": "buzzer", "at": "line 6"},
    ]
    gate_config.file(site="s")
    assert main(["io", "test", "--config", str(config)]) == 1
    assert "no output configured" in capsys.readouterr().err


def test_relay_pulse_with_the_whole_board_configured(
    sim: SimGateIoBoard, gate_config: GateConfig, capsys: pytest.CaptureFixture[str]
) -> None:
    config = board_config(gate_config, sim.link)
    assert main(["relay", "pulse", "--config", str(config), "--ms", "120"]) == 0
    assert "energised for 120 ms" in capsys.readouterr().out
    assert any(on for _, on in sim.io.relay_changes)
