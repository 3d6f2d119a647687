"""`gate-edge gateio flash` and `status` against a simulated board and a recording mpremote."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import serial

from edge.cli import main
from edge.drivers.gateio_flash import firmware_files, firmware_version
from edge.drivers.gateio_frames import FIRMWARE_VERSION, default_firmware_dir
from edge.errors import DriverError
from edge.sim.gateio_board import SimGateIoBoard
from tests.gate_support import GateConfig

FAKE_MPREMOTE = Path(__file__).with_name("fake_mpremote.py")


@pytest.fixture
def recorder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    log = tmp_path / "mpremote.log"
    monkeypatch.setenv("FAKE_MPREMOTE_LOG", str(log))
    monkeypatch.setenv("FAKE_MPREMOTE_FS", str(tmp_path / "board-fs"))
    monkeypatch.setattr("edge.drivers.gateio_flash.VERSION_WAIT_S", 1.0)
    return log


@pytest.fixture
def sim(tmp_path: Path) -> Iterator[SimGateIoBoard]:
    with SimGateIoBoard(tmp_path / "ttyACM-gateio") as board:
        yield board


def flash(port: Path) -> int:
    return main(
        ["gateio", "flash", "--port", str(port), "--mpremote", f"{sys.executable} {FAKE_MPREMOTE}"]
    )


def recorded(log: Path) -> list[list[str]]:
    return [json.loads(line) for line in log.read_text().splitlines()]


def test_flash_copies_every_module_then_resets_and_verifies(
    sim: SimGateIoBoard, recorder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert flash(sim.link) == 0
    out = capsys.readouterr().out
    port = str(sim.link)
    files = firmware_files(default_firmware_dir())
    assert recorded(recorder) == [
        *(["connect", port, "fs", "cp", str(p), f":{p.name}"] for p in files),
        ["connect", port, "reset"],
    ]
    assert files[-1].name == "main.py"
    for path in files:
        assert (tmp_path / "board-fs" / path.name).read_bytes() == path.read_bytes()
    assert sim.io.maintenance_requests == 1
    assert f"[1/{len(files) + 3}] asking the board" in out
    assert "copying gateio_core.py" in out
    assert f"reports firmware {FIRMWARE_VERSION}" in out


def test_flash_reports_a_version_mismatch(
    tmp_path: Path, recorder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with SimGateIoBoard(tmp_path / "ttyACM-old", firmware_version="0.9.0") as old:
        assert flash(old.link) == 1
    out = capsys.readouterr().out
    assert f"VERSION MISMATCH: flashed {FIRMWARE_VERSION}, the board reports 0.9.0" in out
    assert recorded(recorder)[-1][-1] == "reset"


def test_flash_stops_when_mpremote_fails(
    sim: SimGateIoBoard,
    recorder: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("FAKE_MPREMOTE_FAIL", ":gateio_hw.py")
    assert flash(sim.link) == 2
    err = capsys.readouterr().err
    assert "mpremote fs cp" in err and "failed to access the device" in err
    assert ["reset"] not in [argv[2:] for argv in recorded(recorder)]


def test_flash_onto_a_board_that_never_answers(
    tmp_path: Path, recorder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with SimGateIoBoard(tmp_path / "ttyACM-new") as board:
        board.to_board = lambda data: b""  # plain MicroPython: no gate firmware listens
        assert flash(board.link) == 2
        assert board.io.maintenance_requests == 0
    captured = capsys.readouterr()
    assert "no gate firmware answered" in captured.out
    assert "[7/7] failed: the board on" in captured.err and "did not answer" in captured.err
    assert recorded(recorder)[-1][-1] == "reset"


@pytest.fixture
def by_id(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A stand-in for /dev/serial/by-id with one other device plugged in."""
    folder = tmp_path / "by-id"
    folder.mkdir()
    (folder / "usb-Other_Device-if00").touch()
    monkeypatch.setattr("edge.drivers.serial_ports.BY_ID_DIR", folder)
    return folder


