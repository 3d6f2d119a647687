"""The outcome of verifying one credential of any format: what the gate needs, nothing more."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Literal

from edge.reasons import Reason

Colour = Literal["green", "yellow", "red"]


DecisionPath = Literal["offline", "online", "cache"]
"""Who judged the credential: the gate itself, the platform now, or a recent platform answer."""


@dataclass(frozen=True)
class VerificationResult:
    """Valid (status, issuer, identity, validity window, holder binding) or invalid with a reason.

    - `format`: the credential format that read the text ("hcn1", "dcc"; None when none did).
    - `colour`: the status to act on. A format with colours of its own reports them; a format
      without (a certificate judged by admission rules) reports green when its rules admit the
      holder and red when they do not, with the failing rule in `refusal`.
    - `code_id`: the credential's identity within its format, for anti-passback and debounce.
    - `subject_binding`: the holder binding a document number is matched against, if any.
    - `not_before` .. `expires_at`: the credential's own validity window (epoch seconds).
    - `certificate_type`: what the credential certifies, where the format says (e.g. "vaccination").
    - `path`: who judged it: the gate offline, the platform online, or a cached platform answer;
      `platform_ms` is how long the platform took (None when it was not asked), and
      `platform_cause` why it gave no answer when it was asked and did not (e.g. "timeout: ...").
    - `masked_name`: the holder's masked name where the credential carries one, for the visitor
      screen only (never in events, logs or central storage).
    - `credential_key`: the credential's identity when the path that judged it is not its own
      format (a code judged online keeps the identity its offline format gives it), so one
      credential has one identity whichever path judged it.
    """

    valid: bool
    reason: Reason | None = None
    colour: Colour | None = None
    issuer: str | None = None
    code_id: bytes | None = None
    expires_at: int | None = None
    subject_binding: bytes | None = None
    format: str | None = "hcn1"
    not_before: int | None = None
    certificate_type: str | None = None
    refusal: Reason | None = None
    issued_at: int | None = None
    path: DecisionPath = "offline"
    platform_ms: float | None = None
    masked_name: str | None = None
    platform_cause: str | None = None
    credential_key: bytes | None = None

    @classmethod
    def invalid(
        cls,
        reason: Reason,
        issuer: str | None = None,
        code_id: bytes | None = None,
        *,
        format: str | None = "hcn1",
        certificate_type: str | None = None,
    ) -> VerificationResult:
        """An invalid result carrying its single reason (and what could be read, if anything)."""
        return cls(
            valid=False,
            reason=reason,
            issuer=issuer,
            code_id=code_id,
            format=format,
            certificate_type=certificate_type,
        )

    @property
    def admissible(self) -> bool:
        """Whether the credential itself lets the holder pass (other rules still apply)."""
        return self.valid and self.colour == "green" and self.refusal is None

    @property
    def identity(self) -> bytes | None:
        """The credential's identity across formats and issuers (format, issuer, code id)."""
        if self.code_id is None:
            return None
        prefix = f"{self.format or ''}|{self.issuer or ''}|".encode("utf-8", "surrogatepass")
        return prefix + self.code_id

    @property
    def code_key(self) -> bytes | None:
        """The code's identity as one unambiguous key: each part length-prefixed (None until the
        signature verified). One code has several valid QR texts (zlib level bits, either ECDSA
        s form, kid in either header), so every per-code step keys on this, never on the text."""
        if self.credential_key is not None:
            return self.credential_key
        if self.issuer is None or self.code_id is None:
            return None
        parts = ((self.format or "").encode(), self.issuer.encode("utf-8", "surrogatepass"))
        return b"".join(len(part).to_bytes(2, "big") + part for part in parts) + self.code_id

    @property
    def code_id_hash(self) -> str | None:
        """A privacy-safe reference to the code id for events (truncated SHA-256, hex).

        The format is part of the hash, so equal ids of two formats never share a reference.
        """
        if self.code_id is None:
            return None
        tag = (self.format or "").upper().encode() + b"-event|"
        return hashlib.sha256(tag + self.code_id).hexdigest()[:32]
