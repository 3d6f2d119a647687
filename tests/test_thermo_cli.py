"""`gate-edge thermo ...` on the emulator and without hardware."""

from __future__ import annotations

import re

import pytest

from edge.cli import main


def test_read_on_the_emulator(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["thermo", "read", "--fake", "cold", "--count", "3"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3
    values = [re.findall(r"(-?\d+\.\d+) °C", line) for line in lines]
    assert all(abs(float(a) - 6.0) < 0.1 and abs(float(o) - 31.0) < 0.3 for a, o in values)


def test_emissivity_show_and_set(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["thermo", "emissivity", "--fake"]) == 0
    assert "emissivity 1.0000" in capsys.readouterr().out
    assert main(["thermo", "emissivity", "--fake", "--set", "0.98"]) == 0
    out = capsys.readouterr().out
    assert "emissivity set to 0.9800 (verified by read-back)" in out
    assert "config 0x9FB4" in out


def test_emissivity_out_of_range_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["thermo", "emissivity", "--fake", "--set", "1.5"]) == 2
    assert "between 0.1 and 1.0" in capsys.readouterr().err


def test_measure_states(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["thermo", "measure", "--fake", "hot"]) == 0
    assert capsys.readouterr().out.startswith("fever: estimate 38.")
    assert main(["thermo", "measure", "--fake", "empty"]) == 1
    assert capsys.readouterr().out.startswith("no_subject")


def test_missing_bus_fails_cleanly(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["thermo", "read", "--bus", "250", "--count", "1"]) == 1
    assert "errno 2" in capsys.readouterr().err
    assert main(["thermo", "emissivity", "--bus", "250"]) == 2
    assert "gate-edge: MLX90614 read 0x24 failed" in capsys.readouterr().err
