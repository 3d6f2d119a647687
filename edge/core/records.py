"""What the controller reports: its states, decision records for displays, and gate events."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass

from edge.core.decision import Decision, ManualPresentation, Presentation, ScanPresentation
from edge.core.identity import IdentityOutcome
from edge.events import GateEvent, Method, PassageOutcome, Path, TemperatureFacts
from edge.ports import DigitalOutput
from edge.thermo.reading import TemperatureReading


class GateState(enum.StrEnum):
    """Where the controller is in handling one presentation."""

    IDLE = "idle"
    CODE_READ = "code_read"
    IDENTITY = "identity"
    TEMPERATURE = "temperature"
    DECISION = "decision"
    SIGNAL = "signal"
    RELAY = "relay"
    PASSAGE = "passage"
    COOLDOWN = "cooldown"


@dataclass(frozen=True)
class Indicators:
    """The optional lamps and buzzer; None where not fitted."""

    green: DigitalOutput | None = None
    red: DigitalOutput | None = None
    buzzer: DigitalOutput | None = None


@dataclass(frozen=True)
class DecisionRecord:
    """One presentation as a display shows it; privacy-safe like the events.

    Listeners receive it once at the decision (outcome None) and, for a pass, once more when the
    passage outcome is known (same number, outcome set; outcome stays None when not monitored).
    """

    number: int
    at: float
    verdict: str
    reasons: tuple[str, ...]
    method: Method
    operator: str | None
    issuer: str | None
    colour: str | None
    code_id_hash: str | None
    temperature_c: float | None
    identity: IdentityOutcome
    timings_ms: Mapping[str, float]
    emitted: bool
    outcome: PassageOutcome | None = None
    path: Path | None = None
    masked_name: str | None = None
    """For the visitor screen only: never logged or published."""


@dataclass(frozen=True)
class ControllerStatus:
    """A snapshot for status displays and telemetry."""

    state: GateState
    faults: Mapping[str, str]
    presentations: int
    passes: int
    denies: int
    dropped: int
    heartbeat: float = 0.0


def temperature_facts(reading: TemperatureReading | None) -> TemperatureFacts | None:
    """The temperatures of a reading, for an event."""
    if reading is None:
        return None
    return TemperatureFacts(
        state=reading.state,
        object_c=reading.object_c,
        ambient_c=reading.ambient_c,
        estimate_c=reading.estimate_c,
        model=reading.model,
        samples=reading.samples,
        measurements=tuple((m.state, m.estimate_c) for m in reading.measurements),
    )


def _code_fields(presentation: Presentation) -> tuple[str | None, str | None, str | None]:
    if isinstance(presentation, ScanPresentation):
        result = presentation.verification
        return result.issuer, result.colour, result.code_id_hash
    return None, None, None


def _path(presentation: Presentation) -> Path | None:
    if isinstance(presentation, ScanPresentation):
        return presentation.verification.path
    return None


def manual_detail(presentation: Presentation) -> str | None:
    """Where a manual pass came from (button or central, with the command id)."""
    if not isinstance(presentation, ManualPresentation):
        return None
    detail = f"source={presentation.source}"
    if presentation.command_id:
        detail += f" command_id={presentation.command_id}"
    return detail


def decision_event(
    presentation: Presentation,
    decision: Decision,
    reading: TemperatureReading | None,
    timings_ms: dict[str, float],
    identity: IdentityOutcome | None = None,
) -> GateEvent:
    """The event for a decision; never carries raw code text or document numbers (only the
    identity outcome: whether the holder's document was checked and matched)."""
    issuer, colour, code_id_hash = _code_fields(presentation)
    return GateEvent(
        kind="decision",
        decision=decision.verdict,
        reasons=decision.reasons,
        method=decision.method,
        issuer=issuer,
        colour=colour,
        code_id_hash=code_id_hash,
        temperature=temperature_facts(reading),
        timings_ms=dict(timings_ms),
        operator=decision.operator,
        detail=manual_detail(presentation),
        path=_path(presentation),
        identity=identity,
    )


def passage_event(
    presentation: Presentation,
    decision: Decision,
    outcome: PassageOutcome,
    timings_ms: dict[str, float],
    detail: str | None,
) -> GateEvent:
    """The event for what happened after a pass was granted."""
    issuer, colour, code_id_hash = _code_fields(presentation)
    return GateEvent(
        kind="passage",
        decision=decision.verdict,
        method=decision.method,
        issuer=issuer,
        colour=colour,
        code_id_hash=code_id_hash,
        timings_ms=dict(timings_ms),
        operator=decision.operator,
        outcome=outcome,
        detail=detail,
        path=_path(presentation),
    )


def decision_record(
    *,
    number: int,
    at: float,
    presentation: Presentation,
    decision: Decision,
    reading: TemperatureReading | None,
    identity: IdentityOutcome,
    timings_ms: dict[str, float],
    emitted: bool,
) -> DecisionRecord:
    """The display record of a decision."""
    issuer, colour, code_id_hash = _code_fields(presentation)
    return DecisionRecord(
        number=number,
        at=at,
        verdict=decision.verdict,
        reasons=decision.reasons,
        method=decision.method,
        operator=decision.operator,
        issuer=issuer,
        colour=colour,
        code_id_hash=code_id_hash,
        temperature_c=reading.estimate_c if reading is not None else None,
        identity=identity,
        timings_ms=dict(timings_ms),
        emitted=emitted,
        path=_path(presentation),
        masked_name=(
            presentation.verification.masked_name
            if isinstance(presentation, ScanPresentation)
            else None
        ),
    )
