"""`gate-edge thermo ...` on the emulator and without hardware."""

from __future__ import annotations

import json
import re

import pytest

from edge.cli import main
from tests.gate_support import GateConfig


def test_read_on_the_emulator(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["thermo", "read", "--fake", "cold", "--count", "3"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3
    values = [re.findall(r"(-?\d+\.\d+) °C", line) for line in lines]
    assert all(abs(float(a) - 6.0) < 0.1 and abs(float(o) - 31.0) < 0.3 for a, o in values)


def test_emissivity_show_and_set(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["thermo", "emissivity", "--fake"]) == 0
    assert "emissivity 1.0000" in capsys.readouterr().out
    assert main(["thermo", "emissivity", "--fake", "--set", "0.98", "--yes"]) == 0
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


def test_missing_bus_names_the_device_and_the_fix_once(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["thermo", "read", "--bus", "250", "--count", "5"]) == 1
    err = capsys.readouterr().err
    assert "/dev/i2c-250 does not exist" in err
    assert "dtparam=i2c_arm=on" in err and "raspi-config" in err
    assert err.count("/dev/i2c-250") == 1  # once, not once per reading
    assert main(["thermo", "emissivity", "--bus", "250"]) == 2
    assert "gate-edge: /dev/i2c-250 does not exist" in capsys.readouterr().err


def test_measure_uses_the_configured_model_and_threshold(
    gate_config: GateConfig, capsys: pytest.CaptureFixture[str]
) -> None:
    config = gate_config.file(
        site="s",
        policy={"fever_threshold_c": 39.5},
        thermo={"model": "offset", "offset_c": 0.5},
    )
    assert main(["thermo", "measure", "--fake", "hot", "--config", str(config), "--json"]) == 0
    reading = json.loads(capsys.readouterr().out)
    assert reading["model"] == "offset(+0.50)"
    assert reading["threshold_c"] == 39.5
    assert reading["state"] == "normal"  # 38.x is below the configured 39.5
    assert main(["thermo", "measure", "--fake", "hot", "--config", str(config)]) == 0
    assert "threshold 39.50 °C" in capsys.readouterr().out


def test_read_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["thermo", "read", "--fake", "cold", "--count", "2", "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert [r["n"] for r in document["readings"]] == [1, 2]
    assert abs(document["readings"][0]["ambient_c"] - 6.0) < 0.1


def test_emissivity_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["thermo", "emissivity", "--fake", "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["emissivity"] == 1.0 and document["written"] is False


def test_emissivity_set_asks_before_writing_the_eeprom(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert main(["thermo", "emissivity", "--fake", "--set", "0.95"]) == 2
    assert "add --yes" in capsys.readouterr().err  # no terminal to ask on: nothing written
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    answers = iter(["n", "y"])
    monkeypatch.setattr("builtins.input", lambda prompt: next(answers))
    assert main(["thermo", "emissivity", "--fake", "--set", "0.95"]) == 2
    assert "set to" not in capsys.readouterr().out
    assert main(["thermo", "emissivity", "--fake", "--set", "0.95"]) == 0
    assert "emissivity set to 0.9500" in capsys.readouterr().out


def test_thermo_json_is_rounded_to_hundredths(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["thermo", "read", "--fake", "approaching", "--count", "2", "--json"]) == 0
    for row in json.loads(capsys.readouterr().out)["readings"]:
        for key in ("ambient_c", "object_c"):
            assert row[key] == round(row[key], 2)
    assert main(["thermo", "measure", "--fake", "hot", "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    for key in ("estimate_c", "object_c", "ambient_c"):
        assert document[key] == round(document[key], 2)
