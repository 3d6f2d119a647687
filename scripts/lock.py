#!/usr/bin/env python3
"""Lock the dependencies per architecture: exact versions and the hashes of their wheels.

    scripts/lock.py [--uv PATH]

For each set (the gate's runtime; the central side's, with the `central` extra) and each
architecture (x86_64, aarch64) uv resolves pyproject.toml for Python 3.11 on manylinux 2.28
(Raspberry Pi OS and Debian bookworm have glibc 2.36) and writes requirements/SET-ARCH.txt with
the hash of every wheel that installs there and no source archive, so that an install from the
lock (`pip install --require-hashes --only-binary=:all:`) never builds anything. `make release`
downloads exactly these files into the Debian packages.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ARCHES = ("x86_64", "aarch64")
SETS = {"gate": (), "central": ("--extra", "central")}
PYTHON = "3.11"
GLIBC = "2_28"
INDEX = "https://pypi.org/simple"


def resolve(uv: str, arch: str, extra: tuple[str, ...], out: Path) -> dict[str, object]:
    """uv's PEP 751 lock for one architecture (wheels already chosen for that platform)."""
    subprocess.run(
        [
            *(uv, "pip", "compile", str(ROOT / "pyproject.toml"), *extra, "--quiet"),
            *("--no-header", "--python-version", PYTHON),
            *("--python-platform", f"{arch}-manylinux_{GLIBC}", "--index-url", INDEX),
            *("-o", str(out)),
        ],
        check=True,
        env={**os.environ, "UV_NO_CONFIG": "1"},  # the lock ignores local pip/uv settings
    )
    return tomllib.loads(out.read_text())


def requirements(lock: dict[str, object], arch: str) -> str:
    """The lock as a pip requirements file with wheel hashes only."""
    lines = [
        f"# Locked by scripts/lock.py for Python {PYTHON} on {arch} (manylinux {GLIBC}).",
        "# Wheels only: install with pip --require-hashes --only-binary=:all:",
        "",
    ]
    packages = lock.get("packages")
    assert isinstance(packages, list)
    for package in sorted(packages, key=lambda p: str(p["name"])):
        wheels = package.get("wheels") or []
        if not wheels:
            raise SystemExit(f"lock: {package['name']} {package['version']} has no {arch} wheel")
        marker = package.get("marker")
        pin = f"{package['name']}=={package['version']}"
        lines.append(pin + (f" ; {marker}" if marker else "") + " \\")
        hashes = sorted(str(w["hashes"]["sha256"]) for w in wheels)
        lines.extend(
            f"    --hash=sha256:{h}" + (" \\" if i < len(hashes) - 1 else "")
            for i, h in enumerate(hashes)
        )
    return "\n".join(lines) + "\n"


def main() -> int:
    """Write requirements/SET-ARCH.txt for every set and architecture."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--uv", default=str(ROOT / ".venv" / "bin" / "uv"))
    args = parser.parse_args()
    target = ROOT / "requirements"
    target.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        for name, extra in SETS.items():
            for arch in ARCHES:
                lock = resolve(args.uv, arch, extra, Path(tmp) / "pylock.toml")
                (target / f"{name}-{arch}.txt").write_text(requirements(lock, arch))
                print(f"requirements/{name}-{arch}.txt", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
