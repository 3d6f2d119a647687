"""Configuration of the body-temperature model: sampling, conversion and presence."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from edge.configschema import setting


@dataclass(frozen=True)
class BodyTemperatureSettings:
    """How a body temperature is estimated from the thermometer's samples."""

    samples: int = setting(5, minimum=1, maximum=50, doc="Samples per measurement (median).")
    sample_interval_ms: int = setting(60, minimum=0, maximum=1000, doc="Time between samples.")
    model: Literal["offset", "ambient"] = setting(
        "ambient", doc="offset: Ts + offset; ambient: Ts + k*(Ts - Ta) + offset."
    )
    offset_c: float = setting(0.0, minimum=-5.0, maximum=5.0, doc="Additive correction (°C).")
    k: float = setting(0.13, minimum=0.0, maximum=1.0, doc="Ambient compensation factor.")
    presence: Literal["temperature", "input"] = setting(
        "temperature",
        doc="How a person is recognised: temperature (object above ambient by presence_delta_c) "
        "or input (the io.presence_line lane sensor; for hot sites where skin is near ambient).",
    )
    presence_delta_c: float = setting(
        3.0, minimum=0.5, maximum=20.0, doc="Object above ambient by this much = a person."
    )
    min_body_c: float = setting(
        32.0,
        minimum=20.0,
        maximum=36.0,
        doc="An estimate below this is no forehead (sensor not aimed at one): no reading.",
    )
    timeout_s: float = setting(3.0, minimum=0.2, maximum=30.0, doc="Give up measuring after.")
    read_attempts: int = setting(
        3, minimum=1, maximum=10, doc="Tries per sensor word on bus errors, bad PEC or error flag."
    )
    stable_spread_c: float = setting(
        0.5, minimum=0.1, maximum=3.0, doc="Kept samples must agree within this spread (°C)."
    )
    stuck_reads: int = setting(
        5,
        minimum=0,
        maximum=100,
        doc="Identical consecutive readings (temperatures and raw IR word) = frozen sensor; 0 off.",
    )
    background_sampling: bool = setting(
        True, doc="Sample continuously in the background so a reading is ready at once."
    )
    freshness_s: float = setting(
        1.5, minimum=0.1, maximum=10.0, doc="Background samples younger than this are used."
    )
