"""Tests of the person-code match helpers and the anti-passback ledger."""

from __future__ import annotations

import hashlib
from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from edge.core.identity import identity_required, match_identity
from edge.core.passback import PassbackLedger
from edge.core.settings import PolicySettings
from edge.credentials.binding import subject_binding


def test_subject_binding_follows_the_format() -> None:
    expected = hashlib.sha256(b"HCN1|CN-GD|D1234567").digest()
    assert subject_binding("CN-GD", "D1234567") == expected
    assert subject_binding("CN-GD", "D1234568") != expected
    assert subject_binding("CN-SH", "D1234567") != expected


def test_subject_binding_encodes_utf8() -> None:
    assert subject_binding("省", "号1") == hashlib.sha256("HCN1|省|号1".encode()).digest()


@pytest.mark.parametrize(
    ("required", "issuer", "binding", "document", "outcome"),
    [
        (False, "CN-GD", None, None, "not_required"),
        (True, "CN-GD", subject_binding("CN-GD", "D1"), "D1", "matched"),
        (True, "CN-GD", subject_binding("CN-GD", "D1"), "D2", "mismatched"),
        (True, "CN-GD", subject_binding("CN-SH", "D1"), "D1", "mismatched"),
        (True, "CN-GD", subject_binding("CN-GD", "D1"), None, "missing"),
        (True, "CN-GD", subject_binding("CN-GD", "D1"), "", "missing"),
        (True, "CN-GD", None, "D1", "not_bound"),
        (True, None, b"x" * 32, "D1", "not_bound"),
    ],
)
def test_match_identity(
    required: bool, issuer: str | None, binding: bytes | None, document: str | None, outcome: str
) -> None:
    assert match_identity(issuer, binding, document, required=required) == outcome


@pytest.mark.parametrize(
    ("mode", "percent", "draw", "required"),
    [
        ("off", 100.0, 0.0, False),
        ("always", 0.0, 0.99, True),
        ("sampled", 10.0, 0.05, True),
        ("sampled", 10.0, 0.1, False),
        ("sampled", 10.0, 0.5, False),
        ("sampled", 0.0, 0.0, False),
        ("sampled", 100.0, 0.999999, True),
    ],
)
def test_identity_required(mode: str, percent: float, draw: float, required: bool) -> None:
    policy = replace(PolicySettings(), person_code_match=mode, match_sample_percent=percent)  # type: ignore[arg-type]
    assert identity_required(policy, draw) is required


def test_sampling_rate_matches_the_percentage() -> None:
    policy = replace(PolicySettings(), person_code_match="sampled", match_sample_percent=25.0)
    draws = [i / 1000 for i in range(1000)]
    assert sum(identity_required(policy, d) for d in draws) == 250


def test_ledger_keys_code_and_subject() -> None:
    ledger = PassbackLedger(60.0)
    assert ledger.last_pass(b"c1", b"s1") is None
    ledger.record(b"c1", b"s1", 100.0)
    assert ledger.last_pass(b"c1", None) == 100.0
    assert ledger.last_pass(None, b"s1") == 100.0
    assert ledger.last_pass(b"c2", b"s1") == 100.0
    assert ledger.last_pass(b"c2", b"s2") is None
    assert ledger.last_pass(None, None) is None
    ledger.record(b"c2", None, 130.0)
    assert ledger.last_pass(b"c1", b"x") == 100.0
    assert ledger.last_pass(b"c2", b"s1") == 130.0


def test_ledger_prunes_expired_entries() -> None:
    ledger = PassbackLedger(60.0)
    ledger.record(b"c1", b"s1", 100.0)
    ledger.record(b"c2", None, 150.0)
    assert len(ledger) == 3
    ledger.record(b"c3", None, 161.0)
    assert len(ledger) == 2
    assert ledger.last_pass(b"c1", b"s1") is None


def test_ledger_reinserted_key_is_not_pruned_early() -> None:
    ledger = PassbackLedger(60.0)
    ledger.record(b"c1", None, 100.0)
    ledger.record(b"c2", None, 110.0)
    ledger.record(b"c1", None, 150.0)
    ledger.record(b"c3", None, 171.0)
    assert ledger.last_pass(b"c2", None) is None
    assert ledger.last_pass(b"c1", None) == 150.0


def test_ledger_rejects_bad_parameters() -> None:
    with pytest.raises(ValueError, match="window_s"):
        PassbackLedger(-1.0)
    with pytest.raises(ValueError, match="max_entries"):
        PassbackLedger(10.0, max_entries=1)


@given(st.lists(st.binary(min_size=1, max_size=4), min_size=1, max_size=300))
def test_ledger_stays_bounded(codes: list[bytes]) -> None:
    ledger = PassbackLedger(1e9, max_entries=50)
    for i, code in enumerate(codes):
        ledger.record(code, None, float(i))
        assert len(ledger) <= 50
    assert ledger.last_pass(codes[-1], None) == float(len(codes) - 1)
