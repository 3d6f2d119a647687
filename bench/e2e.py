"""Benchmark: first frame showing a code → relay energised, through the whole service.

Runs the real composition root (scan loop, verifier, controller, thermometer sampling, outbox,
publisher to a local mosquitto when available) on simulated hardware, presents many distinct
phone-screen codes to a person already in front of the thermometer, and prints p50/p95 latency
beside the decode-only time of the same frames, then the service's RSS after 100 and after N
presentations. Then the same presentations again with the visitor screen (a page reader on its
event stream) and the voice (espeak-ng prompts piped to a player) on, printed beside the run
with them off: the controller's decision time, frame → relay, and decision → screen push.

Usage: python bench/e2e.py [--quick] [--presentations N] [--rss-presentations N]
"""

from __future__ import annotations

import argparse
import http.client
import json
import resource
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from edge.app.config import Config, parse_config
from edge.app.gate import GateService
from edge.clock import SystemClock
from edge.core.records import DecisionRecord
from edge.scan.chain import DecoderChain
from edge.screen.audio import CommandAudioOut, espeak_available
from edge.screen.catalogue import load_catalogues
from edge.screen.voice import VoicePlayer
from edge.sim.broker import BrokerUnavailableError, LocalBroker
from edge.sim.credentials import SimCredentials
from edge.sim.rig import SimGate, render_code_frames
from edge.sim.scenario import NORMAL_SKIN_C

P95_TARGET_MS = 50.0
PUSH_TARGET_MS = 100.0
POOL = 64  # distinct codes, cycled (anti-passback is off for the benchmark)
PLAYER = "sh -c 'cat >/dev/null'"  # a player that takes the WAV like aplay, without a sound card


def rss_mb() -> float:
    """Resident set size of this process now (from /proc), in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024.0
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def trim_simulator_logs(sim: SimGate, records: list[DecisionRecord]) -> None:
    """Forget what the simulator and this script logged, so RSS growth is the service's own."""
    del records[:-1]
    del sim.turnstile.pulses[:]
    for output in sim.lamps.values():
        del output.history[:-1]
    for request in sim.chip.requests:
        for changes in request.history.values():
            del changes[:-1]


def percentile(values: list[float], q: float) -> float:
    """The value at quantile `q` (0..1) of `values`, nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


@dataclass
class Run:
    """What one series of presentations measured."""

    latencies: list[float] = field(default_factory=list)
    decision_ms: list[float] = field(default_factory=list)
    pushes_ms: list[float] = field(default_factory=list)
    failures: dict[str, int] = field(default_factory=dict)
    rss_at_100: float = 0.0
    rss_end: float = 0.0
    rss_before_start: float = 0.0
    elapsed_s: float = 0.0


def gate_config(root: Path, state: Path, broker: LocalBroker | None, *, screen: bool) -> Config:
    """The benchmark gate; its own state directory under the trust files' one."""
    lists = root.parent
    settings: dict[str, Any] = {
        "gate": {"site": "bench", "gate": "g1", "log_level": "error"},
        "policy": {
            "cooldown_s": 0.0,
            "deny_signal_s": 0.0,
            "anti_passback_s": 0.0,
            "passage_timeout_s": 1.0,
        },
        "trust": {
            "root_public_key": str(root),
            "trust_list": str(lists / "trust-list.json"),
            "denylist": str(lists / "denylist.json"),
        },
        "camera": {"source": "none"},
        "scan": {"debounce_s": 0.2},
        "thermo": {"backend": "fake"},
        "relay": {"backend": "fake"},
        "io": {"backend": "fake"},
        "mqtt": {
            "enabled": broker is not None,
            "broker": broker.url if broker else "mqtt://127.0.0.1:1",
        },
        "storage": {"state_dir": str(state)},
    }
    if screen:
        settings["screen"] = {"enabled": True, "listen": "127.0.0.1:0"}
        settings["voice"] = {"enabled": True, "languages": ["zh", "en"], "player": PLAYER}
    return parse_config(settings)


