"""Judging a window of sensor samples: a settled reading of the person present, or why not."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass, replace

from edge.thermo.model import ConversionModel, reject_outliers
from edge.thermo.reading import TemperatureReading
from edge.thermo.sampler import Sample
from edge.thermo.settings import BodyTemperatureSettings

FAILED_SAMPLES_FOR_FAULT = 2
# Consecutive samples further apart than this (or the newest one this old) may show different
# people: they are not one person's run. Generous enough for retries between samples.
GAP_INTERVALS = 2
GAP_SLACK_S = 0.1


@dataclass(frozen=True)
class WindowRules:
    """How a window of samples becomes a reading."""

    samples: int
    presence_delta_c: float
    presence_input: bool
    min_body_c: float
    stable_spread_c: float
    gap_limit_s: float
    model: ConversionModel

    @classmethod
    def from_settings(cls, settings: BodyTemperatureSettings) -> WindowRules:
        """Build the rules the body-temperature settings configure."""
        interval = settings.sample_interval_ms / 1000
        return cls(
            samples=settings.samples,
            presence_delta_c=settings.presence_delta_c,
            presence_input=settings.presence == "input",
            min_body_c=settings.min_body_c,
            stable_spread_c=settings.stable_spread_c,
            gap_limit_s=GAP_INTERVALS * interval + GAP_SLACK_S,
            model=ConversionModel.from_settings(settings),
        )

    def present(self, sample: Sample) -> bool:
        """A good sample taken with a person in front of the sensor: the lane sensor says so
        (presence input), or the object is warm enough above ambient."""
        if sample.kind != "ok" or sample.object_c is None or sample.ambient_c is None:
            return False
        if self.presence_input:
            return sample.presence is True
        return sample.object_c >= sample.ambient_c + self.presence_delta_c


@dataclass(frozen=True)
class Judgement:
    """The verdict on a window (None: wait for more samples) and what the window showed."""

    reading: TemperatureReading | None
    run: list[Sample]
    seen_person: bool
    last_good: Sample | None
    too_cold: TemperatureReading | None = None  # a settled reading below any body temperature


def judge(window: Sequence[Sample], now: float, rules: WindowRules) -> Judgement:
    """Sensor fault if the window holds faults, else a reading once the present run settles."""
    goods = [s for s in window if s.kind == "ok"]
    last_good = goods[-1] if goods else None
    seen_person = any(rules.present(s) for s in goods)
    fault = _fault(window, rules)
    if fault is not None:
        return Judgement(fault, [], seen_person, last_good)
    run = present_run(window, now, rules)
    reading = None
    if len(run) >= rules.samples:
        reading = settled(run[-rules.samples :], rules)
    if reading is not None and (reading.estimate_c or 0.0) < rules.min_body_c:
        # keep sampling: the person may turn to the sensor
        return Judgement(None, run, seen_person, last_good, too_cold=reading)
    return Judgement(reading, run, seen_person, last_good)


def present_run(window: Sequence[Sample], now: float, rules: WindowRules) -> list[Sample]:
    """The trailing unbroken run of present samples, oldest first.

    An absent or frozen sample, or a gap in sampling, ends it; a single failed sample does not.
    """
    run: list[Sample] = []
    later = now
    for sample in reversed(window):
        if sample.kind == "fault":
            continue
        if sample.kind == "frozen" or not rules.present(sample):
            break
        if later - sample.at > rules.gap_limit_s:
            break
        run.append(sample)
        later = sample.at
    run.reverse()
    return run


def _fault(window: Sequence[Sample], rules: WindowRules) -> TemperatureReading | None:
    frozen = [s for s in window if s.kind == "frozen"]
    if frozen:
        return fault_reading(rules, frozen[-1].fault)
    failed = [s for s in window if s.kind == "fault"]
    if len(failed) >= FAILED_SAMPLES_FOR_FAULT:
        return fault_reading(rules, f"{len(failed)} failed samples: {failed[-1].fault}")
    return None


def settled(samples: Sequence[Sample], rules: WindowRules) -> TemperatureReading | None:
    """Median of the samples after outlier removal, or None if they do not agree."""
    objects = [s.object_c for s in samples if s.object_c is not None]
    ambients = [s.ambient_c for s in samples if s.ambient_c is not None]
    if len(objects) != len(samples) or len(ambients) != len(samples):
        return None
    kept = reject_outliers(objects)
    kept_objects = [objects[i] for i in kept]
    # More than a quarter of the window off the median means the scene changed: keep sampling.
    if len(kept) * 4 < len(samples) * 3:
        return None
    if max(kept_objects) - min(kept_objects) > rules.stable_spread_c:
        return None
    obj = statistics.median(kept_objects)
    ambient = statistics.median(ambients[i] for i in kept)
    # Rounded here so that the core judges the very value that is reported.
    estimate = round(rules.model.estimate(obj, ambient), 2)
    dropped = len(samples) - len(kept)
    return TemperatureReading(
        state="measured",
        object_c=round(obj, 2),
        ambient_c=round(ambient, 2),
        estimate_c=estimate,
        model=rules.model.name,
        samples=len(kept),
        detail=f"{dropped} outlier(s) dropped" if dropped else "",
    )


def give_up(last: Judgement | None, rules: WindowRules) -> TemperatureReading:
    """The reading when the time ran out before the window decided."""
    if last is None:
        return fault_reading(rules, "no sensor samples within the timeout (sampler stalled?)")
    if len(last.run) >= rules.samples:
        detail = "readings did not settle (person moving?)"
    elif last.seen_person:
        detail = "person not in front of the sensor long enough"
    else:
        detail = "nobody in front of the sensor"
    good = last.last_good
    if last.too_cold is not None:
        cold = last.too_cold
        return replace(
            cold,
            state="no_subject",
            estimate_c=None,
            detail=f"estimate {cold.estimate_c:.2f} °C is below thermo.min_body_c "
            f"{rules.min_body_c:.1f} °C (sensor not aimed at a forehead?)",
        )
    return TemperatureReading(
        state="no_subject",
        object_c=round(good.object_c, 2) if good and good.object_c is not None else None,
        ambient_c=round(good.ambient_c, 2) if good and good.ambient_c is not None else None,
        estimate_c=None,
        model=rules.model.name,
        samples=len(last.run),
        detail=detail,
    )


def fault_reading(rules: WindowRules, detail: str) -> TemperatureReading:
    """A sensor_fault reading: never a temperature."""
    return TemperatureReading(
        state="sensor_fault",
        object_c=None,
        ambient_c=None,
        estimate_c=None,
        model=rules.model.name,
        samples=0,
        detail=detail,
    )
