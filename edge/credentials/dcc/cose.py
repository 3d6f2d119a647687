"""COSE_Sign1 as DCC issuers write it: tag 18, optionally inside CWT tag 61, headers either side."""

from __future__ import annotations

from dataclasses import dataclass

from edge.credentials.common import cbor
from edge.credentials.common.cose import sig_structure
from edge.credentials.common.errors import MalformedCodeError, UnsupportedCodeError
from edge.credentials.trust.dsc import ALG_ES256, ALG_PS256

COSE_SIGN1_TAG = 18
CWT_TAG = 61
HEADER_ALG = 1
HEADER_CRIT = 2
HEADER_KID = 4
MAX_KID_BYTES = 64


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
    protected, unprotected, payload, signature = message
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
        if raw_alg not in (ALG_ES256, ALG_PS256):
            raise UnsupportedCodeError("signature algorithm not allowed (ES256 and PS256 are)")
        alg = raw_alg
    kid = header[HEADER_KID] if HEADER_KID in header else unprotected.get(HEADER_KID)
    if kid is not None and (not isinstance(kid, bytes) or len(kid) > MAX_KID_BYTES):
        raise MalformedCodeError("kid is not a byte string of at most 64 bytes")
    return DccSign1(protected, alg, kid, payload, signature)
