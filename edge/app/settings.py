"""Configuration of the gate's identity."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from edge.configschema import setting
from edge.ids import id_problem


@dataclass(frozen=True)
class GateSettings:
    """Who this gate is."""

    site: str = setting(
        check=id_problem,
        doc="Site id: 1-64 ASCII letters, digits, '-' or '_', starting with a letter or digit "
        "(MQTT topic level; device id and certificate CN {site}.{gate}).",
    )
    gate: str = setting(check=id_problem, doc="Gate id, the same alphabet (MQTT topic level).")
    log_level: Literal["debug", "info", "warning", "error"] = setting("info", doc="Log level.")
