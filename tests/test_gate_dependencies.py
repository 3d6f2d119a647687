"""Every third-party module the gate imports is installed by the gate's locked requirements."""

from __future__ import annotations

import ast
import re
import sys
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
GATE_CODE = ROOT / "edge"
OWN = {"edge", "central"}  # this project's packages: the wheel carries both
# Imported only under TYPE_CHECKING or by tools that say how to get them when missing.
OPTIONAL = {
    "picamera2": "Raspberry Pi OS's apt package, reached through the venv's system site packages",
}


def _top_level_imports(source: str) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def _third_party_imports() -> set[str]:
    found: set[str] = set()
    for path in GATE_CODE.rglob("*.py"):
        found |= _top_level_imports(path.read_text())
    return {name for name in found if name not in sys.stdlib_module_names} - OWN


def _locked(lock: Path) -> set[str]:
    pins = re.findall(r"^([A-Za-z0-9_.-]+)==", lock.read_text(), flags=re.MULTILINE)
    return {re.sub(r"[-_.]+", "-", pin).lower() for pin in pins}


def test_the_check_sees_imports() -> None:
    assert _top_level_imports("import httpx\nfrom cv2 import x\nfrom . import y\n") == {
        "httpx",
        "cv2",
    }


@pytest.mark.parametrize("lock", sorted((ROOT / "requirements").glob("gate-*.txt")), ids=str)
def test_every_module_the_gate_imports_is_in_its_lock(lock: Path) -> None:
    locked = _locked(lock)
    providers = packages_distributions()
    missing = {}
    for module in sorted(_third_party_imports() - set(OPTIONAL)):
        dists = {re.sub(r"[-_.]+", "-", d).lower() for d in providers.get(module, [])}
        if not dists & locked:
            missing[module] = sorted(dists) or "no installed distribution"
    assert missing == {}, f"{lock.name} does not install what edge/ imports"
