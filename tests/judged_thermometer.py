"""A thermometer read the way the gate reads it: temperatures judged by the core's fever rule."""

from __future__ import annotations

from typing import Any

from edge.clock import Clock
from edge.core.temperature import measure_temperature
from edge.thermo.body import BodyMeter
from edge.thermo.reading import TemperatureReading


class JudgedMeter:
    """A BodyMeter whose measure() applies the fever threshold and re-measures as the gate does."""

    def __init__(
        self, meter: BodyMeter, clock: Clock, threshold_c: float = 37.3, remeasure: int = 1
    ) -> None:
        self.meter = meter
        self._clock = clock
        self._threshold_c = threshold_c
        self._remeasure = remeasure

    def measure(self, timeout_s: float) -> TemperatureReading:
        return measure_temperature(
            self.meter,
            self._clock,
            timeout_s,
            threshold_c=self._threshold_c,
            remeasure=self._remeasure,
        )

    def measure_again(self, timeout_s: float) -> TemperatureReading:
        return self.meter.measure_again(timeout_s)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.meter, name)