class ScreenReader:
    """Reads the page's event stream like the kiosk browser; notes when each decision arrives."""

    def __init__(self, url: str) -> None:
        host, port = url.removeprefix("http://").rstrip("/").split(":")
        self._connection = http.client.HTTPConnection(host, int(port), timeout=30)
        self._connection.request("GET", "/events")
        self._answer = self._connection.getresponse()
        self.pushes_ms: list[float] = []
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        decided = None
        try:
            for line in self._answer.fp:
                if not line.startswith(b"data: "):
                    continue
                received = time.time()
                state = json.loads(line[6:])
                if state["phase"] == "decision" and state["decided_at"] != decided:
                    decided = state["decided_at"]
                    self.pushes_ms.append((received - decided) * 1000.0)
        except (OSError, ValueError):
            return

    def close(self) -> None:
        """Stop reading the page's event stream."""
        self._connection.close()


def prerender_voice(config: Config) -> int:
    """Render the prompts as the gate does ahead of time, so the timed run finds them ready."""
    languages = config.voice.languages
    player = VoicePlayer(
        config.voice,
        load_catalogues(languages),
        CommandAudioOut(config.voice.player),
        SystemClock(),
        Path(config.storage.state_dir) / "voice",
        on_fault=lambda detail: None,
        on_recover=lambda: None,
    )
    return player.render_ahead()


def measure(config: Config, pool: list[Any], timed: int, total: int) -> Run:
    """Run the gate on simulated hardware through `total` presentations, timing the last `timed`."""
    clock = SystemClock()
    run = Run()
    sim = SimGate(clock, camera_fps=60)
    sim.turnstile.walk_delay_s = 0.005
    records: list[DecisionRecord] = []
    service = GateService(config, sim.hardware, clock=clock, on_decision=records.append)
    run.rss_before_start = rss_mb()
    service.start()
    reader = None
    if service.screen is not None and service.screen.url is not None:
        reader = ScreenReader(service.screen.url)
    sim.person_arrives(NORMAL_SKIN_C)
    time.sleep(0.5)  # the thermometer has seen the person: "thermometer ready"
    started = time.monotonic()
    try:
        for n in range(total):
            before_pulses = len(sim.turnstile.pulses)
            before_records = len(records)
            sim.camera.show(pool[n % len(pool)])
            deadline = time.monotonic() + 5.0
            while len(sim.turnstile.pulses) == before_pulses and time.monotonic() < deadline:
                if len(records) > before_records and records[-1].verdict != "pass":
                    break
                time.sleep(0.0005)
            if len(sim.turnstile.pulses) > before_pulses and sim.camera.first_capture_at:
                if n < timed:
                    first = sim.camera.first_capture_at
                    run.latencies.append((sim.turnstile.pulses[before_pulses] - first) * 1000)
                    decided = records[before_records].timings_ms.get("frame_to_decision_ms")
                    if decided is not None:
                        run.decision_ms.append(decided)
            else:
                decided_any = len(records) > before_records
                why = ",".join(records[-1].reasons) if decided_any else "no decision within 5 s"
                run.failures[why] = run.failures.get(why, 0) + 1
            service.controller.wait_idle(5.0)
            sim.camera.show_nothing()
            time.sleep(0.035)  # the empty scene reaches the scanner before the next phone
            trim_simulator_logs(sim, records)
            if n + 1 == 100:
                run.rss_at_100 = rss_mb()
            if n + 1 == total:
                run.rss_end = rss_mb()
            if (n + 1) % 1000 == 0:
                print(f"  {n + 1} presentations, RSS {rss_mb():.1f} MB", flush=True)
    finally:
        run.elapsed_s = time.monotonic() - started
        service.stop()
        if reader is not None:
            reader.close()
            run.pushes_ms = reader.pushes_ms
    return run


def figures(values: list[float]) -> str:
    """p50 and p95 of `values` as one text, or "-" when there are none."""
    if not values:
        return "-"
    return f"p50 {statistics.median(values):6.1f} ms, p95 {percentile(values, 0.95):6.1f} ms"


