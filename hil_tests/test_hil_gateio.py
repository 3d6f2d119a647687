"""The gate I/O board (a Pico with the gate firmware) on its real USB port.

Set GATE_EDGE_HIL_GATEIO_PORT to the board's port (e.g. /dev/serial/by-id/usb-MicroPython_...);
flash it first with `gate-edge gateio flash --port PORT`. Keep the turnstile unpowered.
"""

from __future__ import annotations

import os
import time

import pytest

from edge.drivers.gateio import GateIoBoard
from edge.drivers.gateio_flash import read_status
from edge.drivers.gateio_frames import FIRMWARE_VERSION
from edge.drivers.gateio_link import GateIoLink


@pytest.fixture
def port() -> str:
    value = os.environ.get("GATE_EDGE_HIL_GATEIO_PORT", "").strip()
    if not value:
        pytest.skip("GATE_EDGE_HIL_GATEIO_PORT is not set: no gate I/O board to test")
    return value


def test_board_runs_the_shipped_firmware_and_pulses(port: str) -> None:
    board = GateIoBoard.open(port)
    try:
        assert board.link.info is not None
        assert board.link.info.firmware == FIRMWARE_VERSION
        board.relay.pulse(300)
        assert read_status_via(board.link)["relay"] == "1"
        time.sleep(0.5)
        assert read_status_via(board.link)["relay"] == "0"
    finally:
        board.close()


def test_silent_host_loses_the_relay_within_the_deadline(port: str) -> None:
    link = GateIoLink(port)
    try:
        info = link.connect()
        before = int(read_status_via(link)["hbloss"])
        link.request("OPEN 2000")
        time.sleep(info.heartbeat_deadline_ms / 1000 + 0.1)  # no heartbeat: a hung host
        status = read_status_via(link)
        assert status["relay"] == "0" and status["fault"] == "1"
        assert int(status["hbloss"]) == before + 1
    finally:
        link.close()
    assert read_status(port)["armed"] == "0"


def read_status_via(link: GateIoLink) -> dict[str, str]:
    return dict(item.split("=", 1) for item in link.query("STATUS").split(" "))
