"""Every credential format the gate reads, assembled behind the seam."""

from __future__ import annotations

from edge.credentials.dcc import DccVerifier
from edge.credentials.dcc.settings import DccSettings
from edge.credentials.hcn1 import Hcn1Verifier
from edge.credentials.seam import CredentialVerifiers


def gate_verifiers(dcc: DccSettings | None = None) -> CredentialVerifiers:
    """The verifiers of every supported format (DCC with its admission rules)."""
    return CredentialVerifiers([Hcn1Verifier(), DccVerifier(dcc)])
