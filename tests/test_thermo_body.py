"""Body temperature on the real MLX90614 driver and the emulator: profiles, model, re-measure."""

from __future__ import annotations

from dataclasses import replace

import pytest

from edge.clock import FakeClock
from edge.drivers.fake_smbus import BusFault as Fault
from edge.drivers.fake_smbus import FakeMlx90614Bus
from edge.drivers.settings import ThermoSettings
from edge.drivers.thermometer import open_thermometer
from edge.thermo import scene as profiles
from edge.thermo.model import ConversionModel, reject_outliers
from edge.thermo.reading import BodyThermometer
from edge.thermo.scene import PersonScene
from tests.judged_thermometer import JudgedMeter

SETTINGS = ThermoSettings(backend="fake")


def meter(
    scene: PersonScene, clock: FakeClock, settings: ThermoSettings = SETTINGS, remeasure: int = 1
) -> tuple[JudgedMeter, FakeMlx90614Bus]:
    bus = FakeMlx90614Bus(scene, clock)
    return JudgedMeter(open_thermometer(settings, clock, bus=bus), clock, remeasure=remeasure), bus


def test_is_a_body_thermometer() -> None:
    clock = FakeClock()
    thermometer: BodyThermometer = meter(profiles.empty(clock), clock)[0]
    assert thermometer.measure(1.0).state == "no_subject"


def test_conversion_models() -> None:
    assert ConversionModel("offset", 0.7).estimate(36.0, 20.0) == pytest.approx(36.7)
    ambient = ConversionModel("ambient", 0.1, 0.13)
    assert ambient.estimate(34.0, 24.0) == pytest.approx(34.0 + 1.3 + 0.1)
    assert ambient.name == "ambient(k=0.130,offset=+0.10)"


def test_reject_outliers_drops_a_spike() -> None:
    values = [34.1, 34.2, 34.15, 41.0, 34.18]
    assert reject_outliers(values) == [0, 1, 2, 4]
    assert reject_outliers([34.0] * 5) == [0, 1, 2, 3, 4]


def test_person_approaching_is_normal_after_the_ramp() -> None:
    clock = FakeClock()
    reading = meter(profiles.person_approaching(clock, skin_c=34.6, approach_s=0.6), clock)[
        0
    ].measure(3.0)
    assert reading.state == "normal"
    assert reading.object_c == pytest.approx(34.6, abs=0.15)
    assert reading.ambient_c == pytest.approx(23.0, abs=0.05)
    assert reading.estimate_c == pytest.approx(34.6 + 0.13 * 11.6, abs=0.2)
    assert reading.samples >= 4
    assert reading.model.startswith("ambient")


def test_hot_forehead_is_fever_after_re_measure() -> None:
    clock = FakeClock()
    thermometer, _ = meter(profiles.hot_forehead(clock, skin_c=36.6), clock)
    reading = thermometer.measure(3.0)
    assert reading.state == "fever"
    assert reading.estimate_c is not None and reading.estimate_c >= 37.3
    assert "re-measure 1" in reading.detail


def test_cold_morning_is_normal_with_the_ambient_model() -> None:
    clock = FakeClock()
    reading = meter(profiles.cold_morning(clock), clock)[0].measure(3.0)
    assert reading.state == "normal"
    assert reading.ambient_c == pytest.approx(6.0, abs=0.05)


def test_offset_model_from_settings() -> None:
    clock = FakeClock()
    settings = replace(SETTINGS, model="offset", offset_c=0.5)
    scene = profiles.hot_forehead(clock, skin_c=37.0)
    reading = meter(scene, clock, settings)[0].measure(3.0)
    assert reading.model == "offset(+0.50)"
    assert reading.estimate_c == pytest.approx(37.5, abs=0.1)
    assert reading.state == "fever"


