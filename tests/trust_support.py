"""A trust store and a verifier reading its snapshot, composed as the gate composes them."""

from __future__ import annotations

from pathlib import Path

from edge.clock import Clock
from edge.credentials.hcn1.verifier import Hcn1Verifier
from edge.credentials.result import VerificationResult
from edge.credentials.seam import CredentialVerifiers
from edge.platform.dispatch import CredentialDispatch
from edge.storage.trust_store import TrustStore


class VerifyingStore(TrustStore):
    """A TrustStore whose `verify(text)` verifies against its own snapshot (HCN1 alone unless
    `formats` says otherwise)."""

    def __init__(
        self,
        root_public_key_pem: bytes,
        trust_path: Path,
        denylist_path: Path,
        clock: Clock,
        skew_s: int = 30,
        *,
        formats: CredentialVerifiers | None = None,
    ) -> None:
        super().__init__(root_public_key_pem, trust_path, denylist_path, clock)
        offline = formats if formats is not None else CredentialVerifiers([Hcn1Verifier()])
        self.verifier = CredentialDispatch(offline, self.snapshot, clock, skew_s)

    def verify(self, text: str) -> VerificationResult:
        """Verify `text` against the snapshot in force at the clock's time."""
        return self.verifier.verify(text)
