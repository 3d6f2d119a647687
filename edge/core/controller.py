"""The gate's state machine: one presentation at a time, from code read to cooldown, failing shut.

idle → code_read → (identity) → temperature → decision → signal → relay → passage → cooldown → idle.
Every wait is bounded by a policy timeout. One presentation is handled at a time: a scan or manual
request that arrives while the gate is busy (including its cooldown) is dropped and the call
returns False; the scanner's debounce means the person simply presents again.

Without start() each request runs in the caller's thread; after start() requests are handed to a
worker thread and the call returns at once (needed for callers such as the MQTT network thread).
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable
from dataclasses import replace

from edge.clock import Clock
from edge.core.decision import (
    Decision,
    DecisionInput,
    ManualPresentation,
    ManualSource,
    Presentation,
    ScanMethod,
    ScanPresentation,
    decide,
    screen,
)
from edge.core.fault_board import FaultBoard, FaultObserver
from edge.core.faults import faults_blocking
from edge.core.identity import IdentityOutcome
from edge.core.passback import PassbackLedger
from edge.core.records import (
    ControllerStatus,
    DecisionRecord,
    GateState,
    decision_event,
    decision_record,
)
from edge.core.settings import PolicySettings
from edge.core.steps import GateDevices, PresentationSteps, to_ms
from edge.core.worker import SingleFlight
from edge.credentials.result import VerificationResult
from edge.events import EventSink
from edge.faults import Fault
from edge.thermo.reading import TemperatureReading

log = logging.getLogger(__name__)

DecisionListener = Callable[[DecisionRecord], None]
StateListener = Callable[[GateState], None]


class GateController:
    """Drives one turnstile from verified presentations; every dependency is injected."""

    def __init__(
        self,
        *,
        policy: PolicySettings,
        devices: GateDevices,
        events: EventSink,
        clock: Clock,
        draw: Callable[[], float] = random.random,
        ledger: PassbackLedger | None = None,
        on_decision: DecisionListener | None = None,
    ) -> None:
        self._policy = policy
        self._clock = clock
        self.ledger = ledger if ledger is not None else PassbackLedger(policy.anti_passback_s)
        self._listeners: list[DecisionListener] = [on_decision] if on_decision else []
        self._state_listeners: list[StateListener] = []
        self._faults = FaultBoard(events, clock)
        self._flight = SingleFlight("gate-controller", on_tick=self._beat)
        self._lock = threading.Lock()
        self._state = GateState.IDLE
        self._heartbeat = clock.monotonic()
        self._counts = {"presentations": 0, "passes": 0, "denies": 0}
        self._steps = PresentationSteps(
            policy=policy,
            devices=devices,
            events=events,
            clock=clock,
            faults=self._faults,
            ledger=self.ledger,
            enter=self._set_state,
            draw=draw,
        )

    # ---- requests -------------------------------------------------------------------------

    def handle_scan(
        self,
        text_source: ScanMethod,
        verification: VerificationResult,
        decode_ms: float,
        frame_time: float,
    ) -> bool:
        """Handle a verified code; frame_time is the monotonic capture (or line) time.

        Returns False when dropped because a presentation is in progress.
        """
        timings = {"decode_ms": float(decode_ms)}
        if verification.platform_ms is not None:
            timings["platform_ms"] = float(verification.platform_ms)
        presentation = ScanPresentation(verification, text_source)
        return self._submit(presentation, frame_time, timings)

    def handle_manual(self, operator: str, source: ManualSource, command_id: str | None) -> bool:
        """Handle a manual pass (button or authenticated central command); False when dropped."""
        return self._submit(ManualPresentation(operator, source, command_id), None, {})

    def add_listener(self, listener: DecisionListener) -> None:
        """Call `listener` with every DecisionRecord (exceptions are logged, never propagated)."""
        self._listeners.append(listener)

    def watch_state(self, listener: StateListener) -> None:
        """Call `listener` with every state entered, on the controller's thread: it must only
        note the state and return (exceptions are logged, never propagated)."""
        self._state_listeners.append(listener)

    # ---- faults and status ----------------------------------------------------------------

    def report_fault(self, fault: Fault, detail: str) -> None:
        """Latch a fault: the presentations it blocks are denied with its name until cleared."""
        self._faults.report(fault, detail)

    def announce_fault(self, reason: Fault, detail: str) -> None:
        """A fault that hit one read, not the gate: a fault event, listed on status for a while,
        never latched."""
        self._faults.announce(reason, detail)

    def clear_fault(self, fault: Fault) -> None:
        """Clear a latched fault (emits a fault event with detail "cleared")."""
        self._faults.clear(fault)

    def watch_faults(self, observer: FaultObserver) -> None:
        """Push what the status should show (latched and recent faults) to `observer`: once
        now, then after every change."""
        self._faults.watch(observer)

    def expire_faults(self) -> None:
        """Let recent faults older than their window leave what the observers are shown."""
        self._faults.expire()

    def reprobe(self) -> None:
        """Between presentations, re-try faulted parts that are safe to probe (the lamps and
        buzzer, switched off); a part that answers has its fault cleared."""
        if "indicator_fault" in self._faults.reasons() and not self._flight.busy:
            self._flight.submit(self._steps.reprobe_indicators)

    @property
    def faults(self) -> dict[str, str]:
        """Active faults: reason -> detail."""
        return self._faults.active()

    def status(self) -> ControllerStatus:
        """A snapshot of state, faults and counters."""
        faults = self._faults.active()
        with self._lock:
            return ControllerStatus(
                state=self._state,
                faults=faults,
                presentations=self._counts["presentations"],
                passes=self._counts["passes"],
                denies=self._counts["denies"],
                dropped=self._flight.dropped,
                heartbeat=self._heartbeat,
            )

    def heartbeat(self) -> float:
        """Monotonic time of the last sign of life (state change or idle tick of the worker)."""
        with self._lock:
            return self._heartbeat

    @property
    def longest_wait_s(self) -> float:
        """The longest a single step may block; a watchdog must tolerate this between beats."""
        p = self._policy
        return max(
            p.identity_timeout_s,
            p.temperature_timeout_s,
            p.passage_timeout_s,
            p.cooldown_s + p.deny_signal_s,
        )

    # ---- worker ---------------------------------------------------------------------------

    def start(self) -> None:
        """Handle requests on a worker thread from now on."""
        self._flight.start()

    def worker_alive(self) -> bool:
        """The presentation worker thread runs (True before start())."""
        return self._flight.alive()

    def revive_worker(self) -> None:
        """Start the presentation worker again if its thread died (not after close())."""
        self._flight.revive()

    def wait_idle(self, timeout_s: float) -> bool:
        """Block until no presentation is in progress (True) or the timeout passes (False)."""
        return self._flight.wait_idle(timeout_s)

    def close(self, timeout_s: float = 5.0) -> None:
        """Refuse new requests, let the current presentation finish within timeout_s, release
        the relay and switch the indicators off. The drivers are closed by their owner."""
        self._flight.stop(timeout_s)
        self._steps.release_relay()
        self._steps.indicators_off()

    def _submit(
        self, presentation: Presentation, frame_time: float | None, timings: dict[str, float]
    ) -> bool:
        accepted = self._flight.submit(lambda: self._process(presentation, frame_time, timings))
        if not accepted:
            log.info("busy: dropped a %s presentation", _method_name(presentation))
        return accepted

    # ---- one presentation -----------------------------------------------------------------

    def _process(
        self, presentation: Presentation, frame_time: float | None, timings: dict[str, float]
    ) -> None:
        try:
            self._present(presentation, frame_time, dict(timings))
        except Exception:
            log.exception("presentation failed; the gate stays shut")
            self._steps.release_relay()
            self._faults.announce(
                Fault.CONTROLLER_FAULT, "presentation aborted by an internal error"
            )
        finally:
            self._steps.indicators_off()
            self._set_state(GateState.IDLE)

    def _present(
        self, presentation: Presentation, frame_time: float | None, timings: dict[str, float]
    ) -> None:
        clock, policy, steps = self._clock, self._policy, self._steps
        started = self._set_state(GateState.CODE_READ)
        if frame_time is not None:
            timings["frame_to_controller_ms"] = to_ms(started - frame_time)
        transient: list[str] = []
        identity: IdentityOutcome = "not_required"
        reading: TemperatureReading | None = None
        if not screen(presentation, self._blocking(presentation), policy, self.ledger, started):
            # An ID card presented alone is the identity itself: nothing to match it with.
            if isinstance(presentation, ScanPresentation) and presentation.method != "id_card":
                identity = steps.check_identity(presentation.verification, timings, transient)
            if identity in ("not_required", "matched") and not transient:
                reading = steps.measure(timings, transient)
        decided = self._set_state(GateState.DECISION)
        faults = self._blocking(presentation) + tuple(transient)
        request = DecisionInput(presentation, reading, identity, faults)
        decision = decide(request, policy, self.ledger, decided)
        timings["decision_ms"] = to_ms(clock.monotonic() - decided)
        if frame_time is not None:
            timings["frame_to_decision_ms"] = to_ms(clock.monotonic() - frame_time)

        # Fail closed: the decision must be stored durably before the gate may open.
        event = decision_event(presentation, decision, reading, timings, identity)
        emitted = steps.emit(event)
        if not emitted and decision.passed:
            decision = replace(decision, verdict="deny", reasons=("storage_fault",))
        record = decision_record(
            number=self._count(decision),
            at=clock.now(),
            presentation=presentation,
            decision=decision,
            reading=reading,
            identity=identity,
            timings_ms=timings,
            emitted=emitted,
        )
        self._notify(record)

        self._set_state(GateState.SIGNAL)
        if decision.passed:
            steps.show_pass(on=True)
            # open_gate re-checks the latched faults just before pulsing the relay.
            outcome = steps.open_gate(presentation, decision, frame_time)
            if outcome is not None:
                self._notify(replace(record, outcome=outcome))
            steps.show_pass(on=False)
        else:
            steps.signal_deny()
        self._set_state(GateState.COOLDOWN)
        clock.sleep(policy.cooldown_s)

    # ---- helpers --------------------------------------------------------------------------

    def _blocking(self, presentation: Presentation) -> tuple[str, ...]:
        """The latched faults that keep this presentation shut (see the fault catalogue)."""
        return blocking_for(self._faults.reasons(), presentation)

    def _beat(self) -> None:
        with self._lock:
            self._heartbeat = self._clock.monotonic()

    def _set_state(self, state: GateState) -> float:
        now = self._clock.monotonic()
        with self._lock:
            self._state = state
            self._heartbeat = now
        for listener in self._state_listeners:
            try:
                listener(state)
            except Exception:
                log.exception("state listener failed")
        return now

    def _count(self, decision: Decision) -> int:
        with self._lock:
            self._counts["presentations"] += 1
            self._counts["passes" if decision.passed else "denies"] += 1
            return self._counts["presentations"]

    def _notify(self, record: DecisionRecord) -> None:
        for listener in list(self._listeners):
            try:
                listener(record)
            except Exception:
                log.exception("decision listener failed")


def blocking_for(reasons: tuple[str, ...], presentation: Presentation) -> tuple[str, ...]:
    """The reasons among `reasons` that block this presentation."""
    source = presentation.source if isinstance(presentation, ManualPresentation) else None
    return faults_blocking(reasons, _method_name(presentation), source)


def _method_name(presentation: Presentation) -> str:
    return "manual" if isinstance(presentation, ManualPresentation) else presentation.method
