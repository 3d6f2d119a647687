"""DCC admission rules, one row per rule: what admits, and the deny reason of each failing rule."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from central.dcc_issue import negative_test_entry, recovery_entry, vaccination_entry
from edge.app.config import parse_config
from edge.core.decision import DecisionInput, ScanPresentation, decide
from edge.core.passback import PassbackLedger
from edge.core.settings import PolicySettings
from edge.credentials.common import cbor
from edge.credentials.dcc.admission import refusal
from edge.credentials.dcc.claims import CertificateType, DccClaims
from edge.credentials.dcc.settings import DccSettings
from edge.credentials.dcc.verifier import DccVerifier
from edge.errors import ConfigError
from edge.reasons import Reason
from edge.thermo.reading import TemperatureReading
from tests.dcc_support import CI, NOW, World, day, instant, make_signer
from tests.gate_support import GateConfig

RULES = DccSettings()
Entry = dict[cbor.CborKey, cbor.CborValue]


def claims(kind: CertificateType, entry: Entry) -> DccClaims:
    text_keys = {str(key): value for key, value in entry.items()}
    return DccClaims("SE", NOW - 86_400, NOW + 86_400, kind, text_keys, CI)


def vacc(days_ago: float, dose: int = 2, series: int = 2) -> Entry:
    return vaccination_entry(CI, day(-days_ago), dose, series)


def test(hours_ago: float, kind: str = "LP6464-4", result: str = "260415000") -> Entry:
    return negative_test_entry(CI, instant(-hours_ago), kind, result)


def recovery(valid_from: float, valid_until: float) -> Entry:
    return recovery_entry(CI, day(valid_from - 11), day(valid_from), day(valid_until))


test.__test__ = False  # type: ignore[attr-defined]  # a builder, not a test


@pytest.mark.parametrize(
    ("kind", "entry", "rules", "reason"),
    [
        ("vaccination", vacc(30), RULES, None),
        ("vaccination", vacc(14), RULES, None),
        ("vaccination", vacc(13), RULES, "dcc_vaccination_too_recent"),
        ("vaccination", vacc(270), RULES, None),
        ("vaccination", vacc(271), RULES, "dcc_vaccination_too_old"),
        ("vaccination", vacc(400, 3, 3), RULES, None),  # booster: no day limit
        ("vaccination", vacc(400, 3, 2), RULES, None),
        (
            "vaccination",
            vacc(400, 3, 3),
            replace(RULES, booster_without_limit=False),
            "dcc_vaccination_too_old",
        ),
        ("vaccination", vacc(400), replace(RULES, vaccination_max_days=0), None),
        ("vaccination", vacc(60, 1, 2), RULES, "dcc_vaccination_incomplete"),
        ("vaccination", vacc(60, 2, 3), RULES, "dcc_vaccination_incomplete"),
        (
            "vaccination",
            vacc(60),
            replace(RULES, accept_vaccination=False),
            "dcc_type_not_accepted",
        ),
        ("vaccination", {**vacc(60), "tg": "123"}, RULES, "dcc_disease"),
        ("vaccination", {**vacc(60), "dn": "two"}, RULES, "dcc_entry_incomplete"),
        ("vaccination", {**vacc(60), "dt": "soon"}, RULES, "dcc_entry_incomplete"),
        ("vaccination", {**vacc(60), "dn": 2.0}, RULES, None),
        ("test", test(5), RULES, None),
        ("test", test(71.5), RULES, None),
        ("test", test(73), RULES, "dcc_test_too_old"),
        ("test", test(20, "LP217198-3"), RULES, None),
        ("test", test(25, "LP217198-3"), RULES, "dcc_test_too_old"),
        ("test", test(5, "LP217198-3"), replace(RULES, antigen_max_hours=0.0), "dcc_test_type"),
        ("test", test(5, "OTHER"), RULES, "dcc_test_type"),
        ("test", test(5, result="260373001"), RULES, "dcc_test_not_negative"),
        ("test", test(-2), RULES, "dcc_test_in_future"),
        ("test", {**test(5), "sc": cbor.Tagged(0, instant(-5))}, RULES, None),
        ("test", {**test(5), "sc": cbor.Tagged(1, NOW - 5 * 3600)}, RULES, None),
        ("test", {**test(5), "sc": cbor.Tagged(1, NOW - 80 * 3600)}, RULES, "dcc_test_too_old"),
        ("test", test(5), replace(RULES, accept_test=False), "dcc_type_not_accepted"),
        ("recovery", recovery(-30, 150), RULES, None),
        ("recovery", recovery(-30, 0), RULES, None),  # valid through its last day
        ("recovery", recovery(-180, -1), RULES, "dcc_recovery_expired"),
        ("recovery", recovery(2, 150), RULES, "dcc_recovery_not_yet_valid"),
        ("recovery", {**recovery(-30, 150), "du": None}, RULES, "dcc_entry_incomplete"),
        (
            "recovery",
            recovery(-30, 150),
            replace(RULES, accept_recovery=False),
            "dcc_type_not_accepted",
        ),
    ],
)
def test_admission_rules(
    kind: CertificateType, entry: Entry, rules: DccSettings, reason: str | None
) -> None:
    assert refusal(claims(kind, entry), rules, NOW, 30) == reason


def test_every_refusal_is_documented() -> None:
    guide = (Path(__file__).resolve().parents[1] / "docs" / "technician-guide.md").read_text(
        encoding="utf-8"
    )
    for reason in Reason:
        if reason.origin == "dcc":
            assert f"`{reason}`" in guide, reason


def test_a_refused_certificate_is_denied_with_its_rule_and_temperature_still_applies() -> None:
    signer = make_signer()
    trust = World().trust(signer)
    old_test = signer.issue("test", test(80))
    good = signer.issue("test", test(5))
    verifier = DccVerifier()
    reading = TemperatureReading("normal", 34.9, 22.0, 36.6, "ambient", 5)
    fever = TemperatureReading("fever", 37.9, 22.0, 38.4, "ambient", 5)
    policy, history = PolicySettings(), PassbackLedger(300.0)

    def decision(text: str, temperature: TemperatureReading) -> tuple[str, tuple[str, ...]]:
        result = verifier.verify(text, trust, None, NOW, 30)
        made = decide(
            DecisionInput(ScanPresentation(result, "camera"), temperature), policy, history, 0.0
        )
        return made.verdict, made.reasons

    assert decision(old_test, reading) == ("deny", ("dcc_test_too_old",))
    assert decision(good, reading) == ("pass", ())
    assert decision(good, fever) == ("deny", ("fever",))


def test_anti_passback_keys_on_the_certificate_identifier() -> None:
    signer = make_signer()
    trust = World().trust(signer)
    first = DccVerifier().verify(signer.issue("test", test(5), level=9), trust, None, NOW, 30)
    again = DccVerifier().verify(signer.issue("test", test(5), level=1), trust, None, NOW, 30)
    history = PassbackLedger(300.0)
    history.record(first.code_key, first.subject_binding, 0.0)
    reading = TemperatureReading("normal", 34.9, 22.0, 36.6, "ambient", 5)
    made = decide(
        DecisionInput(ScanPresentation(again, "camera"), reading), PolicySettings(), history, 10.0
    )
    assert made.reasons == ("already_used",)


def test_rules_come_from_the_configuration(gate_config: GateConfig) -> None:
    config = parse_config(
        gate_config(
            site="s", credentials={"dcc": {"naat_max_hours": 48, "vaccination_min_days": 7}}
        )
    )
    assert config.credentials.dcc.naat_max_hours == 48.0
    assert config.credentials.dcc.vaccination_min_days == 7
    with pytest.raises(ConfigError, match=r"credentials\.dcc\.naat_max_hours"):
        parse_config(gate_config(site="s", credentials={"dcc": {"naat_max_hours": -1}}))
