"""DCC verification: signatures, kid rules, tags, compression, key usage, revocation and time."""

from __future__ import annotations

import zlib

import pytest

from edge.credentials.common import cbor
from edge.credentials.common.base45 import b45decode, b45encode
from edge.credentials.common.cose import sig_structure
from edge.credentials.dcc import DccVerifier
from edge.credentials.dcc.claims import uci_hash
from edge.credentials.dcc.envelope import PREFIX, cose_to_text
from edge.credentials.dcc.settings import DccSettings
from edge.credentials.dcc.signature import sign_dcc
from edge.credentials.formats import gate_verifiers
from edge.credentials.trust.dsc import parse_dsc
from tests.dcc_support import CI, DAY, NOW, Signer, World, denylist, make_signer

VERIFY = DccVerifier()


@pytest.fixture(scope="module")
def es256() -> Signer:
    return make_signer("ES256")


@pytest.fixture(scope="module")
def ps256() -> Signer:
    return make_signer("PS256", country="DE")


def cose_of(text: str) -> bytes:
    return zlib.decompress(b45decode(text[len(PREFIX) :]))


@pytest.mark.parametrize("kind", ["vaccination", "test", "recovery"])
def test_es256_and_ps256_certificates_verify_and_admit(
    es256: Signer, ps256: Signer, kind: str
) -> None:
    trust = World().trust(es256, ps256)
    for signer in (es256, ps256):
        result = VERIFY.verify(signer.issue(kind), trust, None, NOW, 30)
        assert result.valid and result.admissible, result
        assert result.format == "dcc" and result.certificate_type == kind
        assert result.issuer == signer.country and result.code_id == uci_hash(CI)
        assert result.expires_at == NOW + 300 * DAY and result.not_before == NOW - DAY


def test_the_gate_dispatches_hc1_to_the_dcc_verifier(es256: Signer) -> None:
    result = gate_verifiers().verify(es256.issue(), World().trust(es256), None, NOW, 30)
    assert result.valid and result.format == "dcc"
    assert gate_verifiers().verify("HC2:ABC", World().trust(es256), None, NOW, 30).reason == (
        "unsupported"
    )


@pytest.mark.parametrize("level", [0, 1, 6, 9])
def test_any_zlib_level_is_accepted(es256: Signer, level: int) -> None:
    text = es256.issue(level=level)
    assert VERIFY.verify(text, World().trust(es256), None, NOW, 30).valid


def test_cwt_tag_61_around_the_cose_tag_is_accepted(es256: Signer) -> None:
    text = es256.issue(cwt_tag=True)
    assert cose_of(text)[:2] == b"\xd8\x3d"
    assert VERIFY.verify(text, World().trust(es256), None, NOW, 30).valid


def test_both_ecdsa_s_forms_verify(es256: Signer) -> None:
    order = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
    text = es256.issue()
    message = cbor.loads(cose_of(text), allowed_tags=frozenset({18}))
    assert isinstance(message, cbor.Tagged) and isinstance(message.value, list)
    signature = message.value[3]
    assert isinstance(signature, bytes)
    s = int.from_bytes(signature[32:], "big")
    other = signature[:32] + (order - s).to_bytes(32, "big")
    flipped = cose_to_text(cbor.dumps(cbor.Tagged(18, [*message.value[:3], other])))
    trust = World().trust(es256)
    assert VERIFY.verify(text, trust, None, NOW, 30).valid
    assert VERIFY.verify(flipped, trust, None, NOW, 30).valid


def test_kid_may_be_unprotected_but_a_wrong_protected_kid_is_never_rescued(es256: Signer) -> None:
    trust = World().trust(es256)
    assert VERIFY.verify(es256.issue(kid_in="unprotected"), trust, None, NOW, 30).valid
    assert VERIFY.verify(es256.issue(kid_in="none"), trust, None, NOW, 30).reason == ("unknown_key")
    text = es256.issue()
    message = cbor.loads(cose_of(text), allowed_tags=frozenset({18}))
    assert isinstance(message, cbor.Tagged) and isinstance(message.value, list)
    protected, _, payload, signature = message.value
    assert isinstance(protected, bytes)
    header = cbor.loads(protected)
    assert isinstance(header, dict)
    wrong = cbor.dumps({1: header[1], 4: b"\x00" * 8})
    right_kid = parse_dsc(es256.der).kid
    forged = cbor.dumps(cbor.Tagged(18, [wrong, {4: right_kid}, payload, signature]))
    assert VERIFY.verify(cose_to_text(forged), trust, None, NOW, 30).reason == "unknown_key"


def test_another_signers_kid_or_a_changed_payload_is_bad_signature(es256: Signer) -> None:
    impostor = make_signer("ES256")
    trust = World().trust(es256)
    text = es256.issue()
    message = cbor.loads(cose_of(text), allowed_tags=frozenset({18}))
    assert isinstance(message, cbor.Tagged) and isinstance(message.value, list)
    protected, unprotected, payload, _ = message.value
    forged = impostor.issue()
    forged_message = cbor.loads(cose_of(forged), allowed_tags=frozenset({18}))
    assert isinstance(forged_message, cbor.Tagged) and isinstance(forged_message.value, list)
    stolen_kid = cbor.dumps(
        cbor.Tagged(18, [protected, unprotected, forged_message.value[2], forged_message.value[3]])
    )
    assert VERIFY.verify(cose_to_text(stolen_kid), trust, None, NOW, 30).reason == ("bad_signature")
    assert isinstance(payload, bytes)


