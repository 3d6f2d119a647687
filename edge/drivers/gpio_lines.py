"""The libgpiod v2 names the GPIO drivers use: gpiod's own when it is installed, otherwise
stand-ins with the same names and values, so the fakes and the simulated gate run without it."""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Mapping
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Protocol

from edge.errors import DriverError

gpiod: ModuleType | None
try:
    import gpiod
    from gpiod import LineSettings
    from gpiod.line import Bias, Direction, Value
except ImportError:  # macOS, Windows, an image without libgpiod: fakes only
    gpiod = None

    class Value(enum.Enum):  # type: ignore[no-redef]
        """gpiod.line.Value."""

        INACTIVE = 0
        ACTIVE = 1

        def __bool__(self) -> bool:
            return self.value == 1

    class Direction(enum.Enum):  # type: ignore[no-redef]
        """gpiod.line.Direction."""

        AS_IS = 1
        INPUT = 2
        OUTPUT = 3

    class Bias(enum.Enum):  # type: ignore[no-redef]
        """gpiod.line.Bias."""

        AS_IS = 1
        UNKNOWN = 2
        DISABLED = 3
        PULL_UP = 4
        PULL_DOWN = 5

    @dataclass
    class LineSettings:  # type: ignore[no-redef]
        """gpiod.LineSettings, with the fields the drivers set."""

        direction: Direction = Direction.AS_IS
        bias: Bias = Bias.AS_IS
        active_low: bool = False
        debounce_period: dt.timedelta = dt.timedelta(0)
        output_value: Value = Value.INACTIVE


__all__ = ["Bias", "Direction", "GpioBackend", "LineRequest", "LineSettings", "Value", "libgpiod"]


class LineRequest(Protocol):
    """The part of gpiod.LineRequest the drivers use."""

    def set_value(self, line: int, value: Value) -> None:
        """Drive an output line to `value`; OSError when the chip is gone."""
        ...

    def get_value(self, line: int) -> Value:
        """Read the logical level of a line; OSError when the chip is gone."""
        ...

    def release(self) -> None:
        """Give the lines back to the kernel."""
        ...


class GpioBackend(Protocol):
    """Where line requests come from: the gpiod module, or a FakeChip."""

    def request_lines(
        self, path: str, *, consumer: str | None = None, config: Mapping[Any, Any]
    ) -> LineRequest:
        """Request the lines of `config` on chip `path`, under the name `consumer`."""
        ...


def libgpiod() -> GpioBackend:
    """The gpiod module as a backend; a clear error where it is not installed."""
    if gpiod is None:
        raise DriverError(
            "the GPIO backend needs libgpiod's Python binding (python3-libgpiod or pip gpiod); "
            'use backend = "fake" to run without it'
        )
    backend: GpioBackend = gpiod
    return backend
