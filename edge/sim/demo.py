"""`gate-edge demo`: the whole gate on simulated hardware, scripted visitors, a live table."""

from __future__ import annotations

import json
import logging
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from edge.app.config import Config, parse_config
from edge.app.gate import GateService
from edge.clock import SystemClock
from edge.core.records import DecisionRecord
from edge.errors import GateEdgeError
from edge.screen.audio import Prompt, PromptLog
from edge.sim.broker import BrokerUnavailableError, LocalBroker
from edge.sim.credentials import SimCredentials
from edge.sim.demo_platform import OnlineStep, run_online_gate
from edge.sim.gateio_rig import fit_gateio_board
from edge.sim.rig import SimGate, render_code_frames
from edge.sim.scenario import DEMO_SITE, Step, demo_gate_settings, demo_scenario
from edge.wire.topics import GateTopics

log = logging.getLogger(__name__)

SITE, GATE = DEMO_SITE, "gate-1"
_DECISION_TIMEOUT_S = 15.0

StepObserver = Callable[[int, "Step | None", "DecisionRecord | None", GateService], None]
"""Called once the gate has started (index 0, no step) and after each visitor, while the
decision is still on the screen."""


@dataclass
class DemoOutcome:
    """What happened, step by step, and what central received."""

    rows: list[tuple[Step, DecisionRecord | None]] = field(default_factory=list)
    online_rows: list[tuple[OnlineStep, DecisionRecord | None]] = field(default_factory=list)
    central_events: list[dict[str, Any]] = field(default_factory=list)
    broker_url: str | None = None

    @property
    def mismatches(self) -> list[str]:
        """Steps whose decision differed from the script."""
        wrong = []
        for step, record in self.rows:
            if record is None:
                wrong.append(f"{step.label}: no decision")
            elif (record.verdict, record.reasons) != (step.decision, step.reasons):
                wrong.append(f"{step.label}: {record.verdict} {record.reasons}")
        for online, record in self.online_rows:
            if record is None:
                wrong.append(f"{online.label}: no decision")
            elif (record.verdict, record.reasons) != (online.decision, online.reasons):
                wrong.append(f"{online.label}: {record.verdict} {record.reasons}")
        return wrong


def demo_config(state_dir: Path, root_key: Path, broker_url: str | None) -> Config:
    """A gate configured for simulated hardware with short, demo-friendly timings."""
    settings = demo_gate_settings(GATE, "warning", state_dir, root_key, broker_url)
    settings["mqtt"]["telemetry_interval_s"] = 5.0
    # The next visitor replaces a decision at once; until then it stays (for a test to look).
    settings["screen"] = {"enabled": True, "listen": "127.0.0.1:0", "decision_hold_s": 10.0}
    settings["voice"] = {"enabled": True}
    return parse_config(settings)


class _Table:
    """Prints one line per decision as it happens."""

    HEADER = f"{'#':>2}  {'visitor':<24} {'method':<7} {'issuer':<10} {'colour':<7} "
    HEADER += f"{'temp °C':>7}  {'result':<6} {'reasons':<18} {'frame→relay':>11}"

    def __init__(self, out: TextIO) -> None:
        self.out = out

    def header(self) -> None:
        print(self.HEADER, file=self.out)
        print("-" * len(self.HEADER), file=self.out)

    def row(
        self, index: int, step: Step, record: DecisionRecord | None, relay_ms: float | None
    ) -> None:
        if record is None:
            print(f"{index:>2}  {step.label:<24} (no decision)", file=self.out)
            return
        temp = f"{record.temperature_c:.1f}" if record.temperature_c is not None else "-"
        verdict = "PASS" if record.verdict == "pass" else "DENY"
        latency = f"{relay_ms:.0f} ms" if relay_ms is not None else ""
        print(
            f"{index:>2}  {step.label:<24} {record.method:<7} {record.issuer or '-':<10} "
            f"{record.colour or '-':<7} {temp:>7}  {verdict:<6} "
            f"{','.join(record.reasons) or '-':<18} {latency:>11}",
            file=self.out,
            flush=True,
        )

    def voice(self, prompts: list[Prompt]) -> None:
        languages = dict.fromkeys(prompt.language for prompt in prompts)
        for language in languages:
            texts = [prompt.text for prompt in prompts if prompt.language == language]
            print(f"    voice {language}: {' | '.join(texts)}", file=self.out, flush=True)


