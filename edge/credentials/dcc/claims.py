"""DCC CWT claims: 1 iss, 4 exp, 6 iat and the health certificate -260/1 (one v, t or r)."""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from typing import Literal

from edge.credentials.common import cbor
from edge.credentials.common.errors import MalformedCodeError

CLAIM_ISS = 1
CLAIM_EXP = 4
CLAIM_IAT = 6
CLAIM_HCERT = -260
HCERT_V1 = 1
MAX_ITEMS = 1024
MAX_DEPTH = 8
MAX_EPOCH = 2**53
MAX_TEXT_CHARS = 256
CertificateType = Literal["vaccination", "test", "recovery"]
TYPE_KEYS: dict[str, CertificateType] = {"v": "vaccination", "t": "test", "r": "recovery"}


@dataclass(frozen=True)
class DccClaims:
    """What the gate reads from a DCC payload; names and birth date are never kept."""

    issuer: str | None
    issued_at: int
    expires_at: int
    certificate_type: CertificateType
    entry: dict[str, cbor.CborValue]
    certificate_id: str

    @property
    def code_id(self) -> bytes:
        """First 16 bytes of SHA-256 of the certificate identifier (as revocation lists use)."""
        return uci_hash(self.certificate_id)


def uci_hash(certificate_id: str) -> bytes:
    """The 16-byte reference to a certificate identifier (ci) for denylists and anti-passback."""
    return hashlib.sha256(certificate_id.encode("utf-8")).digest()[:16]


def parse_dcc_claims(payload: bytes) -> DccClaims:
    """Parse and type-check the claims; exactly one certificate entry with its identifier."""
    decoded = cbor.loads(payload, lenient=True, max_items=MAX_ITEMS, max_depth=MAX_DEPTH)
    if not isinstance(decoded, dict):
        raise MalformedCodeError("claims are not a CBOR map")
    issuer = decoded.get(CLAIM_ISS)
    if issuer is not None and (not isinstance(issuer, str) or len(issuer) > MAX_TEXT_CHARS):
        raise MalformedCodeError("claim iss is not text")
    issued_at = _epoch(decoded.get(CLAIM_IAT), "iat")
    expires_at = _epoch(decoded.get(CLAIM_EXP), "exp")
    hcert = decoded.get(CLAIM_HCERT)
    certificate = hcert.get(HCERT_V1) if isinstance(hcert, dict) else None
    if not isinstance(certificate, dict):
        raise MalformedCodeError("claim -260 has no health certificate 1")
    present = [key for key in TYPE_KEYS if key in certificate]
    if len(present) != 1:
        raise MalformedCodeError("health certificate needs exactly one of v, t and r")
    entries = certificate[present[0]]
    if not isinstance(entries, list) or len(entries) != 1 or not isinstance(entries[0], dict):
        raise MalformedCodeError("health certificate needs exactly one entry")
    entry = {key: value for key, value in entries[0].items() if isinstance(key, str)}
    certificate_id = entry.get("ci")
    if not isinstance(certificate_id, str) or not 0 < len(certificate_id) <= MAX_TEXT_CHARS:
        raise MalformedCodeError("certificate identifier ci missing or not text")
    return DccClaims(
        issuer=issuer or None,
        issued_at=issued_at,
        expires_at=expires_at,
        certificate_type=TYPE_KEYS[present[0]],
        entry=entry,
        certificate_id=certificate_id,
    )


def _epoch(value: cbor.CborValue, name: str) -> int:
    if isinstance(value, float) and math.isfinite(value):
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_EPOCH:
        raise MalformedCodeError(f"claim {name} missing or not an epoch in seconds")
    return value
