"""Recognising a person: the lane sensor (thermo.presence = "input") and the body floor."""

from __future__ import annotations

import pytest

from edge.app.config import parse_config
from edge.clock import FakeClock
from edge.drivers.fake_smbus import FakeMlx90614Bus
from edge.drivers.settings import ThermoSettings
from edge.drivers.thermometer import open_thermometer
from edge.errors import ConfigError
from edge.thermo.scene import PersonScene
from tests.gate_support import GateConfig
from tests.judged_thermometer import JudgedMeter

INPUT = ThermoSettings(backend="fake", presence="input")


class LaneSensor:
    def __init__(self) -> None:
        self.active = False
        self.fail = False

    def __call__(self) -> bool:
        if self.fail:
            raise OSError("line read failed")
        return self.active


def hot_day(clock: FakeClock, lane: LaneSensor) -> tuple[PersonScene, JudgedMeter]:
    scene = PersonScene(clock, ambient_c=35.0)
    meter = JudgedMeter(
        open_thermometer(INPUT, clock, bus=FakeMlx90614Bus(scene, clock), presence=lane), clock
    )
    return scene, meter


def test_on_a_hot_day_temperature_alone_cannot_see_the_person() -> None:
    clock = FakeClock()
    scene = PersonScene(clock, ambient_c=35.0)
    meter = JudgedMeter(
        open_thermometer(ThermoSettings(backend="fake"), clock, bus=FakeMlx90614Bus(scene, clock)),
        clock,
    )
    scene.arrive(36.4)
    reading = meter.measure(2.0)
    assert reading.state == "no_subject"


def test_the_lane_sensor_lets_the_gate_measure_on_a_hot_day() -> None:
    clock = FakeClock()
    lane = LaneSensor()
    scene, meter = hot_day(clock, lane)
    scene.arrive(36.4)
    lane.active = True
    reading = meter.measure(2.0)
    assert reading.state == "normal"
    assert reading.object_c == pytest.approx(36.4, abs=0.15)


def test_with_the_lane_sensor_nobody_there_means_no_reading() -> None:
    clock = FakeClock()
    lane = LaneSensor()
    scene, meter = hot_day(clock, lane)
    scene.arrive(36.4)  # warm, but the lane sensor sees nobody: do not trust the warmth
    reading = meter.measure(1.0)
    assert (reading.state, reading.estimate_c) == ("no_subject", None)


def test_a_failing_lane_sensor_is_a_sensor_fault() -> None:
    clock = FakeClock()
    lane = LaneSensor()
    scene, meter = hot_day(clock, lane)
    scene.arrive(36.4)
    lane.active, lane.fail = True, True
    reading = meter.measure(1.0)
    assert reading.state == "sensor_fault"
    assert "presence input" in reading.detail


def test_a_reading_below_any_body_temperature_is_no_reading() -> None:
    clock = FakeClock()
    lane = LaneSensor()
    scene = PersonScene(clock, ambient_c=22.0)
    meter = JudgedMeter(
        open_thermometer(INPUT, clock, bus=FakeMlx90614Bus(scene, clock), presence=lane), clock
    )
    lane.active = True  # someone is in the lane but the sensor sees the wall behind them
    reading = meter.measure(1.0)
    assert (reading.state, reading.estimate_c) == ("no_subject", None)
    assert "min_body_c" in reading.detail


def test_presence_input_needs_a_lane_sensor_line(gate_config: GateConfig) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(gate_config(site="s", thermo={"presence": "input"}))
    assert any(p.startswith("thermo.presence:") for p in caught.value.problems)
    config = parse_config(
        gate_config(site="s", thermo={"presence": "input"}, io={"presence_line": 22})
    )
    assert config.io.presence_line == 22
