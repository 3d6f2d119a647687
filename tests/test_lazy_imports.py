"""The service imports only what its configuration uses (checked in a fresh interpreter)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from edge.clock import SystemClock
from edge.credentials.dcc.settings import DccSettings
from edge.credentials.dcc.verifier import DccVerifier
from edge.credentials.formats import gate_verifiers
from edge.sim.credentials import SimCredentials
from edge.sim.rig import render_code_frames
from tests.dcc_support import NOW, World, make_signer
from tests.gate_support import GateConfig

# Loaded by `gate-edge run` for a gate with no platform, DCC off, simulated hardware and no
# EU signer in its trust list, they would only cost memory.
NOT_NEEDED = (
    "httpcore",  # the platform client's HTTP stack
    "edge.platform.client",
    "edge.credentials.dcc.verifier",  # the DCC stack
    "cbor2",
    "cryptography.x509",  # document signer certificates
    "edge.sim",  # the demo
    "central",  # the central tools
    "edge.doctor",
    "pyzbar",  # a fallback decoder, loaded when a fallback pass first runs
    "edge.scan.grid",  # the grid reader and its finder patterns, loaded when its round first runs
    "edge.scan.finders",
    "edge.scan.modules",
    "edge.scan.layout",
    "edge.scan.codewords",
    "edge.scan.reedsolomon",
    "edge.scan.stepcost",
    "segno",
    "cv2",  # OpenCV: BGR conversion, USB capture and the image-preparing fallback passes
)

_PROBE = """
import json, sys, time
from edge.cli import main
from edge.app import gate

original = gate.GateService.start
stats = {}

def start_then_stop(self):
    original(self)
    deadline = time.monotonic() + 60.0
    while int(sys.argv[2]) and self.scan.stats()["codes"] < int(sys.argv[2]):
        assert time.monotonic() < deadline, self.scan.stats()
        time.sleep(0.05)
    stats.update(self.scan.stats())
    self.request_stop(0)

gate.GateService.start = start_then_stop
code = main(["run", "--config", sys.argv[1]])
print(json.dumps({"code": code, "modules": sorted(sys.modules), "stats": stats}))
"""


def _write_config(directory: Path, *, dcc: bool, replay: Path | None = None) -> Path:
    state = directory / "state"
    creds = SimCredentials.generate()
    now = SystemClock().now()
    root = creds.write(state, now, with_signer=False)
    camera: dict[str, Any] = {}
    scan: dict[str, Any] = {}
    if replay is not None:
        replay.mkdir()
        for index, frame in enumerate(render_code_frames(creds.issue("green", now), 3, 3)):
            cv2.imwrite(str(replay / f"{index:03d}.pgm"), frame)
        camera = {"source": "replay", "replay_path": str(replay), "replay_fps": 20.0}
        # zxing-cpp alone: the image-preparing fallback passes are what would load OpenCV
        scan = {"fallbacks": False}
    return GateConfig(directory).file(
        root=root, gate="g1", credentials={"dcc": {"enabled": dcc}}, camera=camera, scan=scan
    )


def _run(config: Path, codes: int = 0) -> dict[str, Any]:
    result = subprocess.run(
        [sys.executable, "-c", _PROBE, str(config), str(codes)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["code"] == 0, result.stderr[-2000:]
    return dict(report)


def _modules_of_run(config: Path) -> list[str]:
    return list(_run(config)["modules"])


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


def test_a_gate_without_fallbacks_decodes_replayed_pgm_frames_without_loading_opencv(
    tmp_path: Path,
) -> None:
    report = _run(_write_config(tmp_path, dcc=False, replay=tmp_path / "frames"), codes=1)
    assert report["stats"]["codes"] >= 1 and report["stats"]["decoded"] >= 1
    assert "zxingcpp" in report["modules"]
    assert "cv2" not in report["modules"]


def test_with_dcc_off_the_gate_answers_as_the_switched_off_verifier_without_loading_it() -> None:
    off = DccSettings(enabled=False)
    signer = make_signer("ES256")
    text, trust = signer.issue(), World().trust(signer)
    answer = gate_verifiers(off).verify(text, trust, None, NOW, 30)
    assert answer == DccVerifier(off).verify(text, trust, None, NOW, 30)
    assert answer.reason == "unsupported"


def test_images_only_opencv_reads_are_decoded_without_loading_it_into_the_gate(
    tmp_path: Path,
) -> None:
    image = np.zeros((16, 16), np.uint8)
    cv2.imwrite(str(tmp_path / "frame.png"), image)
    probe = (
        "import sys\n"
        "import numpy as np\n"
        "from pathlib import Path\n"
        "from edge.scan import chain, preprocess\n"
        "from edge.drivers import camera, camera_replay\n"
        "frame = np.zeros((64, 64), np.uint8)\n"
        "for prepare in (preprocess.clahe, preprocess.median, preprocess.sharpen):\n"
        "    prepare(frame)\n"
        "preprocess.to_gray(np.zeros((8, 8, 3), np.uint8))\n"
        "before = 'cv2' in sys.modules\n"
        f"camera_replay.load_images(Path({str(tmp_path)!r}))\n"
        "print(before, 'cv2' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split() == ["False", "False"]
