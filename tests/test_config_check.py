"""`config check` and `run` share one validation: each refused configuration, all at once."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from central.keys import generate_private_key, public_key_pem
from edge.app.config import Config, PartialConfig, load_config
from edge.app.configcheck import check_config_file
from edge.cli import main
from edge.errors import ConfigError


@pytest.fixture
def root_key(tmp_path: Path) -> Path:
    path = tmp_path / "root.pub.pem"
    path.write_bytes(public_key_pem(generate_private_key("EdDSA").public_key()))
    return path


def _write(tmp_path: Path, root_key: Path, extra: str) -> Path:
    path = tmp_path / "gate.toml"
    path.write_text(
        f'[gate]\nsite = "s1"\ngate = "g1"\n[trust]\nroot_public_key = "{root_key}"\n{extra}'
    )
    return path


def _check(path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(["config", "check", str(path)])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def test_a_sound_configuration_with_readable_files_is_ok(
    tmp_path: Path, root_key: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write(tmp_path, root_key, "[relay]\nline = 17\n[io]\npassage_line = 27\n")
    code, text = _check(path, capsys)
    assert (code, text.splitlines()[0]) == (0, f"{path}: OK (site s1, gate g1)")
    assert all(line.startswith("  warning: ") for line in text.splitlines()[1:])


REFUSED = [
    ("broker port out of range", '[mqtt]\nbroker = "mqtt://127.0.0.1:99999"\n', "mqtt.broker:"),
    ("broker without a host", '[mqtt]\nbroker = "mqtt://"\n', "mqtt.broker:"),
    (
        "relay and input on one line",
        "[relay]\nline = 17\n[io]\npassage_line = 17\n",
        "io.passage_line: line 17 is also relay.line",
    ),
    (
        "relay line given as a chip name",
        '[relay]\nline = 5\nchip = "gpiochip0"\n[io]\nred_lamp_line = 5\n',
        "io.red_lamp_line: line 5 is also relay.line",
    ),
    (
        "inputs sharing a line",
        "[io]\npassage_line = 22\nmanual_button_line = 22\n",
        "io.manual_button_line: line 22 is also io.passage_line",
    ),
    (
        "person-code match without a reader",
        '[policy]\nperson_code_match = "sampled"\n',
        "policy.person_code_match:",
    ),
    (
        "scanner port is a directory",
        '[serial_scanner]\nenabled = true\nport = "{dir}"\n',
        "serial_scanner.port: {dir} is a directory",
    ),
    (
        "reader port is a directory",
        '[document_reader]\nenabled = true\nport = "{dir}"\n',
        "document_reader.port: {dir} is a directory",
    ),
    ("missing CA file", '[mqtt]\nca_file = "{missing}"\n', "mqtt.ca_file: cannot read"),
    (
        "missing device key",
        '[mqtt]\ncert_file = "{root}"\nkey_file = "{missing}"\n',
        "mqtt.key_file: cannot read",
    ),
    (
        "unloadable TLS material",
        '[mqtt]\nbroker = "mqtts://h:8883"\nca_file = "{root}"\n',
        "mqtt.ca_file:",
    ),
    (
        "missing command key",
        '[mqtt]\ncommand_public_key = "{missing}"\n',
        "mqtt.command_public_key:",
    ),
]


@pytest.mark.parametrize(("name", "extra", "expected"), REFUSED, ids=[r[0] for r in REFUSED])
def test_config_check_refuses_what_the_service_would_refuse(
    tmp_path: Path,
    root_key: Path,
    capsys: pytest.CaptureFixture[str],
    name: str,
    extra: str,
    expected: str,
) -> None:
    folder = tmp_path / "by-id"
    folder.mkdir()
    values = {"dir": str(folder), "missing": str(tmp_path / "absent.pem"), "root": str(root_key)}
    path = _write(tmp_path, root_key, extra.format(**values))
    code, output = _check(path, capsys)
    assert code == 2, output
    assert expected.format(**values) in output


def test_an_unreadable_or_missing_trust_root_is_refused(
    tmp_path: Path, root_key: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write(tmp_path, tmp_path / "absent.pem", "")
    code, output = _check(path, capsys)
    assert code == 2 and "trust.root_public_key: cannot read" in output
    not_a_key = tmp_path / "not-a-key.pem"
    not_a_key.write_text("hello\n")
    path = _write(tmp_path, not_a_key, "")
    code, output = _check(path, capsys)
    assert code == 2 and "trust.root_public_key:" in output
    if os.geteuid() != 0:  # root reads any file
        root_key.chmod(0)
        path = _write(tmp_path, root_key, "")
        code, output = _check(path, capsys)
        assert code == 2 and "Permission denied" in output


def test_every_problem_is_reported_at_once_and_run_reports_the_same(tmp_path: Path) -> None:
    folder = tmp_path / "by-id"
    folder.mkdir()
    path = tmp_path / "gate.toml"
    path.write_text(
        f'[gate]\nsite = "s1"\ngate = "g1"\n[trust]\nroot_public_key = "{tmp_path / "no.pem"}"\n'
        '[policy]\nperson_code_match = "always"\n'
        f'[serial_scanner]\nenabled = true\nport = "{folder}"\n'
        "[relay]\nline = 4\n[io]\npassage_line = 4\nbuzzer_line = 4\n"
        '[mqtt]\nbroker = "mqtt://"\n'
    )
    expected = [
        "mqtt.broker",
        "io.passage_line",
        "io.buzzer_line",
        "policy.person_code_match",
        "trust.root_public_key",
        "serial_scanner.port",
    ]
    outputs = []
    for command in (["config", "check", str(path)], ["run", "--config", str(path)]):
        result = subprocess.run(
            [sys.executable, "-m", "edge", *command],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == 2, result.stderr
        lines = [line.strip() for line in result.stderr.splitlines()[1:]]
        problems = [line for line in lines if not line.startswith("warning: ")]
        assert [p.split(":")[0] for p in problems] == expected
        outputs.append(problems)
    assert outputs[0] == outputs[1]


def test_files_are_checked_beside_content_problems(tmp_path: Path) -> None:
    folder = tmp_path / "by-id"
    folder.mkdir()
    path = _write(
        tmp_path,
        tmp_path / "no.pem",
        f'[serial_scanner]\nenabled = true\nport = "{folder}"\n'
        f'[mqtt]\nca_file = "{tmp_path / "no-ca.pem"}"\n[thermo]\nbus = -1\n',
    )
    with pytest.raises(ConfigError) as caught:
        check_config_file(path)
    assert [p.split(":")[0] for p in caught.value.problems] == [
        "thermo.bus",
        "trust.root_public_key",
        "mqtt.ca_file",
        "serial_scanner.port",
    ]


def test_the_partial_configuration_has_every_section() -> None:
    assert [f.name for f in dataclasses.fields(PartialConfig)] == [
        f.name for f in dataclasses.fields(Config)
    ]


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(content=st.one_of(st.binary(max_size=300), st.text(max_size=300).map(str.encode)))
def test_any_file_content_is_a_config_error_or_a_config(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "fuzz.toml"
    path.write_bytes(content)
    for loader in (load_config, check_config_file):
        try:
            loader(path)
        except ConfigError as exc:
            assert exc.problems and all(isinstance(p, str) for p in exc.problems)


@settings(
    max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(depth=st.integers(min_value=1, max_value=5000), opener=st.sampled_from(["[", "{", "a={"]))
def test_deeply_nested_toml_is_a_config_error(tmp_path: Path, depth: int, opener: str) -> None:
    path = tmp_path / "deep.toml"
    path.write_text("a=" + opener * depth)
    with pytest.raises(ConfigError):
        check_config_file(path)
