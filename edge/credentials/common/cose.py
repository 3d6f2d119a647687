"""COSE_Sign1 (RFC 9052) for HCN1: parse with header checks, build and Sig_structure."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from edge.credentials.common import cbor
from edge.credentials.common.errors import MalformedCodeError, UnsupportedCodeError
from edge.credentials.common.keys import ALG_NAMES, KID_LENGTH

COSE_SIGN1_TAG = 18
HEADER_ALG = 1
HEADER_CRIT = 2
HEADER_KID = 4
_TAGS = frozenset({COSE_SIGN1_TAG})
_SIG1_PREFIX = b"\x84\x6aSignature1"  # array(4), text(10) "Signature1"


@dataclass(frozen=True)
class Sign1:
    """The parts of a COSE_Sign1 message the verifier needs."""

    protected: bytes
    alg: int
    kid: bytes
    payload: bytes
    signature: bytes

    def to_be_signed(self) -> bytes:
        """The Sig_structure bytes this message's signature covers."""
        return sig_structure(self.protected, self.payload)


def sig_structure(protected: bytes, payload: bytes) -> bytes:
    """CBOR ["Signature1", protected, h'' (no external AAD), payload]."""
    return b"".join((_SIG1_PREFIX, cbor.dumps(protected), b"\x40", cbor.dumps(payload)))


def parse_sign1(data: bytes) -> Sign1:
    """Parse a (optionally tagged) COSE_Sign1; raises Malformed/UnsupportedCodeError."""
    message = cbor.loads(data, allowed_tags=_TAGS)
    if isinstance(message, cbor.Tagged):
        message = message.value
    if not isinstance(message, list) or len(message) != 4:
        raise MalformedCodeError("not a COSE_Sign1 array of four items")
    protected, unprotected, payload, signature = message
    if not isinstance(protected, bytes) or not isinstance(unprotected, dict):
        raise MalformedCodeError("COSE headers have the wrong types")
    if not isinstance(payload, bytes) or not isinstance(signature, bytes):
        raise MalformedCodeError("COSE payload or signature is not a byte string")
    header = cbor.loads(protected) if protected else {}
    if not isinstance(header, dict):
        raise MalformedCodeError("protected header is not a map")
    if HEADER_CRIT in header or HEADER_CRIT in unprotected:
        raise UnsupportedCodeError("critical COSE headers are not supported")
    alg = header.get(HEADER_ALG)
    if isinstance(alg, bool) or not isinstance(alg, int | str):
        raise MalformedCodeError("protected header has no algorithm")
    if not isinstance(alg, int) or alg not in ALG_NAMES:
        raise UnsupportedCodeError("signature algorithm not allowed")
    if HEADER_ALG in unprotected:
        raise MalformedCodeError("algorithm must only be in the protected header")
    return Sign1(protected, alg, _kid(header, unprotected), payload, signature)


def _kid(
    header: dict[cbor.CborKey, cbor.CborValue], unprotected: dict[cbor.CborKey, cbor.CborValue]
) -> bytes:
    protected_kid = header.get(HEADER_KID)
    unprotected_kid = unprotected.get(HEADER_KID)
    if protected_kid is not None and unprotected_kid is not None:
        raise MalformedCodeError("kid appears in both headers")
    kid = protected_kid if protected_kid is not None else unprotected_kid
    if not isinstance(kid, bytes) or len(kid) != KID_LENGTH:
        raise MalformedCodeError("kid missing or not 8 bytes")
    return kid


def build_sign1(
    alg: int,
    kid: bytes,
    payload: bytes,
    signer: Callable[[bytes], bytes],
    *,
    tagged: bool = True,
) -> bytes:
    """Build a COSE_Sign1 with alg and kid in the protected header and no unprotected ones."""
    protected = cbor.dumps({HEADER_ALG: alg, HEADER_KID: kid})
    signature = signer(sig_structure(protected, payload))
    message: cbor.CborValue = [protected, {}, payload, signature]
    return cbor.dumps(cbor.Tagged(COSE_SIGN1_TAG, message) if tagged else message)
