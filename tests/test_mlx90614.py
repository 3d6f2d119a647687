"""The MLX90614 driver against the register-level emulator: PEC, flags, retries, EEPROM."""

from __future__ import annotations

import errno
from typing import Any

import pytest
from smbus2 import i2c_msg

from edge.clock import FakeClock
from edge.drivers import mlx90614_commissioning as commissioning
from edge.drivers.fake_smbus import BusFault as Fault
from edge.drivers.fake_smbus import FakeMlx90614Bus
from edge.drivers.mlx90614 import (
    EEPROM_EMISSIVITY,
    Mlx90614,
    celsius_to_raw,
    crc8,
    raw_to_celsius,
    read_pec,
    write_pec,
)
from edge.errors import SensorError
from edge.thermo.scene import PersonScene


def make(
    skin: float | None = 34.0, ambient: float = 23.0, attempts: int = 3
) -> tuple[Mlx90614, FakeMlx90614Bus, FakeClock]:
    clock = FakeClock()
    scene = PersonScene(clock, ambient_c=ambient, noise_c=0.0)
    if skin is not None:
        scene.arrive(skin)
    bus = FakeMlx90614Bus(scene, clock)
    return Mlx90614(bus, clock, attempts=attempts), bus, clock


def test_datasheet_pec_example() -> None:
    # Datasheet: address 0x5A, command 0x07, data 0x3AD2 -> PEC 0x30, 28.01 °C.
    assert read_pec(0x5A, 0x07, 0xD2, 0x3A) == 0x30
    assert crc8([0xB4, 0x07, 0xB5, 0xD2, 0x3A]) == 0x30
    assert raw_to_celsius(0x3AD2) == pytest.approx(28.01, abs=0.005)


def test_datasheet_word_read_through_the_driver() -> None:
    sensor, bus, _ = make(skin=raw_to_celsius(0x3AD2))
    wire: list[bytes] = []
    real = bus.i2c_rdwr

    def spy(*msgs: Any) -> None:
        real(*msgs)
        wire.extend(bytes(m) for m in msgs)

    bus.i2c_rdwr = spy  # type: ignore[method-assign]
    assert sensor.object_c() == pytest.approx(28.01, abs=0.005)
    assert wire == [b"\x07", b"\xd2\x3a\x30"]


def test_write_pec_differs_from_read_pec() -> None:
    # The erase frame for emissivity (EEPROM 0x04): B4 24 00 00, PEC worked out by hand with
    # CRC-8 (x^8 + x^2 + x + 1, init 0) = 0x28; the read PEC adds the B5 read address byte.
    assert write_pec(0x5A, 0x24, 0x00, 0x00) == 0x28
    assert write_pec(0x5A, 0x24, 0x00, 0x00) == crc8([0xB4, 0x24, 0x00, 0x00])
    assert write_pec(0x5A, 0x24, 0x00, 0x00) != read_pec(0x5A, 0x24, 0x00, 0x00)


def test_celsius_round_trip() -> None:
    for value in (-40.0, 0.0, 23.45, 36.6, 125.0):
        assert raw_to_celsius(celsius_to_raw(value)) == pytest.approx(value, abs=0.011)


def test_reads_ambient_and_object() -> None:
    sensor, _, _ = make(skin=35.2, ambient=21.0)
    assert sensor.ambient_c() == pytest.approx(21.0, abs=0.02)
    assert sensor.object_c() == pytest.approx(35.2, abs=0.02)


def test_waits_for_startup_settle() -> None:
    sensor, bus, clock = make()
    start = clock.monotonic()
    sensor.object_c()
    assert bus.reads_before_ready == 0
    assert clock.monotonic() - start >= 0.25


def test_reads_before_settle_would_be_invalid() -> None:
    # Without the settle the emulator returns invalid words: a driver skipping it would notice.
    clock = FakeClock()
    bus = FakeMlx90614Bus(PersonScene(clock), clock)
    sensor = Mlx90614(bus, clock, attempts=1)
    sensor._ready_at = clock.monotonic()  # simulate a driver that forgot the settle
    with pytest.raises(SensorError, match="implausible"):
        sensor.ambient_c()
    assert bus.reads_before_ready == 1


def test_a_sensor_back_from_a_power_loss_is_given_its_settle_again() -> None:
    sensor, bus, clock = make(skin=35.0)
    assert sensor.object_c() == pytest.approx(35.0, abs=0.02)
    bus.power_off()
    with pytest.raises(SensorError, match="NACK"):
        sensor.object_c()
    bus.power_on()
    start = clock.monotonic()
    assert sensor.object_c() == pytest.approx(35.0, abs=0.02)  # not the invalid start-up word
    assert clock.monotonic() - start >= 0.25
    assert (bus.reads_before_ready, sensor.resettles) == (1, 1)


def test_a_glitch_that_a_retry_absorbs_costs_no_settle() -> None:
    sensor, bus, clock = make(skin=35.0)
    sensor.object_c()
    bus.inject(Fault.REMOTE_IO, count=2)
    start = clock.monotonic()
    assert sensor.object_c() == pytest.approx(35.0, abs=0.02)
    assert clock.monotonic() - start < 0.25
    assert sensor.resettles == 0


