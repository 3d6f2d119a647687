"""The EU revocation hashes of a DCC: of its UCI, of its country and UCI, of its signature."""

from __future__ import annotations

import hashlib
from typing import Literal

from edge.credentials.dcc.claims import DccClaims, uci_hash
from edge.credentials.trust.dsc import ALG_PS256

HashType = Literal["UCI", "COUNTRYCODEUCI", "SIGNATURE"]
HASH_TYPES: tuple[HashType, ...] = ("UCI", "COUNTRYCODEUCI", "SIGNATURE")
HASH_BYTES = 16


def country_uci_hash(country: str, certificate_id: str) -> bytes:
    """COUNTRYCODEUCI: SHA-256 of the certificate's country code (`co`) followed by its UCI."""
    return hashlib.sha256((country + certificate_id).encode("utf-8")).digest()[:HASH_BYTES]


def signature_hash(signature: bytes, alg: int) -> bytes:
    """SIGNATURE: SHA-256 of the COSE signature; of an ECDSA signature only its r half (the
    half that a re-encoded, equally valid signature cannot change)."""
    part = signature if alg == ALG_PS256 else signature[: len(signature) // 2]
    return hashlib.sha256(part).digest()[:HASH_BYTES]


def revocation_hashes(
    claims: DccClaims, signature: bytes, alg: int
) -> tuple[tuple[HashType, bytes], ...]:
    """Every (hash type, hash) an EU revocation list may name this certificate by."""
    found: list[tuple[HashType, bytes]] = [("SIGNATURE", signature_hash(signature, alg))]
    if claims.certificate_id is not None:
        found.append(("UCI", uci_hash(claims.certificate_id)))
        if claims.country:
            found.append(
                ("COUNTRYCODEUCI", country_uci_hash(claims.country, claims.certificate_id))
            )
    return tuple(found)
