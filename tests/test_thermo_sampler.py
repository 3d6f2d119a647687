"""Background sampling: readings from the recent window, new samples when stale, faults, thread."""

from __future__ import annotations

import threading
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edge.clock import FakeClock, SystemClock
from edge.drivers.fake_smbus import BusFault as Fault
from edge.drivers.fake_smbus import FakeMlx90614Bus
from edge.drivers.settings import ThermoSettings
from edge.drivers.thermometer import open_thermometer
from edge.errors import SensorError
from edge.thermo.body import BodyMeter
from edge.thermo.sampler import SensorSampler
from edge.thermo.scene import PersonScene
from tests.judged_thermometer import JudgedMeter

SETTINGS = ThermoSettings(backend="fake")
INTERVAL_S = SETTINGS.sample_interval_ms / 1000
WORDS_PER_SAMPLE = 3  # ambient, object, then raw IR (for stuck-sensor detection)


class Gate:
    """A meter on the emulated sensor, driven sample by sample on a FakeClock."""

    def __init__(self, settings: ThermoSettings = SETTINGS, remeasure: int = 1) -> None:
        self.clock = FakeClock()
        self.scene = PersonScene(self.clock)
        self.bus = FakeMlx90614Bus(self.scene, self.clock)
        self.meter = JudgedMeter(
            open_thermometer(settings, self.clock, bus=self.bus), self.clock, remeasure=remeasure
        )

    def sample(self, count: int) -> None:
        """What the background thread does: a sample every interval."""
        for _ in range(count):
            self.clock.advance(INTERVAL_S)
            self.meter.sample_once()


def test_fresh_window_gives_a_reading_without_touching_the_sensor() -> None:
    gate = Gate()
    gate.scene.arrive(34.6)
    gate.sample(SETTINGS.samples)
    reads_before, time_before = gate.bus.transactions, gate.clock.monotonic()
    reading = gate.meter.measure(3.0)
    assert reading.state == "normal"
    assert reading.object_c == pytest.approx(34.6, abs=0.15)
    assert reading.samples == SETTINGS.samples
    assert gate.bus.transactions == reads_before
    assert gate.clock.monotonic() == time_before


def test_partly_filled_window_is_topped_up_with_new_samples() -> None:
    gate = Gate()
    gate.scene.arrive(34.6)
    gate.sample(SETTINGS.samples - 2)
    reads_before = gate.bus.transactions
    assert gate.meter.measure(3.0).state == "normal"
    assert gate.bus.transactions - reads_before == 2 * WORDS_PER_SAMPLE


def test_stale_window_is_not_used_and_new_samples_are_taken() -> None:
    gate = Gate()
    gate.scene.arrive(36.6)  # a fever, long ago
    gate.sample(SETTINGS.samples)
    gate.clock.advance(SETTINGS.freshness_s + 0.5)
    gate.scene.arrive(34.5)
    reads_before = gate.bus.transactions
    reading = gate.meter.measure(3.0)
    assert reading.state == "normal"
    assert reading.object_c == pytest.approx(34.5, abs=0.15)
    assert gate.bus.transactions - reads_before >= SETTINGS.samples * WORDS_PER_SAMPLE


def test_a_gap_in_sampling_breaks_the_run_even_within_freshness() -> None:
    gate = Gate(remeasure=0)
    gate.scene.arrive(36.6)
    gate.sample(SETTINGS.samples)
    gate.scene.arrive(34.5)  # someone else, while nothing was sampled
    gate.clock.advance(0.5)
    reading = gate.meter.measure(3.0)
    assert reading.state == "normal"
    assert reading.object_c == pytest.approx(34.5, abs=0.15)


def test_person_who_left_is_no_subject() -> None:
    gate = Gate()
    gate.scene.arrive(36.6)
    gate.sample(SETTINGS.samples)
    gate.scene.leave()
    gate.sample(1)
    reading = gate.meter.measure(1.0)
    assert reading.state == "no_subject"
    assert reading.estimate_c is None
    assert reading.detail == "person not in front of the sensor long enough"


def test_a_person_stepping_up_after_an_empty_scene_is_measured() -> None:
    gate = Gate()
    gate.sample(10)
    gate.scene.arrive(34.6)
    reading = gate.meter.measure(3.0)
    assert reading.state == "normal"
    assert reading.object_c == pytest.approx(34.6, abs=0.15)


