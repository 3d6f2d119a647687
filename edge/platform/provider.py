"""The platform behind the credential seam: QR texts with a configured prefix judged online."""

from __future__ import annotations

from edge.codes.trustlist import Denylist, TrustList
from edge.credentials.result import VerificationResult
from edge.credentials.seam import CredentialVerifiers
from edge.platform.verifier import FORMAT, CredentialChecker


class PlatformCodeVerifier:
    """A CredentialVerifier for one of `platform.code_prefixes`.

    The platform's answer decides; when none comes in time, the offline formats decide the same
    text (fallback "offline": an offline-verifiable code keeps working while the platform is
    down; an online-only token is denied)."""

    format = FORMAT

    def __init__(
        self, prefix: str, checker: CredentialChecker, offline: CredentialVerifiers
    ) -> None:
        self.prefix = prefix
        self._checker = checker
        self._offline = offline

    def verify(
        self, text: str, trust: TrustList, denylist: Denylist | None, now: float, skew_s: int
    ) -> VerificationResult:
        """Ask the platform; the offline formats decide when it does not answer."""

        def offline(code: str) -> VerificationResult:
            return self._offline.verify(code, trust, denylist, now, skew_s)

        return self._checker.verify_code(text, offline)


def online_verifiers(
    checker: CredentialChecker, prefixes: list[str], offline: CredentialVerifiers
) -> list[PlatformCodeVerifier]:
    """One seam provider per configured prefix (none without a platform)."""
    if checker.client is None:
        return []
    return [PlatformCodeVerifier(prefix, checker, offline) for prefix in prefixes]
