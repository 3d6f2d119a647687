"""HCN1 behind the credential seam: green, yellow or red codes signed by a trusted issuer."""

from __future__ import annotations

from edge.credentials.hcn1.envelope import PREFIX
from edge.credentials.hcn1.verify import verify_code
from edge.credentials.result import VerificationResult
from edge.credentials.trust.trustlist import Denylist, TrustList


class Hcn1Verifier:
    """Verifies HCN1 codes (`HCN1:` texts) against the trust list's issuer keys."""

    format = "hcn1"
    prefix = PREFIX

    def verify(
        self, text: str, trust: TrustList, denylist: Denylist | None, now: float, skew_s: int
    ) -> VerificationResult:
        """Verify one HCN1 text; see `edge.credentials.hcn1.verify.verify_code`."""
        return verify_code(text, trust, denylist, now, skew_s)
