"""`config check` reports every problem in one run, and what does not stop the gate as warnings."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from edge.cli import main
from edge.sim.credentials import SimCredentials
from tests.gate_support import GateConfig


def test_a_line_clash_shows_beside_the_other_problems(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], gate_config: GateConfig
) -> None:
    config = gate_config.file(
        state=tmp_path,
        root=tmp_path / "absent.pem",
        site="s",
        policy={"fever_threshold_c": 99},
        relay={"backend": "gpiod", "line": 17, "pulse_ms": 999999},
        io={"backend": "gpiod", "passage_line": 17, "debounce_ms": -5},
    )
    assert main(["config", "check", str(config), "--json"]) == 2
    report = json.loads(capsys.readouterr().out)
    keys = [problem.split(":")[0] for problem in report["problems"]]
    for key in (
        "policy.fever_threshold_c",
        "relay.pulse_ms",
        "io.debounce_ms",
        "io.passage_line",
        "trust.root_public_key",
    ):
        assert key in keys, report
    assert "io.passage_line: line 17 is also relay.line" in report["problems"]
    assert any(w.startswith("trust.trust_list:") for w in report["warnings"])


def test_a_missing_board_port_is_a_problem_and_a_missing_trust_list_a_warning(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    by_id = tmp_path / "by-id"
    by_id.mkdir()
    (by_id / "usb-MicroPython_Board-if00").touch()
    monkeypatch.setattr("edge.drivers.serial_ports.BY_ID_DIR", by_id)
    root = SimCredentials.generate().write(tmp_path / "elsewhere", 1.9e9)
    config = tmp_path / "gate.toml"
    config.write_text(
        f"""
[gate]
site = "s"
gate = "g"
[relay]
backend = "gateio"
port = "{by_id / "usb-Other-if00"}"
[io]
backend = "gateio"
[thermo]
backend = "fake"
[document_reader]
enabled = true
port = "{tmp_path / "no-reader"}"
[trust]
root_public_key = "{root}"
[storage]
state_dir = "{tmp_path / "state"}"
"""
    )
    assert main(["config", "check", str(config)]) == 2
    err = capsys.readouterr().err
    assert f"relay.port: {by_id / 'usb-Other-if00'} does not exist" in err
    assert f"serial devices present: {by_id / 'usb-MicroPython_Board-if00'}" in err
    assert "warning: trust.trust_list:" in err and "not there yet" in err
    assert "warning: thermo.backend: fake" in err
    assert "warning: document_reader.port:" in err

    (by_id / "usb-Other-if00").touch()
    assert main(["config", "check", str(config), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["valid"] is True and len(report["warnings"]) == 3
