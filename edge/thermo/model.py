"""Skin-to-body temperature models and robust outlier rejection for sample windows."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from edge.thermo.settings import BodyTemperatureSettings

MAD_SCALE = 1.4826  # makes the median absolute deviation estimate a gaussian sigma
MAD_CUTOFF = 3.0
MAD_FLOOR_C = 0.05


@dataclass(frozen=True)
class ConversionModel:
    """Skin (object) temperature to body temperature: offset, or ambient-compensated."""

    kind: Literal["offset", "ambient"] = "ambient"
    offset_c: float = 0.0
    k: float = 0.13

    def estimate(self, object_c: float, ambient_c: float) -> float:
        """Estimate the body temperature from a skin (object) and an ambient temperature."""
        if self.kind == "offset":
            return object_c + self.offset_c
        return object_c + self.k * (object_c - ambient_c) + self.offset_c

    @property
    def name(self) -> str:
        """Name the model with its parameters, for logs and readings."""
        if self.kind == "offset":
            return f"offset({self.offset_c:+.2f})"
        return f"ambient(k={self.k:.3f},offset={self.offset_c:+.2f})"

    @classmethod
    def from_settings(cls, settings: BodyTemperatureSettings) -> ConversionModel:
        """Build the model the body-temperature settings configure."""
        return cls(kind=settings.model, offset_c=settings.offset_c, k=settings.k)


def reject_outliers(values: Sequence[float]) -> list[int]:
    """Indexes of the values within MAD_CUTOFF robust sigmas of the median."""
    centre = statistics.median(values)
    mad = statistics.median(abs(v - centre) for v in values)
    limit = MAD_CUTOFF * max(MAD_SCALE * mad, MAD_FLOOR_C)
    return [i for i, v in enumerate(values) if abs(v - centre) <= limit]
