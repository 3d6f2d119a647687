"""verify_code: round trips, every reason, issuer binding, rotation and tamper resistance."""

from __future__ import annotations

import zlib

import pytest

from central.issue import issue_code
from edge.credentials.binding import subject_binding
from edge.credentials.common import cbor
from edge.credentials.common.base45 import ALPHABET, b45encode
from edge.credentials.common.keys import AlgName, key_alg
from edge.credentials.hcn1.claims import encode_claims
from edge.credentials.hcn1.envelope import cose_to_text, text_to_cose
from edge.credentials.hcn1.verify import verify_code
from edge.credentials.result import Colour
from edge.credentials.trust.trustlist import (
    Denylist,
    TrustList,
    build_denylist,
    parse_denylist,
    parse_trust_list,
)
from edge.errors import CodeFormatError, TrustListError
from tests.test_codes_support import (
    DAY,
    NOW,
    Issuer,
    TrustWorld,
    claims_for,
    make_issuer,
    raw_sign1_text,
    signed_text,
)

ALGS: tuple[AlgName, ...] = ("ES256", "EdDSA")


@pytest.fixture(scope="module")
def world() -> TrustWorld:
    return TrustWorld()


@pytest.fixture(scope="module", params=ALGS)
def issuer(request: pytest.FixtureRequest) -> Issuer:
    return make_issuer("CN-150000", request.param)


@pytest.fixture(scope="module")
def other() -> Issuer:
    return make_issuer("CN-110000", "ES256")


@pytest.fixture(scope="module")
def trust(world: TrustWorld, issuer: Issuer, other: Issuer) -> TrustList:
    return world.trust_list([issuer, other])


def check(text: str, trust: TrustList, now: float = NOW + 10, deny: Denylist | None = None) -> str:
    result = verify_code(text, trust, deny, now, 30)
    return "valid" if result.valid else str(result.reason)


@pytest.mark.parametrize("colour", ["green", "yellow", "red"])
def test_round_trip_both_algorithms(issuer: Issuer, trust: TrustList, colour: Colour) -> None:
    text = issue_code(
        issuer.issuer_id, issuer.pem, colour, NOW, document="G12345", masked_name="王*"
    )
    result = verify_code(text, trust, None, NOW + 10, 30)
    assert result.valid and result.reason is None
    assert result.colour == colour
    assert result.issuer == "CN-150000"
    assert result.expires_at == NOW + 300
    assert result.code_id is not None and len(result.code_id) == 16
    assert result.subject_binding == subject_binding("CN-150000", "G12345")


def test_codes_are_short_and_unique(issuer: Issuer) -> None:
    first = issue_code(issuer.issuer_id, issuer.pem, "green", NOW)
    second = issue_code(issuer.issuer_id, issuer.pem, "green", NOW)
    assert first != second
    assert first.startswith("HCN1:") and len(first) < 400


def test_time_window_with_skew(issuer: Issuer, trust: TrustList) -> None:
    text = signed_text(issuer)
    assert check(text, trust, now=NOW - 30) == "valid"
    assert check(text, trust, now=NOW - 31) == "not_yet_valid"
    assert check(text, trust, now=NOW + 330) == "valid"
    assert check(text, trust, now=NOW + 331) == "expired"
    assert verify_code(text, trust, None, NOW - 31, 0).reason == "not_yet_valid"
    assert verify_code(text, trust, None, NOW - 1, 0).reason == "not_yet_valid"


def test_malformed_inputs(issuer: Issuer, trust: TrustList) -> None:
    good = signed_text(issuer)
    bomb = "HCN1:" + b45encode(zlib.compress(b"\x00" * 1_000_000, 9))
    assert len(bomb) < 2048
    long_text = good + "0" * (2049 - len(good))
    bad_claims = signed_text(issuer, payload=cbor.dumps({1: "CN-150000"}))
    not_a_map = signed_text(issuer, payload=b"\x01")
    short_cti = signed_text(issuer, claims_for("CN-150000", code_id=b"\x01" * 15))
    blue = signed_text(
        issuer, payload=encode_claims(claims_for("CN-150000")).replace(b"green", b"bleu!")
    )
    backwards = signed_text(issuer, claims_for("CN-150000", expires_at=NOW - 1))
    for text in ("", "hello", good[:-3], good + "0", bomb, long_text, bad_claims, not_a_map,
                 short_cti, blue, backwards, "HCN1:" + b45encode(b"\x78\x9c")):  # fmt: skip
        assert check(text, trust) == "malformed", text[:40]


