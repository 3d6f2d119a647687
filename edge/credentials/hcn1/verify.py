"""Offline verification of one HCN1 code: a pure function of text, trust, denylist and time."""

from __future__ import annotations

from edge.credentials.common.cose import parse_sign1
from edge.credentials.common.errors import MalformedCodeError, UnsupportedCodeError
from edge.credentials.common.keys import verify_signature
from edge.credentials.hcn1.claims import parse_claims
from edge.credentials.hcn1.envelope import text_to_cose
from edge.credentials.result import VerificationResult
from edge.credentials.trust.trustlist import Denylist, TrustList
from edge.reasons import Reason


def verify_code(
    text: str, trust: TrustList, denylist: Denylist | None, now: float, skew_s: int
) -> VerificationResult:
    """Verify a QR text; returns valid with its claims or exactly one reason, never raises.

    Checks run in this order and the first failure is the reason: format (malformed,
    unsupported), trust material expiry, issuer, key (by kid, for that issuer only, and
    covering the code's iat..exp), signature, denylist, then the code's own validity window
    against `now`. The key window is judged at the code's times, not at `now`, so a genuine
    code seen too early or too late reads not_yet_valid or expired rather than unknown_key.
    """
    try:
        message = parse_sign1(text_to_cose(text))
        claims = parse_claims(message.payload)
    except UnsupportedCodeError:
        return VerificationResult.invalid(Reason.UNSUPPORTED)
    except MalformedCodeError:
        return VerificationResult.invalid(Reason.MALFORMED)
    if now > trust.expires_at or (denylist is not None and now > denylist.expires_at):
        return VerificationResult.invalid(Reason.TRUST_LIST_EXPIRED)
    issuer = claims.issuer
    if issuer not in trust.issuers:
        return VerificationResult.invalid(Reason.UNKNOWN_ISSUER, issuer=issuer)
    key = trust.keys.get((issuer, message.kid))
    if key is None or not key.covers(claims.issued_at, claims.expires_at, skew_s):
        return VerificationResult.invalid(Reason.UNKNOWN_KEY, issuer=issuer)
    if key.alg != message.alg or not verify_signature(
        key.public_key, message.signature, message.to_be_signed()
    ):
        return VerificationResult.invalid(Reason.BAD_SIGNATURE)
    code_id = claims.code_id
    if denylist is not None and (
        code_id in denylist.code_ids or claims.subject_binding in denylist.subjects
    ):
        return VerificationResult.invalid(Reason.REVOKED, issuer=issuer, code_id=code_id)
    if claims.issued_at > now + skew_s:
        return VerificationResult.invalid(Reason.NOT_YET_VALID, issuer=issuer, code_id=code_id)
    if claims.expires_at < now - skew_s:
        return VerificationResult.invalid(Reason.EXPIRED, issuer=issuer, code_id=code_id)
    return VerificationResult(
        valid=True,
        colour=claims.colour,
        issuer=issuer,
        code_id=code_id,
        expires_at=claims.expires_at,
        subject_binding=claims.subject_binding,
        issued_at=claims.issued_at,
    )
