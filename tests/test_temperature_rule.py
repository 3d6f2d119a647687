"""The fever rule lives in the core: the thermometer reports temperatures, the core judges them."""

from __future__ import annotations

import inspect
from collections import deque
from dataclasses import dataclass, field

from hypothesis import given
from hypothesis import strategies as st

from edge.clock import FakeClock
from edge.core.temperature import judge_reading, measure_temperature
from edge.drivers.fake_smbus import FakeMlx90614Bus
from edge.drivers.settings import ThermoSettings
from edge.drivers.thermometer import open_thermometer
from edge.thermo import scene as profiles
from edge.thermo.body import BodyMeter
from edge.thermo.reading import TemperatureReading


def measured(estimate: float) -> TemperatureReading:
    return TemperatureReading("measured", estimate - 1.0, 22.0, estimate, "ambient", 5)


NOBODY = TemperatureReading("no_subject", None, None, None, "ambient", 0, "nobody in front")


@dataclass
class ScriptedThermometer:
    """Hands out raw readings in order, taking `takes_s` of the clock for each."""

    clock: FakeClock
    readings: deque[TemperatureReading]
    takes_s: float = 1.0
    timeouts: list[tuple[str, float]] = field(default_factory=list)

    def measure(self, timeout_s: float) -> TemperatureReading:
        return self._next("measure", timeout_s)

    def measure_again(self, timeout_s: float) -> TemperatureReading:
        return self._next("again", timeout_s)

    def _next(self, call: str, timeout_s: float) -> TemperatureReading:
        self.timeouts.append((call, timeout_s))
        self.clock.advance(self.takes_s)
        return self.readings.popleft()


def run(
    estimates: list[TemperatureReading], remeasure: int, threshold_c: float = 37.3
) -> tuple[TemperatureReading, ScriptedThermometer]:
    clock = FakeClock()
    thermometer = ScriptedThermometer(clock, deque(estimates))
    reading = measure_temperature(
        thermometer, clock, 5.0, threshold_c=threshold_c, remeasure=remeasure
    )
    return reading, thermometer


def test_the_thermometer_takes_no_policy() -> None:
    for build in (open_thermometer, BodyMeter):
        names = set(inspect.signature(build).parameters)
        assert not {n for n in names if "threshold" in n or "remeasure" in n}, build


def test_the_thermometer_reports_a_temperature_without_a_verdict() -> None:
    clock = FakeClock()
    bus = FakeMlx90614Bus(profiles.hot_forehead(clock), clock)
    reading = open_thermometer(ThermoSettings(backend="fake"), clock, bus=bus).measure(2.0)
    assert reading.state == "measured"
    assert reading.estimate_c is not None and reading.estimate_c >= 37.3
    assert judge_reading(reading, 37.3).state == "fever"
    assert judge_reading(reading, reading.estimate_c + 0.01).state == "normal"


def test_the_threshold_is_the_policy_s() -> None:
    assert judge_reading(measured(37.0), 36.9).state == "fever"
    assert judge_reading(measured(37.0), 37.3).state == "normal"
    assert judge_reading(measured(37.3), 37.3).state == "fever"  # at the threshold is a fever
    assert judge_reading(NOBODY, 37.3) == NOBODY


def test_a_normal_reading_is_not_re_measured() -> None:
    reading, thermometer = run([measured(36.5)], remeasure=2)
    assert (reading.state, reading.measurements) == ("normal", ())
    assert [call for call, _ in thermometer.timeouts] == ["measure"]


def test_a_fever_is_final_without_re_measures() -> None:
    reading, thermometer = run([measured(38.0)], remeasure=0)
    assert (reading.state, reading.measurements) == ("fever", ())
    assert len(thermometer.timeouts) == 1


def test_one_normal_re_measure_overrules_a_fever_when_one_is_asked_for() -> None:
    reading, _ = run([measured(38.0), measured(36.5)], remeasure=1)
    assert reading.state == "normal"
    assert reading.estimate_c == 36.5
    assert [(m.state, m.estimate_c) for m in reading.measurements] == [
        ("fever", 38.0),
        ("normal", 36.5),
    ]
    assert reading.detail == "fever overruled by re-measure 1, normal"


def test_a_fever_again_stands() -> None:
    reading, _ = run([measured(38.0), measured(36.5), measured(37.6)], remeasure=2)
    assert (reading.state, reading.estimate_c) == ("fever", 37.6)
    assert [m.state for m in reading.measurements] == ["fever", "normal", "fever"]
    assert reading.detail == "re-measure 2: fever again; fever stands"


def test_a_failed_re_measure_leaves_the_fever_standing() -> None:
    reading, _ = run([measured(38.0), NOBODY], remeasure=2)
    assert (reading.state, reading.estimate_c) == ("fever", 38.0)
    assert [m.state for m in reading.measurements] == ["fever", "no_subject"]
    assert reading.detail == "re-measure 1: no_subject (nobody in front); fever stands"


def test_re_measures_share_the_time_limit() -> None:
    _, thermometer = run([measured(38.0), measured(36.5), measured(36.6)], remeasure=2)
    assert thermometer.timeouts == [("measure", 5.0), ("again", 4.0), ("again", 3.0)]


@given(
    estimates=st.lists(st.floats(30.0, 42.0, allow_nan=False), min_size=1, max_size=6),
    remeasure=st.integers(0, 5),
    threshold=st.floats(35.0, 40.0),
)
def test_a_fever_stands_unless_every_re_measure_is_normal(
    estimates: list[float], remeasure: int, threshold: float
) -> None:
    script = estimates + [36.0] * (remeasure + 1)
    reading, thermometer = run([measured(e) for e in script], remeasure, threshold)
    verdicts = ["fever" if e >= threshold else "normal" for e in script]
    if verdicts[0] == "normal" or remeasure == 0:
        assert reading.state == verdicts[0]
        assert len(thermometer.timeouts) == 1
        return
    again = verdicts[1 : remeasure + 1]
    taken = 1 + (again.index("fever") + 1 if "fever" in again else remeasure)
    assert reading.state == ("fever" if "fever" in again else "normal")
    assert [m.state for m in reading.measurements] == verdicts[:taken]
