"""Hostile input from the platform side and from the document reader: never a crash, never a pass
from an answer the gate cannot trust, never a request for an invalid ID number."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edge.clock import SystemClock
from edge.credentials.result import VerificationResult
from edge.errors import PlatformError
from edge.platform.cache import AnswerCache
from edge.platform.client import PlatformClient
from edge.platform.verifier import CredentialChecker
from edge.reasons import Reason
from edge.wire.idcard import normalise_id
from edge.wire.platform import parse_answer, parse_request, sign
from tests.independent_platform import Behaviour, IndependentPlatform
from tests.platform_support import APP_ID, SECRET, WEIGHTS, resident_id
from tests.platform_support import settings as platform_settings

STATUSES = ["green", "yellow", "red", "expired", "not_found", "failed"]
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
answers = st.fixed_dictionaries(
    {},
    optional={
        "status": st.sampled_from(STATUSES) | json_values,
        "issuer": st.text(max_size=70) | json_values,
        "masked_name": st.none() | st.text(max_size=70) | json_values,
        "updated_at": st.integers(min_value=-5, max_value=2**60) | json_values,
        "ttl_s": st.integers(min_value=-5, max_value=100_000) | json_values,
        "nonce": st.text(max_size=40) | json_values,
    },
)


def _check_character_ok(number: str) -> bool:
    total = sum(int(d) * w for d, w in zip(number[:17], WEIGHTS, strict=True))
    return "10X98765432"[total % 11] == number[17]


@given(st.text(max_size=40))
def test_any_document_line_is_judged_without_a_crash(text: str) -> None:
    number = normalise_id(text)
    if number is not None:
        assert len(number) == 18 and number.isascii() and _check_character_ok(number)


@given(
    st.text(alphabet="0123456789", min_size=17, max_size=17), st.integers(0, 16), st.integers(1, 9)
)
def test_the_check_character_catches_every_single_digit_error(
    first17: str, position: int, delta: int
) -> None:
    number = resident_id(first17)
    assert normalise_id(number) == number
    assert normalise_id(number.lower()) == number
    wrong = str((int(number[position]) + delta) % 10)
    assert normalise_id(number[:position] + wrong + number[position + 1 :]) is None


@given(st.binary(max_size=300), st.text(max_size=70) | st.none())
def test_parse_answer_never_trusts_an_unsigned_body(body: bytes, signature: str | None) -> None:
    try:
        parse_answer(body, signature, SECRET, "00" * 16)
    except PlatformError:
        return
    assert signature == sign(body, SECRET)


@given(st.binary(max_size=300))
def test_parse_request_rejects_garbage_cleanly(body: bytes) -> None:
    try:
        request = parse_request(body)
    except PlatformError:
        return
    assert request.cert_type in ("qr_code", "id_card") and request.cert_value


@pytest.fixture(scope="module")
def shaped_platform() -> Iterator[IndependentPlatform]:
    platform = IndependentPlatform({APP_ID: SECRET}).start()
    yield platform
    platform.stop()


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    document=answers | json_values,
    raw_body=st.none() | st.binary(max_size=200),
    echo_nonce=st.booleans(),
    sign_ok=st.booleans(),
    via_id=st.booleans(),
)
def test_no_answer_from_a_platform_passes_unless_signed_echoed_and_a_colour(
    shaped_platform: IndependentPlatform,
    document: Any,
    raw_body: bytes | None,
    echo_nonce: bool,
    sign_ok: bool,
    via_id: bool,
) -> None:
    shaped_platform.behaviour = Behaviour(
        "shaped", document=document, raw_body=raw_body, echo_nonce=echo_nonce, sign_ok=sign_ok
    )
    config = platform_settings(shaped_platform.url, timeout_ms=10000)  # a loaded machine is slow
    clock = SystemClock()
    client = PlatformClient(config, SECRET, "t/g", clock, cache=AnswerCache(clock, max_s=0.0))
    checker = CredentialChecker(config, client, b"gate-reference-key")
    try:
        result = (
            checker.verify_id(resident_id("11010519491231002"))
            if via_id
            else checker.verify_code(
                "PLT1:token", lambda text: VerificationResult.invalid(Reason.MALFORMED)
            )
        )
    finally:
        client.close()
    if result.valid:
        assert raw_body is None and sign_ok and echo_nonce
        assert isinstance(document, dict) and document.get("status") in ("green", "yellow", "red")
        assert result.colour == document["status"]
    elif sign_ok and echo_nonce and raw_body is None and isinstance(document, dict):
        assert result.reason is not None
    else:
        assert result.reason == "platform_untrusted"


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def _full_width(text: str) -> str:
    return "".join(chr(0xFF10 + int(c)) if c.isdigit() else "ｘ" for c in text)


valid_ids = st.text(alphabet="0123456789", min_size=17, max_size=17).map(resident_id)


@given(
    text=st.text(alphabet=st.sampled_from("0123456789xX０１２３４５６７８９Ｘｘ -\t"), max_size=22)
    | st.text(max_size=30)
    | valid_ids
    | valid_ids.map(str.lower)
    | valid_ids.map(_full_width),
    status=st.sampled_from(STATUSES),
)
def test_any_card_reading_is_judged_and_only_valid_numbers_are_sent(
    shaped_platform: IndependentPlatform, text: str, status: str
) -> None:
    shaped_platform.behaviour = Behaviour("honest")
    number = normalise_id(text)
    if number is not None:
        shaped_platform.holders[number] = status
    asked = len(shaped_platform.requests)
    config = platform_settings(shaped_platform.url, timeout_ms=10000)  # a loaded machine is slow
    clock = SystemClock()
    client = PlatformClient(config, SECRET, "t/g", clock, cache=AnswerCache(clock, max_s=0.0))
    try:
        result = CredentialChecker(config, client, b"gate-reference-key").verify_id(text)
    finally:
        client.close()
    if number is None:
        assert result.reason == "id_invalid"
        assert len(shaped_platform.requests) == asked
        return
    assert shaped_platform.requests[-1]["cert_value"] == number
    assert result.valid == (status in ("green", "yellow", "red"))
    assert result.colour == (status if result.valid else None)
