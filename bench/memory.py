"""Benchmark: resident memory of `gate-edge run` on simulated hardware with a replayed camera.

The gate runs as its own process (a local mosquitto, fake relay, I/O and thermometer, a camera
replaying a code held up between empty scenes, as 8-bit PGM frames) and its RSS is read from
/proc from outside after it has run a while; the frames it decoded by then, the fallback passes
it ran and whether OpenCV was loaded are counted. Each configuration runs as:
  now           the systemd unit's environment (MALLOC_ARENA_MAX=2, one thread for native
                maths), the heap trimmed after start-up; the fallback passes prepare their
                images with numpy, so OpenCV never loads
  no fallbacks  the same with `scan.fallbacks = false`: zxing-cpp alone
  with OpenCV   (baseline) `now` with OpenCV imported at start-up: what the gate held when the
                fallback passes still used OpenCV (loaded by the first one)
  no settings   `now` without the unit's environment, the arena cap and the trim
  before        (baseline) OpenCV imported at start-up and no memory settings: the service as it
                was before OpenCV was loaded on first use
  everything    (baseline) every module a configuration may leave unused imported up front
Usage: python bench/memory.py [--quick] [--seconds N]  (--quick: one configuration, `now` and
`with OpenCV` only, 4 s each)
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from edge.clock import SystemClock
from edge.service.memory import NATIVE_THREAD_LIMITS
from edge.sim.broker import LocalBroker
from edge.sim.credentials import SimCredentials
from edge.sim.rig import render_code_frames
from edge.sim.screens import ScreenStyle, render_scene

EVERYTHING = (
    "httpx",
    "edge.platform.client",
    "edge.credentials.dcc.verifier",
    "cryptography.x509",
    "edge.sim.demo",
    "central.credentials_cmd",
    "central.command_cmd",
    "edge.doctor.runner",
    "cv2",
)
UNIT_ENVIRONMENT = {"MALLOC_ARENA_MAX": "2", **NATIVE_THREAD_LIMITS}
# The wrapper counts the fallback passes run and records the scan loop's counters when the gate
# stops; with `settings` off it runs the gate without the memory settings of `gate-edge run`.
_RUN = """import json, os, sys
{imports}from edge.app import gate
from edge.scan import chain
stop, fallbacks = gate.GateService.stop, []
if hasattr(chain.DecoderChain, "_run_pass"):
    run_pass = chain.DecoderChain._run_pass

    def count_pass(*args, **kwargs):
        fallbacks.append(1)
        return run_pass(*args, **kwargs)

    chain.DecoderChain._run_pass = count_pass

def stop_and_count(self):
    counted = dict(self.scan.stats(), fallbacks=len(fallbacks), opencv="cv2" in sys.modules)
    with open(os.environ["BENCH_STATS"], "w") as out:
        json.dump(counted, out)
    return stop(self)

gate.GateService.stop = stop_and_count
if not {settings}:
    from edge.app import runner
    from edge.cli import service_cmd
    runner.trim_heap = service_cmd.limit_native_threads = service_cmd.limit_malloc_arenas = (
        lambda: False
    )
