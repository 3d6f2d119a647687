"""The MLX90614 driver on a real sensor: PEC-checked reads, EEPROM, body measurement."""

from __future__ import annotations

from dataclasses import replace

from edge.clock import SystemClock
from edge.core.temperature import measure_temperature
from edge.drivers import mlx90614_commissioning as commissioning
from edge.drivers.mlx90614 import EEPROM_EMISSIVITY
from edge.drivers.settings import ThermoSettings
from edge.drivers.thermometer import open_sensor, open_thermometer
from hil_tests.conftest import MlxTarget


def settings_for(target: MlxTarget) -> ThermoSettings:
    return replace(ThermoSettings(), bus=target.bus, address=target.address)


def test_ambient_and_object_are_plausible(mlx: MlxTarget) -> None:
    sensor = open_sensor(settings_for(mlx), SystemClock())
    try:
        for _ in range(20):
            assert -10.0 <= sensor.ambient_c() <= 50.0
            assert -30.0 <= sensor.object_c() <= 100.0
        # Retries happen on a Pi (errno 121) but must stay rare on a healthy 100 kHz bus.
        assert sensor.retries <= 4
    finally:
        sensor.close()


def test_emissivity_and_config_read(mlx: MlxTarget) -> None:
    sensor = open_sensor(settings_for(mlx), SystemClock())
    try:
        assert 0.1 <= commissioning.read_emissivity(sensor) <= 1.0
        config = commissioning.read_config(sensor)
        assert config.word not in (0x0000, 0xFFFF)
    finally:
        sensor.close()


def test_emissivity_rewrite_round_trips(mlx: MlxTarget, eeprom_writes_allowed: None) -> None:
    clock = SystemClock()
    sensor = open_sensor(settings_for(mlx), clock)
    try:
        word = sensor.read_word(EEPROM_EMISSIVITY)
        commissioning.write_eeprom(sensor, clock, EEPROM_EMISSIVITY, word)  # same value back
        assert sensor.read_word(EEPROM_EMISSIVITY) == word
    finally:
        sensor.close()


def test_body_measurement_without_a_person_is_not_a_temperature(mlx: MlxTarget) -> None:
    clock = SystemClock()
    thermometer = open_thermometer(settings_for(mlx), clock)
    reading = measure_temperature(thermometer, clock, 1.0, threshold_c=37.3, remeasure=1)
    assert reading.state in ("no_subject", "normal", "fever"), reading.detail
