"""HCN1 behind the credential seam: green, yellow or red codes signed by a trusted issuer."""

from __future__ import annotations

from edge.codes.envelope import PREFIX
from edge.codes.trustlist import Denylist, TrustList
from edge.codes.verify import verify_code
from edge.credentials.result import VerificationResult


class Hcn1Verifier:
    """Verifies HCN1 codes (`HCN1:` texts) against the trust list's issuer keys."""

    format = "hcn1"
    prefix = PREFIX

    def verify(
        self, text: str, trust: TrustList, denylist: Denylist | None, now: float, skew_s: int
    ) -> VerificationResult:
        """Verify one HCN1 text; see `edge.codes.verify.verify_code`."""
        return verify_code(text, trust, denylist, now, skew_s)
