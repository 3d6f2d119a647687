"""Base45, strict CBOR, bounded zlib and COSE_Sign1 parsing of HCN1 codes."""

from __future__ import annotations

import zlib

import cbor2
import pytest

from edge.credentials.common import cbor
from edge.credentials.common.base45 import b45decode, b45encode
from edge.credentials.common.cose import parse_sign1, sig_structure
from edge.credentials.common.errors import MalformedCodeError, UnsupportedCodeError
from edge.credentials.common.inflate import MAX_DECOMPRESSED_BYTES
from edge.credentials.hcn1.envelope import inflate, text_to_cose


@pytest.mark.parametrize(
    ("raw", "text"),
    [
        (b"AB", "BB8"),
        (b"Hello!!", "%69 VD92EX0"),
        (b"base-45", "UJCLQE7W581"),
        (b"ietf!", "QED8WEX0"),
    ],
)
def test_base45_rfc9285_vectors(raw: bytes, text: str) -> None:
    assert b45encode(raw) == text
    assert b45decode(text) == raw


@pytest.mark.parametrize("bad", ["A", "GGW", "aa", "A\u00e9B", "ZZ"])
def test_base45_rejects_bad_length_alphabet_and_overflow(bad: str) -> None:
    with pytest.raises(MalformedCodeError):
        b45decode(bad)


def test_cbor_matches_reference_encoder_and_round_trips() -> None:
    value: dict[cbor.CborKey, cbor.CborValue] = {
        1: "CN-150000",
        4: 2**40,
        6: -5,
        7: b"\x00" * 16,
        -70001: {1: "red", 3: "王*"},
        "x": [True, False, None, 2**64 - 1, -(2**64)],
    }
    encoded = cbor.dumps(value)
    assert encoded == cbor2.dumps(value)
    assert cbor.loads(encoded) == value


@pytest.mark.parametrize(
    ("data", "why"),
    [
        (bytes.fromhex("5f4101ff"), "indefinite byte string"),
        (bytes.fromhex("9f01ff"), "indefinite array"),
        (bytes.fromhex("a201010102"), "duplicate map key"),
        (bytes.fromhex("fa3f800000"), "float"),
        (bytes.fromhex("f7"), "undefined"),
        (bytes.fromhex("f814"), "two-byte simple value"),
        (bytes.fromhex("c11a514b67b0"), "tag other than 18"),
        (bytes.fromhex("5a7fffffff00"), "length beyond the data"),
        (bytes.fromhex("9b7fffffffffffffff"), "huge array count"),
        (bytes.fromhex("a1f501"), "boolean map key"),
        (bytes.fromhex("62c328"), "invalid UTF-8"),
        (bytes.fromhex("0101"), "trailing bytes"),
        (bytes.fromhex("1c"), "reserved additional info"),
        (b"", "empty"),
        (b"\x81" * 20 + b"\x01", "nesting too deep"),
    ],
)
def test_cbor_rejects_everything_outside_the_subset(data: bytes, why: str) -> None:
    with pytest.raises(cbor.CborError):
        cbor.loads(data)


def test_cbor_tag_18_only_when_allowed() -> None:
    data = bytes.fromhex("d28440a04040")
    assert cbor.loads(data, allowed_tags=frozenset({18})) == cbor.Tagged(18, [b"", {}, b"", b""])
    with pytest.raises(cbor.CborError):
        cbor.loads(data)


def test_inflate_caps_decompressed_size_at_16_kib() -> None:
    assert len(inflate(zlib.compress(b"\x00" * MAX_DECOMPRESSED_BYTES))) == MAX_DECOMPRESSED_BYTES
    with pytest.raises(MalformedCodeError, match="16 KiB"):
        inflate(zlib.compress(b"\x00" * (MAX_DECOMPRESSED_BYTES + 1)))


def test_inflate_rejects_truncation_trailing_data_and_set_padding_bits() -> None:
    good = zlib.compress(b"hello hello hello hello", 9)
    for bad in (good[:-1], good + b"\x00", b"\x78\x9c", b"garbage!"):
        with pytest.raises(MalformedCodeError):
            inflate(bad)
    stored = bytearray(zlib.compress(bytes(range(200)), 9))
    assert stored[2] == 1  # a single final stored block
    stored[2] |= 0x08
    with pytest.raises(MalformedCodeError, match="padding"):
        inflate(bytes(stored))
    padded = bytearray(zlib.compress(b"hello", 9))
    assert padded[-5] == 0  # the end-of-block code ends in the byte before: all padding
    padded[-5] |= 0x80
    with pytest.raises(MalformedCodeError, match="padding"):
        inflate(bytes(padded))


def test_text_envelope_caps_and_prefixes() -> None:
    with pytest.raises(MalformedCodeError, match="2 KiB"):
        text_to_cose("HCN1:" + "0" * 2046)
    with pytest.raises(UnsupportedCodeError):
        text_to_cose("HCN2:ABC")
    for bad in ("HC1:NCFOXN", "hcn1:ABC", "", " HCN1:ABC"):
        with pytest.raises(MalformedCodeError):
            text_to_cose(bad)


def test_sig_structure_is_the_rfc9052_array() -> None:
    expected = cbor2.dumps(["Signature1", b"\xa1\x01\x26", b"", b"payload"])
    assert sig_structure(b"\xa1\x01\x26", b"payload") == expected


def _sign1(protected: dict[int, object], unprotected: dict[int, object]) -> bytes:
    return cbor2.dumps([cbor2.dumps(protected), unprotected, b"p", b"s" * 64])


def test_cose_kid_from_either_header_but_not_both() -> None:
    kid = b"12345678"
    assert parse_sign1(_sign1({1: -7, 4: kid}, {})).kid == kid
    assert parse_sign1(_sign1({1: -8}, {4: kid})).kid == kid
    with pytest.raises(MalformedCodeError):
        parse_sign1(_sign1({1: -7, 4: kid}, {4: kid}))
    with pytest.raises(MalformedCodeError):
        parse_sign1(_sign1({1: -7, 4: b"short"}, {}))


@pytest.mark.parametrize(
    ("protected", "unprotected", "error"),
    [
        ({1: -35, 4: b"12345678"}, {}, UnsupportedCodeError),
        ({1: "ES256", 4: b"12345678"}, {}, UnsupportedCodeError),
        ({1: -7, 2: [1], 4: b"12345678"}, {}, UnsupportedCodeError),
        ({4: b"12345678"}, {1: -7}, MalformedCodeError),
        ({1: -7, 4: b"12345678"}, {1: -7}, MalformedCodeError),
        ({1: True, 4: b"12345678"}, {}, MalformedCodeError),
    ],
)
def test_cose_algorithm_rules(
    protected: dict[int, object], unprotected: dict[int, object], error: type[Exception]
) -> None:
    with pytest.raises(error):
        parse_sign1(_sign1(protected, unprotected))