def test_flash_without_a_board_stops_at_the_first_step_and_lists_the_ports(
    tmp_path: Path, recorder: Path, by_id: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert flash(tmp_path / "usb-MicroPython_Board-if00") == 2
    captured = capsys.readouterr()
    assert "[1/" in captured.out and "copying" not in captured.out
    assert "[1/7] failed:" in captured.err and "does not exist" in captured.err
    assert f"serial devices present: {by_id / 'usb-Other_Device-if00'}" in captured.err
    assert "in use by another program" not in captured.err
    assert not recorder.exists()  # mpremote never ran


def test_flash_names_a_port_held_by_another_program(
    sim: SimGateIoBoard, recorder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    held = serial.serial_for_url(str(sim.link), exclusive=True)
    try:
        assert flash(sim.link) == 2
    finally:
        held.close()
    err = capsys.readouterr().err
    assert "[1/7] failed:" in err and "in use by another program" in err
    assert "systemctl stop gate-edge" in err
    assert not recorder.exists()


def test_status_json_names_the_cause_and_the_candidates(
    tmp_path: Path, by_id: Path, capsys: pytest.CaptureFixture[str], gate_config: GateConfig
) -> None:
    missing = str(tmp_path / "nothing")
    assert main(["gateio", "status", "--port", missing, "--json"]) == 2
    document = json.loads(capsys.readouterr().out)
    assert document["ok"] is False and document["port"] == missing
    assert "does not exist" in document["error"]
    assert document["candidates"] == [str(by_id / "usb-Other_Device-if00")]
    config = gate_config.file(site="s")
    assert main(["gateio", "status", "--config", str(config), "--json"]) == 2
    assert "relay.backend is not gateio" in json.loads(capsys.readouterr().out)["error"]


def test_flash_without_firmware_names_where_it_looked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["gateio", "flash", "--port", "x", "--firmware", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert f"no gate I/O firmware (main.py) in {tmp_path}" in err and "--firmware DIR" in err


def test_firmware_version_is_read_from_the_source(tmp_path: Path) -> None:
    assert firmware_version(default_firmware_dir()) == FIRMWARE_VERSION
    (tmp_path / "gateio_proto.py").write_text("X = 1\n")
    with pytest.raises(DriverError, match="FIRMWARE_VERSION"):
        firmware_version(tmp_path)
    with pytest.raises(DriverError, match=r"main\.py missing"):
        firmware_files(tmp_path)


def test_status_text_and_json(sim: SimGateIoBoard, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["gateio", "status", "--port", str(sim.link), "--json"]) == 0
    state = json.loads(capsys.readouterr().out)
    assert state["fw"] == FIRMWARE_VERSION and state["armed"] is False
    assert state["relay"] is False and state["fault"] is True and isinstance(state["up"], int)
    assert sim.board.armed is False  # asking for status does not take over the board
    assert main(["gateio", "status", "--port", str(sim.link)]) == 0
    out = capsys.readouterr().out
    assert f"firmware {FIRMWARE_VERSION}, protocol 1" in out
    assert "host: none (relay locked out, fault lamp on)" in out


def test_status_of_a_missing_board(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["gateio", "status", "--port", str(tmp_path / "nothing")]) == 2
    assert f"{tmp_path / 'nothing'} does not exist" in capsys.readouterr().err


def test_status_from_config(
    sim: SimGateIoBoard, gate_config: GateConfig, capsys: pytest.CaptureFixture[str]
) -> None:
    config = gate_config.file(
        site="s", relay={"backend": "gateio", "port": str(sim.link)}, io={"backend": "gateio"}
    )
    assert main(["gateio", "status", "--config", str(config), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["port"] == str(sim.link)


def test_relay_pulse_through_the_board(
    sim: SimGateIoBoard, gate_config: GateConfig, capsys: pytest.CaptureFixture[str]
) -> None:
    config = gate_config.file(site="s", relay={"backend": "gateio", "port": str(sim.link)})
    assert main(["relay", "pulse", "--config", str(config), "--ms", "150"]) == 0
    out = capsys.readouterr().out
    assert f"relay gate I/O board {sim.link}: energised for 150 ms" in out
    assert [on for _, on in sim.io.relay_changes] == [False, True, False]
    assert sim.board.opens == 1