def main() -> int:
    """Run the end-to-end bench without and with the visitor screen and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a few seconds' smoke run")
    parser.add_argument("--presentations", type=int, default=300)
    parser.add_argument("--rss-presentations", type=int, default=10_000)
    args = parser.parse_args()
    timed = 6 if args.quick else max(200, args.presentations)
    total = 8 if args.quick else max(args.rss_presentations, timed)
    pool_size = 4 if args.quick else POOL

    clock = SystemClock()
    creds = SimCredentials.generate()
    with tempfile.TemporaryDirectory(prefix="gate-edge-bench-") as tmp:
        state = Path(tmp)
        root = creds.write(state, clock.now())
        broker: LocalBroker | None = LocalBroker()
        try:
            assert broker is not None
            broker.start()
        except BrokerUnavailableError as exc:
            print(f"no local broker ({exc}); measuring with the outbox only")
            broker = None
        print(f"rendering {pool_size} phone-screen codes ...", flush=True)
        pool = [
            render_code_frames(
                creds.issue("green", clock.now(), ttl_s=86400), seed=i, count=1 if args.quick else 3
            )
            for i in range(pool_size)
        ]
        config = gate_config(root, state / "off", broker, screen=False)
        chain = DecoderChain(config.scan.frame_budget_ms, scale_budget=False)
        decode_ms = [chain.decode(frames[0], None).ms for frames in pool for _ in range(3)]
        pool_mb = sum(frame.nbytes for frames in pool for frame in frames) / 2**20
        try:
            off = measure(config, pool, timed, total)
            screen_config = gate_config(root, state / "on", broker, screen=True)
            if espeak_available():
                print(f"voice: {prerender_voice(screen_config)} prompts rendered with espeak-ng")
            else:
                print("voice: espeak-ng not installed; prompts are played as text only")
            on = measure(screen_config, pool, timed, timed)
        finally:
            if broker is not None:
                broker.stop()

    failures = sum(off.failures.values())
    latencies = off.latencies
    p50, p95 = statistics.median(latencies), percentile(latencies, 0.95)
    d50, d95 = statistics.median(decode_ms), percentile(decode_ms, 0.95)
    print(f"presentations: {total} in {off.elapsed_s:.0f} s ({failures} without a relay pulse)")
    for why, count in sorted(off.failures.items(), key=lambda item: -item[1]):
        print(f"  {count} x {why}")
    print(f"first frame → relay over {len(latencies)}: p50 {p50:.1f} ms, p95 {p95:.1f} ms")
    print(f"decode only (same frames):            p50 {d50:.1f} ms, p95 {d95:.1f} ms")
    print(f"ratio end-to-end / decode-only (p50): {p50 / d50:.2f}x")
    print(f"target p95 ≤ {P95_TARGET_MS:.0f} ms: {'met' if p95 <= P95_TARGET_MS else 'NOT met'}")
    if off.rss_at_100:
        growth = (off.rss_end - off.rss_at_100) / off.rss_at_100 * 100
        print(
            f"RSS after 100: {off.rss_at_100:.1f} MB, after {total}: {off.rss_end:.1f} MB "
            f"({growth:+.1f} %, target within 10 %)"
        )
        print(
            f"  (the process includes the simulator: {pool_mb:.0f} MB of rendered frames; "
            f"RSS before the service started: {off.rss_before_start:.1f} MB)"
        )
    print(f"\nvisitor screen and voice, {timed} presentations each:")
    print(f"  {'':<28} {'screen + voice off':<34} screen + voice on")
    print(f"  {'frame → decision':<28} {figures(off.decision_ms):<34} {figures(on.decision_ms)}")
    relay_off = figures(off.latencies[:timed])
    print(f"  {'first frame → relay':<28} {relay_off:<34} {figures(on.latencies)}")
    print(f"  {'decision → screen push':<28} {'-':<34} {figures(on.pushes_ms)}")
    if on.pushes_ms:
        worst = max(on.pushes_ms)
        verdict = "met" if percentile(on.pushes_ms, 0.95) <= PUSH_TARGET_MS else "NOT met"
        print(f"  push p95 ≤ {PUSH_TARGET_MS:.0f} ms: {verdict} (max {worst:.1f} ms)")
    on_failures = sum(on.failures.values())
    return 0 if failures == 0 and on_failures == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
