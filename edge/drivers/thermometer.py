"""Builds the body thermometer from configuration: the real MLX90614 or its emulator."""

from __future__ import annotations

import errno
import logging
from collections.abc import Callable
from typing import Any

from smbus2 import SMBus

from edge.clock import Clock
from edge.drivers.fake_smbus import FakeMlx90614Bus
from edge.drivers.mlx90614 import I2CBus, Mlx90614
from edge.drivers.settings import ThermoSettings
from edge.errors import I2cBusError
from edge.thermo.body import BodyMeter
from edge.thermo.scene import PersonScene

log = logging.getLogger(__name__)


class ReopeningSMBus:
    """smbus2.SMBus on /dev/i2c-N, opened on first use and reopened after the device vanished.

    A missing adapter therefore shows up as a sensor fault per measurement, not a crash at start.
    """

    def __init__(self, bus_number: int) -> None:
        self.bus_number = bus_number
        self._bus: Any = None

    def i2c_rdwr(self, *i2c_msgs: Any) -> None:
        """Run one combined I2C transaction, opening the bus first if needed."""
        if self._bus is None:
            self._bus = self._open()
        try:
            self._bus.i2c_rdwr(*i2c_msgs)
        except OSError as exc:
            if exc.errno in (errno.ENODEV, errno.EBADF, errno.ENOENT):
                self.close()
            raise

    def _open(self) -> Any:
        device = f"/dev/i2c-{self.bus_number}"
        try:
            return SMBus(self.bus_number)
        except FileNotFoundError:
            raise I2cBusError(
                f"{device} does not exist: I2C is not enabled (or no bus {self.bus_number}); "
                "fix: sudo raspi-config nonint do_i2c 0 (Interface Options → I2C), or "
                "dtparam=i2c_arm=on in "
                "/boot/firmware/config.txt, then reboot"
            ) from None
        except PermissionError:
            raise I2cBusError(
                f"{device}: permission denied; fix: add the user to the i2c group "
                "(sudo usermod -aG i2c USER) and log in again"
            ) from None
        except OSError as exc:
            raise I2cBusError(f"{device} cannot be opened: {exc.strerror or exc}") from None

    def close(self) -> None:
        """Close the bus device if open; the next transaction opens it again."""
        bus, self._bus = self._bus, None
        if bus is not None:
            try:
                bus.close()
            except OSError as exc:
                log.debug("closing /dev/i2c-%d: %s", self.bus_number, exc)


def open_sensor(settings: ThermoSettings, clock: Clock, bus: I2CBus | None = None) -> Mlx90614:
    """The MLX90614 driver on `bus`, or on the configured /dev/i2c-N (emulator if backend=fake)."""
    if bus is None:
        if settings.backend == "fake":
            bus = FakeMlx90614Bus(PersonScene(clock), clock, address=settings.address)
        else:
            bus = ReopeningSMBus(settings.bus)
    return Mlx90614(bus, clock, address=settings.address, attempts=settings.read_attempts)


def open_thermometer(
    settings: ThermoSettings,
    clock: Clock,
    *,
    bus: I2CBus | None = None,
    presence: Callable[[], bool] | None = None,
) -> BodyMeter:
    """A BodyThermometer per `settings`; pass `bus` (e.g. a FakeMlx90614Bus) to simulate.
    It reports temperatures only: the fever threshold and re-measures are the core's.

    The service calls start() to sample in the background (thermo.background_sampling), registers
    heartbeat() with the watchdog and calls close() on shutdown. Until start(), measure() samples
    on demand, which is what tests and scripts on a FakeClock rely on.

    With backend "fake" and no bus, the emulator shows an empty scene; to drive a demo, pass your
    own FakeMlx90614Bus and call its arrive(skin_c) / leave().
    """
    sensor = open_sensor(settings, clock, bus)
    return BodyMeter(sensor, clock, settings, presence=presence)
