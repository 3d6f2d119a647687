"""DCC verification: signatures, kid rules, tags, compression, key usage, revocation and time."""

from __future__ import annotations

import base64
import hashlib
import json
import zlib
from collections.abc import Callable

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from central.dcc_issue import make_dsc, vaccination_entry
from edge.credentials.common import cbor
from edge.credentials.common.base45 import b45decode, b45encode
from edge.credentials.common.cose import sig_structure
from edge.credentials.dcc.claims import uci_hash
from edge.credentials.dcc.cose import parse_dcc_sign1
from edge.credentials.dcc.envelope import PREFIX, cose_to_text
from edge.credentials.dcc.settings import DccSettings
from edge.credentials.dcc.signature import sign_dcc
from edge.credentials.dcc.verifier import DccVerifier
from edge.credentials.formats import gate_verifiers
from edge.credentials.trust.dsc import parse_dsc
from edge.credentials.trust.trustlist import (
    Denylist,
    build_denylist,
    parse_deny_payload,
    parse_denylist,
)
from edge.errors import TrustListError
from tests.dcc_support import (
    CI,
    DAY,
    NOW,
    Signer,
    World,
    day,
    denylist,
    entry_of,
    make_signer,
)

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


def test_byte_strings_an_encoder_wrapped_in_tags_are_read_as_their_bytes(es256: Signer) -> None:
    """Some issuers' encoders tagged the payload, signature and kid (bignum tags 2/3, even 4)."""
    message = cbor.loads(cose_of(es256.issue()), allowed_tags=frozenset({18}))
    assert isinstance(message, cbor.Tagged) and isinstance(message.value, list)
    protected, _, payload, _ = message.value
    assert isinstance(protected, bytes) and isinstance(payload, bytes)
    header = cbor.loads(protected)
    assert isinstance(header, dict)
    kid = header.pop(4)
    tagged_protected = cbor.dumps({**header, 4: cbor.Tagged(4, kid)})
    tagged_signature = sign_dcc(es256.key, sig_structure(tagged_protected, payload))
    parts: list[cbor.CborValue] = [
        tagged_protected,
        {},
        cbor.Tagged(2, payload),
        cbor.Tagged(3, tagged_signature),
    ]
    text = cose_to_text(cbor.dumps(cbor.Tagged(18, parts)))
    trust = World().trust(es256)
    assert VERIFY.verify(text, trust, None, NOW, 30).valid
    inside: cbor.CborValue = [payload]
    wrapped_list = cbor.Tagged(2, inside)
    not_bytes: list[cbor.CborValue] = [tagged_protected, {}, wrapped_list, tagged_signature]
    broken = cose_to_text(cbor.dumps(cbor.Tagged(18, not_bytes)))
    assert VERIFY.verify(broken, trust, None, NOW, 30).reason == "malformed"


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


@pytest.mark.parametrize(
    ("curve", "alg", "digest"),
    [
        (ec.SECP384R1(), -7, hashes.SHA256()),  # issuers signed "ES256" with P-384 keys
        (ec.SECP384R1(), -35, hashes.SHA384()),
        (ec.SECP521R1(), -36, hashes.SHA512()),
        (ec.SECP256R1(), -35, hashes.SHA384()),
    ],
)
def test_ecdsa_on_the_larger_nist_curves_verifies_by_the_hash_cose_names(
    curve: ec.EllipticCurve, alg: int, digest: hashes.HashAlgorithm
) -> None:
    key = ec.generate_private_key(curve)
    signer = Signer(key, make_dsc(key, "ES"), "ES")
    trust = World().trust(signer)
    kid = parse_dsc(signer.der).kid
    message = cbor.loads(cose_of(signer.issue()), allowed_tags=frozenset({18}))
    assert isinstance(message, cbor.Tagged) and isinstance(message.value, list)
    payload = message.value[2]
    assert isinstance(payload, bytes)
    protected = cbor.dumps({1: alg, 4: kid})
    signature = sign_dcc(key, sig_structure(protected, payload), ec.ECDSA(digest))
    text = cose_to_text(cbor.dumps(cbor.Tagged(18, [protected, {}, payload, signature])))
    assert VERIFY.verify(text, trust, None, NOW, 30).valid
    wrong_hash = cbor.dumps({1: -36 if alg != -36 else -35, 4: kid})
    relabelled = cose_to_text(cbor.dumps(cbor.Tagged(18, [wrong_hash, {}, payload, signature])))
    assert VERIFY.verify(relabelled, trust, None, NOW, 30).reason == "bad_signature"
    truncated = cose_to_text(cbor.dumps(cbor.Tagged(18, [protected, {}, payload, signature[1:]])))
    assert VERIFY.verify(truncated, trust, None, NOW, 30).reason == "bad_signature"


def test_a_dsc_on_a_curve_outside_nist_p_is_refused_clearly() -> None:
    key = ec.generate_private_key(ec.SECP256K1())
    with pytest.raises(TrustListError, match="secp256k1"):
        parse_dsc(make_dsc(key, "ES"))


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


