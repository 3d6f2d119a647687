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
MAX_ENTRIES = 8
CertificateType = Literal["vaccination", "test", "recovery"]
TYPE_KEYS: dict[str, CertificateType] = {"v": "vaccination", "t": "test", "r": "recovery"}


@dataclass(frozen=True)
class DccClaims:
    """What the gate reads from a DCC payload; names (but their masked initials, for the
    visitor screen) and birth date are never kept."""

    issuer: str | None
    issued_at: int | None
    expires_at: int | None
    certificate_type: CertificateType
    entry: dict[str, cbor.CborValue]
    certificate_id: str
    payload_digest: bytes = b""
    masked_name: str | None = None
    country: str | None = None

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
    # Some issuers left out iat or exp: such a certificate decodes, and fails the time check.
    issued_at = _epoch(decoded.get(CLAIM_IAT), "iat")
    expires_at = _epoch(decoded.get(CLAIM_EXP), "exp")
    hcert = decoded.get(CLAIM_HCERT)
    certificate = hcert.get(HCERT_V1) if isinstance(hcert, dict) else None
    if isinstance(certificate, bytes):
        # Some issuers wrapped the certificate in a byte string holding its CBOR encoding.
        certificate = cbor.loads(
            certificate, lenient=True, max_items=MAX_ITEMS, max_depth=MAX_DEPTH
        )
    if not isinstance(certificate, dict):
        raise MalformedCodeError("claim -260 has no health certificate 1")
    # Issuers wrote absent types as empty lists, and the first schema let one certificate list
    # every dose: the type is the one non-empty list, and the entry judged is its latest.
    present = [key for key in TYPE_KEYS if certificate.get(key) not in (None, [])]
    if len(present) != 1:
        raise MalformedCodeError("health certificate needs exactly one of v, t and r")
    entries = certificate[present[0]]
    maps = [item for item in entries if isinstance(item, dict)] if isinstance(entries, list) else []
    if not isinstance(entries, list) or len(maps) != len(entries) or len(maps) > MAX_ENTRIES:
        raise MalformedCodeError(f"health certificate needs 1 to {MAX_ENTRIES} entries")
    entry = _latest(
        [{key: value for key, value in item.items() if isinstance(key, str)} for item in maps]
    )
    # The identifier is required: without it neither UCI revocation nor anti-passback can
    # know the certificate, so a certificate without one is refused (malformed).
    certificate_id = entry.get("ci")
    if certificate_id is None:
        raise MalformedCodeError("certificate identifier ci is missing")
    if not isinstance(certificate_id, str) or not 0 < len(certificate_id) <= MAX_TEXT_CHARS:
        raise MalformedCodeError("certificate identifier ci is not text")
    country = entry.get("co")
    return DccClaims(
        issuer=issuer or None,
        issued_at=issued_at,
        expires_at=expires_at,
        certificate_type=TYPE_KEYS[present[0]],
        entry=entry,
        certificate_id=certificate_id,
        payload_digest=hashlib.sha256(b"dcc payload|" + payload).digest(),
        masked_name=_masked_initials(certificate.get("nam")),
        country=country if isinstance(country, str) and len(country) <= MAX_TEXT_CHARS else None,
    )


def _masked_initials(names: cbor.CborValue) -> str | None:
    """ "G* F*" from the holder's standardised given and family names (nam.gnt, nam.fnt)."""
    if not isinstance(names, dict):
        return None
    parts = [names.get("gnt"), names.get("fnt")]
    initials = [f"{part[0]}*" for part in parts if isinstance(part, str) and part[:1].isalpha()]
    return " ".join(initials) or None


def _latest(entries: list[dict[str, cbor.CborValue]]) -> dict[str, cbor.CborValue]:
    """The entry a list of doses (or results) stands for: the highest dose number, else the last."""

    def dose(entry: dict[str, cbor.CborValue]) -> int:
        number = entry.get("dn")
        return number if isinstance(number, int) and not isinstance(number, bool) else -1

    return max(reversed(entries), key=dose)


def _epoch(value: cbor.CborValue, name: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, float) and math.isfinite(value):
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_EPOCH:
        raise MalformedCodeError(f"claim {name} is not an epoch in seconds")
    return value
