"""The built wheel, installed into a fresh environment, holds the board firmware and flashes it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from edge.drivers.gateio_flash import firmware_files
from edge.drivers.gateio_frames import FIRMWARE_VERSION, default_firmware_dir
from edge.sim.gateio_board import SimGateIoBoard

REPO = Path(__file__).resolve().parents[1]
FAKE_MPREMOTE = Path(__file__).with_name("fake_mpremote.py")
SOURCES = ("pyproject.toml", "setup.py", "MANIFEST.in", "README.md", "edge", "central", "firmware")


def _copy_sources(target: Path) -> None:
    """A clean copy of what a build reads, so the build leaves nothing in the checkout."""
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "tests")
    for name in SOURCES:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, target / name, ignore=ignore)
        else:
            shutil.copy2(source, target / name)


@pytest.mark.slow
def test_a_wheel_install_flashes_its_own_firmware(tmp_path: Path) -> None:
    src, dist, venv = tmp_path / "src", tmp_path / "dist", tmp_path / "venv"
    src.mkdir()
    _copy_sources(src)
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "wheel", "--no-deps", "-w", str(dist), str(src)], check=True)
    wheel = next(dist.glob("gate_edge-*.whl"))
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    install = [*pip, "--python", str(venv / "bin" / "python"), "install", "--no-deps"]
    subprocess.run([*install, "--no-index", str(wheel)], check=True)
    # The dependencies come from this interpreter's site directories (not its editable gate-edge:
    # a .pth in the new environment adds the directories without running their .pth files).
    site_dirs = [p for p in sys.path if p.endswith(("site-packages", "dist-packages"))]
    (site,) = (venv / "lib").glob("python3*/site-packages")
    (site / "zz-dependencies.pth").write_text("\n".join(site_dirs) + "\n")

    where = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import edge; print(edge.__file__)"],
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
    ).stdout.strip()
    assert where.startswith(str(site)), where

    log = tmp_path / "mpremote.log"
    env = {**os.environ, "FAKE_MPREMOTE_LOG": str(log), "FAKE_MPREMOTE_FS": str(tmp_path / "fs")}
    with SimGateIoBoard(tmp_path / "usb-MicroPython_Board-if00") as board:
        done = subprocess.run(
            [
                str(venv / "bin" / "gate-edge"),
                "gateio",
                "flash",
                "--port",
                str(board.link),
                "--mpremote",
                f"{sys.executable} {FAKE_MPREMOTE}",
            ],
            capture_output=True,
            text=True,
            timeout=60,
            env=env,
            cwd=tmp_path,
            check=False,
        )
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"reports firmware {FIRMWARE_VERSION}" in done.stdout
    copied = [json.loads(line)[4] for line in log.read_text().splitlines() if "cp" in line]
    packaged = site / "edge" / "firmware"
    expected = [str(packaged / p.name) for p in firmware_files(default_firmware_dir())]
    assert copied == expected
