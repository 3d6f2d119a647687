"""The admission rules as one pure function: a presentation and its measurements in, a verdict out.

Rules are checked in stages and the first stage that objects decides the reasons:
active faults → the request itself (manual pass allowed; credential valid, not refused by its
format's admission rules, not too long-lived, and green) → anti-passback → person-code match →
temperature. The controller may call `screen()` first to deny a bad code without keeping the
person waiting for a document or a temperature.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from edge.core.identity import IdentityOutcome
from edge.core.passback import PassbackView
from edge.core.settings import PolicySettings
from edge.credentials.result import VerificationResult
from edge.events import Method, Verdict
from edge.reasons import Reason
from edge.thermo.reading import TemperatureReading

ScanMethod = Literal["camera", "serial", "id_card"]
ManualSource = Literal["button", "central"]

_IDENTITY_REASONS: dict[IdentityOutcome, Reason] = {
    "missing": Reason.IDENTITY_MISSING,
    "mismatched": Reason.IDENTITY_MISMATCH,
    "not_bound": Reason.IDENTITY_NOT_BOUND,
}


@dataclass(frozen=True)
class ScanPresentation:
    """A health code read by the camera or the serial scanner, or a resident ID card read by the
    document reader (judged by the platform), already verified."""

    verification: VerificationResult
    method: ScanMethod


@dataclass(frozen=True)
class ManualPresentation:
    """A manual pass after a document check by an operator (local button or central command)."""

    operator: str
    source: ManualSource
    command_id: str | None = None


Presentation = ScanPresentation | ManualPresentation


@dataclass(frozen=True)
class DecisionInput:
    """Everything known about one presentation when the gate decides.

    temperature is None when no reading arrived within the window. identity is the outcome of
    `edge.core.identity.match_identity` (document numbers never enter the decision core).
    faults are the reasons of the faults active right now (e.g. "relay_fault").
    """

    presentation: Presentation
    temperature: TemperatureReading | None
    identity: IdentityOutcome = "not_required"
    faults: tuple[str, ...] = ()


@dataclass(frozen=True)
class Decision:
    """Pass or deny, the stable snake_case reasons for a deny, and how the person presented."""

    verdict: Verdict
    reasons: tuple[str, ...]
    method: Method
    operator: str | None = None

    @property
    def passed(self) -> bool:
        """True when the gate should open."""
        return self.verdict == "pass"


def method_of(presentation: Presentation) -> Method:
    """camera, serial or manual."""
    if isinstance(presentation, ManualPresentation):
        return "manual"
    return presentation.method


def screen(
    presentation: Presentation,
    faults: tuple[str, ...],
    policy: PolicySettings,
    history: PassbackView,
    now: float,
) -> tuple[str, ...]:
    """Deny reasons knowable before identity and temperature; empty means carry on.

    `now` is monotonic seconds, the same time base the passback ledger records in.
    """
    if faults:
        return tuple(dict.fromkeys(faults))
    if isinstance(presentation, ManualPresentation):
        if not policy.manual_pass_allowed:
            return (Reason.MANUAL_PASS_DISABLED,)
        if not presentation.operator.strip():
            return (Reason.OPERATOR_MISSING,)
        return ()
    result = presentation.verification
    if not result.valid:
        return (result.reason or Reason.INVALID,)
    if result.refusal is not None:
        return (result.refusal,)
    if _lifetime_too_long(result, policy):
        return (Reason.LIFETIME_TOO_LONG,)
    if result.colour is None:
        return (Reason.COLOUR_UNKNOWN,)
    if result.colour != "green":
        return (Reason.COLOUR_YELLOW if result.colour == "yellow" else Reason.COLOUR_RED,)
    if result.code_id is None:
        return (Reason.CODE_ID_MISSING,)
    last = history.last_pass(result.code_key, result.subject_binding)
    if policy.anti_passback_s > 0 and last is not None and now - last < policy.anti_passback_s:
        return (Reason.ALREADY_USED,)
    return ()


def _lifetime_too_long(result: VerificationResult, policy: PolicySettings) -> bool:
    """A code valid for longer than the policy allows outlives a change of its holder's colour."""
    limit_h = policy.max_code_lifetime_h
    if limit_h <= 0 or result.issued_at is None or result.expires_at is None:
        return False
    return result.expires_at - result.issued_at > limit_h * 3600.0


def temperature_reasons(
    reading: TemperatureReading | None, policy: PolicySettings
) -> tuple[str, ...]:
    """Deny reasons from the temperature; a fever state is final (re-measures already done)."""
    if reading is None or reading.state == "no_subject":
        return (Reason.TEMPERATURE_UNAVAILABLE,)
    if reading.state == "sensor_fault":
        return (Reason.SENSOR_FAULT,)
    if reading.state == "fever":
        return (Reason.FEVER,)
    estimate = reading.estimate_c
    if estimate is None or not math.isfinite(estimate):
        return (Reason.TEMPERATURE_UNAVAILABLE,)
    if estimate >= policy.fever_threshold_c:
        return (Reason.FEVER,)
    return ()


def decide(
    request: DecisionInput, policy: PolicySettings, history: PassbackView, now: float
) -> Decision:
    """Apply every admission rule; pure: same inputs, same decision."""
    presentation = request.presentation
    method = method_of(presentation)
    operator = presentation.operator if isinstance(presentation, ManualPresentation) else None
    reasons = screen(presentation, request.faults, policy, history, now)
    if not reasons and isinstance(presentation, ScanPresentation):
        identity_reason = _IDENTITY_REASONS.get(request.identity)
        reasons = (identity_reason,) if identity_reason else ()
    if not reasons:
        reasons = temperature_reasons(request.temperature, policy)
    if reasons:
        return Decision("deny", reasons, method, operator)
    return Decision("pass", (), method, operator)
