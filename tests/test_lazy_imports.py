"""The service imports only what its configuration uses (checked in a fresh interpreter)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from edge.clock import SystemClock
from edge.credentials.dcc.settings import DccSettings
from edge.credentials.dcc.verifier import DccVerifier
from edge.credentials.formats import gate_verifiers
from edge.sim.credentials import SimCredentials
from tests.dcc_support import NOW, World, make_signer
from tests.gate_support import GateConfig

# Loaded by `gate-edge run` for a gate with no platform, DCC off, simulated hardware and no
# EU signer in its trust list, they would only cost memory.
NOT_NEEDED = (
    "httpx",  # the platform client
    "edge.platform.client",
    "edge.credentials.dcc.verifier",  # the DCC stack
    "cbor2",
    "cryptography.x509",  # document signer certificates
    "edge.sim",  # the demo
    "central",  # the central tools
    "edge.doctor",
    "pyzbar",  # a fallback decoder, loaded when a fallback pass first runs
    "segno",
)

_PROBE = """
import json, sys
from edge.cli import main
from edge.app import gate

original = gate.GateService.start

def start_then_stop(self):
    original(self)
    self.request_stop(0)

gate.GateService.start = start_then_stop
code = main(["run", "--config", sys.argv[1]])
print(json.dumps({"code": code, "modules": sorted(sys.modules)}))
"""


def _write_config(directory: Path, *, dcc: bool) -> Path:
    state = directory / "state"
    root = SimCredentials.generate().write(state, SystemClock().now(), with_signer=False)
    return GateConfig(directory).file(root=root, gate="g1", credentials={"dcc": {"enabled": dcc}})


def _modules_of_run(config: Path) -> list[str]:
    result = subprocess.run(
        [sys.executable, "-c", _PROBE, str(config)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["code"] == 0, result.stderr[-2000:]
    return list(report["modules"])


@pytest.fixture(scope="module")
def modules_without_dcc(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    return _modules_of_run(_write_config(tmp_path_factory.mktemp("lazy"), dcc=False))


def test_run_imports_nothing_its_configuration_does_not_use(
    modules_without_dcc: list[str],
) -> None:
    loaded = [
        name
        for name in modules_without_dcc
        if any(name == unused or name.startswith(unused + ".") for unused in NOT_NEEDED)
    ]
    assert loaded == []


def test_run_still_loads_what_it_uses(modules_without_dcc: list[str]) -> None:
    for needed in ("edge.scan.loop", "edge.credentials.hcn1.verifier", "paho.mqtt.client"):
        assert needed in modules_without_dcc


def test_with_dcc_off_the_gate_answers_as_the_switched_off_verifier_without_loading_it() -> None:
    off = DccSettings(enabled=False)
    signer = make_signer("ES256")
    text, trust = signer.issue(), World().trust(signer)
    answer = gate_verifiers(off).verify(text, trust, None, NOW, 30)
    assert answer == DccVerifier(off).verify(text, trust, None, NOW, 30)
    assert answer.reason == "unsupported"
