"""Benchmark: resident memory of `gate-edge run` on simulated hardware with a replayed camera.

The gate runs as its own process (a local mosquitto, fake relay, I/O and thermometer, a camera
replaying a held-up code) and its RSS is read from /proc from outside after it has run a while.
Baseline in the same run: the same gate with every module a configuration may leave unused
imported up front (the platform client, the DCC verifier, X.509, the demo, the central tools).
Usage: python bench/memory.py [--quick] [--seconds N]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from edge.clock import SystemClock
from edge.sim.broker import LocalBroker
from edge.sim.credentials import SimCredentials
from edge.sim.rig import render_code_frames

EVERYTHING = (
    "httpx",
    "edge.platform.client",
    "edge.credentials.dcc.verifier",
    "cryptography.x509",
    "edge.sim.demo",
    "central.credentials_cmd",
    "central.command_cmd",
    "edge.doctor.runner",
)
_RUN = "import sys\n{imports}from edge.cli import main\nsys.exit(main(sys.argv[1:]))\n"


def _config(tmp: Path, broker_url: str, *, dcc: bool, signer: bool) -> Path:
    creds = SimCredentials.generate()
    now = SystemClock().now()
    state = tmp / "state"
    root = creds.write(state, now, with_signer=signer)
    frames = tmp / "frames"
    frames.mkdir()
    for index, frame in enumerate(render_code_frames(creds.issue("green", now), seed=3, count=3)):
        cv2.imwrite(str(frames / f"{index:03d}.png"), frame)
    path = tmp / "gate.toml"
    path.write_text(
        f'[gate]\nsite = "bench"\ngate = "g1"\n'
        f'[trust]\nroot_public_key = "{root}"\n'
        f"[credentials.dcc]\nenabled = {str(dcc).lower()}\n"
        f'[camera]\nsource = "replay"\nreplay_path = "{frames}"\nreplay_fps = 10.0\n'
        f'[thermo]\nbackend = "fake"\n[relay]\nbackend = "fake"\n[io]\nbackend = "fake"\n'
        f'[mqtt]\nbroker = "{broker_url}"\n[storage]\nstate_dir = "{state}"\n'
    )
    return path


def _rss_mb(config: Path, seconds: float, *, eager: bool) -> float:
    imports = "".join(f"import {name}\n" for name in EVERYTHING) if eager else ""
    process = subprocess.Popen(
        [sys.executable, "-c", _RUN.format(imports=imports), "run", "--config", str(config)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=Path(__file__).resolve().parent.parent,
    )
    try:
        time.sleep(seconds)
        if process.poll() is not None:
            raise SystemExit(f"the gate stopped early (exit {process.returncode})")
        status = Path(f"/proc/{process.pid}/status").read_text()
        kilobytes = next(int(line.split()[1]) for line in status.splitlines() if "VmRSS" in line)
    finally:
        process.terminate()
        process.wait(20)
    return kilobytes / 1024.0


def main() -> int:
    """Run the gate in each configuration and print its resident memory, lean and eager."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="one configuration, a short run")
    parser.add_argument("--seconds", type=float, default=10.0, help="how long each gate runs")
    args = parser.parse_args()
    seconds = 4.0 if args.quick else args.seconds
    cases = [("DCC off, no platform, no EU signer", False, False)]
    if not args.quick:
        cases.insert(0, ("defaults: DCC on, no platform", True, True))
    with tempfile.TemporaryDirectory(prefix="gate-memory-") as tmp:
        broker = LocalBroker(Path(tmp) / "broker")
        broker.start()
        try:
            for index, (label, dcc, signer) in enumerate(cases):
                case = Path(tmp) / f"case{index}"
                case.mkdir()
                config = _config(case, broker.url, dcc=dcc, signer=signer)
                lean = _rss_mb(config, seconds, eager=False)
                eager = _rss_mb(config, seconds, eager=True)
                print(
                    f"{label}: RSS {lean:.1f} MB after {seconds:.0f} s; with every optional "
                    f"module imported up front {eager:.1f} MB ({lean - eager:+.1f} MB)"
                )
        finally:
            broker.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
