"""scripts/bootstrap.sh: the demo installs only what it uses; without root or password-less sudo
it names the command to run instead of failing inside apt-get."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _stub(folder: Path, name: str, body: str) -> None:
    path = folder / name
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(0o755)


@pytest.mark.parametrize("mode", ["demo", "test"])
def test_without_root_it_names_the_apt_command_for_its_part(tmp_path: Path, mode: str) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    _stub(bin_dir, "id", "echo 1000")  # not root
    _stub(bin_dir, "sudo", "exit 1")  # and no password-less sudo
    _stub(bin_dir, "dpkg-query", "exit 1")  # nothing installed
    _stub(bin_dir, "apt-get", "echo apt-get must not run >&2; exit 99")
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}"}
    done = subprocess.run(
        ["bash", "scripts/bootstrap.sh", mode],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1, done.stderr
    assert "apt-get must not run" not in done.stderr
    lines = [line.strip() for line in done.stderr.splitlines()]
    command = next(line for line in lines if line.startswith("sudo apt-get install"))
    packages = command.split("--no-install-recommends")[1].split()
    assert packages[:3] == ["mosquitto", "libzbar0", "python3-venv"]
    if mode == "demo":
        assert packages == ["mosquitto", "libzbar0", "python3-venv"]
    else:
        assert len(packages) >= 3
    assert f"make {mode} again" in done.stderr


def test_the_demo_target_bootstraps_the_demo_part_only() -> None:
    makefile = (REPO / "Makefile").read_text()
    assert "demo: bootstrap-demo\n" in makefile
    assert "scripts/bootstrap.sh demo" in makefile
