"""Every credential format the gate reads, assembled behind the seam."""

from __future__ import annotations

from collections.abc import Sequence

from edge.credentials.hcn1 import Hcn1Verifier
from edge.credentials.seam import CredentialVerifier, CredentialVerifiers


def gate_verifiers(first: Sequence[CredentialVerifier] = ()) -> CredentialVerifiers:
    """The verifiers of every supported format, in prefix order; `first` (online providers such
    as the platform's code prefixes) are tried before the offline formats."""
    return CredentialVerifiers([*first, Hcn1Verifier()])