def resigned(
    signer: Signer,
    text: str,
    change: Callable[[dict[cbor.CborKey, cbor.CborValue]], None],
    kid: bytes | str | None = None,
    drop_claims: tuple[int, ...] = (),
    wrap: Callable[[dict[cbor.CborKey, cbor.CborValue]], cbor.CborValue] | None = None,
) -> str:
    """The certificate of `text` with its health certificate changed, signed again by `signer`."""
    message = cbor.loads(cose_of(text), allowed_tags=frozenset({18}))
    assert isinstance(message, cbor.Tagged) and isinstance(message.value, list)
    protected, _, raw_payload, _ = message.value
    assert isinstance(protected, bytes) and isinstance(raw_payload, bytes)
    payload = cbor.loads(raw_payload)
    assert isinstance(payload, dict)
    hcert = payload[-260]
    assert isinstance(hcert, dict) and isinstance(hcert[1], dict)
    certificate = dict(hcert[1])
    change(certificate)
    claims = {key: value for key, value in payload.items() if key not in drop_claims}
    inner = certificate if wrap is None else wrap(certificate)
    changed = cbor.dumps({**claims, -260: {1: inner}})
    if kid is not None:
        header = cbor.loads(protected)
        assert isinstance(header, dict)
        protected = cbor.dumps({**header, 4: kid})
    signature = sign_dcc(signer.key, sig_structure(protected, changed))
    return cose_to_text(cbor.dumps(cbor.Tagged(18, [protected, {}, changed, signature])))


def test_several_doses_in_one_certificate_are_judged_by_the_latest(es256: Signer) -> None:
    """The first schema let a certificate list every dose; issuers did, oldest first."""
    trust = World().trust(es256)
    first = vaccination_entry(CI, day(-60), dose=1)
    second = vaccination_entry(CI, day(-30), dose=2)

    def both_doses(certificate: dict[cbor.CborKey, cbor.CborValue]) -> None:
        certificate["v"] = [first, second]

    def reversed_doses(certificate: dict[cbor.CborKey, cbor.CborValue]) -> None:
        certificate["v"] = [second, first]

    for change in (both_doses, reversed_doses):
        result = VERIFY.verify(resigned(es256, es256.issue(), change), trust, None, NOW, 30)
        assert (result.valid, result.colour, result.reason) == (True, "green", None)
        assert result.certificate_type == "vaccination"
    only_first = resigned(es256, es256.issue(), lambda c: c.update(v=[first]))
    assert VERIFY.verify(only_first, trust, None, NOW, 30).refusal is not None


def test_empty_lists_of_the_other_types_are_ignored(es256: Signer) -> None:
    trust = World().trust(es256)
    text = resigned(es256, es256.issue(), lambda c: c.update(r=[], t=[]))
    result = VERIFY.verify(text, trust, None, NOW, 30)
    assert (result.valid, result.certificate_type) == (True, "vaccination")


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda c: c.update(t=[entry_of("test")]), id="two-types"),
        pytest.param(lambda c: c.update(v=[]), id="no-entry"),
        pytest.param(lambda c: c.update(v=[entry_of("vaccination")] * 9), id="nine-entries"),
        pytest.param(lambda c: c.update(v=[entry_of("vaccination"), "x"]), id="not-a-map"),
    ],
)
def test_two_types_or_no_entry_or_too_many_are_malformed(
    es256: Signer, change: Callable[[dict[cbor.CborKey, cbor.CborValue]], None]
) -> None:
    text = resigned(es256, es256.issue(), change)
    assert VERIFY.verify(text, World().trust(es256), None, NOW, 30).reason == "malformed"


def test_a_certificate_without_identifier_is_malformed(es256: Signer) -> None:
    """ci is required: without it neither UCI revocation nor anti-passback could know it."""
    trust = World().trust(es256)
    entry = {k: v for k, v in vaccination_entry(CI, day(-30)).items() if k != "ci"}
    without = resigned(es256, es256.issue(), lambda certificate: certificate.update(v=[entry]))
    assert VERIFY.verify(without, trust, None, NOW, 30).reason == "malformed"
    not_text = resigned(
        es256, es256.issue(), lambda c: c.update(v=[{**entry_of("vaccination"), "ci": 7}])
    )
    assert VERIFY.verify(not_text, trust, None, NOW, 30).reason == "malformed"


def _revoking(kind: str, digest: bytes) -> Denylist:
    return Denylist(1, NOW - DAY, NOW + DAY, dcc_revoked=frozenset({(kind, digest)}))


