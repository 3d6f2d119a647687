"""The fever rule: judging thermometer readings against the threshold, re-measuring a fever."""

from __future__ import annotations

from dataclasses import replace

from edge.clock import Clock
from edge.thermo.reading import BodyThermometer, Measurement, TemperatureReading


def judge_reading(reading: TemperatureReading, threshold_c: float) -> TemperatureReading:
    """A measured temperature becomes "fever" at or above threshold_c, else "normal"; a reading
    that already carries a state is left as it is."""
    if reading.state != "measured":
        return reading
    estimate = reading.estimate_c
    fever = estimate is not None and estimate >= threshold_c
    return replace(reading, state="fever" if fever else "normal")


def measure_temperature(
    thermometer: BodyThermometer,
    clock: Clock,
    timeout_s: float,
    *,
    threshold_c: float,
    remeasure: int,
) -> TemperatureReading:
    """Measure and judge within timeout_s in total. A fever stands unless `remeasure`
    consecutive re-measures are all normal; a re-measure that is a fever again, finds nobody or
    fails ends the re-measuring and the fever stands. Every verdict is kept in `measurements`.
    """
    deadline = clock.monotonic() + max(0.0, timeout_s)
    measured = thermometer.measure(timeout_s)
    reading = judge_reading(measured, threshold_c)
    taken = [reading]
    # Only a fever judged here is re-measured: a reading handed in with its verdict is final.
    if measured.state != "measured" or reading.state != "fever" or remeasure <= 0:
        return _with_history(reading, taken)
    fever = reading
    for attempt in range(1, remeasure + 1):
        remaining = max(0.0, deadline - clock.monotonic())
        again = judge_reading(thermometer.measure_again(remaining), threshold_c)
        taken.append(again)
        if again.state == "fever":
            note = f"re-measure {attempt}: fever again; fever stands"
            return _with_history(replace(again, detail=_join(again.detail, note)), taken)
        if again.state != "normal":
            why = f" ({again.detail})" if again.detail else ""
            note = f"re-measure {attempt}: {again.state}{why}; fever stands"
            return _with_history(replace(fever, detail=_join(fever.detail, note)), taken)
    normal = taken[-1]
    note = f"fever overruled by re-measure 1..{remeasure}, all normal"
    if remeasure == 1:
        note = "fever overruled by re-measure 1, normal"
    return _with_history(replace(normal, detail=_join(normal.detail, note)), taken)


def _with_history(
    reading: TemperatureReading, taken: list[TemperatureReading]
) -> TemperatureReading:
    if len(taken) < 2:
        return reading
    history = tuple(Measurement(r.state, r.estimate_c) for r in taken)
    return replace(reading, measurements=history)


def _join(first: str, second: str) -> str:
    return f"{first}; {second}" if first else second