def test_fever_that_does_not_repeat_is_normal() -> None:
    clock = FakeClock()
    scene = PersonScene(clock)
    scene.arrive(36.6)
    thermometer, bus = meter(scene, clock)
    calls = {"n": 0}
    real = bus.scene.true_object_c

    def cools_after_first() -> float:
        calls["n"] += 1  # every word read (ambient, object, raw IR) samples the scene once
        return real() if calls["n"] <= 15 else 34.0  # five samples of three words each

    bus.scene.true_object_c = cools_after_first  # type: ignore[method-assign]
    reading = thermometer.measure(3.0)
    assert reading.state == "normal"
    assert "re-measure 1" in reading.detail


def test_no_re_measure_when_configured_off() -> None:
    clock = FakeClock()
    thermometer, _ = meter(profiles.hot_forehead(clock), clock, remeasure=0)
    reading = thermometer.measure(3.0)
    assert reading.state == "fever"
    assert "re-measure" not in reading.detail


def test_fever_stands_when_re_measure_finds_nobody() -> None:
    clock = FakeClock()
    scene = profiles.hot_forehead(clock)
    thermometer, bus = meter(scene, clock)
    real = bus._transaction
    count = {"n": 0}

    def leave_after_first_measure(msgs: list[object]) -> None:
        count["n"] += 1
        if count["n"] == 16:  # 5 samples x (ambient, object, raw IR), then the person leaves
            scene.leave()
        real(msgs)

    bus._transaction = leave_after_first_measure  # type: ignore[method-assign]
    reading = thermometer.measure(2.0)
    assert reading.state == "fever"
    assert "re-measure 1: no_subject" in reading.detail


def test_nobody_there_is_no_subject_and_respects_the_timeout() -> None:
    clock = FakeClock()
    start = clock.monotonic()
    reading = meter(profiles.empty(clock), clock)[0].measure(1.5)
    assert reading.state == "no_subject"
    assert reading.estimate_c is None
    assert reading.object_c == pytest.approx(22.5, abs=0.3)
    assert clock.monotonic() - start <= 1.5 + 0.3  # settle + last sample


def test_person_leaving_mid_measurement_restarts_the_window() -> None:
    clock = FakeClock()
    scene = profiles.hot_forehead(clock)
    thermometer, bus = meter(scene, clock, remeasure=0)
    real = bus._transaction
    count = {"n": 0}

    def toggles(msgs: list[object]) -> None:
        count["n"] += 1
        if count["n"] == 5:
            scene.leave()
        if count["n"] == 7:
            scene.arrive(34.5)
        real(msgs)

    bus._transaction = toggles  # type: ignore[method-assign]
    reading = thermometer.measure(3.0)
    # Samples from the first (hot) person are not mixed with the second person's.
    assert reading.state == "normal"
    assert reading.object_c == pytest.approx(34.5, abs=0.15)


def test_unsettled_readings_are_not_a_temperature() -> None:
    clock = FakeClock()
    scene = PersonScene(clock, noise_c=1.5, seed=3)
    scene.arrive(35.0)
    settings = replace(SETTINGS, stable_spread_c=0.1)
    reading = meter(scene, clock, settings)[0].measure(1.0)
    assert reading.state == "no_subject"
    assert "settle" in reading.detail


def test_persistent_bus_fault_is_sensor_fault() -> None:
    clock = FakeClock()
    thermometer, bus = meter(profiles.hot_forehead(clock), clock)
    bus.inject(Fault.REMOTE_IO, count=100)
    reading = thermometer.measure(3.0)
    assert reading.state == "sensor_fault"
    assert reading.estimate_c is None
    assert "errno 121" in reading.detail


def test_missing_sensor_is_sensor_fault() -> None:
    clock = FakeClock()
    scene = profiles.hot_forehead(clock)
    bus = FakeMlx90614Bus(scene, clock, address=0x5B)
    reading = JudgedMeter(open_thermometer(SETTINGS, clock, bus=bus), clock).measure(2.0)
    assert reading.state == "sensor_fault"
    assert "NACK" in reading.detail


