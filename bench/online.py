"""Benchmark: what asking the platform adds to a decision, and what a black-holed platform costs.

Usage: python bench/online.py [--quick]. The reference platform runs as its own process
(`gate-central platform serve`, SQLite) on loopback. Figures:
- an online decision (ID card → platform → mapped result) beside an offline one (HCN1 code →
  trust list → result) in the same run: p50/p95, and the difference (the added latency);
- the decision time while the platform is black-holed (accepts, never answers), for the
  presentations before the circuit breaker opens (each waits the whole budget) and after.
"""

from __future__ import annotations

import argparse
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from central.platform.privacy import load_or_create_key, lookup_key
from central.platform.store import PlatformStore, Record
from edge.clock import SystemClock
from edge.credentials.formats import gate_verifiers
from edge.platform.cache import AnswerCache
from edge.platform.client import PlatformClient
from edge.platform.dispatch import CredentialDispatch
from edge.platform.settings import PlatformSettings
from edge.platform.verifier import CredentialChecker
from edge.sim.credentials import SimCredentials
from edge.sim.network import SilentPort
from edge.storage.trust_store import TrustStore
from edge.wire.idcard import check_character

APP_ID = "bench-operator"
SECRET = b"bench-shared-secret-0123456789"
HOLDER = "15010219400315002" + check_character("15010219400315002")
BUDGET_MS = 3000


def percentiles(samples: list[float]) -> tuple[float, float]:
    """Median and 95th percentile of `samples`."""
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]


def timed(action: Callable[[], object], count: int) -> list[float]:
    """Time `count` calls of `action`, ms each."""
    samples = []
    for _ in range(count):
        began = time.perf_counter()
        action()
        samples.append((time.perf_counter() - began) * 1000.0)
    return samples


def free_port() -> int:
    """A TCP port free on loopback now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_platform(directory: Path) -> tuple[subprocess.Popen[bytes], str]:
    """Start the simulated platform with one app and one holder; return its process and URL."""
    db = directory / "platform.db"
    store = PlatformStore(str(db))
    store.put_app(APP_ID, SECRET.decode())
    key = load_or_create_key(Path(f"{db}.lookup-key"))
    record = Record("green", "CN-150000", "王*英", int(time.time() * 1000))
    store.put_holder(lookup_key(key, "id_card", HOLDER), record)
    store.close()
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "central",
            "platform",
            "serve",
            "--db",
            str(db),
            "--port",
            str(port),
        ],
        stdout=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            httpx.get(url, timeout=1)
            return process, url
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise SystemExit("the platform did not start") from None
            time.sleep(0.1)


def checker(url: str, prefixes: list[str], budget_ms: int = BUDGET_MS) -> CredentialChecker:
    """A platform checker for `url` answering for `prefixes` within `budget_ms`."""
    clock = SystemClock()
    config = PlatformSettings(
        url=url,
        app_id=APP_ID,
        app_secret_file="unused",
        timeout_ms=budget_ms,
        code_prefixes=prefixes,
    )
    client = PlatformClient(config, SECRET, "bench/1", clock, cache=AnswerCache(clock, max_s=0))
    return CredentialChecker(config, client, b"gate-reference-key")


def trust_store(
    directory: Path, platform: CredentialChecker, prefixes: list[str]
) -> CredentialDispatch:
    """The gate's verifier over the trust files in `directory`, the platform's prefixes first."""
    clock = SystemClock()
    store = TrustStore(
        (directory / "trust-root.pub.pem").read_bytes(),
        directory / "trust-list.json",
        directory / "denylist.json",
        clock,
    )
    store.load()
    return CredentialDispatch(
        gate_verifiers(), store.snapshot, clock, 30, platform=platform, prefixes=prefixes
    )


def main() -> int:
    """Run the online verification benches against a local platform and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a few seconds' smoke run")
    args = parser.parse_args()
    count = 20 if args.quick else 1000
    budget_ms = 300 if args.quick else BUDGET_MS
    with tempfile.TemporaryDirectory(prefix="bench-platform-") as tmp:
        directory = Path(tmp)
        creds = SimCredentials.generate()
        creds.write(directory, time.time())
        code = creds.issue("green", time.time(), ttl_s=3600)
        process, url = start_platform(directory)
        try:
            online = checker(url, [])
            offline_store = trust_store(directory, online, [])
            assert online.verify_id(HOLDER).colour == "green"
            assert offline_store.verify(code).colour == "green"
            timed(lambda: online.verify_id(HOLDER), 20)  # connections and caches warm
            offline = timed(lambda: offline_store.verify(code), count)
            asked = timed(lambda: online.verify_id(HOLDER), count)
        finally:
            process.terminate()
            process.wait(10)
        off50, off95 = percentiles(offline)
        on50, on95 = percentiles(asked)
        print(f"decisions over loopback, {count} each (platform: gate-central, SQLite):")
        print(f"  offline (HCN1 code, trust list)   p50 {off50:7.2f} ms  p95 {off95:7.2f} ms")
        print(f"  online  (ID card, platform)       p50 {on50:7.2f} ms  p95 {on95:7.2f} ms")
        added50, added95 = on50 - off50, on95 - off95
        print(f"  added by the platform             p50 {added50:7.2f} ms  p95 {added95:7.2f} ms")

        hole = SilentPort()
        try:
            silent = checker(hole.url, ["HCN1:"], budget_ms)
            store = trust_store(directory, silent, ["HCN1:"])
            before = timed(lambda: store.verify(code), 3)  # each waits the whole budget
            assert silent.client is not None and "open" in silent.client.breakers().values()
            after = timed(lambda: store.verify(code), count)
            result = store.verify(code)
        finally:
            hole.close()
        assert (result.valid, result.path) == (True, "offline")
        a50, a95 = percentiles(after)
        print(f"platform black-holed (budget {budget_ms} ms, fallback offline, HCN1 code):")
        print(
            "  before the breaker opens          "
            + ", ".join(f"{sample:.0f} ms" for sample in before)
        )
        print(f"  after (breaker open), {count:>4}       p50 {a50:7.2f} ms  p95 {a95:7.2f} ms")
        print(f"  baseline: offline decision       p50 {off50:7.2f} ms  p95 {off95:7.2f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
