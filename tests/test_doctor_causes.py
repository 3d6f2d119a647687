"""The doctor judges the configuration exactly as `run` does, names the true cause of each failure,
and every fix it gives names a command that exists, with the arguments it needs."""

from __future__ import annotations

import re
import shlex
import time
import tomllib
from pathlib import Path

import pytest

from edge.app.config import load_config
from edge.app.configcheck import check_config_file
from edge.cli import build_parser
from edge.doctor.checks import check_clock
from edge.doctor.report import CheckResult
from edge.doctor.runner import run_doctor
from edge.errors import ConfigError
from edge.sim.credentials import SimCredentials
from tests.gate_support import GateConfig

FAKE_PARTS = '[relay]\nbackend = "fake"\n[io]\nbackend = "fake"\n'


def write_config(gate_config: GateConfig, body: str, parts: str = FAKE_PARTS) -> Path:
    sections = tomllib.loads(parts + body)
    sections["mqtt"] = {"enabled": True, **sections.get("mqtt", {})}
    return gate_config.file(site="s1", gate="g1", **sections)


def results(config: Path) -> dict[str, CheckResult]:
    return {r.name: r for r in run_doctor(str(config)).results}


def test_the_doctor_refuses_what_config_check_and_run_refuse(
    tmp_path: Path, gate_config: GateConfig
) -> None:
    root = SimCredentials.generate().write(tmp_path / "state", time.time())
    garbage_ca = tmp_path / "ca.pem"
    garbage_ca.write_text("not a certificate\n")
    config = write_config(
        gate_config,
        f"""
[trust]
root_public_key = "{root}"
[mqtt]
broker = "mqtts://127.0.0.1:9"
ca_file = "{garbage_ca}"
cert_file = "{tmp_path / "absent.crt"}"
[platform]
url = "https://platform.invalid"
app_id = "operator-1"
app_secret_file = "absent.secret"
""",
    )
    with pytest.raises(ConfigError) as refused:
        check_config_file(config)
    assert len(refused.value.problems) >= 3
    check = results(config)["config"]
    assert check.status == "fail"
    assert check.detail == "; ".join(refused.value.problems)
    for key in ("mqtt.cert_file", "platform.app_secret_file"):
        assert key in check.detail
    assert f"gate-edge config check {config}" in check.fix


def test_a_missing_trust_root_is_named_as_such(tmp_path: Path, gate_config: GateConfig) -> None:
    SimCredentials.generate().write(tmp_path / "state", time.time())
    missing = tmp_path / "trust-root.pub.pem"
    config = write_config(
        gate_config, f'[trust]\nroot_public_key = "{missing}"\n[mqtt]\nenabled = false\n'
    )
    checks = results(config)
    assert "trust.root_public_key" in checks["config"].detail
    for name in ("files.trust_root", "trust.trust_list", "trust.denylist"):
        assert checks[name].status == "fail"
        assert f"trust root key missing: {missing} not found" in checks[name].detail
        assert f"sudo install -m 0644 trust-root.pub.pem {missing}" in checks[name].fix
    assert "trust list missing" not in checks["trust.trust_list"].detail


def test_unknown_clock_synchronisation_is_a_warning(gate_config: GateConfig) -> None:
    config = load_config(write_config(gate_config, ""))
    now = time.time()
    unknown = check_clock(config, now, lambda: None)
    assert unknown.status == "warn" and "synchronisation unknown" in unknown.detail
    assert "timedatectl" in unknown.fix
    assert check_clock(config, now, lambda: (True, 5.0, 0.001)).status == "pass"
    assert check_clock(config, now, lambda: (False, 16000.0, 0.0)).status == "warn"


def _commands(fix: str) -> list[list[str]]:
    """Every `gate-edge ...` command a fix text names, as arguments."""
    found = re.findall(r"gate-edge ((?:[a-z][\w-]*)(?: [^\s;,()`]+)*)", fix)
    return [shlex.split(text) for text in found]


def test_every_fix_names_a_command_that_exists_with_its_arguments(
    tmp_path: Path, gate_config: GateConfig
) -> None:
    missing_root = tmp_path / "nowhere" / "root.pem"
    config = write_config(
        gate_config,
        f"""
[trust]
root_public_key = "{missing_root}"
[mqtt]
broker = "mqtt://127.0.0.1:9"
cert_file = "{tmp_path / "device.crt"}"
""",
        f'[relay]\nbackend = "gateio"\nport = "{tmp_path / "no-board"}"\n'
        '[io]\nbackend = "gateio"\n',
    )
    fixes = [r.fix for r in run_doctor(str(config)).results if r.status in ("fail", "warn")]
    root = SimCredentials.generate().write(tmp_path / "state", time.time())
    (tmp_path / "state" / "trust-list.json").unlink()
    config = write_config(gate_config, f'[trust]\nroot_public_key = "{root}"\n')
    fixes += [r.fix for r in run_doctor(str(config)).results if r.status in ("fail", "warn")]
    assert len(fixes) >= 6
    parser = build_parser()
    named = 0
    for fix in fixes:
        for argv in _commands(fix):
            named += 1
            parser.parse_args(argv)  # SystemExit here means the fix names a wrong command
            assert "FILE" not in argv, fix
    assert named >= 5
