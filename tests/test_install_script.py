"""deploy/rpi/install.sh: clean help, offline from a wheelhouse, enabling only after the
configuration passes its check as the service user (checked with --dry-run)."""

from __future__ import annotations

import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "deploy" / "rpi" / "install.sh"


def install(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(SCRIPT), *args], capture_output=True, text=True, timeout=60, check=False
    )


def test_help_is_text_not_code() -> None:
    done = install("--help")
    assert done.returncode == 0
    assert done.stdout.startswith("Install or upgrade gate-edge")
    assert "--wheelhouse DIR" in done.stdout
    assert not any(line.startswith(("#", "set ", "    ")) for line in done.stdout.splitlines()[:2])
    assert "set -euo" not in done.stdout and "usage()" not in done.stdout


def test_the_service_is_enabled_only_after_the_check_as_the_service_user() -> None:
    done = install("--dry-run")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    check = next(i for i, line in enumerate(lines) if "config check" in line)
    assert lines[check].startswith("+ runuser -u gate-edge -- ")
    enables = [line for line in lines if "systemctl enable" in line]
    assert enables == ["+ systemctl enable gate-edge.service   (only if the check passes)"]
    assert any("temporary copy" in line for line in lines)  # never built inside the checkout


def test_offline_needs_a_wheelhouse_and_never_reaches_the_network(tmp_path: Path) -> None:
    missing = install("--no-apt", "--dry-run")
    assert missing.returncode == 1
    assert "needs a wheelhouse" in missing.stderr and "pip wheel -w wheelhouse" in missing.stderr
    wheelhouse = tmp_path / "wheelhouse"
    wheelhouse.mkdir()
    (wheelhouse / "gate_edge-0.1.0-py3-none-any.whl").touch()
    done = install("--no-apt", "--wheelhouse", str(wheelhouse), "--dry-run")
    assert done.returncode == 0, done.stderr
    pip = [line for line in done.stdout.splitlines() if " pip install" in line]
    assert len(pip) == 1
    assert f"--no-index --find-links {wheelhouse} --upgrade gate-edge" in pip[0]
    assert "apt-get" not in done.stdout
