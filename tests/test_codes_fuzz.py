"""Property tests: hostile text and bytes at every layer never raise and are never valid."""

from __future__ import annotations

import contextlib
import zlib

import cbor2
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edge.credentials.common import cbor
from edge.credentials.common.base45 import ALPHABET, b45decode, b45encode
from edge.credentials.common.cose import parse_sign1
from edge.credentials.common.errors import MalformedCodeError
from edge.credentials.hcn1.claims import parse_claims
from edge.credentials.hcn1.envelope import PREFIX, inflate, text_to_cose
from edge.credentials.hcn1.verify import verify_code
from edge.credentials.trust.signed_document import open_document
from edge.credentials.trust.trustlist import TrustList, parse_denylist, parse_trust_list
from edge.errors import CodeFormatError, TrustListError
from tests.test_codes_support import NOW, TrustWorld, make_issuer, raw_sign1_text, signed_text

ISSUER = make_issuer("CN-150000", "ES256")
WORLD = TrustWorld()
TRUST = WORLD.trust_list([ISSUER, make_issuer("CN-110000", "EdDSA")])
VALID = signed_text(ISSUER)
FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

cbor_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**64), 2**64 - 1) | st.binary(max_size=40)
    | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=5)
    | st.dictionaries(st.integers(-80000, 10) | st.text(max_size=4), inner, max_size=5),
    max_leaves=20,
)  # fmt: skip


def never_valid(text: str) -> None:
    result = verify_code(text, TRUST, None, NOW + 5, 30)
    assert not result.valid
    assert result.reason is not None


@FUZZ
@given(st.text(max_size=3000))
def test_arbitrary_text(text: str) -> None:
    never_valid(text)
    never_valid(PREFIX + text)


@FUZZ
@given(st.text(alphabet=ALPHABET, max_size=600))
def test_arbitrary_base45(text: str) -> None:
    never_valid(PREFIX + text)


@FUZZ
@given(st.binary(max_size=1500))
def test_arbitrary_bytes_through_every_layer(data: bytes) -> None:
    never_valid(PREFIX + b45encode(data))
    never_valid(PREFIX + b45encode(zlib.compress(data)))
    for parse in (inflate, parse_sign1, parse_claims, cbor.loads):
        with contextlib.suppress(MalformedCodeError):
            parse(data)
    with contextlib.suppress(MalformedCodeError):
        b45decode(data.decode("latin-1"))


@FUZZ
@given(cbor_values)
def test_arbitrary_cbor_structures(value: cbor.CborValue) -> None:
    encoded = cbor2.dumps(value)
    try:
        assert cbor.loads(encoded) == value
    except cbor.CborError as exc:
        assert "deep" in str(exc)
    never_valid(PREFIX + b45encode(zlib.compress(encoded)))
    never_valid(PREFIX + b45encode(zlib.compress(cbor2.dumps(cbor2.CBORTag(18, value)))))
    never_valid(raw_sign1_text({1: -7, 4: ISSUER.kid}, {}, encoded, b"\x00" * 64))
    with contextlib.suppress(MalformedCodeError):
        parse_claims(encoded)


@FUZZ
@given(st.dictionaries(st.integers(-10, 10), cbor_values, max_size=4), cbor_values)
def test_arbitrary_headers_around_a_real_signature(
    protected: dict[cbor.CborKey, cbor.CborValue], unprotected: cbor.CborValue
) -> None:
    original = parse_sign1(text_to_cose(VALID))
    never_valid(raw_sign1_text(protected, unprotected, original.payload, original.signature))


@FUZZ
@given(
    st.lists(
        st.tuples(st.integers(0, 10_000), st.sampled_from(ALPHABET + "x\n")), min_size=1, max_size=4
    )
)
def test_mutations_of_a_valid_code(edits: list[tuple[int, str]]) -> None:
    text = VALID
    for position, char in edits:
        index = 5 + position % (len(text) - 5)
        text = text[:index] + char + text[index + 1 :]
    if text != VALID:
        assert not verify_code(text, TRUST, None, NOW + 5, 30).valid


@FUZZ
@given(st.binary(max_size=2000))
def test_arbitrary_trust_documents_raise_only_trust_list_error(data: bytes) -> None:
    root = WORLD.root.public_key()
    for parse in (parse_trust_list, parse_denylist):
        with pytest.raises(TrustListError):
            parse(data, root)
    with pytest.raises(TrustListError):
        open_document(data, root, "hcn1-trust-list")


def test_deep_json_nesting_is_an_error_not_a_crash() -> None:
    with pytest.raises(TrustListError):
        parse_trust_list(b"[" * 200_000, WORLD.root.public_key())


def test_verify_code_with_non_string_input() -> None:
    assert (
        verify_code(b"HCN1:".decode() + "\x00", TrustList.empty(), None, NOW, 30).reason
        == "malformed"
    )
    assert not verify_code(None, TRUST, None, NOW, 30).valid  # type: ignore[arg-type]
    with pytest.raises(CodeFormatError):
        b45decode("::::")
