"""Config, key and secret files that are not small regular files (a device, a FIFO, a huge file)
are refused with a clear error and never read; names from a file are printed escaped."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from edge.cli import main
from edge.readfiles import MAX_CONFIG_BYTES, read_capped
from tests.gate_support import GateConfig
from tests.platform_support import APP_ID

HOSTILE = {"zero": "/dev/zero", "urandom": "/dev/urandom"}


def _config(gate_config: GateConfig, root: str, secret: str = "platform.secret") -> Path:
    return gate_config.file(
        state=gate_config.directory,
        root=Path(root),
        site="s",
        platform={"url": "http://127.0.0.1:9", "app_id": APP_ID, "app_secret_file": secret},
    )


@pytest.mark.parametrize("device", list(HOSTILE.values()), ids=list(HOSTILE))
def test_devices_are_refused_as_config_root_key_and_secret(
    gate_config: GateConfig, device: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["config", "check", device]) == 2
    assert "not a regular file" in capsys.readouterr().err
    assert main(["config", "check", str(_config(gate_config, device, device))]) != 0
    err = capsys.readouterr().err
    assert "trust.root_public_key" in err and "platform.app_secret_file" in err
    assert err.count("not a regular file") == 2


def test_a_huge_config_file_is_refused_unread(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    huge = tmp_path / "huge.toml"
    with huge.open("wb") as out:
        out.truncate(MAX_CONFIG_BYTES + 1)  # sparse: no disk used
    assert main(["config", "check", str(huge)]) == 2
    assert f"larger than {MAX_CONFIG_BYTES} bytes" in capsys.readouterr().err


def test_a_fifo_never_hangs_the_reader(tmp_path: Path, gate_config: GateConfig) -> None:
    fifo = tmp_path / "secret.fifo"
    os.mkfifo(fifo)
    with pytest.raises(OSError, match="not a regular file"):
        read_capped(fifo, 100)
    run = subprocess.run(
        [sys.executable, "-m", "edge", "config", "check", str(_config(gate_config, str(fifo)))],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 2 and "not a regular file" in run.stderr, run.stderr


def test_names_from_a_file_are_printed_escaped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "gate.toml"
    config.write_text('[gate]\nsite = "s"\ngate = "g"\n"\\u001b[2J\\u001b]0;owned\\u0007" = 1\n')
    assert main(["config", "check", str(config)]) == 2
    err = capsys.readouterr().err
    assert "\x1b" not in err and "\x07" not in err
    assert "\\x1b[2J" in err
