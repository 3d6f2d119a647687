"""Random bus-fault schedules never turn into a wrong temperature: a retry or a sensor_fault."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from edge.clock import FakeClock
from edge.drivers.fake_smbus import BusFault as Fault
from edge.drivers.fake_smbus import FakeMlx90614Bus
from edge.drivers.settings import ThermoSettings
from edge.drivers.thermometer import open_thermometer
from edge.thermo.model import ConversionModel
from edge.thermo.reading import TemperatureReading
from edge.thermo.scene import PersonScene
from tests.judged_thermometer import JudgedMeter

SETTINGS = ThermoSettings(backend="fake")
THRESHOLD = 37.3
MODEL = ConversionModel.from_settings(SETTINGS)

faults = st.one_of(st.none(), st.sampled_from(list(Fault)))
schedules = st.lists(st.tuples(faults, st.integers(1, 8)), max_size=30)


def expand(schedule: list[tuple[Fault | None, int]]) -> list[Fault | None]:
    plan: list[Fault | None] = []
    for fault, run in schedule:
        plan.extend([fault] * run)
    return plan


def run(
    skin: float | None, ambient: float, plan: list[Fault | None], seed: int
) -> tuple[TemperatureReading, FakeMlx90614Bus]:
    clock = FakeClock()
    scene = PersonScene(clock, ambient_c=ambient, seed=seed)
    if skin is not None:
        scene.arrive(skin)
    bus = FakeMlx90614Bus(scene, clock, fault_plan=lambda i: plan[i] if i < len(plan) else None)
    return JudgedMeter(open_thermometer(SETTINGS, clock, bus=bus), clock, THRESHOLD).measure(
        3.0
    ), bus


@settings(max_examples=150, deadline=None)
@given(
    skin=st.one_of(st.none(), st.floats(30.0, 40.0)),
    ambient=st.floats(5.0, 30.0),
    schedule=schedules,
    seed=st.integers(0, 1000),
)
def test_any_fault_schedule_gives_a_true_temperature_or_none(
    skin: float | None, ambient: float, schedule: list[tuple[Fault | None, int]], seed: int
) -> None:
    reading, _ = run(skin, ambient, expand(schedule), seed)
    assert reading.state in ("normal", "fever", "no_subject", "sensor_fault")
    if reading.state in ("normal", "fever"):
        assert skin is not None
        assert reading.object_c is not None and reading.ambient_c is not None
        assert reading.estimate_c is not None
        assert abs(reading.object_c - skin) <= 0.25
        assert abs(reading.ambient_c - ambient) <= 0.1
        expected = MODEL.estimate(reading.object_c, reading.ambient_c)
        assert abs(reading.estimate_c - expected) <= 0.02
        assert (reading.state == "fever") == (reading.estimate_c >= THRESHOLD)
    else:
        assert reading.estimate_c is None
    if skin is None:
        assert reading.state in ("no_subject", "sensor_fault")


@settings(max_examples=60, deadline=None)
@given(
    fault=st.sampled_from([f for f in Fault if f is not Fault.STUCK]),
    skin=st.floats(33.0, 39.0),
    seed=st.integers(0, 1000),
)
def test_persistent_fault_is_always_sensor_fault(fault: Fault, skin: float, seed: int) -> None:
    reading, bus = run(skin, 22.0, [fault] * 10_000, seed)
    assert reading.state == "sensor_fault"
    assert reading.estimate_c is None
    assert bus.transactions <= 2 * SETTINGS.read_attempts  # gave up after bounded retries


@settings(max_examples=60, deadline=None)
@given(
    fault=st.sampled_from([f for f in Fault if f is not Fault.STUCK]),
    burst=st.integers(1, SETTINGS.read_attempts - 1),
    skin=st.floats(33.0, 35.0),
    seed=st.integers(0, 1000),
)
def test_short_burst_is_retried_to_the_right_temperature(
    fault: Fault, burst: int, skin: float, seed: int
) -> None:
    reading, bus = run(skin, 22.0, [fault] * burst, seed)
    assert reading.state == "normal"
    assert reading.object_c is not None
    assert abs(reading.object_c - skin) <= 0.25
    assert bus.faults_applied == [fault] * burst
