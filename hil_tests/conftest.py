"""Fixtures naming the real hardware; every test is skipped with a clear message without it.

Run with e.g.:
  GATE_EDGE_HIL_I2C_BUS=1 GATE_EDGE_HIL_MLX_ADDR=0x5A \
  GATE_EDGE_HIL_GPIO_CHIP=/dev/gpiochip0 GATE_EDGE_HIL_RELAY_LINE=17 \
  GATE_EDGE_HIL_LOOPBACK_LINE=27 .venv/bin/python -m pytest hil_tests
GATE_EDGE_HIL_LOOPBACK_LINE is an input wired to the relay's switched contact (or the relay
drive line) so pulses can be timed; GATE_EDGE_HIL_RELAY_ACTIVE_LOW=1 for active-low boards;
GATE_EDGE_HIL_LCUS_PORT names an LCUS board; GATE_EDGE_HIL_EEPROM_WRITE=1 allows EEPROM writes.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import pytest


def _env(name: str, purpose: str) -> str:
    value = os.environ.get(name, "").strip()
    if not value:
        pytest.skip(f"{name} is not set: no {purpose} to test (hardware-in-the-loop is opt-in)")
    return value


@dataclass(frozen=True)
class MlxTarget:
    bus: int
    address: int


@dataclass(frozen=True)
class RelayTarget:
    chip: str
    line: int
    active_low: bool
    loopback_line: int | None


@pytest.fixture
def mlx() -> MlxTarget:
    bus = int(_env("GATE_EDGE_HIL_I2C_BUS", "MLX90614 I2C bus"), 0)
    if not os.path.exists(f"/dev/i2c-{bus}"):
        pytest.skip(f"/dev/i2c-{bus} does not exist (enable I2C: raspi-config nonint do_i2c 0)")
    address = int(os.environ.get("GATE_EDGE_HIL_MLX_ADDR", "0x5A"), 0)
    return MlxTarget(bus, address)


@pytest.fixture
def relay_target() -> RelayTarget:
    chip = _env("GATE_EDGE_HIL_GPIO_CHIP", "GPIO chip")
    if not os.path.exists(chip):
        pytest.skip(f"{chip} does not exist")
    line = int(_env("GATE_EDGE_HIL_RELAY_LINE", "relay GPIO line"), 0)
    loopback = os.environ.get("GATE_EDGE_HIL_LOOPBACK_LINE", "").strip()
    return RelayTarget(
        chip=chip,
        line=line,
        active_low=os.environ.get("GATE_EDGE_HIL_RELAY_ACTIVE_LOW", "") == "1",
        loopback_line=int(loopback, 0) if loopback else None,
    )


@pytest.fixture
def loopback(relay_target: RelayTarget) -> RelayTarget:
    if relay_target.loopback_line is None:
        pytest.skip("GATE_EDGE_HIL_LOOPBACK_LINE is not set: pulses cannot be timed")
    return relay_target


@pytest.fixture
def lcus_port() -> str:
    return _env("GATE_EDGE_HIL_LCUS_PORT", "LCUS USB relay board")


@pytest.fixture
def eeprom_writes_allowed() -> None:
    _env("GATE_EDGE_HIL_EEPROM_WRITE", "permission to write the sensor EEPROM")
