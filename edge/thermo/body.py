"""Body temperature from an IR sensor: present-person sampling, outlier rejection, model, state."""

from __future__ import annotations

import logging
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Literal, Protocol

from edge.clock import Clock
from edge.errors import GateEdgeError
from edge.thermo.reading import TemperatureReading
from edge.thermo.settings import ThermoSettings

log = logging.getLogger(__name__)

MAD_SCALE = 1.4826  # makes the median absolute deviation estimate a gaussian sigma
MAD_CUTOFF = 3.0
MAD_FLOOR_C = 0.05
FAILED_SAMPLES_FOR_FAULT = 2


class TemperatureSensor(Protocol):
    """An IR sensor giving ambient and object temperatures; raises GateEdgeError on faults."""

    def ambient_c(self) -> float: ...

    def object_c(self) -> float: ...


@dataclass(frozen=True)
class ConversionModel:
    """Skin (object) temperature to body temperature: offset, or ambient-compensated."""

    kind: Literal["offset", "ambient"] = "ambient"
    offset_c: float = 0.0
    k: float = 0.13

    def estimate(self, object_c: float, ambient_c: float) -> float:
        if self.kind == "offset":
            return object_c + self.offset_c
        return object_c + self.k * (object_c - ambient_c) + self.offset_c

    @property
    def name(self) -> str:
        if self.kind == "offset":
            return f"offset({self.offset_c:+.2f})"
        return f"ambient(k={self.k:.3f},offset={self.offset_c:+.2f})"

    @classmethod
    def from_settings(cls, settings: ThermoSettings) -> ConversionModel:
        return cls(kind=settings.model, offset_c=settings.offset_c, k=settings.k)


def reject_outliers(values: Sequence[float]) -> list[int]:
    """Indexes of the values within MAD_CUTOFF robust sigmas of the median."""
    centre = statistics.median(values)
    mad = statistics.median(abs(v - centre) for v in values)
    limit = MAD_CUTOFF * max(MAD_SCALE * mad, MAD_FLOOR_C)
    return [i for i, v in enumerate(values) if abs(v - centre) <= limit]


class BodyMeter:
    """Implements BodyThermometer on a TemperatureSensor; never raises for sensor faults."""

    def __init__(
        self,
        sensor: TemperatureSensor,
        clock: Clock,
        settings: ThermoSettings | None = None,
        threshold_c: float = 37.3,
        remeasure: int = 1,
    ) -> None:
        self._sensor = sensor
        self._clock = clock
        self._settings = settings or ThermoSettings()
        self.model = ConversionModel.from_settings(self._settings)
        self.threshold_c = threshold_c
        self.remeasure = max(0, remeasure)
        self._last_pair: tuple[float, float] | None = None
        self._repeats = 0

    def measure(self, timeout_s: float) -> TemperatureReading:
        """Measure within timeout_s in total; a fever stands only if every re-measure agrees."""
        deadline = self._clock.monotonic() + max(0.0, timeout_s)
        reading = self._guarded(deadline)
        for attempt in range(1, self.remeasure + 1):
            if reading.state != "fever":
                break
            again = self._guarded(deadline)
            if again.state not in ("normal", "fever"):
                note = f"re-measure {attempt}: {again.state} ({again.detail}); first reading stands"
                return replace(reading, detail=_join(reading.detail, note))
            reading = replace(again, detail=_join(again.detail, f"re-measure {attempt}"))
        return reading

    # ---- one measurement ----------------------------------------------------------------------

    def _guarded(self, deadline: float) -> TemperatureReading:
        try:
            return self._measure_once(deadline)
        except (GateEdgeError, OSError, ValueError) as exc:
            log.warning("thermometer failed: %s", exc)
            return self._result("sensor_fault", None, detail=f"{type(exc).__name__}: {exc}")

    def _measure_once(self, deadline: float) -> TemperatureReading:
        wanted = self._settings.samples
        interval = self._settings.sample_interval_ms / 1000
        window: list[tuple[float, float]] = []
        failed = 0
        seen_person = False
        last: tuple[float, float] | None = None
        while True:
            try:
                ambient = self._sensor.ambient_c()
                obj = self._sensor.object_c()
            except GateEdgeError as exc:
                failed += 1
                if failed >= FAILED_SAMPLES_FOR_FAULT:
                    return self._result("sensor_fault", None, detail=str(exc))
            else:
                failed = 0
                last = (obj, ambient)
                if self._frozen(ambient, obj):
                    return self._result(
                        "sensor_fault",
                        None,
                        detail=f"sensor frozen: {self._repeats} identical readings",
                    )
                if obj >= ambient + self._settings.presence_delta_c:
                    seen_person = True
                    window.append((obj, ambient))
                    done = self._settled(window[-wanted:]) if len(window) >= wanted else None
                    if done is not None:
                        return done
                else:
                    window.clear()
            if self._clock.monotonic() + interval > deadline:
                break
            self._clock.sleep(interval)
        if len(window) >= wanted:
            detail = "readings did not settle (person moving?)"
        elif seen_person:
            detail = "person not in front of the sensor long enough"
        else:
            detail = "nobody in front of the sensor"
        return self._result("no_subject", last, detail=detail, samples=len(window))

    def _settled(self, samples: list[tuple[float, float]]) -> TemperatureReading | None:
        objects = [o for o, _ in samples]
        kept = reject_outliers(objects)
        kept_objects = [objects[i] for i in kept]
        # More than a quarter of the window off the median means the scene changed: keep sampling.
        if len(kept) * 4 < len(samples) * 3:
            return None
        if max(kept_objects) - min(kept_objects) > self._settings.stable_spread_c:
            return None
        obj = statistics.median(kept_objects)
        ambient = statistics.median(samples[i][1] for i in kept)
        # The state is decided on the reported (rounded) value so that the two always agree.
        estimate = round(self.model.estimate(obj, ambient), 2)
        state: Literal["normal", "fever"] = "fever" if estimate >= self.threshold_c else "normal"
        dropped = len(samples) - len(kept)
        detail = f"{dropped} outlier(s) dropped" if dropped else ""
        return TemperatureReading(
            state=state,
            object_c=round(obj, 2),
            ambient_c=round(ambient, 2),
            estimate_c=estimate,
            model=self.model.name,
            samples=len(kept),
            detail=detail,
        )

    def _frozen(self, ambient: float, obj: float) -> bool:
        limit = self._settings.stuck_reads
        if self._last_pair == (ambient, obj):
            self._repeats += 1
        else:
            self._last_pair = (ambient, obj)
            self._repeats = 1
        return limit > 0 and self._repeats >= limit

    def _result(
        self,
        state: Literal["no_subject", "sensor_fault"],
        raw: tuple[float, float] | None,
        detail: str,
        samples: int = 0,
    ) -> TemperatureReading:
        return TemperatureReading(
            state=state,
            object_c=round(raw[0], 2) if raw else None,
            ambient_c=round(raw[1], 2) if raw else None,
            estimate_c=None,
            model=self.model.name,
            samples=samples,
            detail=detail,
        )


def _join(first: str, second: str) -> str:
    return f"{first}; {second}" if first else second
