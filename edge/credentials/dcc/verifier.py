"""DCC behind the credential seam: verify against trusted DSCs, then apply admission rules."""

from __future__ import annotations

from dataclasses import dataclass

from edge.credentials.common.errors import MalformedCodeError, UnsupportedCodeError
from edge.credentials.dcc.admission import refusal
from edge.credentials.dcc.claims import DccClaims, parse_dcc_claims
from edge.credentials.dcc.cose import DccSign1, parse_dcc_sign1
from edge.credentials.dcc.envelope import PREFIX, text_to_cose
from edge.credentials.dcc.revocation import revocation_hashes
from edge.credentials.dcc.settings import DccSettings
from edge.credentials.dcc.signature import verify_dcc_signature
from edge.credentials.result import VerificationResult
from edge.credentials.trust.dsc import DocumentSigner
from edge.credentials.trust.trustlist import Denylist, TrustList
from edge.reasons import Reason

FORMAT = "dcc"


@dataclass(frozen=True)
class DecodedDcc:
    """A DCC read from its text, not yet verified."""

    message: DccSign1
    claims: DccClaims


def decode_dcc(text: str) -> DecodedDcc:
    """Prefix, Base45, zlib, COSE and claims; raises Malformed/UnsupportedCodeError."""
    message = parse_dcc_sign1(text_to_cose(text))
    return DecodedDcc(message, parse_dcc_claims(message.payload))


def find_signer(decoded: DecodedDcc, trust: TrustList) -> DocumentSigner | None:
    """The trusted DSC whose key verifies the signature, among those with the message's kid."""
    message = decoded.message
    if message.kid is None:
        return None
    for signer in trust.signers.get(message.kid, ()):
        alg = signer.alg if message.alg is None else message.alg
        if verify_dcc_signature(signer.public_key, alg, message.signature, message.to_be_signed()):
            return signer
    return None


class DccVerifier:
    """Verifies EU Digital COVID Certificates (`HC1:` texts) and applies the admission rules.

    Checks run in this order and the first failure is the reason: format (malformed,
    unsupported), trust material expiry, key (unknown_key: no trusted DSC with that kid),
    signature, key usage (the DSC's extended key usage against the certificate type),
    denylist (the EU revocation hashes: UCI, COUNTRYCODEUCI, SIGNATURE), then iat..exp against
    `now`.
    A certificate that verifies is then judged by the admission rules: green when they admit,
    red with the failing rule as `refusal` when not.
    """

    format = FORMAT
    prefix = PREFIX

    def __init__(self, rules: DccSettings | None = None) -> None:
        self.rules = rules or DccSettings()

    def verify(
        self, text: str, trust: TrustList, denylist: Denylist | None, now: float, skew_s: int
    ) -> VerificationResult:
        """Verify one HC1 text; never raises."""
        if not self.rules.enabled:
            return VerificationResult.invalid(Reason.UNSUPPORTED, format=FORMAT)
        try:
            decoded = decode_dcc(text)
        except UnsupportedCodeError:
            return VerificationResult.invalid(Reason.UNSUPPORTED, format=FORMAT)
        except MalformedCodeError:
            return VerificationResult.invalid(Reason.MALFORMED, format=FORMAT)
        return self.judge(decoded, trust, denylist, now, skew_s)

    def judge(
        self,
        decoded: DecodedDcc,
        trust: TrustList,
        denylist: Denylist | None,
        now: float,
        skew_s: int,
    ) -> VerificationResult:
        """Every check after decoding: trust, signature, key usage, denylist, time, admission."""
        claims = decoded.claims
        kind = claims.certificate_type
        if now > trust.expires_at or (denylist is not None and now > denylist.expires_at):
            return VerificationResult.invalid(
                Reason.TRUST_LIST_EXPIRED, format=FORMAT, certificate_type=kind
            )
        message = decoded.message
        if message.kid is None or message.kid not in trust.signers:
            return VerificationResult.invalid(
                Reason.UNKNOWN_KEY, claims.issuer, format=FORMAT, certificate_type=kind
            )
        signer = find_signer(decoded, trust)
        if signer is None:
            return VerificationResult.invalid(Reason.BAD_SIGNATURE, format=FORMAT)
        issuer = signer.country or claims.issuer
        code_id = claims.code_id

        def invalid(reason: Reason) -> VerificationResult:
            return VerificationResult.invalid(
                reason, issuer, code_id, format=FORMAT, certificate_type=kind
            )

        if not signer.may_sign(kind):
            return invalid(Reason.KEY_USAGE)
        if denylist is not None and _revoked(decoded, signer_alg(decoded, signer), denylist):
            return invalid(Reason.REVOKED)
        if claims.issued_at is None or claims.issued_at > now + skew_s:
            return invalid(Reason.NOT_YET_VALID)
        if claims.expires_at is None or claims.expires_at < now - skew_s:
            return invalid(Reason.EXPIRED)
        refused = refusal(claims, self.rules, now, skew_s)
        return VerificationResult(
            valid=True,
            colour="red" if refused else "green",
            issuer=issuer,
            code_id=code_id,
            expires_at=claims.expires_at,
            format=FORMAT,
            not_before=claims.issued_at,
            certificate_type=kind,
            refusal=refused,
            masked_name=claims.masked_name,
        )


def signer_alg(decoded: DecodedDcc, signer: DocumentSigner) -> int:
    """The algorithm the certificate was verified with."""
    return signer.alg if decoded.message.alg is None else decoded.message.alg


def _revoked(decoded: DecodedDcc, alg: int, denylist: Denylist) -> bool:
    """On the denylist by any EU revocation hash type (or by its UCI hash as a code id)."""
    claims = decoded.claims
    if claims.code_id in denylist.code_ids:
        return True
    hashes = revocation_hashes(claims, decoded.message.signature, alg)
    return any(entry in denylist.dcc_revoked for entry in hashes)
