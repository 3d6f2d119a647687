"""The outcome of verifying one health code: valid with its claims, or exactly one reason."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Literal

Colour = Literal["green", "yellow", "red"]

InvalidReason = Literal[
    "malformed",
    "unsupported",
    "unknown_issuer",
    "unknown_key",
    "bad_signature",
    "expired",
    "not_yet_valid",
    "revoked",
    "trust_list_expired",
]


@dataclass(frozen=True)
class VerificationResult:
    """Valid (colour, issuer, code id, expiry, subject binding) or invalid with one reason."""

    valid: bool
    reason: InvalidReason | None = None
    colour: Colour | None = None
    issuer: str | None = None
    code_id: bytes | None = None
    expires_at: int | None = None
    subject_binding: bytes | None = None
    issued_at: int | None = None

    @classmethod
    def invalid(
        cls, reason: InvalidReason, issuer: str | None = None, code_id: bytes | None = None
    ) -> VerificationResult:
        """An invalid result carrying its single reason (and what could be read, if anything)."""
        return cls(valid=False, reason=reason, issuer=issuer, code_id=code_id)

    @property
    def code_id_hash(self) -> str | None:
        """A privacy-safe reference to the code id for events (truncated SHA-256, hex)."""
        if self.code_id is None:
            return None
        return hashlib.sha256(b"HCN1-event|" + self.code_id).hexdigest()[:32]
