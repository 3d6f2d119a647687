"""The gate's one verifier: the platform's prefixes and the offline formats side by side."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from edge.clock import Clock
from edge.credentials.result import VerificationResult
from edge.credentials.seam import MAX_TEXT_CHARS, CredentialVerifiers
from edge.credentials.trust.snapshot import TrustSnapshot
from edge.platform.verifier import CredentialChecker


class CredentialDispatch:
    """Verifies a scanned text against the trust snapshot in force at the clock's time.

    A text with one of the platform's prefixes is judged by the platform (when one is
    configured); when no answer comes in time the offline formats decide it as the fallback
    says. Every other text goes to the offline format its prefix selects."""

    def __init__(
        self,
        offline: CredentialVerifiers,
        trust: Callable[[], TrustSnapshot],
        clock: Clock,
        skew_s: int,
        *,
        platform: CredentialChecker | None = None,
        prefixes: Sequence[str] = (),
    ) -> None:
        self._offline, self._trust, self._clock, self._skew_s = offline, trust, clock, skew_s
        self._platform = platform if platform is not None and platform.client is not None else None
        self._prefixes = tuple(prefixes) if self._platform is not None else ()

    @property
    def platform(self) -> CredentialChecker | None:
        """The platform asked for prefixed codes (None when none is configured)."""
        return self._platform

    def verify(self, text: str) -> VerificationResult:
        """Verify a scanned text now; never raises."""
        snapshot, now = self._trust(), self._clock.now()

        def offline(code: str) -> VerificationResult:
            return self._offline.verify(
                code, snapshot.trust_list, snapshot.denylist, now, self._skew_s
            )

        if (
            self._platform is not None
            and isinstance(text, str)
            and len(text) <= MAX_TEXT_CHARS
            and text.startswith(self._prefixes)
        ):
            return self._platform.verify_code(text, offline)
        return offline(text)
