"""Shared helpers for the DCC tests: signer keys, DSCs, trust lists and certificates."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from cryptography.hazmat.primitives.asymmetric import ed25519

from central.dcc_issue import (
    DccSigner,
    SignerPrivateKey,
    generate_signer_key,
    issue_dcc,
    make_dsc,
    negative_test_entry,
    recovery_entry,
    vaccination_entry,
)
from edge.credentials.common import cbor
from edge.credentials.trust.trustlist import (
    Denylist,
    SignerEntry,
    TrustList,
    build_trust_list,
    parse_trust_list,
)

NOW = 1_700_000_000  # 2023-11-14T22:13:20Z
DAY = 86_400
CI = "URN:UVCI:01:SE:EHM/TEST0001#X"


def day(offset_days: float) -> str:
    """The UTC date `offset_days` from NOW."""
    return time.strftime("%Y-%m-%d", time.gmtime(NOW + offset_days * DAY))


def instant(offset_hours: float) -> str:
    """The UTC RFC 3339 time `offset_hours` from NOW."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(NOW + offset_hours * 3600))


def entry_of(kind: str, ci: str = CI) -> dict[cbor.CborKey, cbor.CborValue]:
    """An entry of that type that the default rules admit at NOW."""
    if kind == "vaccination":
        return vaccination_entry(ci, day(-30))
    if kind == "test":
        return negative_test_entry(ci, instant(-5))
    return recovery_entry(ci, day(-40), day(-29), day(150))


@dataclass
class Signer:
    """A document signer: key and certificate."""

    key: SignerPrivateKey
    der: bytes
    country: str = "SE"

    def issue(
        self,
        kind: str = "vaccination",
        entry: dict[cbor.CborKey, cbor.CborValue] | None = None,
        issued_at: int = NOW - DAY,
        expires_at: int = NOW + 300 * DAY,
        **options: object,
    ) -> str:
        return issue_dcc(
            DccSigner(self.key, self.der, self.country),
            kind,
            entry_of(kind) if entry is None else entry,
            issued_at,
            expires_at,
            **options,  # type: ignore[arg-type]
        )


def make_signer(
    alg: str = "ES256",
    country: str | None = "SE",
    usages: tuple[str, ...] = (),
    *,
    legacy: bool = False,
) -> Signer:
    key = generate_signer_key(alg)
    return Signer(key, make_dsc(key, country, usages=usages, legacy_oids=legacy), country or "")


@dataclass
class World:
    """A trust root and the trust list built from some signers."""

    root: ed25519.Ed25519PrivateKey = field(default_factory=ed25519.Ed25519PrivateKey.generate)

    def trust(self, *signers: Signer, expires_at: int = NOW + 30 * DAY) -> TrustList:
        document = build_trust_list(
            self.root,
            {},
            version=1,
            issued_at=NOW - DAY,
            expires_at=expires_at,
            signers=[SignerEntry(signer.der, signer.country) for signer in signers],
        )
        return parse_trust_list(document, self.root.public_key())


def denylist(*code_ids: bytes, expires_at: float = NOW + DAY) -> Denylist:
    return Denylist(1, NOW - DAY, expires_at, frozenset(code_ids))
