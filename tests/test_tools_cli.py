"""Technician tools for scripts: read-only commands create nothing, exit codes, JSON, help."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from central.cli import main as central
from central.keys import generate_private_key, public_key_pem
from edge.cli import build_parser, main
from edge.clock import SystemClock
from edge.sim.credentials import SimCredentials
from edge.sim.rig import render_code_frames
from tests.gate_support import GateConfig


def test_events_pending_on_a_missing_outbox_is_an_error_and_creates_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state = tmp_path / "nowhere"
    assert main(["events", "pending", "--state-dir", str(state)]) == 2
    assert "no outbox at" in capsys.readouterr().err
    assert not state.exists()


def test_events_pending_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = "mqtt://127.0.0.1:1"
    argv = ["events", "test", "--count", "3", "--broker", url, "--state-dir", str(tmp_path)]
    assert main([*argv, "--timeout", "0.2"]) == 1
    capsys.readouterr()
    assert main(["events", "pending", "--state-dir", str(tmp_path), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["pending"] == 3 and report["last_seq"] == 3 and report["dropped"] == 0


def test_decode_exits_1_when_no_image_held_a_code(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blank = tmp_path / "blank.png"
    cv2.imwrite(str(blank), np.full((120, 160), 255, np.uint8))
    assert main(["decode", str(blank)]) == 1
    captured = capsys.readouterr()
    assert json.loads(captured.out)["codes"] == []
    assert "no code found" in captured.err
    creds = SimCredentials.generate()
    frame = render_code_frames(creds.issue("green", SystemClock().now()), seed=1, count=1)[0]
    coded = tmp_path / "code.png"
    cv2.imwrite(str(coded), frame)
    assert main(["decode", str(blank), str(coded)]) == 0


def test_config_check_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "root.pub.pem"
    root.write_bytes(public_key_pem(generate_private_key("EdDSA").public_key()))
    good = tmp_path / "good.toml"
    good.write_text(f'[gate]\nsite = "s"\ngate = "g"\n[trust]\nroot_public_key = "{root}"\n')
    assert main(["config", "check", str(good), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert [w.split(":")[0] for w in report.pop("warnings")] == ["trust.trust_list"]
    assert report == {
        "file": str(good),
        "valid": True,
        "problems": [],
        "site": "s",
        "gate": "g",
    }
    bad = tmp_path / "bad.toml"
    bad.write_text('[gate]\nsite = "s"\n')
    assert main(["config", "check", str(bad), "--json"]) == 2
    report = json.loads(capsys.readouterr().out)
    assert report["valid"] is False and any("gate.gate" in p for p in report["problems"])


def test_io_watch_json(gate_config: GateConfig, capsys: pytest.CaptureFixture[str]) -> None:
    config = gate_config.file(site="s", io={"manual_button_line": 22})
    assert main(["io", "watch", "--config", str(config), "--seconds", "0.1", "--json"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert lines[0]["input"] == "manual_button" and lines[0]["initial"] is True
    assert lines[-1]["activations"] == {"manual_button": 0}


def test_trust_show_prints_iso_times_beside_epochs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    creds = SimCredentials.generate()
    root = creds.write(tmp_path, 1_767_225_660.0)
    argv = ["trust", "show", "--root", str(root), "--at", "1767225600"]
    assert central([*argv, str(tmp_path / "trust-list.json")]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["issued_at"] == 1_767_225_600
    assert summary["issued_at_iso"] == "2026-01-01T00:00:00Z"
    assert summary["expires_at_iso"] == "2026-01-08T00:00:00Z"
    assert summary["days_left"] == 7.0
    key = next(iter(summary["issuers"].values()))[0]
    assert key["not_after_iso"].endswith("Z")


def _helps(parser: object, path: str = "") -> dict[str, str]:
    found: dict[str, str] = {}
    for action in parser._actions:  # type: ignore[attr-defined]
        choices = getattr(action, "choices", None)
        if isinstance(choices, dict):
            for name, child in choices.items():
                found[f"{path} {name}".strip()] = " ".join(child.format_help().split())
                found.update(_helps(child, f"{path} {name}"))
    return found


def test_help_shows_defaults() -> None:
    helps = _helps(build_parser())
    assert "(default: 30.0)" in helps["events test"] or "default 30" in helps["events test"]
    assert "(default: 5)" in helps["thermo read"]
    assert "(default: 40.0)" in helps["decode"]
    assert "(default: 0.0)" in helps["scan"]
    assert "default: None" not in "".join(helps.values())
