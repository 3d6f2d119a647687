"""COSE_Sign1 as DCC issuers write it: tag 18, optionally inside CWT tag 61, headers either side."""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass

from edge.credentials.common import cbor
from edge.credentials.common.cose import sig_structure
from edge.credentials.common.errors import MalformedCodeError, UnsupportedCodeError
from edge.credentials.trust.dsc import ALG_PS256, ECDSA_ALGS, KID_LENGTH

COSE_SIGN1_TAG = 18
CWT_TAG = 61
HEADER_ALG = 1
HEADER_CRIT = 2
HEADER_KID = 4
MAX_KID_BYTES = 64
_HEX_KID = re.compile(rb"[0-9A-Fa-f]+")
_BASE64_KID = re.compile(rb"[A-Za-z0-9+/_-]+={0,2}")
FULL_HASH_BYTES = 32


@dataclass(frozen=True)
class DccSign1:
    """The parts of a DCC COSE_Sign1 the verifier needs.

    `kid` is the protected header's kid when there is one (even one that matches nothing: an
    unprotected kid never overrides it), else the unprotected one; None when neither has one.
    `alg` likewise comes from the protected header, else the unprotected one.
    """

    protected: bytes
    alg: int | None
    kid: bytes | None
    payload: bytes
    signature: bytes

    def to_be_signed(self) -> bytes:
        """The Sig_structure bytes this message's signature covers."""
        return sig_structure(self.protected, self.payload)


def parse_dcc_sign1(data: bytes) -> DccSign1:
    """Parse COSE_Sign1 (untagged, tag 18, or tag 61 around tag 18); raise on any bad shape."""
    message = cbor.loads(data, lenient=True)
    if isinstance(message, cbor.Tagged) and message.tag == CWT_TAG:
        message = message.value
    if isinstance(message, cbor.Tagged):
        if message.tag != COSE_SIGN1_TAG:
            raise MalformedCodeError("not a COSE_Sign1 message")
        message = message.value
    if not isinstance(message, list) or len(message) != 4:
        raise MalformedCodeError("not a COSE_Sign1 array of four items")
    protected, unprotected, payload, signature = (_untagged(item) for item in message)
    if not isinstance(protected, bytes) or not isinstance(unprotected, dict):
        raise MalformedCodeError("COSE headers have the wrong types")
    if not isinstance(payload, bytes) or not isinstance(signature, bytes):
        raise MalformedCodeError("COSE payload or signature is not a byte string")
    header = cbor.loads(protected, lenient=True) if protected else {}
    if not isinstance(header, dict):
        raise MalformedCodeError("protected header is not a map")
    if HEADER_CRIT in header or HEADER_CRIT in unprotected:
        raise UnsupportedCodeError("critical COSE headers are not supported")
    raw_alg = header.get(HEADER_ALG, unprotected.get(HEADER_ALG))
    alg: int | None = None
    if raw_alg is not None:
        if isinstance(raw_alg, bool) or not isinstance(raw_alg, int):
            raise MalformedCodeError("COSE algorithm is not an integer")
        if raw_alg not in (*ECDSA_ALGS, ALG_PS256):
            raise UnsupportedCodeError("signature algorithm not allowed (ES256/384/512, PS256 are)")
        alg = raw_alg
    kid = _untagged(header[HEADER_KID] if HEADER_KID in header else unprotected.get(HEADER_KID))
    if isinstance(kid, str):  # some issuers wrote the kid as a text string
        kid = kid.encode("utf-8")
    if kid is not None and (not isinstance(kid, bytes) or len(kid) > MAX_KID_BYTES):
        raise MalformedCodeError("kid is not a byte string of at most 64 bytes")
    return DccSign1(protected, alg, _binary_kid(kid), payload, signature)


def _untagged(value: cbor.CborValue) -> cbor.CborValue:
    """A byte string an issuer's encoder wrapped in a CBOR tag (bignum, for one), as its bytes.

    The signature covers the bytes themselves (Sig_structure carries plain byte strings), so
    the tag some encoders added around the payload, the signature or the kid is dropped.
    """
    if isinstance(value, cbor.Tagged) and isinstance(value.value, bytes):
        return value.value
    return value


def _binary_kid(kid: bytes | None) -> bytes | None:
    """The 8-byte kid, also where an issuer wrote it otherwise.

    Issuers' software wrote the kid as hexadecimal or base64 text, and some used the whole
    SHA-256 of the DSC (binary or as text): its first 8 bytes are the kid. The kid only selects
    the key to try; the signature decides.
    """
    if kid is None or len(kid) == KID_LENGTH:
        return kid
    for decoded in (*_text_decodings(kid), kid):
        if len(decoded) in (KID_LENGTH, FULL_HASH_BYTES):
            return decoded[:KID_LENGTH]
    return kid


def _text_decodings(kid: bytes) -> list[bytes]:
    if _HEX_KID.fullmatch(kid) and len(kid) % 2 == 0:
        return [bytes.fromhex(kid.decode("ascii"))]
    if _BASE64_KID.fullmatch(kid):
        text = kid.rstrip(b"=").replace(b"-", b"+").replace(b"_", b"/")
        try:
            return [base64.b64decode(text + b"=" * (-len(text) % 4), validate=True)]
        except binascii.Error:
            return []
    return []
