"""Table-driven tests of the admission rules in edge.core.decision."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from edge.core.decision import (
    DecisionInput,
    ManualPresentation,
    ScanPresentation,
    decide,
    temperature_reasons,
)
from edge.core.identity import IdentityOutcome
from edge.core.passback import PassbackLedger
from edge.core.settings import PolicySettings
from edge.credentials.binding import subject_binding
from edge.credentials.hcn1.verify import verify_code
from edge.credentials.result import VerificationResult
from edge.credentials.trust.trustlist import IssuerKey, build_trust_list, parse_trust_list
from edge.reasons import Reason
from edge.sim.credentials import SimCredentials
from edge.thermo.reading import TemperatureReading

POLICY = PolicySettings()
NOW = 5000.0
CODE = b"code-0001"
BINDING = subject_binding("CN-GD", "D1234567")


def green(**changes: object) -> VerificationResult:
    result = VerificationResult(
        valid=True,
        colour="green",
        issuer="CN-GD",
        code_id=CODE,
        expires_at=2_000_000_000,
        subject_binding=BINDING,
    )
    return replace(result, **changes)  # type: ignore[arg-type]


def temp(state: str = "normal", estimate: float | None = 36.6) -> TemperatureReading:
    return TemperatureReading(
        state=state,  # type: ignore[arg-type]
        object_c=34.9,
        ambient_c=22.0,
        estimate_c=estimate,
        model="ambient",
        samples=5,
    )


def scan(result: VerificationResult, method: str = "camera") -> ScanPresentation:
    return ScanPresentation(result, method)  # type: ignore[arg-type]


MANUAL = ManualPresentation("op-17", "button")
EMPTY = PassbackLedger(300.0)


def used(at: float, code_id: bytes = CODE, binding: bytes | None = None) -> PassbackLedger:
    ledger = PassbackLedger(300.0)
    ledger.record(green(code_id=code_id).code_key, binding, at)
    return ledger


CASES: list[tuple[str, DecisionInput, PolicySettings, PassbackLedger, str, tuple[str, ...]]] = [
    ("green normal", DecisionInput(scan(green()), temp()), POLICY, EMPTY, "pass", ()),
    ("green serial", DecisionInput(scan(green(), "serial"), temp()), POLICY, EMPTY, "pass", ()),
    ("green fever", DecisionInput(scan(green()), temp("fever", 38.2)), POLICY, EMPTY, "deny",
     ("fever",)),
    ("normal state above policy threshold", DecisionInput(scan(green()), temp("normal", 37.3)),
     POLICY, EMPTY, "deny", ("fever",)),
    ("yellow", DecisionInput(scan(green(colour="yellow")), temp()), POLICY, EMPTY, "deny",
     ("colour_yellow",)),
    ("red", DecisionInput(scan(green(colour="red")), temp()), POLICY, EMPTY, "deny",
     ("colour_red",)),
    ("valid without colour", DecisionInput(scan(green(colour=None)), temp()), POLICY, EMPTY,
     "deny", ("colour_unknown",)),
    ("valid without code id", DecisionInput(scan(green(code_id=None)), temp()), POLICY, EMPTY,
     "deny", ("code_id_missing",)),
    ("expired", DecisionInput(scan(VerificationResult.invalid(Reason.EXPIRED)), temp()), POLICY,
     EMPTY, "deny", ("expired",)),
    ("forged", DecisionInput(scan(VerificationResult.invalid(Reason.BAD_SIGNATURE)), temp()),
     POLICY, EMPTY, "deny", ("bad_signature",)),
    ("unknown issuer", DecisionInput(scan(VerificationResult.invalid(Reason.UNKNOWN_ISSUER)), None),
     POLICY, EMPTY, "deny", ("unknown_issuer",)),
    ("revoked",
     DecisionInput(scan(VerificationResult.invalid(Reason.REVOKED, "CN-GD", CODE)), temp()),
     POLICY, EMPTY, "deny", ("revoked",)),
    ("invalid without reason", DecisionInput(scan(VerificationResult(valid=False)), temp()),
     POLICY, EMPTY, "deny", ("invalid",)),
    ("no temperature", DecisionInput(scan(green()), None), POLICY, EMPTY, "deny",
     ("temperature_unavailable",)),
    ("nobody in front of the sensor", DecisionInput(scan(green()), temp("no_subject", None)),
     POLICY, EMPTY, "deny", ("temperature_unavailable",)),
    ("normal without estimate", DecisionInput(scan(green()), temp("normal", None)), POLICY,
     EMPTY, "deny", ("temperature_unavailable",)),
    ("NaN estimate", DecisionInput(scan(green()), temp("normal", math.nan)), POLICY, EMPTY,
     "deny", ("temperature_unavailable",)),
    ("sensor fault reading", DecisionInput(scan(green()), temp("sensor_fault", None)), POLICY,
     EMPTY, "deny", ("sensor_fault",)),
    ("identity matched", DecisionInput(scan(green()), temp(), "matched"), POLICY, EMPTY, "pass",
     ()),
    ("identity missing", DecisionInput(scan(green()), temp(), "missing"), POLICY, EMPTY, "deny",
     ("identity_missing",)),
    ("identity mismatch", DecisionInput(scan(green()), temp(), "mismatched"), POLICY, EMPTY,
     "deny", ("identity_mismatch",)),
    ("code not bound to a person", DecisionInput(scan(green()), temp(), "not_bound"), POLICY,
     EMPTY, "deny", ("identity_not_bound",)),
    ("same code within window", DecisionInput(scan(green()), temp()), POLICY, used(NOW - 299.0),
     "deny", ("already_used",)),
    ("same code after window", DecisionInput(scan(green()), temp()), POLICY, used(NOW - 300.0),
     "pass", ()),
    ("same person, other code", DecisionInput(scan(green(code_id=b"code-0002")), temp()), POLICY,
     used(NOW - 10.0, b"code-0001", BINDING), "deny", ("already_used",)),
    ("same code id from another issuer", DecisionInput(scan(green(issuer="CN-SH")), temp()),
     POLICY, used(NOW - 10.0), "pass", ()),
    ("anti-passback off", DecisionInput(scan(green()), temp()),
     replace(POLICY, anti_passback_s=0.0), used(NOW - 1.0), "pass", ()),
    ("manual normal", DecisionInput(MANUAL, temp()), POLICY, EMPTY, "pass", ()),
    ("manual central", DecisionInput(ManualPresentation("hq-2", "central", "c-1"), temp()),
     POLICY, EMPTY, "pass", ()),
    ("manual fever", DecisionInput(MANUAL, temp("fever", 38.0)), POLICY, EMPTY, "deny",
     ("fever",)),
    ("manual no temperature", DecisionInput(MANUAL, None), POLICY, EMPTY, "deny",
     ("temperature_unavailable",)),
    ("manual disabled", DecisionInput(MANUAL, temp()), replace(POLICY, manual_pass_allowed=False),
     EMPTY, "deny", ("manual_pass_disabled",)),
    ("manual without operator", DecisionInput(ManualPresentation(" ", "button"), temp()), POLICY,
     EMPTY, "deny", ("operator_missing",)),
    ("manual ignores identity", DecisionInput(MANUAL, temp(), "missing"), POLICY, EMPTY, "pass",
     ()),
    ("fault denies green", DecisionInput(scan(green()), temp(), faults=("relay_fault",)), POLICY,
     EMPTY, "deny", ("relay_fault",)),
    ("fault denies manual", DecisionInput(MANUAL, temp(), faults=("storage_fault",)), POLICY,
     EMPTY, "deny", ("storage_fault",)),
    ("faults listed once each",
     DecisionInput(scan(green()), temp(), faults=("a_fault", "b_fault", "a_fault")), POLICY,
     EMPTY, "deny", ("a_fault", "b_fault")),
    ("fault before colour", DecisionInput(scan(green(colour="red")), temp(), faults=("x_fault",)),
     POLICY, EMPTY, "deny", ("x_fault",)),
]  # fmt: skip


@pytest.mark.parametrize(
    ("request_", "policy", "history", "verdict", "reasons"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_rule(
    request_: DecisionInput,
    policy: PolicySettings,
    history: PassbackLedger,
    verdict: str,
    reasons: tuple[str, ...],
) -> None:
    decision = decide(request_, policy, history, NOW)
    assert (decision.verdict, decision.reasons) == (verdict, reasons)
    assert decision.passed == (verdict == "pass")


def test_method_and_operator_are_reported() -> None:
    assert decide(DecisionInput(scan(green(), "serial"), temp()), POLICY, EMPTY, NOW).method == (
        "serial"
    )
    manual = decide(DecisionInput(MANUAL, temp()), POLICY, EMPTY, NOW)
    assert (manual.method, manual.operator) == ("manual", "op-17")
    assert decide(DecisionInput(scan(green()), temp()), POLICY, EMPTY, NOW).operator is None


def test_threshold_comes_from_policy() -> None:
    reading = temp("normal", 37.0)
    assert temperature_reasons(reading, POLICY) == ()
    assert temperature_reasons(reading, replace(POLICY, fever_threshold_c=36.9)) == ("fever",)


REASONS = st.sampled_from(
    ["malformed", "unsupported", "unknown_issuer", "unknown_key", "bad_signature", "expired",
     "not_yet_valid", "revoked", "trust_list_expired"]
)  # fmt: skip
STATES = st.sampled_from(["normal", "fever", "no_subject", "sensor_fault"])
IDENTITIES = st.sampled_from(["not_required", "matched", "missing", "mismatched", "not_bound"])
ESTIMATES = st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True))


@given(
    valid=st.booleans(),
    reason=REASONS,
    colour=st.sampled_from(["green", "yellow", "red", None]),
    state=STATES,
    estimate=ESTIMATES,
    identity=IDENTITIES,
    faults=st.lists(st.sampled_from(["relay_fault", "storage_fault"]), max_size=2),
)
def test_pass_only_when_every_rule_holds(
    valid: bool,
    reason: str,
    colour: str | None,
    state: str,
    estimate: float | None,
    identity: IdentityOutcome,
    faults: list[str],
) -> None:
    result = green(colour=colour) if valid else VerificationResult.invalid(reason)  # type: ignore[arg-type]
    request = DecisionInput(scan(result), temp(state, estimate), identity, tuple(faults))
    decision = decide(request, POLICY, EMPTY, NOW)
    ok = (
        valid
        and colour == "green"
        and state == "normal"
        and estimate is not None
        and math.isfinite(estimate)
        and estimate < POLICY.fever_threshold_c
        and identity in ("not_required", "matched")
        and not faults
    )
    assert decision.passed == ok
    assert bool(decision.reasons) != decision.passed
    assert all(r and r == r.lower() and " " not in r for r in decision.reasons)


def test_a_code_valid_longer_than_the_policy_allows_is_refused() -> None:
    day = green(issued_at=1_767_225_600, expires_at=1_767_225_600 + 24 * 3600)
    week = green(issued_at=1_767_225_600, expires_at=1_767_225_600 + 7 * 24 * 3600)
    assert decide(DecisionInput(scan(day), temp()), POLICY, EMPTY, NOW).passed
    refused = decide(DecisionInput(scan(week), temp()), POLICY, EMPTY, NOW)
    assert refused.reasons == ("lifetime_too_long",)
    unlimited = replace(POLICY, max_code_lifetime_h=0.0)
    assert decide(DecisionInput(scan(week), temp()), unlimited, EMPTY, NOW).passed
    stricter = replace(POLICY, max_code_lifetime_h=1.0)
    assert decide(DecisionInput(scan(day), temp()), stricter, EMPTY, NOW).reasons == (
        "lifetime_too_long",
    )


def test_verification_reports_the_issue_time() -> None:
    creds = SimCredentials.generate()
    now = 1_767_225_600.0
    text = creds.issue("green", now, ttl_s=600)
    result = _verify_with(creds, text, now)
    assert result.valid
    assert result.issued_at == int(now)
    assert result.expires_at == int(now) + 600


def _verify_with(creds: SimCredentials, text: str, now: float) -> VerificationResult:
    issuers = {
        name: [IssuerKey(key.public_key(), int(now) - 60, int(now) + 86400)]
        for name, key in creds.issuer_keys.items()
    }
    signed = build_trust_list(
        creds.root, issuers, version=1, issued_at=int(now) - 60, expires_at=int(now) + 86400
    )
    trust = parse_trust_list(signed, creds.root.public_key())
    return verify_code(text, trust, None, now, 30)
