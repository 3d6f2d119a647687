"""Throw-away issuers, trust root and signed lists for the demo, benchmarks and end-to-end tests."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import cast

from cryptography.hazmat.primitives.asymmetric import ed25519

from central.dcc_issue import (
    DccSigner,
    SignerPrivateKey,
    generate_signer_key,
    issue_dcc,
    make_dsc,
    negative_test_entry,
    vaccination_entry,
)
from central.issue import issue_code
from central.keys import generate_private_key, private_key_pem, public_key_pem
from edge.credentials.common.cose import build_sign1, parse_sign1
from edge.credentials.common.keys import ALG_IDS, PrivateKey, compute_kid, key_alg, sign
from edge.credentials.hcn1.claims import HealthClaims, encode_claims, parse_claims
from edge.credentials.hcn1.envelope import cose_to_text, text_to_cose
from edge.credentials.result import Colour
from edge.credentials.trust.trustlist import (
    IssuerKey,
    SignerEntry,
    build_denylist,
    build_trust_list,
)

PRIMARY_ISSUER = "CN-150000"
SECOND_ISSUER = "CN-110000"
DCC_COUNTRY = "SE"
_DAY = 86400


@dataclass
class SimCredentials:
    """A trust root, two issuing regions (EdDSA and ES256) and an EU DCC document signer."""

    root: ed25519.Ed25519PrivateKey
    issuer_keys: dict[str, PrivateKey]
    rogue: PrivateKey
    dsc_key: SignerPrivateKey
    dsc: bytes

    @classmethod
    def generate(cls) -> SimCredentials:
        """Fresh keys for one run."""
        root = cast(ed25519.Ed25519PrivateKey, generate_private_key("EdDSA"))
        dsc_key = generate_signer_key("ES256")
        return cls(
            root=root,
            issuer_keys={
                PRIMARY_ISSUER: generate_private_key("EdDSA"),
                SECOND_ISSUER: generate_private_key("ES256"),
            },
            rogue=generate_private_key("EdDSA"),
            dsc_key=dsc_key,
            dsc=make_dsc(dsc_key, DCC_COUNTRY),
        )

    def write(
        self,
        directory: Path,
        now: float,
        revoked: list[bytes] | None = None,
        *,
        with_signer: bool = True,
    ) -> Path:
        """Write root public key, trust list (with the DCC signer unless told otherwise) and
        denylist; return the root key path."""
        directory.mkdir(parents=True, exist_ok=True)
        root_path = directory / "trust-root.pub.pem"
        root_path.write_bytes(public_key_pem(self.root.public_key()))
        issued = int(now) - 60
        issuers = {
            issuer: [IssuerKey(key.public_key(), issued - _DAY, issued + 30 * _DAY)]
            for issuer, key in self.issuer_keys.items()
        }
        (directory / "trust-list.json").write_bytes(
            build_trust_list(
                self.root,
                issuers,
                version=1,
                issued_at=issued,
                expires_at=issued + 7 * _DAY,
                signers=[SignerEntry(self.dsc, DCC_COUNTRY)] if with_signer else [],
            )
        )
        (directory / "denylist.json").write_bytes(
            build_denylist(
                self.root,
                revoked or [],
                [],
                version=1,
                issued_at=issued,
                expires_at=issued + 7 * _DAY,
            )
        )
        return root_path

    def issue(
        self,
        colour: Colour,
        now: float,
        issuer: str = PRIMARY_ISSUER,
        ttl_s: int = 300,
        document: str | None = None,
        *,
        masked_name: str | None = None,
    ) -> str:
        """A genuine code (bound to a document number when one is given)."""
        key_pem = private_key_pem(self.issuer_keys[issuer])
        return issue_code(
            issuer, key_pem, colour, now, ttl_s, document=document, masked_name=masked_name
        )

    def forge(self, now: float, issuer: str = PRIMARY_ISSUER) -> str:
        """A green code naming a genuine issuer key but signed by someone else."""
        genuine = self.issuer_keys[issuer].public_key()
        claims = HealthClaims(issuer, int(now), int(now) + 300, os.urandom(16), "green")
        message = build_sign1(
            ALG_IDS[key_alg(self.rogue)],
            compute_kid(genuine),
            encode_claims(claims),
            lambda data: sign(self.rogue, data),
        )
        return cose_to_text(message)

    def issue_dcc_vaccination(self, now: float, days_ago: int = 60) -> str:
        """An EU DCC for a completed vaccination series, its last dose `days_ago` days ago."""
        given = time.strftime("%Y-%m-%d", time.gmtime(now - days_ago * _DAY))
        entry = vaccination_entry(f"URN:UVCI:01:SE:DEMO/{os.urandom(6).hex().upper()}", given)
        return issue_dcc(
            DccSigner(self.dsc_key, self.dsc),
            "vaccination",
            entry,
            int(now) - _DAY,
            int(now) + 300 * _DAY,
        )

    def issue_dcc_test(self, now: float, hours_ago: float) -> str:
        """An EU DCC for a negative PCR test sampled `hours_ago` hours ago."""
        sampled = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now - hours_ago * 3600))
        entry = negative_test_entry(f"URN:UVCI:01:SE:DEMO/{os.urandom(6).hex().upper()}", sampled)
        return issue_dcc(
            DccSigner(self.dsc_key, self.dsc), "test", entry, int(now) - 3600, int(now) + 3 * _DAY
        )


def code_id_of(text: str) -> bytes:
    """The code id inside a genuine code (to put it on a denylist)."""
    return parse_claims(parse_sign1(text_to_cose(text)).payload).code_id