def test_faults_in_the_window_are_sensor_fault_without_a_temperature() -> None:
    gate = Gate()
    gate.scene.arrive(34.6)
    gate.sample(SETTINGS.samples)
    gate.bus.inject(Fault.REMOTE_IO, count=2 * SETTINGS.read_attempts)
    gate.sample(2)
    gate.sample(SETTINGS.samples)  # good again, but the faults are recent
    reads_before = gate.bus.transactions
    reading = gate.meter.measure(3.0)
    assert reading.state == "sensor_fault"
    assert "errno 121" in reading.detail
    assert reading.object_c is None and reading.estimate_c is None
    assert gate.bus.transactions == reads_before
    gate.clock.advance(SETTINGS.freshness_s)
    assert gate.meter.measure(3.0).state == "normal"


def test_one_failed_sample_is_tolerated() -> None:
    gate = Gate()
    gate.scene.arrive(34.6)
    gate.sample(2)
    gate.bus.inject(Fault.BAD_PEC, count=SETTINGS.read_attempts)
    gate.sample(1)
    gate.sample(SETTINGS.samples)
    assert gate.meter.stats().faults == 1
    assert gate.meter.measure(3.0).state == "normal"


def test_frozen_sensor_in_the_window_is_sensor_fault() -> None:
    gate = Gate()
    gate.scene.arrive(34.6)
    gate.bus.stick()
    gate.sample(SETTINGS.stuck_reads)
    gate.bus.unstick()
    reading = gate.meter.measure(3.0)
    assert reading.state == "sensor_fault"
    assert "frozen" in reading.detail


def test_re_measure_uses_samples_taken_after_the_first_verdict() -> None:
    gate = Gate()
    gate.scene.arrive(36.6)
    gate.sample(SETTINGS.samples)
    gate.scene.arrive(34.0)  # reusing the first window would confirm the fever
    reads_before = gate.bus.transactions
    reading = gate.meter.measure(3.0)
    assert reading.state == "normal"
    assert "re-measure 1" in reading.detail
    assert gate.bus.transactions - reads_before == SETTINGS.samples * WORDS_PER_SAMPLE


def test_fever_confirmed_by_new_samples() -> None:
    gate = Gate()
    gate.scene.arrive(36.6)
    gate.sample(SETTINGS.samples)
    reading = gate.meter.measure(3.0)
    assert reading.state == "fever"
    assert "re-measure 1" in reading.detail


def test_on_demand_mode_ignores_earlier_samples() -> None:
    gate = Gate(replace(SETTINGS, background_sampling=False), remeasure=0)
    gate.meter.start()
    assert not gate.meter.stats().running
    gate.scene.arrive(36.6)
    gate.sample(SETTINGS.samples)
    gate.scene.arrive(34.0)
    reading = gate.meter.measure(3.0)
    assert reading.state == "normal"
    assert reading.object_c == pytest.approx(34.0, abs=0.15)


def test_stats_and_heartbeat_follow_the_samples() -> None:
    gate = Gate()
    assert gate.meter.stats().state == "idle"
    gate.scene.arrive(34.6)
    gate.sample(3)
    assert gate.meter.heartbeat() == gate.clock.monotonic()
    stats = gate.meter.stats()
    assert (stats.state, stats.samples, stats.faults, stats.running) == ("ok", 3, 0, False)
    assert stats.last_object_c == pytest.approx(34.6, abs=0.2)
    assert stats.last_ambient_c == pytest.approx(23.0, abs=0.1)
    gate.bus.inject(Fault.NACK, count=SETTINGS.read_attempts)
    gate.sample(1)
    stats = gate.meter.stats()
    assert (stats.state, stats.faults) == ("fault", 1)
    assert "NACK" in stats.last_fault
    assert stats.last_object_c == pytest.approx(34.6, abs=0.2)


def test_ring_is_bounded() -> None:
    gate = Gate()
    gate.sample(gate.meter.sampler.capacity + 10)
    assert len(gate.meter.sampler.recent(0, float("-inf"))) == gate.meter.sampler.capacity


# ---- the thread (real clock; nothing asserted about how long anything takes) --------------------

THREAD_SETTINGS = replace(SETTINGS, sample_interval_ms=10)


def test_thread_samples_in_the_background_and_stops_on_close() -> None:
    clock = SystemClock()
    scene = PersonScene(clock)
    scene.arrive(34.6)
    bus = FakeMlx90614Bus(scene, clock)
    meter = JudgedMeter(open_thermometer(THREAD_SETTINGS, clock, bus=bus), clock)
    meter.start()
    meter.start()  # idempotent
    try:
        assert meter.stats().running
        reading = meter.measure(10.0)
        assert reading.state == "normal"
        assert meter.stats().samples >= THREAD_SETTINGS.samples
    finally:
        meter.close()
    assert not meter.stats().running
    assert not [t for t in threading.enumerate() if t.name == "thermo-sampler" and t.is_alive()]
    assert bus.closed


