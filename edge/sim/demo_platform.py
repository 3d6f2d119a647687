"""The demo's second gate: verification online against reference platforms of two provinces,
the no-phone ID-card path, an online-only token, and the platform going silent mid-queue."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal, TextIO

from edge.app.config import Config, parse_config
from edge.app.gate import GateService
from edge.clock import SystemClock
from edge.core.records import DecisionRecord
from edge.sim.credentials import SimCredentials
from edge.sim.network import SilentPort
from edge.sim.rig import SimGate, render_code_frames
from edge.sim.scenario import NORMAL_SKIN_C, demo_gate_settings
from edge.wire.idcard import check_character

GATE_ONLINE = "gate-2"
APP_ID = "demo-operator"
TOKEN = "PLT1:7f3a9c0e5b2d4a61"  # noqa: S105  (opaque demo codes, not passwords)
LATE_TOKEN = "PLT1:0c81d2e4f6a83b57"  # noqa: S105
_DECISION_TIMEOUT_S = 15.0


def demo_id(first17: str) -> str:
    """A resident ID number of the demo's made-up people (valid check character)."""
    return first17 + check_character(first17)


ELDER = demo_id("15010219400315002")  # Inner Mongolia (15): the default platform
VISITOR_BEIJING = demo_id("11010519621120003")  # Beijing (11): routed to its own platform
NEIGHBOUR = demo_id("15020319480707004")


@dataclass(frozen=True)
class OnlineStep:
    """One presentation at the online gate and what it must decide."""

    label: str
    kind: Literal["card", "code"]
    value: str = ""  # ID number or QR text; codes of kind "code" may be filled in at run time
    decision: str = "pass"
    reasons: tuple[str, ...] = ()
    platform: Literal["up", "silent"] = "up"


STEPS = (
    OnlineStep("elderly, ID card only", "card", ELDER),
    OnlineStep("ID from Beijing (routed)", "card", VISITOR_BEIJING),
    OnlineStep("online-only QR token", "code", TOKEN),
    OnlineStep("green code, asked online", "code"),
    OnlineStep("silent: green code", "code", platform="silent"),
    OnlineStep("silent: ID card", "card", NEIGHBOUR, "deny", ("platform_unavailable",), "silent"),
    OnlineStep("silent: QR token", "code", LATE_TOKEN, "deny", ("platform_unavailable",), "silent"),
    OnlineStep("breaker open: green code", "code", platform="silent"),
    OnlineStep(
        "breaker open: ID card", "card", NEIGHBOUR, "deny", ("platform_unavailable",), "silent"
    ),
)


class _Platforms:
    """Two reference platforms (Inner Mongolia, the default route, and Beijing)."""

    def __init__(self, directory: Path) -> None:
        from central.platform.api import PlatformSetup  # noqa: PLC0415  (central extra)
        from central.platform.privacy import load_or_create_key  # noqa: PLC0415
        from central.platform.server import RunningPlatform  # noqa: PLC0415
        from central.platform.store import PlatformStore  # noqa: PLC0415

        directory.mkdir(parents=True, exist_ok=True)
        self.secret = b"demo-shared-secret-0123456789"
        self.stores: dict[str, PlatformStore] = {}
        self.keys: dict[str, bytes] = {}
        self.running: dict[str, RunningPlatform] = {}
        for issuer in ("CN-150000", "CN-110000"):
            store = PlatformStore(str(directory / f"platform-{issuer}.db"))
            store.put_app(APP_ID, self.secret.decode())
            key = load_or_create_key(directory / f"platform-{issuer}.key")
            self.stores[issuer], self.keys[issuer] = store, key
            self.running[issuer] = RunningPlatform(PlatformSetup(store, key, issuer, ttl_s=30))
        self.silent: SilentPort | None = None

    def start(self) -> None:
        for platform in self.running.values():
            platform.start()

    def url(self, issuer: str) -> str:
        return str(self.running[issuer].url)

    def register(self, issuer: str, kind: str, value: str, status: str, name: str = "") -> None:
        from central.platform.privacy import lookup_key, mask_name  # noqa: PLC0415
        from central.platform.store import Record  # noqa: PLC0415

        record = Record(status, issuer, mask_name(name) if name else None, int(time.time() * 1000))
        key = lookup_key(self.keys[issuer], kind, value)
        if kind == "id_card":
            self.stores[issuer].put_holder(key, record)
        else:
            self.stores[issuer].put_token(key, record)

    def go_silent(self) -> None:
        """The default platform's server dies; its address stays, answering nothing."""
        running = self.running["CN-150000"]
        if self.silent is None:
            running.stop()
            self.silent = SilentPort(running.host, running.port)

    def stop(self) -> None:
        if self.silent is not None:
            self.silent.close()
        else:
            self.running["CN-150000"].stop()
        self.running["CN-110000"].stop()
        for store in self.stores.values():
            store.close()


