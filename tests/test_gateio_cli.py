"""`gate-edge gateio flash` and `status` against a simulated board and a recording mpremote."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from edge.cli import main
from edge.drivers.gateio_flash import firmware_files, firmware_version
from edge.drivers.gateio_frames import FIRMWARE_VERSION, default_firmware_dir
from edge.errors import DriverError
from edge.sim.gateio_board import SimGateIoBoard

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
        assert flash(board.link) == 1
        assert board.io.maintenance_requests == 0
    out = capsys.readouterr().out
    assert "no gate firmware answered" in out
    assert "the board did not answer" in out
    assert "VERSION MISMATCH" in out and "reports nothing" in out
    assert recorded(recorder)[-1][-1] == "reset"


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
    assert "cannot open gate I/O board" in capsys.readouterr().err


def test_status_from_config(
    sim: SimGateIoBoard, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "gate.toml"
    config.write_text(
        '[gate]\nsite = "s"\ngate = "g"\n'
        f'[relay]\nbackend = "gateio"\nport = "{sim.link}"\n[io]\nbackend = "gateio"\n'
    )
    assert main(["gateio", "status", "--config", str(config), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["port"] == str(sim.link)


def test_relay_pulse_through_the_board(
    sim: SimGateIoBoard, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "gate.toml"
    config.write_text(
        f'[gate]\nsite = "s"\ngate = "g"\n[relay]\nbackend = "gateio"\nport = "{sim.link}"\n'
    )
    assert main(["relay", "pulse", "--config", str(config), "--ms", "150"]) == 0
    out = capsys.readouterr().out
    assert f"relay gate I/O board {sim.link}: energised for 150 ms" in out
    assert [on for _, on in sim.io.relay_changes] == [False, True, False]
    assert sim.board.opens == 1