@pytest.mark.parametrize(
    ("fault", "message"),
    [
        (Fault.REMOTE_IO, "errno 121"),
        (Fault.NACK, "errno 6"),
        (Fault.BAD_PEC, "PEC mismatch"),
        (Fault.CORRUPT_DATA, "PEC mismatch"),
        (Fault.ERROR_FLAG, "error flag"),
    ],
)
def test_transient_fault_is_retried(fault: Fault, message: str) -> None:
    sensor, bus, _ = make(skin=34.0)
    bus.inject(fault, count=2)
    assert sensor.object_c() == pytest.approx(34.0, abs=0.02)
    assert sensor.retries == 2
    assert bus.faults_applied == [fault, fault]


@pytest.mark.parametrize(
    ("fault", "message"),
    [
        (Fault.REMOTE_IO, "errno 121"),
        (Fault.NACK, "NACK"),
        (Fault.BAD_PEC, "PEC mismatch"),
        (Fault.CORRUPT_DATA, "PEC mismatch"),
        (Fault.ERROR_FLAG, "error flag"),
    ],
)
def test_persistent_fault_becomes_sensor_error(fault: Fault, message: str) -> None:
    sensor, bus, _ = make()
    bus.inject(fault, count=3)
    with pytest.raises(SensorError, match=message):
        sensor.object_c()
    assert bus.transactions == 3  # bounded: exactly `attempts` tries


def test_wrong_address_nacks() -> None:
    clock = FakeClock()
    bus = FakeMlx90614Bus(PersonScene(clock), clock, address=0x5B)
    with pytest.raises(SensorError, match="errno 6"):
        Mlx90614(bus, clock, attempts=2).ambient_c()


def test_os_error_from_bus_is_wrapped() -> None:
    class Broken:
        def i2c_rdwr(self, *msgs: object) -> None:
            raise FileNotFoundError(errno.ENOENT, "No such file or directory")

        def close(self) -> None:
            pass

    with pytest.raises(SensorError, match="errno 2"):
        Mlx90614(Broken(), FakeClock()).object_c()


def test_emissivity_read_and_set() -> None:
    sensor, bus, clock = make()
    assert commissioning.read_emissivity(sensor) == pytest.approx(1.0)
    assert commissioning.set_emissivity(sensor, clock, 0.98) == pytest.approx(0.98, abs=1e-4)
    assert bus.eeprom[EEPROM_EMISSIVITY] == round(65535 * 0.98)
    assert bus.writes_without_erase == 0


def test_emissivity_out_of_range_is_refused() -> None:
    sensor, bus, clock = make()
    with pytest.raises(ValueError, match="emissivity"):
        commissioning.set_emissivity(sensor, clock, 1.2)
    assert bus.eeprom[EEPROM_EMISSIVITY] == 0xFFFF


def test_write_without_erase_is_detected_by_read_back() -> None:
    sensor, bus, clock = make()
    sensor.write_word(EEPROM_EMISSIVITY, 0x0000)
    clock.sleep(0.02)
    sensor.write_word(EEPROM_EMISSIVITY, 0xF000)
    clock.sleep(0.02)
    sensor.write_word(EEPROM_EMISSIVITY, 0x0F00)  # no erase first
    assert bus.writes_without_erase == 1
    assert sensor.read_word(EEPROM_EMISSIVITY) == 0xFF00


def test_eeprom_write_with_bad_pec_is_silently_ignored() -> None:
    _, bus, _ = make()
    frame = [EEPROM_EMISSIVITY, 0x00, 0x00, write_pec(0x5A, EEPROM_EMISSIVITY, 0, 0) ^ 1]
    bus.i2c_rdwr(i2c_msg.write(0x5A, frame))
    assert bus.eeprom[EEPROM_EMISSIVITY] == 0xFFFF
    assert bus.ignored_writes == 1


def test_lost_eeprom_write_is_caught_by_read_back() -> None:
    sensor, bus, clock = make()
    # Transactions: 0 read current value, 1 erase, 2 write value (PEC corrupted on the wire).
    bus.fault_plan = lambda index: Fault.BAD_PEC if index == 2 else None
    with pytest.raises(SensorError, match="reads back 0x0000"):
        commissioning.set_emissivity(sensor, clock, 0.95)
    assert bus.ignored_writes == 1


def test_eeprom_busy_after_write_needs_the_wait() -> None:
    sensor, _, clock = make(attempts=1)
    sensor.write_word(EEPROM_EMISSIVITY, 0x0000)
    with pytest.raises(SensorError, match="errno 6"):
        sensor.read_word(EEPROM_EMISSIVITY)
    clock.sleep(0.01)
    assert sensor.read_word(EEPROM_EMISSIVITY) == 0x0000


def test_read_config() -> None:
    sensor, _, _ = make()
    config = commissioning.read_config(sensor)
    assert (config.word, config.iir, config.fir, config.dual_sensor) == (0x9FB4, 4, 7, False)
    assert "FIR 1024" in config.describe()