from edge.cli import main
sys.exit(main(sys.argv[1:]))
"""


@dataclass(frozen=True)
class Variant:
    """One way of running the same configuration."""

    name: str
    fallbacks: bool
    settings: bool
    imports: tuple[str, ...] = ()


VARIANTS = (
    Variant("now", fallbacks=True, settings=True),
    Variant("no fallbacks", fallbacks=False, settings=True),
    Variant("with OpenCV", fallbacks=True, settings=True, imports=("cv2",)),
    Variant("no settings", fallbacks=True, settings=False),
    Variant("before", fallbacks=True, settings=False, imports=("cv2",)),
    Variant("everything", fallbacks=True, settings=False, imports=EVERYTHING),
)
QUICK_VARIANTS = tuple(v for v in VARIANTS if v.name in ("now", "with OpenCV"))


@dataclass(frozen=True)
class Reading:
    """What /proc showed of the gate, and how many frames it had decoded."""

    rss_mb: float
    anon_mb: float
    pss_mb: float
    decoded: int
    fallbacks: int
    codes: int
    opencv: bool


def _write_frames(folder: Path, text: str, suffix: str) -> None:
    empty = cv2.cvtColor(render_scene(None, ScreenStyle(noise_sigma=2.0), 7), cv2.COLOR_BGR2GRAY)
    frames = [*render_code_frames(text, seed=3, count=3), np.asarray(empty, dtype=np.uint8)]
    folder.mkdir()
    for index, frame in enumerate(frames):
        cv2.imwrite(str(folder / f"{index:03d}.{suffix}"), frame)


def _config(
    tmp: Path, broker_url: str, *, dcc: bool, signer: bool, suffix: str
) -> dict[bool, Path]:
    creds = SimCredentials.generate()
    now = SystemClock().now()
    state = tmp / "state"
    root = creds.write(state, now, with_signer=signer)
    _write_frames(tmp / "frames", creds.issue("green", now), suffix)
    configs = {}
    for fallbacks in (True, False):
        path = tmp / f"gate-{fallbacks}.toml"
        path.write_text(
            f'[gate]\nsite = "bench"\ngate = "g1"\n'
            f'[trust]\nroot_public_key = "{root}"\n'
            f"[credentials.dcc]\nenabled = {str(dcc).lower()}\n"
            f"[scan]\nfallbacks = {str(fallbacks).lower()}\n"
            f'[camera]\nsource = "replay"\nreplay_path = "{tmp / "frames"}"\n'
            f"replay_fps = 10.0\n"
            f'[thermo]\nbackend = "fake"\n[relay]\nbackend = "fake"\n[io]\nbackend = "fake"\n'
            f'[mqtt]\nbroker = "{broker_url}"\n[storage]\nstate_dir = "{state}"\n'
        )
        configs[fallbacks] = path
    return configs


def _proc_kb(pid: int, name: str, field: str) -> int:
    text = Path(f"/proc/{pid}/{name}").read_text()
    return next(int(line.split()[1]) for line in text.splitlines() if line.startswith(field))


def _measure(config: Path, seconds: float, variant: Variant, tmp: Path) -> Reading:
    imports = "".join(f"import {name}\n" for name in variant.imports)
    env = {k: v for k, v in os.environ.items() if k not in UNIT_ENVIRONMENT}
    if variant.settings:
        env.update(UNIT_ENVIRONMENT)
    stats = tmp / f"stats-{variant.name.replace(' ', '-')}.json"
    env["BENCH_STATS"] = str(stats)
    code = _RUN.format(imports=imports, settings=variant.settings)
    process = subprocess.Popen(
        [sys.executable, "-c", code, "run", "--config", str(config)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=Path(__file__).resolve().parent.parent,
        env=env,
    )
    try:
        time.sleep(seconds)
        if process.poll() is not None:
            raise SystemExit(f"the gate stopped early (exit {process.returncode})")
        rss = _proc_kb(process.pid, "status", "VmRSS:")
        anon = _proc_kb(process.pid, "status", "RssAnon:")
        pss = _proc_kb(process.pid, "smaps_rollup", "Pss:")
    finally:
        process.terminate()
        process.wait(20)
    counted = json.loads(stats.read_text())
    return Reading(
        rss / 1024.0,
        anon / 1024.0,
        pss / 1024.0,
        int(counted["decoded"]),
        int(counted["fallbacks"]),
        int(counted["codes"]),
        bool(counted["opencv"]),
    )


def main() -> int:
    """Run every variant of each configuration and print its figures beside the baselines."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--quick", action="store_true", help="one configuration and its baseline, a short run"
    )
    parser.add_argument("--seconds", type=float, default=10.0, help="how long each gate runs")
    parser.add_argument(
        "--frames", choices=("pgm", "png"), default="pgm", help="how the replayed frames are stored"
    )
    args = parser.parse_args()
    seconds = 4.0 if args.quick else args.seconds
    cases = [("DCC off, no platform, no EU signer", False, False)]
    variants = QUICK_VARIANTS if args.quick else VARIANTS
    if not args.quick:
        cases.insert(0, ("defaults: DCC on, no platform", True, True))
    with tempfile.TemporaryDirectory(prefix="gate-memory-") as tmp:
        broker = LocalBroker(Path(tmp) / "broker")
        broker.start()
        try:
            for index, (label, dcc, signer) in enumerate(cases):
                case = Path(tmp) / f"case{index}"
                case.mkdir()
                configs = _config(case, broker.url, dcc=dcc, signer=signer, suffix=args.frames)
                print(
                    f"{label}, {args.frames.upper()} frames (each gate read after {seconds:.0f} s):"
                )
                readings = {}
                for variant in variants:
                    reading = _measure(configs[variant.fallbacks], seconds, variant, case)
                    readings[variant.name] = reading
                    print(
                        f"  {variant.name:14s} RSS {reading.rss_mb:6.1f} MB "
                        f"(anonymous {reading.anon_mb:5.1f}, PSS {reading.pss_mb:5.1f}) "
                        f"after {reading.decoded} frames decoded ({reading.fallbacks} fallback "
                        f"passes run), {reading.codes} codes; OpenCV "
                        f"{'loaded' if reading.opencv else 'not loaded'}"
                    )
                for baseline in ("with OpenCV", "before"):
                    if baseline not in readings:
                        continue
                    base = readings[baseline].rss_mb
                    for name in ("now", "no fallbacks"):
                        if name not in readings:
                            continue
                        rss = readings[name].rss_mb
                        print(f"  {name} vs {baseline}: {rss - base:+.1f} MB ({rss / base:.2f}x)")
        finally:
            broker.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
