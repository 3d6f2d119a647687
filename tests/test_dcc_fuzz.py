"""Property tests on the DCC decoder: hostile input never raises, and no forgery ever verifies."""

from __future__ import annotations

import contextlib
import zlib

import cbor2
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edge.credentials.common import cbor
from edge.credentials.common.base45 import ALPHABET, b45decode, b45encode
from edge.credentials.common.errors import MalformedCodeError, UnsupportedCodeError
from edge.credentials.dcc.claims import parse_dcc_claims
from edge.credentials.dcc.cose import parse_dcc_sign1
from edge.credentials.dcc.envelope import PREFIX, cose_to_text
from edge.credentials.dcc.verifier import DccVerifier
from edge.credentials.formats import gate_verifiers
from edge.credentials.trust.dsc import parse_dsc
from tests.dcc_support import NOW, World, make_signer

ES256 = make_signer("ES256")
PS256 = make_signer("PS256", country="DE")
TRUST = World().trust(ES256, PS256)
VALID = ES256.issue()
VALID_PS = PS256.issue()
KID = parse_dsc(ES256.der).kid
VERIFIER = DccVerifier()
FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

cbor_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**64), 2**64 - 1) | st.binary(max_size=40)
    | st.text(max_size=20) | st.floats(allow_nan=True),
    lambda inner: st.lists(inner, max_size=5)
    | st.dictionaries(st.integers(-300, 10) | st.text(max_size=4), inner, max_size=5)
    | st.builds(cbor2.CBORTag, st.integers(0, 2**16), inner),
    max_leaves=25,
)  # fmt: skip


def never_valid(text: str) -> None:
    for result in (
        VERIFIER.verify(text, TRUST, None, NOW, 30),
        gate_verifiers().verify(text, TRUST, None, NOW, 30),
    ):
        assert not result.valid
        assert result.reason is not None


def sign1(protected: object, unprotected: object, payload: object, signature: object) -> str:
    return cose_to_text(
        cbor2.dumps(cbor2.CBORTag(18, [protected, unprotected, payload, signature]))
    )


@FUZZ
@given(st.text(max_size=5000))
def test_arbitrary_text(text: str) -> None:
    never_valid(text)
    never_valid(PREFIX + text)


@FUZZ
@given(st.text(alphabet=ALPHABET, max_size=800))
def test_arbitrary_base45(text: str) -> None:
    never_valid(PREFIX + text)


@FUZZ
@given(st.binary(max_size=2000), st.integers(0, 9))
def test_arbitrary_bytes_through_every_layer(data: bytes, level: int) -> None:
    never_valid(PREFIX + b45encode(data))
    never_valid(PREFIX + b45encode(zlib.compress(data, level)))
    for parse in (parse_dcc_sign1, parse_dcc_claims):
        with contextlib.suppress(MalformedCodeError, UnsupportedCodeError):
            parse(data)
    with contextlib.suppress(MalformedCodeError):
        cbor.loads(data, lenient=True)


@FUZZ
@given(cbor_values)
def test_arbitrary_cbor_structures(value: object) -> None:
    encoded = cbor2.dumps(value)
    with contextlib.suppress(MalformedCodeError):
        cbor.loads(encoded, lenient=True, max_items=1024)
    never_valid(cose_to_text(encoded))
    never_valid(cose_to_text(cbor2.dumps(cbor2.CBORTag(61, cbor2.CBORTag(18, value)))))
    never_valid(sign1(cbor2.dumps({1: -7, 4: KID}), {}, encoded, b"\x00" * 64))
    with contextlib.suppress(MalformedCodeError):
        parse_dcc_claims(encoded)


def _parts(text: str) -> list[object]:
    message = cbor2.loads(zlib.decompress(b45decode(text[len(PREFIX) :])))
    assert isinstance(message, cbor2.CBORTag)
    return list(message.value)


@FUZZ
@given(
    st.dictionaries(st.integers(-10, 10), cbor_values, max_size=4),
    st.dictionaries(st.integers(-10, 10), cbor_values, max_size=4),
)
def test_arbitrary_headers_around_a_real_signature(
    protected: dict[int, object], unprotected: dict[int, object]
) -> None:
    _, _, payload, signature = _parts(VALID)
    header = cbor2.dumps(protected)
    if header != _parts(VALID)[0]:
        never_valid(sign1(header, unprotected, payload, signature))


@FUZZ
@given(cbor_values, st.sampled_from([VALID, VALID_PS]))
def test_a_changed_payload_never_verifies(claims: object, original: str) -> None:
    protected, unprotected, payload, signature = _parts(original)
    changed = cbor2.dumps(claims)
    if changed != payload:
        never_valid(sign1(protected, unprotected, changed, signature))


@FUZZ
@given(st.binary(min_size=1, max_size=400), st.sampled_from([VALID, VALID_PS]))
def test_a_changed_signature_never_verifies(signature: bytes, original: str) -> None:
    protected, unprotected, payload, real = _parts(original)
    if signature != real:
        never_valid(sign1(protected, unprotected, payload, signature))


@FUZZ
@given(
    st.lists(
        st.tuples(st.integers(0, 10_000), st.sampled_from(ALPHABET + "x\n")), min_size=1, max_size=4
    )
)
def test_mutations_of_a_valid_certificate(edits: list[tuple[int, str]]) -> None:
    text = VALID
    for position, char in edits:
        index = len(PREFIX) + position % (len(text) - len(PREFIX))
        text = text[:index] + char + text[index + 1 :]
    if text != VALID:
        result = VERIFIER.verify(text, TRUST, None, NOW, 30)
        # a mutation may leave the signed bytes intact (zlib or Base45 slack): then it is the
        # very same certificate, never a different one
        if result.valid:
            assert result.code_id == VERIFIER.verify(VALID, TRUST, None, NOW, 30).code_id


def test_a_zlib_bomb_is_malformed() -> None:
    bomb = PREFIX + b45encode(zlib.compress(b"\x00" * 10_000_000, 9))
    never_valid(bomb)


def test_deep_nesting_is_malformed() -> None:
    deep: object = 1
    for _ in range(200):
        deep = [deep]
    never_valid(cose_to_text(cbor2.dumps(deep)))
    never_valid(cose_to_text(b"\x9f" * 3000))