def test_unsupported_algorithm_version_and_critical_header(
    issuer: Issuer, trust: TrustList
) -> None:
    payload = encode_claims(claims_for("CN-150000"))
    assert check(signed_text(issuer, alg=-35), trust) == "unsupported"
    assert check(signed_text(issuer, alg=-257), trust) == "unsupported"
    assert check("HCN9:" + text_to_cose(signed_text(issuer)).hex().upper(), trust) == "unsupported"
    crit = raw_sign1_text({1: -7, 2: [99], 4: issuer.kid}, {}, payload, b"\x00" * 64)
    assert check(crit, trust) == "unsupported"


def test_unknown_issuer_and_unknown_key(
    world: TrustWorld, issuer: Issuer, trust: TrustList
) -> None:
    stranger = make_issuer("CN-440000", "EdDSA")
    assert check(signed_text(stranger), trust) == "unknown_issuer"
    impostor = Issuer("CN-150000", make_issuer("x", "ES256").key)
    assert check(signed_text(impostor), trust) == "unknown_key"
    result = verify_code(signed_text(impostor), trust, None, NOW, 30)
    assert result.issuer == "CN-150000" and result.code_id is None


def test_key_of_one_issuer_cannot_sign_for_another(
    issuer: Issuer, other: Issuer, trust: TrustList
) -> None:
    forged = Issuer("CN-150000", other.key)  # CN-110000's trusted key claiming CN-150000
    assert check(signed_text(forged), trust) == "unknown_key"
    kid_swap = signed_text(other, claims_for("CN-150000"), kid=issuer.kid)
    assert check(kid_swap, trust) == "bad_signature"


def test_bad_signature(issuer: Issuer, trust: TrustList) -> None:
    message = cbor.loads(text_to_cose(signed_text(issuer)), allowed_tags=frozenset({18}))
    assert isinstance(message, cbor.Tagged) and isinstance(message.value, list)
    protected, unprotected, payload, signature = message.value
    assert isinstance(signature, bytes) and isinstance(payload, bytes)
    flipped = signature[:-1] + bytes([signature[-1] ^ 1])
    assert check(raw_sign1_text(protected, unprotected, payload, flipped), trust) == "bad_signature"
    red = payload.replace(b"green", b"red\x00\x00")
    other_payload = encode_claims(claims_for("CN-150000", colour="red"))
    for body in (red, other_payload):
        text = raw_sign1_text(protected, unprotected, body, signature)
        assert check(text, trust) in {"bad_signature", "malformed"}
    assert (
        check(raw_sign1_text(protected, unprotected, other_payload, signature), trust)
        == "bad_signature"
    )
    assert (
        check(raw_sign1_text(protected, unprotected, payload, signature[:63]), trust)
        == "bad_signature"
    )


def test_algorithm_must_match_the_trusted_key(issuer: Issuer, trust: TrustList) -> None:
    wrong = -8 if key_alg(issuer.key) == "ES256" else -7
    assert check(signed_text(issuer, alg=wrong), trust) == "bad_signature"


def test_revoked_by_code_id_or_subject(world: TrustWorld, issuer: Issuer, trust: TrustList) -> None:
    code_id = bytes(range(16))
    subject = subject_binding("CN-150000", "E999")
    deny = parse_denylist(
        build_denylist(
            world.root, [code_id], [subject], version=1, issued_at=NOW - DAY, expires_at=NOW + DAY
        ),
        world.root.public_key(),
    )
    assert check(signed_text(issuer), trust, deny=deny) == "revoked"
    by_subject = signed_text(
        issuer, claims_for("CN-150000", code_id=b"\x07" * 16, subject_binding=subject)
    )
    assert check(by_subject, trust, deny=deny) == "revoked"
    clean = signed_text(issuer, claims_for("CN-150000", code_id=b"\x07" * 16))
    assert check(clean, trust, deny=deny) == "valid"


def test_expired_trust_material_fails_closed(world: TrustWorld, issuer: Issuer) -> None:
    expired = world.trust_list([issuer], issued_at=NOW - 2 * DAY, expires_at=NOW - 1)
    assert check(signed_text(issuer), expired) == "trust_list_expired"
    assert check("garbage", expired) == "malformed"
    trust = world.trust_list([issuer])
    old_deny = Denylist(version=1, issued_at=NOW - 2 * DAY, expires_at=NOW - 1)
    assert check(signed_text(issuer), trust, deny=old_deny) == "trust_list_expired"