class FlakySensor:
    """Raises a sensor error, then an unexpected error, then reads a person."""

    def __init__(self) -> None:
        self.calls = 0

    def ambient_c(self) -> float:
        self.calls += 1
        if self.calls == 1:
            raise SensorError("bus glitch")
        if self.calls == 2:
            raise RuntimeError("driver bug")
        return 23.0 + (self.calls % 3) * 0.02

    def object_c(self) -> float:
        return 34.6 + (self.calls % 5) * 0.02


def test_thread_survives_errors_and_keeps_sampling() -> None:
    clock = SystemClock()
    # A long freshness keeps the two faults in the window however slowly this machine runs.
    settings = replace(THREAD_SETTINGS, freshness_s=10.0)
    meter = JudgedMeter(BodyMeter(FlakySensor(), clock, settings), clock, remeasure=0)
    meter.start()
    try:
        sampler = meter.sampler
        while sampler.last_seq() < 10:
            assert sampler.wait_newer(sampler.last_seq(), 10.0)
        stats = meter.stats()
        assert stats.running and stats.state == "ok" and stats.faults == 2
        # The faults are in the recent window: fail closed.
        assert meter.measure(1.0).state == "sensor_fault"
    finally:
        meter.close()
    assert not meter.stats().running


class HangingSensor:
    """A read that blocks until released (a wedged bus)."""

    def __init__(self) -> None:
        self.release = threading.Event()

    def ambient_c(self) -> float:
        self.release.wait(10.0)
        raise SensorError("bus timed out")

    def object_c(self) -> float:
        return 34.6


def test_stalled_sampler_is_sensor_fault_and_heartbeat_stands_still() -> None:
    clock = SystemClock()
    sensor = HangingSensor()
    meter = JudgedMeter(BodyMeter(sensor, clock, THREAD_SETTINGS), clock)
    beat = meter.heartbeat()
    meter.start()
    try:
        reading = meter.measure(0.2)
        assert reading.state == "sensor_fault"
        assert "stalled" in reading.detail
        assert meter.heartbeat() == beat
    finally:
        sensor.release.set()
        meter.close()


# ---- property: a reading is always of the person in front of the sensor now --------------------

steps = st.lists(
    st.one_of(
        st.tuples(st.just("sample"), st.integers(1, 8)),
        st.tuples(st.just("arrive"), st.floats(30.0, 38.0)),
        st.tuples(st.just("leave"), st.just(0)),
        st.tuples(st.just("wait"), st.floats(0.0, 2.0)),
        st.tuples(st.just("fault"), st.sampled_from([f for f in Fault if f is not Fault.STUCK])),
    ),
    max_size=25,
)


@settings(max_examples=120, deadline=None)
@given(script=steps)
def test_reading_is_of_the_person_present_at_measure_time(
    script: list[tuple[str, float | int | Fault]],
) -> None:
    gate = Gate()
    for action, value in script:
        if action == "sample":
            assert isinstance(value, int)
            gate.sample(value)
        elif action == "arrive":
            assert isinstance(value, float)
            gate.clock.advance(0.5)  # people take a moment to swap places
            gate.scene.arrive(value)
        elif action == "leave":
            gate.clock.advance(0.5)
            gate.scene.leave()
        elif action == "wait":
            assert isinstance(value, float)
            gate.clock.advance(value)
        else:
            assert isinstance(value, Fault)
            gate.bus.inject(value, count=SETTINGS.read_attempts)
    reading = gate.meter.measure(2.0)
    skin = gate.scene.person_skin_c
    if reading.state in ("normal", "fever"):
        assert skin is not None
        assert reading.object_c is not None and abs(reading.object_c - skin) <= 0.25
        assert reading.estimate_c is not None
        assert (reading.state == "fever") == (reading.estimate_c >= 37.3)
    else:
        assert reading.estimate_c is None


class SteppingClock(FakeClock):
    """A clock that moves a minute on every monotonic read."""

    def monotonic(self) -> float:
        self.advance(60.0)
        return super().monotonic()


def test_waiting_for_a_sample_is_timed_on_the_injected_clock() -> None:
    clock = SteppingClock()
    sampler = SensorSampler(FlakySensor(), clock, SETTINGS)
    answers: list[bool] = []
    waiter = threading.Thread(
        target=lambda: answers.append(sampler.wait_newer(0, 3600.0)), daemon=True
    )
    waiter.start()
    waiter.join(30.0)
    assert answers == [False]
