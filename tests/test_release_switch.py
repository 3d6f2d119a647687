"""Release switching: the previous release is kept, and put back when the new one is not READY."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest

from edge.service.release import rollback_notice

TOOL = Path(__file__).resolve().parent.parent / "deploy" / "debian" / "gate_edge_release.py"

# A stand-in for a release's `gate-edge`: names its version, and `run` either notifies READY
# on $NOTIFY_SOCKET and waits for SIGTERM, or fails at start like a broken build.
FAKE = """#!{python}
import os, socket, sys, time
if sys.argv[1:] == ["--version"]:
    print("gate-edge {version}")
    sys.exit(0)
if {broken}:
    print("ImportError: the new build is broken", file=sys.stderr)
    sys.exit(3)
sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
sock.sendto(b"READY=1", os.environ["NOTIFY_SOCKET"])
time.sleep(60)
"""


@pytest.fixture
def tool(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    spec = importlib.util.spec_from_file_location("gate_edge_release", TOOL)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setattr(module, "PREFIX", tmp_path / "opt")
    monkeypatch.setattr(module, "STATE", tmp_path / "state" / "release.json")
    monkeypatch.setattr(module, "CONFIG", tmp_path / "gate-edge.toml")
    monkeypatch.setattr(module, "systemd_running", lambda: False)
    (tmp_path / "gate-edge.toml").write_text("# the trial's configuration\n")
    return module


def _release(tool: ModuleType, version: str, *, broken: bool = False) -> None:
    script = tool.gate_edge(version)
    script.parent.mkdir(parents=True)
    script.write_text(FAKE.format(python=sys.executable, version=version, broken=broken))
    script.chmod(0o755)


def _state(tool: ModuleType) -> dict[str, object]:
    return dict(json.loads(tool.STATE.read_text()))


def test_an_upgrade_keeps_the_previous_release_and_prunes_older_ones(tool: ModuleType) -> None:
    for version in ("1.0", "1.1", "1.2"):
        _release(tool, version)
        assert tool.activate(version, 20.0) == 0
    assert (tool.link_target("current"), tool.link_target("previous")) == ("1.2", "1.1")
    assert sorted(p.name for p in tool.releases().iterdir()) == ["1.1", "1.2"]
    assert _state(tool)["state"] == "active"


def test_a_release_that_does_not_become_ready_is_rolled_back(tool: ModuleType) -> None:
    _release(tool, "1.0")
    assert tool.activate("1.0", 20.0) == 0
    _release(tool, "1.1", broken=True)
    assert tool.activate("1.1", 20.0) == 2
    assert tool.link_target("current") == "1.0"
    state = _state(tool)
    assert state["state"] == "rolled-back" and state["failed"] == "1.1"
    assert "exited with status 3 before READY" in str(state["reason"])
    assert "broken" in str(state["reason"])
    notice = rollback_notice(tool.STATE.parent)  # what the gate then shows on its status
    assert notice is not None and notice.startswith("release 1.1 rolled back at ")
    assert notice.endswith("running 1.0")
    _release(tool, "1.2")
    assert tool.activate("1.2", 20.0) == 0
    assert rollback_notice(tool.STATE.parent) is None


def test_a_manual_rollback_swaps_current_and_previous(tool: ModuleType) -> None:
    for version in ("1.0", "1.1"):
        _release(tool, version)
        tool.activate(version, 20.0)
    assert tool.rollback() == 0
    assert (tool.link_target("current"), tool.link_target("previous")) == ("1.0", "1.1")


def test_without_a_configuration_the_first_release_is_activated_unstarted(
    tool: ModuleType,
) -> None:
    tool.CONFIG.unlink()
    _release(tool, "1.0")
    assert tool.activate("1.0", 20.0) == 0
    assert tool.link_target("current") == "1.0"
