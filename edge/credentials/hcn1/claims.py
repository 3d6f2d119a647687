"""HCN1 CWT claims (RFC 8392): encoding for issuers and strict parsing for the verifier."""

from __future__ import annotations

from dataclasses import dataclass
from typing import get_args

from edge.credentials.common import cbor
from edge.credentials.common.errors import MalformedCodeError
from edge.credentials.result import Colour

CLAIM_ISS = 1
CLAIM_EXP = 4
CLAIM_IAT = 6
CLAIM_CTI = 7
CLAIM_HEALTH = -70001
HEALTH_COLOUR = 1
HEALTH_SUBJECT = 2
HEALTH_NAME = 3
CODE_ID_LENGTH = 16
SUBJECT_LENGTH = 32
MAX_ISSUER_CHARS = 64
MAX_NAME_CHARS = 64
MAX_EPOCH = 2**53
COLOURS: tuple[Colour, ...] = get_args(Colour)


@dataclass(frozen=True)
class HealthClaims:
    """The claims of one health code."""

    issuer: str
    issued_at: int
    expires_at: int
    code_id: bytes
    colour: Colour
    subject_binding: bytes | None = None
    masked_name: str | None = None


def encode_claims(claims: HealthClaims) -> bytes:
    """The CBOR payload an issuer signs."""
    health: dict[cbor.CborKey, cbor.CborValue] = {HEALTH_COLOUR: claims.colour}
    if claims.subject_binding is not None:
        health[HEALTH_SUBJECT] = claims.subject_binding
    if claims.masked_name is not None:
        health[HEALTH_NAME] = claims.masked_name
    return cbor.dumps(
        {
            CLAIM_ISS: claims.issuer,
            CLAIM_IAT: claims.issued_at,
            CLAIM_EXP: claims.expires_at,
            CLAIM_CTI: claims.code_id,
            CLAIM_HEALTH: health,
        }
    )


def parse_claims(payload: bytes) -> HealthClaims:
    """Parse and type-check the claims map; unknown extra claims are ignored."""
    decoded = cbor.loads(payload)
    if not isinstance(decoded, dict):
        raise MalformedCodeError("claims are not a CBOR map")
    issuer = _text(decoded.get(CLAIM_ISS), "iss", MAX_ISSUER_CHARS)
    if not issuer:
        raise MalformedCodeError("claim iss is empty")
    issued_at = _epoch(decoded.get(CLAIM_IAT), "iat")
    expires_at = _epoch(decoded.get(CLAIM_EXP), "exp")
    if expires_at < issued_at:
        raise MalformedCodeError("claim exp is before iat")
    code_id = _bytes(decoded.get(CLAIM_CTI), "cti", CODE_ID_LENGTH)
    health = decoded.get(CLAIM_HEALTH)
    if not isinstance(health, dict):
        raise MalformedCodeError("health claim -70001 missing or not a map")
    colour = health.get(HEALTH_COLOUR)
    if colour not in COLOURS:
        raise MalformedCodeError("health colour missing or not green, yellow or red")
    subject = health.get(HEALTH_SUBJECT)
    name = health.get(HEALTH_NAME)
    return HealthClaims(
        issuer=issuer,
        issued_at=issued_at,
        expires_at=expires_at,
        code_id=code_id,
        colour=colour,
        subject_binding=None if subject is None else _bytes(subject, "subject", SUBJECT_LENGTH),
        masked_name=None if name is None else _text(name, "name", MAX_NAME_CHARS),
    )


def _text(value: cbor.CborValue, name: str, limit: int) -> str:
    if not isinstance(value, str) or len(value) > limit:
        raise MalformedCodeError(f"claim {name} missing, not text or too long")
    return value


def _epoch(value: cbor.CborValue, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_EPOCH:
        raise MalformedCodeError(f"claim {name} missing or not an epoch in seconds")
    return value


def _bytes(value: cbor.CborValue, name: str, length: int) -> bytes:
    if not isinstance(value, bytes) or len(value) != length:
        raise MalformedCodeError(f"claim {name} missing or not {length} bytes")
    return value
