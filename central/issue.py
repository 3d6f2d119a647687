"""Minting HCN1 codes (for issuers, test issuers and acceptance checks)."""

from __future__ import annotations

import os
from typing import get_args

from edge.credentials.binding import subject_binding
from edge.credentials.common.cose import build_sign1
from edge.credentials.common.keys import ALG_IDS, compute_kid, key_alg, load_private_key, sign
from edge.credentials.hcn1.claims import HealthClaims, encode_claims, parse_claims
from edge.credentials.hcn1.envelope import MAX_TEXT_CHARS, cose_to_text
from edge.credentials.result import Colour
from edge.errors import CodeFormatError


def issue_code(  # noqa: PLR0917  (the documented signature)
    issuer: str,
    key_pem: bytes,
    colour: Colour,
    now: float,
    ttl_s: int = 300,
    document: str | None = None,
    masked_name: str | None = None,
) -> str:
    """Sign a fresh code valid from `now` for `ttl_s` seconds and return its QR text."""
    if colour not in get_args(Colour):
        raise CodeFormatError(f"colour must be green, yellow or red, not {colour!r}")
    if ttl_s <= 0:
        raise CodeFormatError("ttl must be positive")
    key = load_private_key(key_pem)
    issued_at = int(now)
    claims = HealthClaims(
        issuer=issuer,
        issued_at=issued_at,
        expires_at=issued_at + ttl_s,
        code_id=os.urandom(16),
        colour=colour,
        subject_binding=None if document is None else subject_binding(issuer, document),
        masked_name=masked_name,
    )
    payload = encode_claims(claims)
    parse_claims(payload)  # never mint a code a gate would call malformed
    message = build_sign1(
        ALG_IDS[key_alg(key)],
        compute_kid(key.public_key()),
        payload,
        lambda data: sign(key, data),
    )
    text = cose_to_text(message)
    if len(text) > MAX_TEXT_CHARS:
        raise CodeFormatError("code would exceed 2 KiB; shorten the masked name")
    return text
