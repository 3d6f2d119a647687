"""The gate against platforms over real HTTP on loopback: statuses, signatures, nonces, replay,
silence within the budget, the circuit breaker, routing, the cache and the fallback."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from edge.clock import SystemClock
from edge.credentials.formats import gate_verifiers
from edge.credentials.result import VerificationResult
from edge.platform.client import PlatformClient
from edge.platform.dispatch import CredentialDispatch
from edge.platform.verifier import CredentialChecker
from edge.reasons import Reason
from edge.sim.credentials import SimCredentials
from edge.storage.trust_store import TrustStore
from tests.independent_platform import (
    Behaviour,
    BlackHole,
    IndependentPlatform,
    independent_request,
)
from tests.platform_support import APP_ID, SECRET, ReferencePlatform, resident_id, settings

INNER_MONGOLIA = resident_id("15010219500101123")
BEIJING = resident_id("11010519491231002")


@pytest.fixture
def reference(tmp_path: Path) -> Iterator[ReferencePlatform]:
    platform = ReferencePlatform(tmp_path / "platform").start()
    yield platform
    platform.stop()


@pytest.fixture
def independent() -> Iterator[IndependentPlatform]:
    platform = IndependentPlatform({APP_ID: SECRET}).start()
    yield platform
    platform.stop()


def _offline_nothing(text: str) -> VerificationResult:
    return VerificationResult.invalid(Reason.MALFORMED)


def _checker(url: str, **kwargs: object) -> CredentialChecker:
    breaker_open_s = float(kwargs.pop("breaker_open_s", 30.0))  # type: ignore[arg-type]
    config = settings(url, **kwargs)  # type: ignore[arg-type]
    client = PlatformClient(config, SECRET, "t/g", SystemClock(), breaker_open_s=breaker_open_s)
    return CredentialChecker(config, client, b"gate-reference-key")


def _code(checker: CredentialChecker, text: str) -> VerificationResult:
    return checker.verify_code(text, _offline_nothing)


@pytest.mark.parametrize(
    ("status", "valid", "colour", "reason"),
    [
        ("green", True, "green", None),
        ("yellow", True, "yellow", None),
        ("red", True, "red", None),
        ("expired", False, None, "platform_expired"),
        ("failed", False, None, "platform_failed"),
    ],
)
def test_every_status_of_an_id_card_maps_to_the_gate_rules(
    reference: ReferencePlatform, status: str, valid: bool, colour: str | None, reason: str | None
) -> None:
    reference.holder(INNER_MONGOLIA, status)
    result = _checker(reference.url).verify_id(INNER_MONGOLIA)
    assert (result.valid, result.colour, result.reason) == (valid, colour, reason)
    assert result.path == "online"
    assert result.platform_ms is not None and result.platform_ms >= 0
    assert result.code_id is not None and INNER_MONGOLIA.encode() not in result.code_id


def test_unknown_holder_is_not_found(reference: ReferencePlatform) -> None:
    result = _checker(reference.url).verify_id(BEIJING)
    assert (result.valid, result.reason) == (False, "platform_not_found")


def test_tokens_online_and_an_expired_token(reference: ReferencePlatform) -> None:
    reference.token("PLT1:green-token", "green")
    reference.token("PLT1:old-token", "green", expires_at=time.time() - 10)
    checker = _checker(reference.url)
    green = _code(checker, "PLT1:green-token")
    assert (green.valid, green.colour, green.issuer, green.path) == (
        True,
        "green",
        "CN-150000",
        "online",
    )
    assert _code(checker, "PLT1:old-token").reason == "platform_expired"
    assert _code(checker, "PLT1:never-issued").reason == "platform_not_found"


def test_a_repeated_question_is_answered_from_the_cache(reference: ReferencePlatform) -> None:
    reference.holder(INNER_MONGOLIA, "green")
    checker = _checker(reference.url)
    assert checker.verify_id(INNER_MONGOLIA).path == "online"
    reference.holder(INNER_MONGOLIA, "red")  # within the answer's ttl the gate does not ask again
    again = checker.verify_id(INNER_MONGOLIA)
    assert (again.path, again.colour, again.platform_ms) == ("cache", "green", None)


def test_an_invalid_id_number_is_denied_without_a_request(
    independent: IndependentPlatform,
) -> None:
    checker = _checker(independent.url)
    bad = BEIJING[:-1] + ("0" if BEIJING[-1] != "0" else "1")
    for text in (bad, BEIJING[:-1], "", "not an id"):
        assert checker.verify_id(text).reason == "id_invalid"
    assert independent.requests == []


def test_id_numbers_are_normalised_before_they_are_sent(independent: IndependentPlatform) -> None:
    independent.holders[BEIJING] = "green"
    full_width = "".join(chr(0xFF10 + int(c)) if c.isdigit() else "ｘ" for c in BEIJING)
    result = _checker(independent.url).verify_id(full_width)
    assert result.colour == "green"
    assert independent.requests[-1]["cert_value"] == BEIJING


def test_routing_sends_each_id_to_its_provinces_platform(
    reference: ReferencePlatform, independent: IndependentPlatform
) -> None:
    independent.holders[BEIJING] = "green"
    reference.holder(INNER_MONGOLIA, "yellow")
    checker = _checker(independent.url, routes=(("15", reference.url),))
    assert checker.verify_id(INNER_MONGOLIA).colour == "yellow"  # routed to "15"
    assert independent.requests == []
    beijing = checker.verify_id(BEIJING)  # the default route
    assert (beijing.colour, beijing.issuer) == ("green", "CN-ELSEWHERE")
    assert [r["cert_value"] for r in independent.requests] == [BEIJING]


def test_the_longest_matching_prefix_wins(
    reference: ReferencePlatform, independent: IndependentPlatform
) -> None:
    reference.holder(INNER_MONGOLIA, "green")
    checker = _checker(
        "http://127.0.0.1:9", routes=(("1", independent.url), ("1501", reference.url))
    )
    assert checker.verify_id(INNER_MONGOLIA).issuer == "CN-150000"


@pytest.mark.parametrize("mode", ["bad_signature", "wrong_nonce"])
def test_a_spoofed_answer_never_opens_the_gate(independent: IndependentPlatform, mode: str) -> None:
    independent.holders[BEIJING] = "green"
    independent.tokens["PLT1:t"] = "green"
    independent.behaviour = Behaviour(mode)
    checker = _checker(independent.url)
    for result in (checker.verify_id(BEIJING), _code(checker, "PLT1:t")):
        assert not result.valid
        assert result.reason == "platform_untrusted"


def test_a_gate_with_the_wrong_secret_is_refused(reference: ReferencePlatform) -> None:
    reference.holder(INNER_MONGOLIA, "green")
    config = settings(reference.url)
    client = PlatformClient(config, b"not-the-shared-secret!", "t/g", SystemClock())
    outcome = client.check("id_card", INNER_MONGOLIA)
    assert outcome.answer is None and outcome.failure == "http_status"
    assert outcome.cause == "HTTP 401"


def test_platform_refuses_bad_signature_stale_ts_and_replayed_nonce(
    reference: ReferencePlatform,
) -> None:
    reference.holder(BEIJING, "green")
    url = reference.url
    status, answer, trusted = independent_request(url, APP_ID, SECRET, "id_card", BEIJING)
    assert (status, trusted, answer and answer["status"]) == (200, True, "green")
    assert (
        independent_request(url, APP_ID, SECRET, "id_card", BEIJING, sign_with=b"x" * 20)[0] == 401
    )
    stale = int(time.time() * 1000) - 301_000
    assert independent_request(url, APP_ID, SECRET, "id_card", BEIJING, ts_ms=stale)[0] == 401
    nonce = "ab" * 16
    assert independent_request(url, APP_ID, SECRET, "id_card", BEIJING, nonce=nonce)[0] == 200
    assert independent_request(url, APP_ID, SECRET, "id_card", BEIJING, nonce=nonce)[0] == 401
    assert independent_request(url, "someone-else", SECRET, "id_card", BEIJING)[0] == 401


def test_a_silent_platform_is_decided_within_the_budget() -> None:
    hole = BlackHole()
    try:
        checker = _checker(hole.url, timeout_ms=400, fallback="deny")
        began = time.monotonic()
        result = checker.verify_id(BEIJING)
        elapsed = time.monotonic() - began
    finally:
        hole.close()
    assert result.reason == "platform_unavailable"
    assert elapsed < 0.4 + 1.0  # the budget, with room for a loaded machine


def test_the_breaker_opens_after_repeated_failures_and_closes_after_a_probe(
    independent: IndependentPlatform,
) -> None:
    independent.holders[BEIJING] = "green"
    independent.behaviour = Behaviour("http_error")
    checker = _checker(independent.url, breaker_open_s=0.5)
    client = checker.client
    assert client is not None
    assert checker.verify_id(BEIJING).reason == "platform_unavailable"  # retries within budget
    assert client.breakers() == {independent.url: "open"}
    asked = len(independent.requests)
    assert checker.verify_id(BEIJING).reason == "platform_unavailable"
    assert len(independent.requests) == asked  # open: nobody waits for the platform
    independent.behaviour = Behaviour("honest")
    time.sleep(0.6)
    assert client.breakers() == {independent.url: "half_open"}
    assert checker.verify_id(BEIJING).colour == "green"  # the probe succeeds
    assert client.breakers() == {independent.url: "closed"}


def _gate_trust(
    tmp_path: Path, url: str, **kwargs: object
) -> tuple[CredentialDispatch, SimCredentials]:
    """A trust store verifying through the credential seam with the platform's prefixes first,
    composed as the gate composes it."""
    creds = SimCredentials.generate()
    clock = SystemClock()
    root = creds.write(tmp_path, clock.now())
    checker = _checker(url, **kwargs)
    prefixes = list(kwargs.get("code_prefixes", ("PLT1:",)))  # type: ignore[call-overload]
    store = TrustStore(
        root.read_bytes(), tmp_path / "trust-list.json", tmp_path / "denylist.json", clock
    )
    store.load()
    verifier = CredentialDispatch(
        gate_verifiers(), store.snapshot, clock, 30, platform=checker, prefixes=prefixes
    )
    return verifier, creds


def test_fallback_offline_decides_an_offline_code_and_denies_an_online_only_token(
    tmp_path: Path,
) -> None:
    hole = BlackHole()
    try:
        prefixes = ("HCN1:", "PLT1:")
        store, creds = _gate_trust(tmp_path / "a", hole.url, timeout_ms=300, code_prefixes=prefixes)
        code = creds.issue("green", SystemClock().now())
        assert code.startswith("HCN1:")
        result = store.verify(code)
        assert (result.valid, result.colour, result.path, result.format) == (
            True,
            "green",
            "offline",
            "hcn1",
        )
        assert result.platform_ms is not None
        token = store.verify("PLT1:token")
        assert (token.reason, token.format) == ("platform_unavailable", "platform")
        deny, creds = _gate_trust(
            tmp_path / "b", hole.url, timeout_ms=300, code_prefixes=prefixes, fallback="deny"
        )
        assert deny.verify(creds.issue("green", SystemClock().now())).reason == (
            "platform_unavailable"
        )
    finally:
        hole.close()


def test_an_online_answer_overrides_the_offline_colour_of_a_prefixed_code(
    tmp_path: Path, independent: IndependentPlatform
) -> None:
    store, creds = _gate_trust(tmp_path, independent.url, code_prefixes=("HCN1:",))
    code = creds.issue("green", SystemClock().now())
    independent.tokens[code] = "red"
    result = store.verify(code)
    assert (result.colour, result.path, result.format) == ("red", "online", "platform")


def test_codes_without_an_online_prefix_stay_offline(
    tmp_path: Path, independent: IndependentPlatform
) -> None:
    store, creds = _gate_trust(tmp_path, independent.url)
    assert store.verify("HC2:whatever").reason == "unsupported"
    result = store.verify(creds.issue("yellow", SystemClock().now()))
    assert (result.colour, result.path) == ("yellow", "offline")
    assert independent.requests == []
