"""The credential seam: one verifier per format, chosen by the prefix of the scanned text."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Protocol

from edge.credentials.result import VerificationResult
from edge.credentials.trust.trustlist import Denylist, TrustList
from edge.reasons import Reason

MAX_TEXT_CHARS = 8192
"""No credential format the gate reads is longer; longer text is malformed before any parsing."""
_PREFIX_LIKE = re.compile(r"[A-Z]{2,4}[0-9]{1,3}:")


class CredentialVerifier(Protocol):
    """Verifies one credential format offline against the signed trust material."""

    @property
    def format(self) -> str:
        """Short lowercase format name reported with every result (e.g. "hcn1", "dcc")."""
        ...

    @property
    def prefix(self) -> str:
        """The text prefix that selects this format (e.g. "HCN1:")."""
        ...

    def verify(
        self, text: str, trust: TrustList, denylist: Denylist | None, now: float, skew_s: int
    ) -> VerificationResult:
        """Verify `text` (which starts with `prefix`) at `now`; never raises."""
        ...


class CredentialVerifiers:
    """Dispatches a scanned text to the verifier of its format.

    A text with no known prefix is `unsupported` when it looks like another format's prefix
    (letters, a version number and a colon, e.g. "HC2:"), otherwise `malformed`.
    """

    def __init__(self, verifiers: Sequence[CredentialVerifier]) -> None:
        self._verifiers = tuple(verifiers)
        self.formats = tuple(verifier.format for verifier in self._verifiers)

    def verify(
        self, text: str, trust: TrustList, denylist: Denylist | None, now: float, skew_s: int
    ) -> VerificationResult:
        """Verify a scanned text with the verifier its prefix selects."""
        if not isinstance(text, str) or len(text) > MAX_TEXT_CHARS:
            return VerificationResult.invalid(Reason.MALFORMED, format=None)
        for verifier in self._verifiers:
            if text.startswith(verifier.prefix):
                return verifier.verify(text, trust, denylist, now, skew_s)
        if _PREFIX_LIKE.match(text):
            return VerificationResult.invalid(Reason.UNSUPPORTED, format=None)
        return VerificationResult.invalid(Reason.MALFORMED, format=None)
