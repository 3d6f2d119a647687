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


def test_the_service_runs_with_capped_malloc_arenas_and_single_threaded_native_maths() -> None:
    settings = [
        word
        for line in UNIT.read_text().splitlines()
        if line.startswith("Environment=")
        for word in line.removeprefix("Environment=").split()
    ]
    assert {"MALLOC_ARENA_MAX=2", "OPENBLAS_NUM_THREADS=1", "OMP_NUM_THREADS=1"} <= set(settings)
    assert "PYTHONUNBUFFERED=1" in settings