def _central_subscriber(url: str, outcome: DemoOutcome) -> mqtt.Client:
    host, port = url.removeprefix("mqtt://").rsplit(":", 1)
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="demo-central")
    topic = GateTopics(SITE, "+").events  # every gate of the demo site

    def on_connect(c: mqtt.Client, userdata: Any, flags: Any, rc: Any, props: Any) -> None:
        c.subscribe(topic, qos=1)

    def on_message(c: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        outcome.central_events.append(json.loads(message.payload))

    client.on_connect = on_connect
    client.on_message = on_message
    client.connect(host, int(port))
    client.loop_start()
    return client


def run_demo(
    out: TextIO = sys.stdout,
    *,
    use_broker: bool = True,
    broker_url: str | None = None,
    pace_s: float = 0.3,
    gateio: bool = False,
    online_gate: bool = True,
    observer: StepObserver | None = None,
) -> DemoOutcome:
    """Run the scripted scenario end to end; returns what was decided and received.

    Starts its own mosquitto unless `broker_url` names one (or use_broker is False). With
    `gateio` the relay, inputs and lamps sit on a gate I/O board running the firmware's logic
    behind a pty, driven by the real host driver. Then, with `online_gate`, a second gate
    verifies online against reference platforms. The first gate serves its visitor screen on
    a free port and logs the voice prompts it would play; `observer` sees each of its visitors."""
    outcome = DemoOutcome(broker_url=broker_url)
    with tempfile.TemporaryDirectory(prefix="gate-edge-demo-") as tmp:
        state = Path(tmp)
        clock = SystemClock()
        creds = SimCredentials.generate()
        scenario = demo_scenario(creds, clock.now())
        root = creds.write(state, clock.now(), revoked=list(scenario.revoked))
        broker: LocalBroker | None = None
        if use_broker and broker_url is None:
            broker = LocalBroker()
            try:
                broker.start()
                outcome.broker_url = broker.url
            except BrokerUnavailableError as exc:
                print(f"No local broker ({exc}); events stay in the outbox.", file=out)
                broker = None
        central = _central_subscriber(outcome.broker_url, outcome) if outcome.broker_url else None
        try:
            _run_steps(
                state,
                root,
                scenario.steps,
                outcome,
                out,
                pace_s=pace_s,
                gateio=gateio,
                observer=observer,
            )
            if online_gate:
                outcome.online_rows = run_online_gate(
                    state / "online", outcome.broker_url, out, pace_s
                )
        finally:
            if central is not None:
                _await_central(outcome)
                central.loop_stop()
                central.disconnect()
            if broker is not None:
                broker.stop()
    return outcome


def _await_central(outcome: DemoOutcome) -> None:
    """Give the broker a moment to hand central every decision and passage event."""
    records = [record for _, record in outcome.rows]
    records += [record for _, record in outcome.online_rows]
    decided = [record for record in records if record is not None]
    expected = len(decided) + sum(1 for record in decided if record.verdict == "pass")
    deadline = time.monotonic() + 5.0
    while len(outcome.central_events) < expected and time.monotonic() < deadline:
        time.sleep(0.05)


def _run_steps(
    state: Path,
    root: Path,
    steps: tuple[Step, ...],
    outcome: DemoOutcome,
    out: TextIO,
    *,
    pace_s: float,
    gateio: bool,
    observer: StepObserver | None,
) -> None:
    config = demo_config(state, root, outcome.broker_url)
    clock = SystemClock()
    sim = SimGate(clock)
    board = fit_gateio_board(sim, state / "ttyACM-gateio") if gateio else None
    decided = threading.Event()
    records: list[DecisionRecord] = []

    def on_decision(record: DecisionRecord) -> None:
        records.append(record)
        decided.set()

    voice = PromptLog()
    service = GateService(
        config, sim.hardware, clock=clock, on_decision=on_decision, audio_out=voice
    )
    table = _Table(out)
    if board is None:
        print(f"gate {SITE}/{GATE}: simulated camera, thermometer, relay and turnstile", file=out)
    else:
        print(
            f"gate {SITE}/{GATE}: simulated camera, thermometer and turnstile; relay, inputs "
            f"and lamps on a gate I/O board (firmware logic on {board.link})",
            file=out,
        )
    print(f"events: {outcome.broker_url or 'outbox only'}", file=out)
    service.start()
    screen_url = service.screen.url if service.screen is not None else None
    print(f"visitor screen: {screen_url}; voice prompts below each visitor\n", file=out)
    try:
        if observer is not None:
            observer(0, None, None, service)
        table.header()
        for index, step in enumerate(steps, 1):
            spoken = len(voice.prompts)
            record, relay_ms = _present(sim, service, step, records, decided, seed=index)
            outcome.rows.append((step, record))
            table.row(index, step, record, relay_ms)
            table.voice(voice.prompts[spoken:])
            if observer is not None:
                observer(index, step, record, service)
            time.sleep(pace_s)
        if service.publisher is not None:
            service.publisher.wait_drained(10.0)
    finally:
        exit_code = service.stop()
        log.debug("service stopped with %d", exit_code)
        if board is not None:
            board.stop()


def _present(
    sim: SimGate,
    service: GateService,
    step: Step,
    records: list[DecisionRecord],
    decided: threading.Event,
    *,
    seed: int,
) -> tuple[DecisionRecord | None, float | None]:
    decided.clear()
    before = len(records)
    pulses_before = len(sim.turnstile.pulses)
    sim.person_arrives(step.skin_c)
    time.sleep(0.25)  # the visitor steps up; the thermometer sees them first
    shown_at: float | None = None
    if step.text is None:
        sim.manual_button.press(hold_s=0.1)
    else:
        shown_at = sim.camera.show(render_code_frames(step.text, seed))
    deadline = time.monotonic() + _DECISION_TIMEOUT_S
    while len(records) == before and time.monotonic() < deadline:
        decided.wait(0.1)
    record = records[before] if len(records) > before else None
    service.controller.wait_idle(_DECISION_TIMEOUT_S)
    sim.person_leaves()
    relay_ms = None
    if shown_at is not None and len(sim.turnstile.pulses) > pulses_before:
        relay_ms = (sim.turnstile.pulses[pulses_before] - shown_at) * 1000.0
    return record, relay_ms


LEGEND = """legend:
  PASS / DENY   the gate opened once / stayed shut; reasons are the deny reasons (technician
                guide, section 7); frame→relay is the time from the first camera frame that
                showed the code to the relay pulse
  events        decision: one per presentation; passage: after each PASS, whether the visitor
                walked through (passed) or not (granted_not_passed); fault, prompt: a part
                failed or recovered, the gate asked for a document"""


def event_counts(events: list[dict[str, Any]]) -> list[str]:
    """One line per gate: its events in all, then by kind."""
    by_gate: dict[str, dict[str, int]] = {}
    for event in events:
        kinds = by_gate.setdefault(str(event.get("gate", "?")), {})
        kind = str(event.get("kind", "?"))
        kinds[kind] = kinds.get(kind, 0) + 1
    lines = []
    for gate, kinds in sorted(by_gate.items()):
        detail = ", ".join(f"{count} {kind}" for kind, count in sorted(kinds.items()))
        lines.append(f"{gate}: {sum(kinds.values())} events ({detail})")
    return lines or ["no events"]


def main(out: TextIO = sys.stdout, *, gateio: bool = False) -> int:
    """Run the demo and print a summary; exit 0 when every decision matched the script."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        outcome = run_demo(out, gateio=gateio)
    except GateEdgeError as exc:
        print(f"demo failed: {exc}", file=out)
        return 1
    print("", file=out)
    wrong = outcome.mismatches
    for line in wrong:
        print(f"unexpected: {line}", file=out)
    if outcome.broker_url:
        print("central received over MQTT:", file=out)
        for line in event_counts(outcome.central_events):
            print(f"  {line}", file=out)
    print(LEGEND, file=out)
    print(
        "demo finished: " + ("all decisions as expected" if not wrong else "MISMATCHES"), file=out
    )
    return 0 if not wrong else 1
