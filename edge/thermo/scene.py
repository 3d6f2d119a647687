"""What an emulated thermometer sees: ambient air and a person who arrives and leaves on a clock."""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from dataclasses import dataclass

from edge.clock import Clock


@dataclass(frozen=True)
class _Visit:
    skin_c: float
    arrived_at: float
    approach_s: float


class PersonScene:
    """Ambient temperature plus at most one person in front of the sensor, driven by a clock.

    With nobody there the sensor sees the background (near ambient). A person's skin temperature
    fills the field of view linearly over `approach_s` after arrive(); leave() empties it at once.
    Each object read adds gaussian noise (`noise_c`), as a real sensor's does.
    """

    def __init__(
        self,
        clock: Clock,
        ambient_c: float = 23.0,
        background_offset_c: float = -0.5,
        noise_c: float = 0.05,
        seed: int = 0,
    ) -> None:
        self._clock = clock
        self.ambient = ambient_c
        self.background_offset_c = background_offset_c
        self.noise_c = noise_c
        self._random = random.Random(seed)
        self._visit: _Visit | None = None
        self._lock = threading.Lock()

    def arrive(self, skin_c: float, approach_s: float = 0.0) -> None:
        """A person with forehead skin temperature `skin_c` steps up now."""
        with self._lock:
            self._visit = _Visit(skin_c, self._clock.monotonic(), max(0.0, approach_s))

    def leave(self) -> None:
        """The person walks away now."""
        with self._lock:
            self._visit = None

    @property
    def person_skin_c(self) -> float | None:
        """The skin temperature of the person present, or None."""
        with self._lock:
            return self._visit.skin_c if self._visit else None

    def ambient_c(self) -> float:
        """The sensor die temperature, which follows the ambient air."""
        with self._lock:
            return self.ambient + self._random.gauss(0.0, self.noise_c / 5)

    def true_object_c(self) -> float:
        """The noiseless object temperature the sensor is looking at now."""
        with self._lock:
            background = self.ambient + self.background_offset_c
            visit = self._visit
            if visit is None:
                return background
            if visit.approach_s <= 0:
                return visit.skin_c
            filled = (self._clock.monotonic() - visit.arrived_at) / visit.approach_s
            filled = min(1.0, max(0.0, filled))
            return background + (visit.skin_c - background) * filled

    def object_c(self) -> float:
        """The object temperature with measurement noise."""
        value = self.true_object_c()
        with self._lock:
            return value + self._random.gauss(0.0, self.noise_c)


def empty(clock: Clock, ambient_c: float = 23.0, seed: int = 0) -> PersonScene:
    """Nobody in front of the sensor."""
    return PersonScene(clock, ambient_c=ambient_c, seed=seed)


def person_approaching(
    clock: Clock,
    skin_c: float = 34.6,
    approach_s: float = 0.6,
    ambient_c: float = 23.0,
    seed: int = 0,
) -> PersonScene:
    """A healthy person stepping up: the reading ramps from background to skin temperature."""
    scene = PersonScene(clock, ambient_c=ambient_c, seed=seed)
    scene.arrive(skin_c, approach_s)
    return scene


def hot_forehead(
    clock: Clock, skin_c: float = 36.6, ambient_c: float = 23.0, seed: int = 0
) -> PersonScene:
    """A febrile person already in place (estimate well above 37.3 °C)."""
    scene = PersonScene(clock, ambient_c=ambient_c, seed=seed)
    scene.arrive(skin_c)
    return scene


def cold_morning(
    clock: Clock, skin_c: float = 31.0, ambient_c: float = 6.0, seed: int = 0
) -> PersonScene:
    """A healthy person coming in from the cold: low skin and ambient temperatures."""
    scene = PersonScene(clock, ambient_c=ambient_c, seed=seed)
    scene.arrive(skin_c)
    return scene


PROFILES: dict[str, Callable[[Clock], PersonScene]] = {
    "empty": empty,
    "approaching": person_approaching,
    "hot": hot_forehead,
    "cold": cold_morning,
}
