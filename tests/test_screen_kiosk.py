"""The kiosk unit shows the gate's page full screen and keeps nothing; the gate may play sound."""

from __future__ import annotations

import configparser
from pathlib import Path

from edge.screen.settings import ScreenSettings

DEPLOY = Path(__file__).resolve().parent.parent / "deploy" / "rpi"


def _unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string((DEPLOY / name).read_text())
    return parser


def test_the_kiosk_shows_the_default_page_and_keeps_nothing() -> None:
    service = _unit("gate-kiosk.service")["Service"]
    start = service["ExecStart"]
    assert start.startswith("/usr/bin/chromium ")
    for flag in ("--kiosk", "--incognito", "--user-data-dir=%t/"):
        assert flag in start
    assert service["Environment"] == f"GATE_SCREEN_URL=http://{ScreenSettings().listen}/"
    assert ScreenSettings().listen.split(":")[1] in service["ExecStartPre"]
    assert service["Restart"] == "always"


def test_the_gate_may_use_the_sound_device() -> None:
    service = _unit("gate-edge.service")["Service"]
    assert "audio" in service["SupplementaryGroups"].split()
    assert "char-alsa rw" in (DEPLOY / "gate-edge.service").read_text()