def test_an_algorithm_that_does_not_fit_the_key_is_bad_signature(
    es256: Signer, ps256: Signer
) -> None:
    trust = World().trust(es256)
    text = es256.issue()
    message = cbor.loads(cose_of(text), allowed_tags=frozenset({18}))
    assert isinstance(message, cbor.Tagged) and isinstance(message.value, list)
    _, unprotected, payload, signature = message.value
    kid = parse_dsc(es256.der).kid
    relabelled = cbor.dumps(
        cbor.Tagged(18, [cbor.dumps({1: -37, 4: kid}), unprotected, payload, signature])
    )
    assert VERIFY.verify(cose_to_text(relabelled), trust, None, NOW, 30).reason == "bad_signature"
    other = cbor.dumps(
        cbor.Tagged(18, [cbor.dumps({1: -8, 4: kid}), unprotected, payload, signature])
    )
    assert VERIFY.verify(cose_to_text(other), trust, None, NOW, 30).reason == "unsupported"


@pytest.mark.parametrize("legacy", [False, True])
def test_extended_key_usage_limits_the_types_a_dsc_may_sign(legacy: bool) -> None:
    only_tests = make_signer(usages=("test",), legacy=legacy)
    trust = World().trust(only_tests)
    assert VERIFY.verify(only_tests.issue("test"), trust, None, NOW, 30).valid
    for kind in ("vaccination", "recovery"):
        result = VERIFY.verify(only_tests.issue(kind), trust, None, NOW, 30)
        assert (result.valid, result.reason, result.certificate_type) == (False, "key_usage", kind)


def test_revocation_by_the_hash_of_the_certificate_identifier(es256: Signer) -> None:
    trust = World().trust(es256)
    result = VERIFY.verify(es256.issue(), trust, denylist(uci_hash(CI)), NOW, 30)
    assert (result.reason, result.code_id) == ("revoked", uci_hash(CI))
    assert VERIFY.verify(es256.issue(), trust, denylist(uci_hash(CI + "2")), NOW, 30).valid


def test_time_and_trust_list_expiry(es256: Signer) -> None:
    trust = World().trust(es256)
    text = es256.issue(issued_at=NOW - DAY, expires_at=NOW + DAY)
    assert VERIFY.verify(text, trust, None, NOW + 2 * DAY, 30).reason == "expired"
    assert VERIFY.verify(text, trust, None, NOW - 2 * DAY, 30).reason == "not_yet_valid"
    assert VERIFY.verify(text, trust, None, NOW + 31 * DAY, 30).reason == "trust_list_expired"
    stale = denylist(expires_at=NOW - 1)
    assert VERIFY.verify(text, trust, stale, NOW, 30).reason == "trust_list_expired"


def test_a_dsc_missing_from_the_trust_list_is_unknown_key(es256: Signer) -> None:
    other = make_signer()
    assert VERIFY.verify(es256.issue(), World().trust(other), None, NOW, 30).reason == (
        "unknown_key"
    )


@pytest.mark.parametrize(
    "text",
    [
        "HC1:",
        "HC1:NCF",
        "HC1:" + b45encode(b"not zlib"),
        "HC1:" + b45encode(zlib.compress(b"\x84\x40\xa0\x40\x40")),
        "HC1:" + b45encode(zlib.compress(b"\x00" * 40_000)),
        "HC1:" + "A" * 5000,
        "HC1:abc",
    ],
)
def test_malformed_texts(es256: Signer, text: str) -> None:
    assert VERIFY.verify(text, World().trust(es256), None, NOW, 30).reason == "malformed"


def test_multiple_entries_or_types_are_malformed(es256: Signer) -> None:
    trust = World().trust(es256)
    text = es256.issue()
    message = cbor.loads(cose_of(text), allowed_tags=frozenset({18}))
    assert isinstance(message, cbor.Tagged) and isinstance(message.value, list)
    raw_payload = message.value[2]
    assert isinstance(raw_payload, bytes)
    payload = cbor.loads(raw_payload)
    assert isinstance(payload, dict)
    hcert = payload[-260]
    assert isinstance(hcert, dict) and isinstance(hcert[1], dict)
    doubled = dict(hcert[1])
    entries = doubled["v"]
    assert isinstance(entries, list)
    doubled["v"] = entries * 2
    changed = cbor.dumps({**payload, -260: {1: doubled}})
    signer = es256.key
    protected = message.value[0]
    assert isinstance(protected, bytes)
    signature = sign_dcc(signer, sig_structure(protected, changed))
    text = cose_to_text(cbor.dumps(cbor.Tagged(18, [protected, {}, changed, signature])))
    assert VERIFY.verify(text, trust, None, NOW, 30).reason == "malformed"


def test_dcc_reading_can_be_switched_off(es256: Signer) -> None:
    off = DccVerifier(DccSettings(enabled=False))
    assert off.verify(es256.issue(), World().trust(es256), None, NOW, 30).reason == "unsupported"


def test_event_reference_is_format_safe(es256: Signer) -> None:
    result = VERIFY.verify(es256.issue(), World().trust(es256), None, NOW, 30)
    assert result.code_id_hash is not None and CI not in result.code_id_hash
    assert result.identity is not None and result.identity.startswith(b"dcc|SE|")