def online_config(state: Path, root: Path, broker_url: str | None, platforms: _Platforms) -> Config:
    """The online gate: codes HCN1 and PLT1 asked online, ID numbers by province."""
    (state / "platform.secret").write_bytes(platforms.secret)
    settings = demo_gate_settings(GATE_ONLINE, "error", state, root, broker_url)
    settings["mqtt"]["client_id"] = "gate-edge-demo-online"
    settings["platform"] = {
        "url": platforms.url("CN-150000"),
        "app_id": APP_ID,
        "app_secret_file": "platform.secret",
        "timeout_ms": 1000,
        "fallback": "offline",
        "code_prefixes": ["HCN1:", "PLT1:"],
        "routes": [{"id_prefix": "11", "url": platforms.url("CN-110000")}],
    }
    return parse_config(settings)


def run_online_gate(
    directory: Path, broker_url: str | None, out: TextIO, pace_s: float
) -> list[tuple[OnlineStep, DecisionRecord | None]]:
    """Run the online gate's steps; returns each step with its decision."""
    try:
        platforms = _Platforms(directory / "central")
    except ImportError:
        print("\n(online gate skipped: the reference platform needs the 'central' extra)", file=out)
        return []
    clock = SystemClock()
    creds = SimCredentials.generate()
    state = directory / GATE_ONLINE
    root = creds.write(state, clock.now())
    platforms.start()
    try:
        platforms.register("CN-150000", "id_card", ELDER, "green", "王秀英")
        platforms.register("CN-150000", "id_card", NEIGHBOUR, "green", "刘长有")
        platforms.register("CN-110000", "id_card", VISITOR_BEIJING, "green", "陈建国")
        platforms.register("CN-150000", "qr_code", TOKEN, "green")
        platforms.register("CN-150000", "qr_code", LATE_TOKEN, "green")
        steps = []
        for scripted in STEPS:
            step = scripted
            if step.kind == "code" and not step.value:
                code = creds.issue("green", clock.now())
                platforms.register("CN-150000", "qr_code", code, "green")
                step = replace(step, value=code)
            steps.append(step)
        config = online_config(state, root, broker_url, platforms)
        return _run(config, steps, platforms, out, pace_s)
    finally:
        platforms.stop()


def _run(
    config: Config,
    steps: list[OnlineStep],
    platforms: _Platforms,
    out: TextIO,
    pace_s: float,
) -> list[tuple[OnlineStep, DecisionRecord | None]]:
    clock = SystemClock()
    sim = SimGate(clock)
    records: list[DecisionRecord] = []
    decided = threading.Event()

    def on_decision(record: DecisionRecord) -> None:
        if record.outcome is None:
            records.append(record)
            decided.set()

    service = GateService(config, sim.hardware, clock=clock, on_decision=on_decision)
    print(
        f"\ngate demo-site/{GATE_ONLINE}: online verification (platforms CN-150000, "
        "CN-110000 for IDs starting 11; budget 1000 ms, fallback offline)\n",
        file=out,
    )
    header = (
        f"{'#':>2}  {'visitor':<26} {'method':<7} {'path':<7} {'issuer':<10} {'colour':<7} "
        f"{'temp °C':>7}  {'result':<6} {'reasons':<21} {'platform':>8}"
    )
    print(header, file=out)
    print("-" * len(header), file=out)
    results: list[tuple[OnlineStep, DecisionRecord | None]] = []
    service.start()
    try:
        for index, step in enumerate(steps, 1):
            if step.platform == "silent" and platforms.silent is None:
                platforms.go_silent()
                print("    -- platform CN-150000 goes silent (accepts, never answers) --", file=out)
            decided.clear()
            before = len(records)
            sim.person_arrives(NORMAL_SKIN_C)
            time.sleep(0.25)
            if step.kind == "card":
                sim.card_reader.swipe(step.value)
            else:
                sim.camera.show(render_code_frames(step.value, 100 + index))
            deadline = time.monotonic() + _DECISION_TIMEOUT_S
            while len(records) == before and time.monotonic() < deadline:
                decided.wait(0.1)
            record = records[before] if len(records) > before else None
            service.controller.wait_idle(_DECISION_TIMEOUT_S)
            sim.person_leaves()
            results.append((step, record))
            _row(out, index, step, record, service)
            time.sleep(pace_s)
        if service.publisher is not None:
            service.publisher.wait_drained(10.0)
    finally:
        service.stop()
    return results


def _row(
    out: TextIO, index: int, step: OnlineStep, record: DecisionRecord | None, service: Any
) -> None:
    if record is None:
        print(f"{index:>2}  {step.label:<26} (no decision)", file=out)
        return
    temp = f"{record.temperature_c:.1f}" if record.temperature_c is not None else "-"
    platform_ms = record.timings_ms.get("platform_ms")
    waited = f"{platform_ms:.0f} ms" if platform_ms is not None else "-"
    breakers = service.credentials.client.breakers() if service.credentials.client else {}
    note = "  (breaker open)" if "open" in breakers.values() else ""
    print(
        f"{index:>2}  {step.label:<26} {record.method:<7} {record.path or '-':<7} "
        f"{record.issuer or '-':<10} {record.colour or '-':<7} {temp:>7}  "
        f"{'PASS' if record.verdict == 'pass' else 'DENY':<6} "
        f"{','.join(record.reasons) or '-':<21} {waited:>8}{note}",
        file=out,
        flush=True,
    )
