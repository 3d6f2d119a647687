"""The LCUS serial relay board protocol over pyserial loop:// and a pty peer."""

from __future__ import annotations

import os
import pty
import select
import time
import tty
from dataclasses import replace

import pytest
import serial

from edge.drivers.relay import open_relay
from edge.drivers.relay_lcus import LcusRelay, lcus_frame
from edge.drivers.settings import RelaySettings
from edge.errors import RelayError

ON_1 = bytes.fromhex("A00101A2")
OFF_1 = bytes.fromhex("A00100A1")


def test_frames_match_the_board_documentation() -> None:
    assert lcus_frame(1, on=True) == ON_1
    assert lcus_frame(1, on=False) == OFF_1
    assert lcus_frame(2, on=True) == bytes.fromhex("A00201A3")
    assert lcus_frame(4, on=False) == bytes.fromhex("A00400A4")
    with pytest.raises(ValueError, match="channel"):
        lcus_frame(0, on=True)


def test_pulse_over_loopback_sends_off_on_off() -> None:
    port = serial.serial_for_url("loop://", timeout=0.5)
    relay = LcusRelay(port, channel=1, pulse_ms=100)
    relay.pulse()
    end = time.monotonic() + 5
    while relay.energised and time.monotonic() < end:
        time.sleep(0.01)
    assert port.read(12) == OFF_1 + ON_1 + OFF_1
    relay.close()
    assert not port.is_open


def read_frames(master: int, count: int, limit_s: float = 5.0) -> bytes:
    data = b""
    end = time.monotonic() + limit_s
    while len(data) < 4 * count and time.monotonic() < end:
        ready, _, _ = select.select([master], [], [], 0.1)
        if ready:
            data += os.read(master, 64)
    return data


def test_pulse_through_a_pty_peer_from_settings() -> None:
    master, slave = pty.openpty()
    tty.setraw(slave)
    try:
        settings = replace(
            RelaySettings(), backend="serial", port=os.ttyname(slave), channel=1, pulse_ms=100
        )
        relay = open_relay(settings)
        relay.pulse()
        assert read_frames(master, 3) == OFF_1 + ON_1 + OFF_1
        relay.close()
    finally:
        os.close(master)
        os.close(slave)


def test_missing_port_is_a_relay_error() -> None:
    with pytest.raises(RelayError, match="cannot open"):
        LcusRelay.open("/dev/does-not-exist-relay")
    with pytest.raises(RelayError, match="serial port"):
        open_relay(replace(RelaySettings(), backend="serial", port=""))


class Unplugged:
    def __init__(self) -> None:
        self.fail = False

    def write(self, data: bytes) -> int:
        if self.fail:
            raise serial.SerialException("device disconnected")
        return len(data)

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass


def test_unplugged_board_is_a_relay_error() -> None:
    port = Unplugged()
    relay = LcusRelay(port)
    port.fail = True
    with pytest.raises(RelayError, match="energise failed"):
        relay.pulse()
    port.fail = False
    relay.close()
