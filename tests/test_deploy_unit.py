"""The systemd unit keeps an unattended gate coming back instead of giving up."""

from __future__ import annotations

import configparser
from pathlib import Path

UNIT = Path(__file__).resolve().parent.parent / "deploy" / "rpi" / "gate-edge.service"


def _unit() -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(UNIT.read_text())
    return parser


def test_systemd_never_stops_restarting_and_waits_between_tries() -> None:
    unit = _unit()
    assert unit["Unit"]["StartLimitIntervalSec"] == "0"
    assert "StartLimitBurst" not in unit["Unit"]
    assert unit["Service"]["Restart"] in ("on-failure", "always")
    restart_sec = unit["Service"]["RestartSec"]
    assert restart_sec.endswith("s") and float(restart_sec[:-1]) >= 5
