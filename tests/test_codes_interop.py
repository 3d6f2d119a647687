"""Codes minted by an independent implementation verify; its forgeries do not."""

from __future__ import annotations

import pytest

from edge.credentials.common.keys import AlgName
from edge.credentials.hcn1.verify import verify_code
from edge.credentials.trust.trustlist import TrustList
from tests import independent_hcn1 as independent
from tests.test_codes_support import NOW, Issuer, TrustWorld, make_issuer


@pytest.fixture(scope="module", params=["ES256", "EdDSA"])
def issuer(request: pytest.FixtureRequest) -> Issuer:
    alg: AlgName = request.param
    return make_issuer("CN-150000", alg)


@pytest.fixture(scope="module")
def neighbour() -> Issuer:
    return make_issuer("CN-110000", "ES256")


@pytest.fixture(scope="module")
def trust(issuer: Issuer, neighbour: Issuer) -> TrustList:
    return TrustWorld().trust_list([issuer, neighbour])


def reason(text: str, trust: TrustList) -> str:
    result = verify_code(text, trust, None, NOW + 5, 30)
    return "valid" if result.valid else str(result.reason)


@pytest.mark.parametrize("kid_in_protected", [True, False])
@pytest.mark.parametrize("tagged", [True, False])
def test_independent_codes_verify(
    issuer: Issuer, trust: TrustList, kid_in_protected: bool, tagged: bool
) -> None:
    text = independent.mint(
        issuer.key, "CN-150000", "yellow", NOW, document="D-1",
        kid_in_protected=kid_in_protected, tagged=tagged,
    )  # fmt: skip
    result = verify_code(text, trust, None, NOW + 5, 30)
    assert result.valid, result.reason
    assert result.colour == "yellow" and result.issuer == "CN-150000"
    assert result.expires_at == NOW + 300


def test_independent_base45_matches_rfc_example() -> None:
    assert independent.base45(b"ietf!") == "QED8WEX0"


def test_forgeries_fail(issuer: Issuer, neighbour: Issuer, trust: TrustList) -> None:
    stranger = make_issuer("CN-150000", "ES256")
    assert reason(independent.mint(stranger.key, "CN-150000", "green", NOW), trust) == "unknown_key"
    cross = independent.mint(neighbour.key, "CN-150000", "green", NOW)
    assert reason(cross, trust) == "unknown_key"
    wrong_context = independent.mint(issuer.key, "CN-150000", "green", NOW, context="Signature")
    assert reason(wrong_context, trust) == "bad_signature"
    stale = independent.mint(issuer.key, "CN-150000", "green", NOW - 3600)
    assert reason(stale, trust) == "expired"
    bad_claims = independent.mint(
        issuer.key, "CN-150000", "green", NOW, payload_override={1: "CN-150000", 6: NOW}
    )
    assert reason(bad_claims, trust) == "malformed"


def test_der_encoded_ecdsa_signature_is_rejected(trust: TrustList, neighbour: Issuer) -> None:
    text = independent.mint(neighbour.key, "CN-110000", "green", NOW, der_signature=True)
    assert reason(text, trust) == "bad_signature"
    assert reason(independent.mint(neighbour.key, "CN-110000", "green", NOW), trust) == "valid"