def test_no_trust_list_means_unknown_issuer(issuer: Issuer) -> None:
    assert check(signed_text(issuer), TrustList.empty()) == "unknown_issuer"


def test_key_validity_window_and_rotation(world: TrustWorld) -> None:
    old = make_issuer("CN-150000", "ES256")
    new = make_issuer("CN-150000", "EdDSA")
    both = world.trust_list([old, new])
    assert check(signed_text(old), both) == "valid"
    assert check(signed_text(new), both) == "valid"
    only_new = world.trust_list([new], version=2)
    assert check(signed_text(old), only_new) == "unknown_key"
    assert check(signed_text(new), only_new) == "valid"
    retired = world.trust_list([old], key_window=(NOW - DAY, NOW - 60))
    assert check(signed_text(old), retired) == "unknown_key"
    future = world.trust_list([old], key_window=(NOW + 60, NOW + DAY))
    assert check(signed_text(old), future) == "unknown_key"


def test_every_single_character_change_is_never_valid(issuer: Issuer, trust: TrustList) -> None:
    text = signed_text(issuer, claims_for("CN-150000", subject_binding=b"\x05" * 32))
    assert check(text, trust) == "valid"
    for position in range(len(text)):
        for char in ALPHABET + "a\u00e9":
            if char != text[position]:
                mutated = text[:position] + char + text[position + 1 :]
                assert not verify_code(mutated, trust, None, NOW, 30).valid, (position, char)


def test_every_flipped_bit_of_the_cose_bytes_is_never_valid(
    issuer: Issuer, trust: TrustList
) -> None:
    cose = text_to_cose(signed_text(issuer))
    for position in range(len(cose)):
        for bit in range(8):
            mutated = bytearray(cose)
            mutated[position] ^= 1 << bit
            assert not verify_code(cose_to_text(bytes(mutated)), trust, None, NOW, 30).valid


def test_every_flipped_byte_of_a_trust_list_is_refused(world: TrustWorld, issuer: Issuer) -> None:
    document = world.document([issuer])
    root = world.root.public_key()
    assert parse_trust_list(document, root).version == 1
    for position in range(len(document)):
        for mask in (0x01, 0x20, 0x80):
            mutated = bytearray(document)
            mutated[position] ^= mask
            with pytest.raises(TrustListError):
                parse_trust_list(bytes(mutated), root)


def test_issue_refuses_bad_input(issuer: Issuer) -> None:
    with pytest.raises(CodeFormatError):
        issue_code("CN-150000", issuer.pem, "blue", NOW)  # type: ignore[arg-type]
    with pytest.raises(CodeFormatError):
        issue_code("CN-150000", issuer.pem, "green", NOW, ttl_s=0)
    with pytest.raises(CodeFormatError):
        issue_code("", issuer.pem, "green", NOW)
    with pytest.raises(CodeFormatError):
        issue_code("CN-150000", b"not a key", "green", NOW)


def test_key_window_is_judged_at_the_codes_times_not_now(world: TrustWorld) -> None:
    issuer = make_issuer("CN-150000", "EdDSA")
    window = world.trust_list([issuer], key_window=(NOW, NOW + DAY))  # a list built at NOW
    text = signed_text(issuer)  # iat NOW, exp NOW + 300
    assert check(text, window, now=NOW - 100) == "not_yet_valid"
    assert check(text, window, now=NOW + 300 + 31) == "expired"
    assert check(text, window, now=NOW + 2 * DAY) == "expired"  # key retired since: still expired
    before_key = signed_text(issuer, claims_for("CN-150000", issued_at=NOW - 31))
    assert check(before_key, window) == "unknown_key"  # signed before the key was valid
    outlives = signed_text(issuer, claims_for("CN-150000", expires_at=NOW + DAY + 31))
    assert check(outlives, window) == "unknown_key"  # no code may outlive its key
    edge = signed_text(issuer, claims_for("CN-150000", issued_at=NOW - 30, expires_at=NOW + DAY))
    assert check(edge, window) == "valid"  # within the skew at both ends
    forged = signed_text(make_issuer("CN-150000", "EdDSA"), kid=issuer.kid)
    for now in (NOW - 100, NOW + 10, NOW + 331):
        assert check(forged, window, now=now) == "bad_signature"
