"""Every credential format the gate reads, assembled behind the seam."""

from __future__ import annotations

from edge.credentials.hcn1 import Hcn1Verifier
from edge.credentials.seam import CredentialVerifiers


def gate_verifiers() -> CredentialVerifiers:
    """The verifiers of every supported format, in prefix order."""
    return CredentialVerifiers([Hcn1Verifier()])
