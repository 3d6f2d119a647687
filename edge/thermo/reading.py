"""The result of one body-temperature measurement."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

from edge.thermo.sampler import SamplerStats

# The thermometer reports "measured" (a temperature, no verdict), "no_subject" or "sensor_fault";
# the decision core turns "measured" into "normal" or "fever" against the policy.
TemperatureState = Literal["measured", "normal", "fever", "no_subject", "sensor_fault"]


@dataclass(frozen=True)
class Measurement:
    """One verdict taken during a presentation (the first, or a re-measure)."""

    state: TemperatureState
    estimate_c: float | None


@dataclass(frozen=True)
class TemperatureReading:
    """Raw object and ambient temperatures, the estimate, and what they mean.

    `measurements` lists every verdict of the presentation in order (first, then re-measures),
    so a fever that was overruled is still on record; empty when only one was taken.
    """

    state: TemperatureState
    object_c: float | None
    ambient_c: float | None
    estimate_c: float | None
    model: str
    samples: int
    detail: str = ""
    measurements: tuple[Measurement, ...] = ()


class BodyThermometer(Protocol):
    """Measures a person's body temperature within a time limit; never judges it."""

    def measure(self, timeout_s: float) -> TemperatureReading:
        """Sample while a person is present and return a reading; never raises on sensor faults."""
        ...

    def measure_again(self, timeout_s: float) -> TemperatureReading:
        """Like measure(), from samples taken after the previous reading only (a re-measure)."""
        ...


class ThermometerDevice(BodyThermometer, Protocol):
    """The thermometer as the service holds it: measuring, plus its lifecycle and telemetry."""

    def start(self) -> None:
        """Start background sampling (a no-op when thermo.background_sampling is off)."""
        ...

    def close(self) -> None:
        """Stop sampling and close the sensor."""
        ...

    def heartbeat(self) -> float:
        """Monotonic time of the latest sample attempt, for the watchdog."""
        ...

    def stats(self) -> SamplerStats:
        """Sampler state, latest temperatures and fault count, for telemetry."""
        ...
