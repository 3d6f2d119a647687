"""Every credential format the gate reads, assembled behind the seam."""

from __future__ import annotations

from edge.credentials.dcc.envelope import PREFIX as DCC_PREFIX
from edge.credentials.dcc.settings import DccSettings
from edge.credentials.hcn1.verifier import Hcn1Verifier
from edge.credentials.result import VerificationResult
from edge.credentials.seam import CredentialVerifier, CredentialVerifiers
from edge.credentials.trust.trustlist import Denylist, TrustList
from edge.reasons import Reason


class TurnedOff:
    """A format the configuration turned off: its texts are `unsupported`, and its verifier
    (with everything it imports) is never loaded."""

    def __init__(self, format_name: str, prefix: str) -> None:
        self.format = format_name
        self.prefix = prefix

    def verify(
        self, text: str, trust: TrustList, denylist: Denylist | None, now: float, skew_s: int
    ) -> VerificationResult:
        """Every text of a format turned off is unsupported."""
        return VerificationResult.invalid(Reason.UNSUPPORTED, format=self.format)


def gate_verifiers(dcc: DccSettings | None = None) -> CredentialVerifiers:
    """The verifiers of every supported format (DCC with its admission rules)."""
    verifiers: list[CredentialVerifier] = [Hcn1Verifier()]
    if dcc is not None and not dcc.enabled:
        verifiers.append(TurnedOff("dcc", DCC_PREFIX))
    else:
        from edge.credentials.dcc.verifier import DccVerifier  # noqa: PLC0415 - only when on

        verifiers.append(DccVerifier(dcc))
    return CredentialVerifiers(verifiers)
