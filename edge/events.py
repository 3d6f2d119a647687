"""What the gate reports: one GateEvent per decision, passage outcome, manual pass or fault."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Protocol

EventKind = Literal["decision", "passage", "fault", "test", "doctor", "prompt"]
Verdict = Literal["pass", "deny"]
Method = Literal["camera", "serial", "id_card", "manual"]
Path = Literal["offline", "online", "cache"]
PassageOutcome = Literal["passed", "granted_not_passed"]


@dataclass(frozen=True)
class TemperatureFacts:
    """Temperatures as measured; no personal data."""

    state: str
    object_c: float | None
    ambient_c: float | None
    estimate_c: float | None
    model: str
    samples: int
    measurements: tuple[tuple[str, float | None], ...] = ()
    """Every verdict of the presentation in order: (state, estimate), re-measures included."""


@dataclass(frozen=True)
class GateEvent:
    """A privacy-safe record of something the gate decided or observed.

    Carries reasons, colour, issuer, a hash of the code id, temperatures and timings, never the
    raw QR text, a document number or a name. `path` says who judged the credential (the gate
    offline, the platform online, or a cached platform answer). The outbox adds event id,
    sequence and timestamp.
    """

    kind: EventKind
    decision: Verdict | None = None
    reasons: tuple[str, ...] = ()
    method: Method | None = None
    issuer: str | None = None
    colour: str | None = None
    code_id_hash: str | None = None
    temperature: TemperatureFacts | None = None
    timings_ms: dict[str, float] = field(default_factory=dict)
    operator: str | None = None
    outcome: PassageOutcome | None = None
    fault: str | None = None
    detail: str | None = None
    path: Path | None = None
    identity: str | None = None
    """Decisions: the person-code match outcome (not_required, matched, missing, mismatched,
    not_bound); never the document number."""
    test: bool = False
    """A technician's test event (`gate-edge events test`): central keeps it apart."""


class EventSink(Protocol):
    """Accepts events durably: when emit() returns, the event survives a power cut."""

    def emit(self, event: GateEvent) -> None:
        """Store the event durably for delivery; raises StorageError if it cannot."""
        ...
