"""Configuration validation: every error at once, by key path, with suggestions."""

from __future__ import annotations

from pathlib import Path

import pytest

from edge.app.config import load_config, parse_config
from edge.cli import main
from edge.errors import ConfigError


def test_minimal_config_gets_defaults() -> None:
    config = parse_config({"gate": {"site": "hq", "gate": "g1"}})
    assert config.policy.fever_threshold_c == 37.3
    assert config.relay.pulse_ms == 300
    assert config.trust.clock_skew_s == 30


def test_every_error_reported_at_once_with_key_paths() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(
            {
                "gate": {"site": "hq", "gaet": "x"},
                "policy": {"fever_threshold_c": 50, "person_code_match": "maybe"},
                "relay": {"pulse_ms": 5000, "pulse": 1},
                "mqtt": {"broker": "http://x", "keepalive_s": "30"},
                "bogus": {},
            }
        )
    problems = caught.value.problems
    assert "gate.gaet: unknown key (did you mean 'gate'?)" in problems
    assert "gate.gate: required key is missing" in problems
    assert any(p.startswith("policy.fever_threshold_c: 50.0 is above") for p in problems)
    assert any(p.startswith("policy.person_code_match: 'maybe' is not one of") for p in problems)
    assert "relay.pulse: unknown key (did you mean 'pulse_ms'?)" in problems
    assert any(p.startswith("relay.pulse_ms:") for p in problems)
    assert "mqtt.broker: must start with mqtt:// or mqtts://" in problems
    assert "mqtt.keepalive_s: expected an integer, got a string" in problems
    assert any(p.startswith("bogus: unknown key") for p in problems)
    assert len(problems) == 9


def test_wrong_types_never_pass_silently() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config({"gate": {"site": "a/b", "gate": 3}, "relay": {"active_low": 1}})
    assert len(caught.value.problems) == 3


def test_example_config_is_valid() -> None:
    example = Path(__file__).parent.parent / "deploy" / "rpi" / "gate-edge.toml"
    config = load_config(example)
    assert config.gate.site


def test_config_check_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[gate]\nsite = "hq"\n[relay]\npulse_ms = 50\n')
    assert main(["config", "check", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "gate.gate: required key is missing" in err
    assert "relay.pulse_ms: 50 is below the minimum 100" in err
    broken = tmp_path / "broken.toml"
    broken.write_text("[gate\n")
    assert main(["config", "check", str(broken)]) == 2
    assert "not valid TOML" in capsys.readouterr().err


def test_nan_and_infinity_are_refused() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(
            {
                "gate": {"site": "hq", "gate": "g1"},
                "policy": {"fever_threshold_c": float("nan"), "cooldown_s": float("inf")},
            }
        )
    assert caught.value.problems == [
        "policy.fever_threshold_c: expected a finite number, got nan",
        "policy.cooldown_s: expected a finite number, got inf",
    ]