def test_short_error_burst_is_absorbed() -> None:
    clock = FakeClock()
    thermometer, bus = meter(profiles.person_approaching(clock, approach_s=0.0), clock)
    bus.inject(Fault.REMOTE_IO, count=4)
    reading = thermometer.measure(3.0)
    assert reading.state == "normal"
    assert bus.faults_applied == [Fault.REMOTE_IO] * 4


def test_stuck_sensor_is_sensor_fault() -> None:
    clock = FakeClock()
    thermometer, bus = meter(profiles.person_approaching(clock, approach_s=0.0), clock)
    bus.stick()
    reading = thermometer.measure(3.0)
    assert reading.state == "sensor_fault"
    assert "frozen" in reading.detail
    bus.unstick()
    # The frozen run stays in the recent window: fail closed until it has aged out.
    assert thermometer.measure(3.0).state == "sensor_fault"
    clock.advance(SETTINGS.freshness_s)
    assert thermometer.measure(3.0).state == "normal"


def test_real_backend_without_hardware_is_sensor_fault() -> None:
    clock = FakeClock()
    settings = replace(SETTINGS, backend="mlx90614", bus=250)
    reading = JudgedMeter(open_thermometer(settings, clock), clock).measure(1.0)
    assert reading.state == "sensor_fault"
    assert "/dev/i2c-250 does not exist" in reading.detail


def test_fake_backend_without_a_bus_sees_nobody() -> None:
    clock = FakeClock()
    assert JudgedMeter(open_thermometer(SETTINGS, clock), clock).measure(1.0).state == "no_subject"


def test_a_perfectly_steady_scene_is_not_mistaken_for_a_stuck_sensor() -> None:
    clock = FakeClock()
    scene = PersonScene(clock, noise_c=0.0)  # temperatures repeat exactly; raw IR still jitters
    thermometer, bus = meter(scene, clock)
    for _ in range(40):
        thermometer.sample_once()
        clock.advance(0.06)
    scene.arrive(34.6)  # forehead skin: estimate about 36.1 °C with the ambient model
    reading = thermometer.measure(3.0)
    assert reading.state == "normal", reading.detail
    clock.advance(SETTINGS.freshness_s + 0.1)  # that reading is no longer fresh
    bus.stick()  # now the raw IR word freezes too: that is a stuck sensor
    assert thermometer.measure(3.0).state == "sensor_fault"


def _scripted(bus: FakeMlx90614Bus, temperatures: list[float | None]) -> None:
    """Per verdict (five samples of three words each) the forehead's object temperature;
    None keeps the scene's own."""
    calls = {"n": 0}
    real = bus.scene.true_object_c

    def scripted() -> float:
        calls["n"] += 1
        step = min((calls["n"] - 1) // 15, len(temperatures) - 1)
        chosen = temperatures[step]
        return real() if chosen is None else chosen

    bus.scene.true_object_c = scripted  # type: ignore[method-assign]


def test_one_normal_re_measure_does_not_overrule_a_fever_when_two_are_required() -> None:
    clock = FakeClock()
    scene = PersonScene(clock)
    scene.arrive(36.6)
    thermometer, bus = meter(scene, clock, remeasure=2)
    _scripted(bus, [None, 34.0, None])  # fever, normal, fever again
    reading = thermometer.measure(5.0)
    assert reading.state == "fever"
    assert "fever stands" in reading.detail
    assert [m.state for m in reading.measurements] == ["fever", "normal", "fever"]


def test_a_fever_is_overruled_only_by_consecutive_normal_re_measures() -> None:
    clock = FakeClock()
    scene = PersonScene(clock)
    scene.arrive(36.6)
    thermometer, bus = meter(scene, clock, remeasure=2)
    _scripted(bus, [None, 34.0, 34.0])
    reading = thermometer.measure(5.0)
    assert reading.state == "normal"
    assert "overruled" in reading.detail
    states = [m.state for m in reading.measurements]
    assert states == ["fever", "normal", "normal"]
    first = reading.measurements[0].estimate_c
    assert first is not None and first >= 37.3  # the overruled fever stays on record
