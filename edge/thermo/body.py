"""Body temperature from an IR sensor sampled in the background (or on demand): BodyMeter.

It reports temperatures only; whether one is a fever is the decision core's call."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from edge.clock import Clock
from edge.ports import Closeable
from edge.thermo.reading import TemperatureReading
from edge.thermo.sampler import Sample, SamplerStats, SensorSampler, TemperatureSensor
from edge.thermo.settings import BodyTemperatureSettings
from edge.thermo.window import Judgement, WindowRules, give_up, judge


class BodyMeter:
    """Implements BodyThermometer on a TemperatureSensor; never raises for sensor faults.

    With background sampling (the default) start() runs a thread sampling every
    sample_interval_ms, and measure() answers at once from the last freshness_s of samples when
    they hold a settled run of the person present, else waits for new samples. Without the
    thread (not started, or background_sampling off) measure() takes the samples itself.
    """

    def __init__(
        self,
        sensor: TemperatureSensor,
        clock: Clock,
        settings: BodyTemperatureSettings | None = None,
        *,
        presence: Callable[[], bool] | None = None,
    ) -> None:
        """`presence`: the lane sensor, read with every sample (thermo.presence = "input")."""
        self._sensor = sensor
        self._clock = clock
        self._settings = settings or BodyTemperatureSettings()
        self.rules = WindowRules.from_settings(self._settings)
        self.model = self.rules.model
        self._after = 0  # the newest sample the previous reading used
        self.sampler = SensorSampler(sensor, clock, self._settings, presence)
        # The window must be able to hold a full run of samples, whatever freshness_s says.
        interval = self._settings.sample_interval_ms / 1000
        self.freshness_s = max(self._settings.freshness_s, (self._settings.samples + 1) * interval)

    # ---- lifecycle and telemetry ----------------------------------------------------------------

    def start(self) -> None:
        """Start background sampling (no-op when thermo.background_sampling is off)."""
        if self._settings.background_sampling:
            self.sampler.start()

    def close(self) -> None:
        """Stop the sampling thread and close the sensor."""
        self.sampler.stop()
        if isinstance(self._sensor, Closeable):
            self._sensor.close()

    def sample_once(self) -> Sample:
        """Take one sample now (what the background thread does every interval)."""
        return self.sampler.sample_once()

    def heartbeat(self) -> float:
        """Monotonic time of the latest sample attempt, for the watchdog."""
        return self.sampler.last_attempt_at()

    def stats(self) -> SamplerStats:
        """Sampler state, latest temperatures and fault count, for telemetry."""
        return self.sampler.stats()

    # ---- measuring ------------------------------------------------------------------------------

    def measure(self, timeout_s: float) -> TemperatureReading:
        """A reading of the person present now, within timeout_s; never a verdict on it."""
        after = 0 if self._settings.background_sampling else self.sampler.last_seq()
        return self._reading(after, timeout_s)

    def measure_again(self, timeout_s: float) -> TemperatureReading:
        """A re-measure: a reading from samples taken after the previous reading only."""
        return self._reading(self._after, timeout_s)

    def _reading(self, after: int, timeout_s: float) -> TemperatureReading:
        deadline = self._clock.monotonic() + max(0.0, timeout_s)
        reading, self._after = self._verdict(after, deadline)
        return reading

    def _verdict(self, after_seq: int, deadline: float) -> tuple[TemperatureReading, int]:
        """A verdict from samples newer than after_seq, and the newest sequence number used."""
        last: Judgement | None = None
        seen_person = False
        last_good: Sample | None = None
        used = after_seq
        sampled = False
        while True:
            newest = self.sampler.last_seq()
            now = self._clock.monotonic()
            window = self.sampler.recent(after_seq, now - self.freshness_s)
            if window:
                used = max(used, window[-1].seq)
                last = judge(window, now, self.rules)
                if last.reading is not None:
                    return last.reading, used
                seen_person = seen_person or last.seen_person
                last_good = last.last_good or last_good
            if self.sampler.running:
                remaining = deadline - now
                if remaining <= 0 or not self.sampler.wait_newer(newest, remaining):
                    break
            elif not self._sample_in_time(deadline, first=not sampled):
                break
            else:
                sampled = True
        if last is not None:
            last = replace(last, seen_person=seen_person, last_good=last_good)
        return give_up(last, self.rules), used

    def _sample_in_time(self, deadline: float, *, first: bool) -> bool:
        """Without the thread: take the next sample on cadence, unless it would miss deadline."""
        if not first:
            wait = self.sampler.last_attempt_at() + self.sampler.interval_s
            wait -= self._clock.monotonic()
            if self._clock.monotonic() + max(0.0, wait) > deadline:
                return False
            if wait > 0:
                self._clock.sleep(wait)
        self.sampler.sample_once()
        return True