@pytest.mark.parametrize("signer", ["es256", "ps256"])
def test_revocation_by_each_eu_hash_type(signer: str, request: pytest.FixtureRequest) -> None:
    issuer: Signer = request.getfixturevalue(signer)
    trust = World().trust(issuer)
    text = issuer.issue()
    signature = parse_dcc_sign1(cose_of(text)).signature
    # ECDSA: the r half only (s may be re-encoded); RSA: the whole signature
    signed_part = signature[: len(signature) // 2] if signer == "es256" else signature
    by_type = {
        "UCI": hashlib.sha256(CI.encode()).digest()[:16],
        "COUNTRYCODEUCI": hashlib.sha256(("SE" + CI).encode()).digest()[:16],
        "SIGNATURE": hashlib.sha256(signed_part).digest()[:16],
    }
    for kind, digest in by_type.items():
        assert VERIFY.verify(text, trust, _revoking(kind, digest), NOW, 30).reason == "revoked"
        other = next(k for k in by_type if k != kind)  # a hash only counts as its own type
        assert VERIFY.verify(text, trust, _revoking(other, digest), NOW, 30).valid, kind


def test_a_typed_denylist_round_trips_through_its_signed_document(es256: Signer) -> None:
    root = ed25519.Ed25519PrivateKey.generate()
    hashes = {"COUNTRYCODEUCI": [hashlib.sha256(("SE" + CI).encode()).digest()[:16]]}
    document = build_denylist(
        root, [], [], version=3, issued_at=NOW - DAY, expires_at=NOW + DAY, dcc_revocations=hashes
    )
    parsed = parse_denylist(document, root.public_key())
    assert parsed.dcc_revoked == {("COUNTRYCODEUCI", hashes["COUNTRYCODEUCI"][0])}
    assert VERIFY.verify(es256.issue(), World().trust(es256), parsed, NOW, 30).reason == "revoked"
    payload = json.loads(json.loads(document)["payload"])
    with pytest.raises(TrustListError, match="dcc_revocations"):
        parse_deny_payload({**payload, "dcc_revocations": {"MD5": []}})


@pytest.mark.parametrize(("claim", "reason"), [(4, "expired"), (6, "not_yet_valid")])
def test_a_certificate_without_exp_or_iat_decodes_and_fails_the_time_check(
    es256: Signer, claim: int, reason: str
) -> None:
    """Some issuers left out exp or iat: the signature still checks, the time check cannot pass."""
    text = resigned(es256, es256.issue(), lambda c: None, drop_claims=(claim,))
    result = VERIFY.verify(text, World().trust(es256), None, NOW, 30)
    assert (result.valid, result.reason, result.format) == (False, reason, "dcc")
    assert result.certificate_type == "vaccination"


def test_a_certificate_wrapped_in_a_byte_string_is_read_from_inside(es256: Signer) -> None:
    """Some issuers put the CBOR encoding of the certificate in a byte string under -260/1."""
    trust = World().trust(es256)
    text = resigned(es256, es256.issue(), lambda c: None, wrap=cbor.dumps)
    result = VERIFY.verify(text, trust, None, NOW, 30)
    assert (result.valid, result.colour, result.certificate_type) == (True, "green", "vaccination")
    assert result.code_id == uci_hash(CI)
    for inner in (cbor.dumps(["v"]), b"\xff\x00"):

        def as_given(
            certificate: dict[cbor.CborKey, cbor.CborValue], given: bytes = inner
        ) -> cbor.CborValue:
            return given

        broken = resigned(es256, es256.issue(), lambda c: None, wrap=as_given)
        assert VERIFY.verify(broken, trust, None, NOW, 30).reason == "malformed"


def test_a_kid_written_as_text_or_as_the_whole_hash_finds_its_signer(es256: Signer) -> None:
    """Issuers wrote the kid as hexadecimal or base64 text, some of the DSC's whole SHA-256."""
    trust = World().trust(es256)
    kid = parse_dsc(es256.der).kid
    whole = hashlib.sha256(es256.der).digest()
    spellings: list[bytes | str] = [
        kid.hex().encode(),
        kid.hex().upper().encode(),
        base64.b64encode(kid),
        whole,
        whole.hex().encode(),
        base64.urlsafe_b64encode(whole).rstrip(b"="),
        base64.b64encode(whole),
        kid.hex().upper(),  # a CBOR text string
    ]
    for spelling in spellings:
        text = resigned(es256, es256.issue(), lambda c: None, kid=spelling)
        assert VERIFY.verify(text, trust, None, NOW, 30).valid, spelling
    other = make_signer("ES256")
    for spelling in spellings:
        forged = resigned(other, es256.issue(), lambda c: None, kid=spelling)
        assert VERIFY.verify(forged, trust, None, NOW, 30).reason == "bad_signature"
    unknown = resigned(es256, es256.issue(), lambda c: None, kid=b"\x01" * 16)
    assert VERIFY.verify(unknown, trust, None, NOW, 30).reason == "unknown_key"


def test_dcc_reading_can_be_switched_off(es256: Signer) -> None:
    off = DccVerifier(DccSettings(enabled=False))
    assert off.verify(es256.issue(), World().trust(es256), None, NOW, 30).reason == "unsupported"


def test_event_reference_is_format_safe(es256: Signer) -> None:
    result = VERIFY.verify(es256.issue(), World().trust(es256), None, NOW, 30)
    assert result.code_id_hash is not None and CI not in result.code_id_hash
    assert result.identity is not None and result.identity.startswith(b"dcc|SE|")
