"""The hardware-facing steps of one presentation: identity, temperature, relay, passage, signals."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from edge.clock import Clock
from edge.core.decision import Decision, ManualPresentation, Presentation, ScanPresentation
from edge.core.fault_board import FaultBoard
from edge.core.faults import faults_blocking, faults_of_scope
from edge.core.identity import (
    IdentityOutcome,
    discard_stale_lines,
    identity_required,
    match_identity,
    read_document,
)
from edge.core.passback import PassbackLedger
from edge.core.records import GateState, Indicators, passage_event
from edge.core.settings import PolicySettings
from edge.core.temperature import measure_temperature
from edge.credentials.result import VerificationResult
from edge.errors import GateEdgeError
from edge.events import EventSink, GateEvent, PassageOutcome
from edge.faults import Fault
from edge.ports import DigitalInput, DigitalOutput, GateRelay, LineSource
from edge.reasons import Reason
from edge.thermo.reading import BodyThermometer, TemperatureReading

log = logging.getLogger(__name__)

T = TypeVar("T")

PROMPT_BEEP_S = 0.15

StateMarker = Callable[[GateState], float]
"""Enters a state and returns the monotonic time it was entered."""


@dataclass(frozen=True)
class GateDevices:
    """The devices one controller drives: relay and thermometer, and those a gate may lack."""

    relay: GateRelay
    thermometer: BodyThermometer
    identity_source: LineSource | None = None
    passage_input: DigitalInput | None = None
    indicators: Indicators = field(default_factory=Indicators)


def to_ms(seconds: float) -> float:
    """A duration in seconds as milliseconds, rounded to the microsecond."""
    return round(seconds * 1000.0, 3)


class PresentationSteps:
    """Runs each step against its driver; a driver failure becomes a fault reason, never a pass.

    Transient failures (one presentation) are appended to the caller's `transient` list and
    announced; lasting ones are latched on the fault board.
    """

    def __init__(
        self,
        *,
        policy: PolicySettings,
        devices: GateDevices,
        events: EventSink,
        clock: Clock,
        faults: FaultBoard,
        ledger: PassbackLedger,
        enter: StateMarker,
        draw: Callable[[], float],
    ) -> None:
        self._policy = policy
        self._relay = devices.relay
        self._thermometer = devices.thermometer
        self._events = events
        self._clock = clock
        self._faults = faults
        self._ledger = ledger
        self._enter = enter
        self._identity_source = devices.identity_source
        self._passage_input = devices.passage_input
        self._indicators = devices.indicators
        self._draw = draw

    # ---- before the decision --------------------------------------------------------------

    def check_identity(
        self, result: VerificationResult, timings: dict[str, float], transient: list[str]
    ) -> IdentityOutcome:
        """Compare the code's subject with a presented document when the policy asks for it."""
        if not identity_required(self._policy, self._draw()):
            return "not_required"
        if result.issuer is None or result.subject_binding is None:
            return "not_bound"  # nothing to compare with: do not keep the person waiting
        reader_faults = faults_of_scope(self._faults.reasons(), "document")
        if reader_faults:
            transient.extend(reader_faults)  # only presentations that need the reader are shut
            return "missing"
        source = self._identity_source
        # Lines left from earlier people go before the prompt, so none typed after it is lost.
        if source is not None:
            stale = self._guard_reader(discard_stale_lines, source, transient)
            if stale is None:
                source = None  # the reader failed: no document will come
            elif stale:
                log.info("document reader: %d stale line(s) discarded", stale)
        began = self._enter(GateState.IDENTITY)
        document = None
        if source is not None:
            self._prompt(on=True)
            try:
                document = self._guard_reader(self._read_document, source, transient)
            finally:
                self._prompt(on=False)
        timings["identity_ms"] = to_ms(self._clock.monotonic() - began)
        return match_identity(result.issuer, result.subject_binding, document, required=True)

    def _read_document(self, source: LineSource) -> str | None:
        return read_document(source, self._clock, self._policy.identity_timeout_s)

    def _guard_reader(
        self, action: Callable[[LineSource], T], source: LineSource, transient: list[str]
    ) -> T | None:
        try:
            return action(source)
        except Exception as exc:
            log.exception("document reader failed")
            transient.append(Reason.DOCUMENT_READER_FAULT)
            self._faults.announce(Fault.DOCUMENT_READER_FAULT, type(exc).__name__)
            return None

    def measure(self, timings: dict[str, float], transient: list[str]) -> TemperatureReading | None:
        """Take a body temperature reading judged against the fever rule (re-measures included);
        None when the thermometer failed."""
        began = self._enter(GateState.TEMPERATURE)
        try:
            reading = measure_temperature(
                self._thermometer,
                self._clock,
                self._policy.temperature_timeout_s,
                threshold_c=self._policy.fever_threshold_c,
                remeasure=self._policy.remeasure_count,
            )
        except Exception as exc:
            log.exception("thermometer failed")
            transient.append(Reason.SENSOR_FAULT)
            self._faults.announce(Fault.SENSOR_FAULT, type(exc).__name__)
            return None
        finally:
            timings["temperature_ms"] = to_ms(self._clock.monotonic() - began)
        if reading.state == "sensor_fault":
            self._faults.announce(Fault.SENSOR_FAULT, reading.detail or "sensor reported a fault")
        return reading

    # ---- storing events -------------------------------------------------------------------

    def emit(self, event: GateEvent) -> bool:
        """Store an event; a failure latches storage_fault, a later success clears it."""
        try:
            self._events.emit(event)
        except Exception as exc:
            log.exception("event could not be stored")
            self._faults.report(Fault.STORAGE_FAULT, f"{type(exc).__name__}: {exc}")
            return False
        self._faults.clear(Fault.STORAGE_FAULT)
        return True

    # ---- opening the gate -----------------------------------------------------------------

    def open_gate(
        self, presentation: Presentation, decision: Decision, frame_time: float | None
    ) -> PassageOutcome | None:
        """Pulse the relay and watch for the passage.

        A code's pass is recorded for anti-passback, durably, before the relay is energised, so
        a process that dies while the person walks through cannot let the code in again; the
        entry is dropped only when the person did not pass. If it cannot be stored the gate
        stays shut."""
        clock = self._clock
        self._enter(GateState.RELAY)
        timings: dict[str, float] = {}
        # A fault may have appeared since the decision; only those that block this one count.
        source = presentation.source if isinstance(presentation, ManualPresentation) else None
        latched = faults_blocking(self._faults.reasons(), decision.method, source)
        detail: str | None = latched[0] if latched else None
        code = presentation.verification if isinstance(presentation, ScanPresentation) else None
        recorded = not latched and code is not None and self._record_pass(code)
        if not latched and code is not None and not recorded:
            detail = "storage_fault"
        pulsed = False
        if detail is None:
            try:
                self._relay.pulse()
                pulsed = True
            except Exception as exc:
                log.exception("relay pulse failed")
                self._faults.report(Fault.RELAY_FAULT, f"pulse failed: {type(exc).__name__}: {exc}")
                self.release_relay()
                detail = "relay_fault"
        pulsed_at = clock.monotonic()
        if pulsed and frame_time is not None:
            timings["frame_to_relay_ms"] = to_ms(pulsed_at - frame_time)
        outcome: PassageOutcome | None = None if pulsed else "granted_not_passed"
        if pulsed and self._passage_input is not None:
            self._enter(GateState.PASSAGE)
            outcome = "passed" if self._wait_passage(self._passage_input) else "granted_not_passed"
            timings["passage_ms"] = to_ms(clock.monotonic() - pulsed_at)
        # Unmonitored gates count a pulse as a passage; a refused turnstile never does.
        if recorded and code is not None and outcome == "granted_not_passed":
            self._forget_pass(code)
        if outcome is not None:
            self.emit(passage_event(presentation, decision, outcome, timings, detail))
        return outcome

    def _record_pass(self, code: VerificationResult) -> bool:
        try:
            self._ledger.record(code.code_key, code.subject_binding, self._clock.monotonic())
        except GateEdgeError as exc:
            log.error("anti-passback entry not saved; the gate stays shut: %s", exc)
            self._faults.announce(Fault.STORAGE_FAULT, f"anti-passback: {exc}")
            with contextlib.suppress(GateEdgeError):  # the store failed already: say it once
                self._ledger.forget(code.code_key, code.subject_binding)
            return False
        return True

    def _forget_pass(self, code: VerificationResult) -> None:
        try:
            self._ledger.forget(code.code_key, code.subject_binding)
        except GateEdgeError as exc:  # the entry stays: the code waits out its window
            log.error("anti-passback entry not dropped: %s", exc)
            self._faults.announce(Fault.STORAGE_FAULT, f"anti-passback: {exc}")

    def _wait_passage(self, passage_input: DigitalInput) -> bool:
        try:
            return passage_input.wait_for_active(self._policy.passage_timeout_s)
        except Exception as exc:
            log.exception("passage input failed")
            self._faults.announce(Fault.PASSAGE_INPUT_FAULT, type(exc).__name__)
            return False

    def release_relay(self) -> None:
        """Let go of the relay; a failure latches relay_fault."""
        self._safe(Fault.RELAY_FAULT, self._relay.release)

    # ---- indicators -----------------------------------------------------------------------

    def _prompt(self, *, on: bool) -> None:
        """Ask for the document: both lamps lit and one short beep while the gate waits; the
        request is announced as a `prompt` event."""
        self._switch(self._indicators.green, on=on)
        self._switch(self._indicators.red, on=on)
        if on:
            self._switch(self._indicators.buzzer, on=True)
            self._clock.sleep(PROMPT_BEEP_S)
            self._switch(self._indicators.buzzer, on=False)
            self.emit(GateEvent(kind="prompt", detail="document requested"))

    def show_pass(self, *, on: bool) -> None:
        """Switch the green lamp."""
        self._switch(self._indicators.green, on=on)

    def signal_deny(self) -> None:
        """Red lamp and buzzer for the policy's deny signal time."""
        self._switch(self._indicators.red, on=True)
        self._switch(self._indicators.buzzer, on=True)
        self._clock.sleep(self._policy.deny_signal_s)
        self._switch(self._indicators.buzzer, on=False)
        self._switch(self._indicators.red, on=False)

    def indicators_off(self) -> None:
        """Switch every fitted lamp and the buzzer off."""
        for output in (self._indicators.green, self._indicators.red, self._indicators.buzzer):
            self._switch(output, on=False)

    def reprobe_indicators(self) -> None:
        """Switch every indicator off; clears indicator_fault when all of them answer."""
        if Fault.INDICATOR_FAULT not in self._faults.reasons():
            return
        outputs = (self._indicators.green, self._indicators.red, self._indicators.buzzer)
        try:
            for output in outputs:
                if output is not None:
                    output.off()
        except Exception as exc:
            log.exception("indicator re-probe failed")
            self._faults.report(Fault.INDICATOR_FAULT, f"{type(exc).__name__}: {exc}")
            return
        self._faults.clear(Fault.INDICATOR_FAULT)

    def _switch(self, output: DigitalOutput | None, *, on: bool) -> None:
        if output is not None:
            self._safe(Fault.INDICATOR_FAULT, output.on if on else output.off)

    def _safe(self, fault: Fault, action: Callable[[], None]) -> None:
        try:
            action()
        except Exception as exc:
            log.exception("%s: action failed", fault)
            self._faults.report(fault, f"{type(exc).__name__}: {exc}")
