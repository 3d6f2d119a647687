"""The platform behind the credential seam: QR texts with a configured prefix judged online."""

from __future__ import annotations

from edge.credentials.result import VerificationResult
from edge.credentials.seam import CredentialVerifiers
from edge.credentials.trust.trustlist import Denylist, TrustList
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


class OfflineFormats:
    """The offline formats as one seam provider that takes every text (prefix ""), so that the
    platform's prefixes are tried first and everything else is verified offline as before."""

    format = "offline"
    prefix = ""

    def __init__(self, offline: CredentialVerifiers) -> None:
        self._offline = offline

    def verify(
        self, text: str, trust: TrustList, denylist: Denylist | None, now: float, skew_s: int
    ) -> VerificationResult:
        """Verify with the offline format the text's prefix selects."""
        return self._offline.verify(text, trust, denylist, now, skew_s)


def with_platform(
    checker: CredentialChecker, prefixes: list[str], offline: CredentialVerifiers
) -> CredentialVerifiers:
    """The gate's verifiers: one platform provider per configured prefix (none without a
    platform), then the offline formats."""
    online = []
    if checker.client is not None:
        online = [PlatformCodeVerifier(prefix, checker, offline) for prefix in prefixes]
    return CredentialVerifiers([*online, OfflineFormats(offline)])
