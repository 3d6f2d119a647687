"""Shared builders for the health-code tests: keys, trust lists and hand-made COSE messages."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ed25519

from central.keys import generate_private_key, private_key_pem
from edge.credentials.common import cbor
from edge.credentials.common.cose import build_sign1
from edge.credentials.common.keys import ALG_IDS, AlgName, PrivateKey, compute_kid, key_alg, sign
from edge.credentials.hcn1.claims import HealthClaims, encode_claims
from edge.credentials.hcn1.envelope import cose_to_text
from edge.credentials.trust.trustlist import (
    IssuerKey,
    TrustList,
    build_trust_list,
    parse_trust_list,
)

NOW = 1_767_225_600
DAY = 86_400


@dataclass
class Issuer:
    """An issuer id with its signing key."""

    issuer_id: str
    key: PrivateKey

    @property
    def pem(self) -> bytes:
        return private_key_pem(self.key)

    @property
    def kid(self) -> bytes:
        return compute_kid(self.key.public_key())


def make_issuer(issuer_id: str, alg: AlgName) -> Issuer:
    return Issuer(issuer_id, generate_private_key(alg))


@dataclass
class TrustWorld:
    """A root key plus a trust list document over some issuers."""

    root: ed25519.Ed25519PrivateKey = field(default_factory=ed25519.Ed25519PrivateKey.generate)

    def document(
        self,
        issuers: list[Issuer],
        version: int = 1,
        issued_at: int = NOW - DAY,
        expires_at: int = NOW + 30 * DAY,
        key_window: tuple[int, int] = (NOW - DAY, NOW + 30 * DAY),
    ) -> bytes:
        grouped: dict[str, list[IssuerKey]] = {}
        for issuer in issuers:
            grouped.setdefault(issuer.issuer_id, []).append(
                IssuerKey(issuer.key.public_key(), *key_window)
            )
        return build_trust_list(
            self.root, grouped, version=version, issued_at=issued_at, expires_at=expires_at
        )

    def trust_list(self, issuers: list[Issuer], **kwargs: Any) -> TrustList:
        return parse_trust_list(self.document(issuers, **kwargs), self.root.public_key())


def claims_for(issuer: str, **overrides: object) -> HealthClaims:
    values: dict[str, object] = {
        "issuer": issuer,
        "issued_at": NOW,
        "expires_at": NOW + 300,
        "code_id": bytes(range(16)),
        "colour": "green",
        "subject_binding": None,
        "masked_name": None,
    }
    values.update(overrides)
    return HealthClaims(**values)  # type: ignore[arg-type]


def signed_text(
    signer: Issuer,
    claims: HealthClaims | None = None,
    *,
    payload: bytes | None = None,
    alg: int | None = None,
    kid: bytes | None = None,
) -> str:
    """A code signed by `signer` with optional overrides of claims, payload, alg or kid."""
    body = payload if payload is not None else encode_claims(claims or claims_for(signer.issuer_id))
    message = build_sign1(
        ALG_IDS[key_alg(signer.key)] if alg is None else alg,
        signer.kid if kid is None else kid,
        body,
        lambda data: sign(signer.key, data),
    )
    return cose_to_text(message)


def raw_sign1_text(
    protected: cbor.CborValue,
    unprotected: cbor.CborValue,
    payload: bytes,
    signature: bytes,
    *,
    tagged: bool = True,
) -> str:
    """Wrap arbitrary (possibly invalid) COSE parts as QR text."""
    protected_bytes = protected if isinstance(protected, bytes) else cbor.dumps(protected)
    message: cbor.CborValue = [protected_bytes, unprotected, payload, signature]
    return cose_to_text(cbor.dumps(cbor.Tagged(18, message) if tagged else message))
