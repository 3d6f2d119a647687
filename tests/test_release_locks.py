"""The dependency locks pin every dependency, per architecture, to hashed wheels."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LOCKS = ROOT / "requirements"
PIN = re.compile(r"^([A-Za-z0-9_.-]+)==([^ ;\\]+)")


def _name(requirement: str) -> str:
    return re.split(r"[ <>=!~;\[]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def _pins(path: Path) -> dict[str, list[str]]:
    """name -> hashes, for each pinned package of a lock file."""
    pins: dict[str, list[str]] = {}
    current = ""
    for line in path.read_text().splitlines():
        match = PIN.match(line)
        if match:
            current = match.group(1).lower().replace("_", "-")
            assert current not in pins, f"{path.name}: {current} pinned twice"
            pins[current] = []
        elif line.strip().startswith("--hash=sha256:"):
            digest = line.strip().removeprefix("--hash=sha256:").rstrip(" \\")
            assert re.fullmatch(r"[0-9a-f]{64}", digest), line
            pins[current].append(digest)
    return pins


@pytest.mark.parametrize(("name", "extra"), [("gate", None), ("central", "central")])
@pytest.mark.parametrize("arch", ["x86_64", "aarch64"])
def test_each_lock_pins_every_dependency_to_hashed_wheels(
    name: str, extra: str | None, arch: str
) -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = list(project["dependencies"])
    if extra:
        wanted += project["optional-dependencies"][extra]
    pins = _pins(LOCKS / f"{name}-{arch}.txt")
    missing = {_name(req) for req in wanted} - set(pins)
    assert not missing, f"{name}-{arch}.txt lacks {sorted(missing)}: run make lock"
    assert all(pins.values()), "every pin carries the hash of at least one wheel"


def test_both_architectures_lock_the_same_versions() -> None:
    for name in ("gate", "central"):
        versions = [
            [
                line.split(" ")[0]
                for line in (LOCKS / f"{name}-{arch}.txt").read_text().splitlines()
                if PIN.match(line)
            ]
            for arch in ("x86_64", "aarch64")
        ]
        assert versions[0] == versions[1]
