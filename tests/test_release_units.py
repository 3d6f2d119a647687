"""The units pass `systemd-analyze verify`, the scripts shellcheck, install.sh still dry-runs."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPTS = [
    ROOT / "deploy" / "debian" / name
    for name in ("build-deb.sh", "check-arm64.sh", "postinst", "prerm", "postrm")
] + [ROOT / "deploy" / "rpi" / "install.sh", ROOT / "scripts" / "bootstrap.sh"]


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is missing: scripts/bootstrap.sh installs it")
    return path


def _packaged_unit() -> str:
    """gate-edge.service as the Debian package installs it (see deploy/debian/build-deb.sh)."""
    text = (ROOT / "deploy" / "rpi" / "gate-edge.service").read_text()
    return text.replace("/opt/gate-edge/venv/", "/opt/gate-edge/current/venv/")


def test_the_units_verify(tmp_path: Path) -> None:
    analyze = _tool("systemd-analyze")
    root = tmp_path / "root"
    units = root / "etc" / "systemd" / "system"
    units.mkdir(parents=True)
    # verify wants the commands to exist and the system's targets beside the units.
    shutil.copytree(
        Path("/usr/lib/systemd/system"), root / "usr" / "lib" / "systemd" / "system", symlinks=True
    )
    for venv in ("venv", "current/venv"):
        command = root / "opt" / "gate-edge" / venv / "bin" / "gate-edge"
        command.parent.mkdir(parents=True)
        command.write_text("#!/bin/sh\n")
        command.chmod(0o755)
    shutil.copy(ROOT / "deploy" / "debian" / "gate-edge-enrol.service", units)
    for text in ((ROOT / "deploy" / "rpi" / "gate-edge.service").read_text(), _packaged_unit()):
        (units / "gate-edge.service").write_text(text)
        result = subprocess.run(
            [analyze, "verify", f"--root={root}", "gate-edge.service", "gate-edge-enrol.service"],
            capture_output=True,
            text=True,
            check=False,
        )
        ours = [line for line in result.stderr.splitlines() if "gate-edge" in line]
        assert result.returncode == 0 and not ours, result.stderr


def test_the_scripts_are_shellcheck_clean() -> None:
    result = subprocess.run(
        [_tool("shellcheck"), *map(str, SCRIPTS)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout


def test_install_sh_still_dry_runs() -> None:
    result = subprocess.run(
        ["bash", str(ROOT / "deploy" / "rpi" / "install.sh"), "--dry-run"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "+ install -m 0644" in result.stdout
