"""Benchmark: first frame showing a code → relay energised, through the whole service.

Runs the real composition root (scan loop, verifier, controller, thermometer sampling, outbox,
publisher to a local mosquitto when available) on simulated hardware, presents many distinct
phone-screen codes to a person already in front of the thermometer, and prints p50/p95 latency
beside the decode-only time of the same frames, then the service's RSS after 100 and after N
presentations.

Usage: python bench/e2e.py [--quick] [--presentations N] [--rss-presentations N]
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

from edge.app.config import parse_config
from edge.app.gate import GateService
from edge.clock import SystemClock
from edge.core.records import DecisionRecord
from edge.scan.chain import DecoderChain
from edge.sim.broker import BrokerUnavailableError, LocalBroker
from edge.sim.credentials import SimCredentials
from edge.sim.rig import SimGate, render_code_frames
from edge.sim.scenario import NORMAL_SKIN_C

P95_TARGET_MS = 50.0
POOL = 64  # distinct codes, cycled (anti-passback is off for the benchmark)


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
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> int:
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
        config = parse_config(
            {
                "gate": {"site": "bench", "gate": "g1", "log_level": "error"},
                "policy": {
                    "cooldown_s": 0.0,
                    "deny_signal_s": 0.0,
                    "anti_passback_s": 0.0,
                    "passage_timeout_s": 1.0,
                },
                "trust": {"root_public_key": str(root)},
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
        )
        sim = SimGate(clock, camera_fps=60)
        sim.turnstile.walk_delay_s = 0.005
        records: list[DecisionRecord] = []
        service = GateService(config, sim.hardware, clock=clock, on_decision=records.append)
        print(f"rendering {pool_size} phone-screen codes ...", flush=True)
        pool = [
            render_code_frames(
                creds.issue("green", clock.now(), ttl_s=86400), seed=i, count=1 if args.quick else 3
            )
            for i in range(pool_size)
        ]
        chain = DecoderChain(config.scan.frame_budget_ms)
        decode_ms = [chain.decode(frames[0], None).ms for frames in pool for _ in range(3)]

        pool_mb = sum(frame.nbytes for frames in pool for frame in frames) / 2**20
        rss_before_start = rss_mb()
        service.start()
        sim.person_arrives(NORMAL_SKIN_C)
        time.sleep(0.5)  # the thermometer has seen the person: "thermometer ready"
        latencies: list[float] = []
        rss_at_100 = 0.0
        rss_end = 0.0
        failures = 0
        failure_reasons: dict[str, int] = {}
        started = time.monotonic()
        try:
            for n in range(total):
                before_pulses = len(sim.turnstile.pulses)
                before_records = len(records)
                sim.camera.show(pool[n % pool_size])
                deadline = time.monotonic() + 5.0
                while len(sim.turnstile.pulses) == before_pulses and time.monotonic() < deadline:
                    if len(records) > before_records and records[-1].verdict != "pass":
                        break
                    time.sleep(0.0005)
                if len(sim.turnstile.pulses) > before_pulses and sim.camera.first_capture_at:
                    if n < timed:
                        first = sim.camera.first_capture_at
                        latencies.append((sim.turnstile.pulses[before_pulses] - first) * 1000)
                else:
                    failures += 1
                    decided = len(records) > before_records
                    why = ",".join(records[-1].reasons) if decided else "no decision within 5 s"
                    failure_reasons[why] = failure_reasons.get(why, 0) + 1
                service.controller.wait_idle(5.0)
                sim.camera.show_nothing()
                time.sleep(0.035)  # the empty scene reaches the scanner before the next phone
                trim_simulator_logs(sim, records)
                if n + 1 == 100:
                    rss_at_100 = rss_mb()
                if n + 1 == total:
                    rss_end = rss_mb()
                if (n + 1) % 1000 == 0:
                    print(f"  {n + 1} presentations, RSS {rss_mb():.1f} MB", flush=True)
        finally:
            service.stop()
            if broker is not None:
                broker.stop()
        elapsed = time.monotonic() - started

    p50, p95 = statistics.median(latencies), percentile(latencies, 0.95)
    d50, d95 = statistics.median(decode_ms), percentile(decode_ms, 0.95)
    print(f"presentations: {total} in {elapsed:.0f} s ({failures} without a relay pulse)")
    for why, count in sorted(failure_reasons.items(), key=lambda item: -item[1]):
        print(f"  {count} x {why}")
    print(f"first frame → relay over {len(latencies)}: p50 {p50:.1f} ms, p95 {p95:.1f} ms")
    print(f"decode only (same frames):            p50 {d50:.1f} ms, p95 {d95:.1f} ms")
    print(f"ratio end-to-end / decode-only (p50): {p50 / d50:.2f}x")
    print(f"target p95 ≤ {P95_TARGET_MS:.0f} ms: {'met' if p95 <= P95_TARGET_MS else 'NOT met'}")
    if rss_at_100:
        growth = (rss_end - rss_at_100) / rss_at_100 * 100
        print(
            f"RSS after 100: {rss_at_100:.1f} MB, after {total}: {rss_end:.1f} MB "
            f"({growth:+.1f} %, target within 10 %)"
        )
        print(
            f"  (the process includes the simulator: {pool_mb:.0f} MB of rendered frames; "
            f"RSS before the service started: {rss_before_start:.1f} MB)"
        )
    return 0 if failures == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
