"""Credentials judged online where configured, offline otherwise, with the fallback applied."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

from edge.credentials.result import Colour, DecisionPath, VerificationResult
from edge.platform.settings import PlatformSettings
from edge.reasons import Reason
from edge.wire.idcard import normalise_id
from edge.wire.platform import CertType, VerifyAnswer

if TYPE_CHECKING:  # the platform client (httpcore) is loaded only where a platform is configured
    from edge.platform.client import PlatformClient, PlatformOutcome

OfflineVerify = Callable[[str], VerificationResult]
FORMAT = "platform"
"""The format of credentials judged by the platform (an opaque token, an ID card)."""

_COLOURS: dict[str, Colour] = {"green": "green", "yellow": "yellow", "red": "red"}
_DENIALS: dict[str, Reason] = {
    "expired": Reason.PLATFORM_EXPIRED,
    "not_found": Reason.PLATFORM_NOT_FOUND,
    "failed": Reason.PLATFORM_FAILED,
}
# Texts the offline verifier cannot even read: not an offline-verifiable code.
_NOT_OFFLINE: frozenset[Reason | None] = frozenset({Reason.MALFORMED, Reason.UNSUPPORTED})
# Offline results whose identity is not proven by a verified signature.
_UNVERIFIED: frozenset[Reason | None] = _NOT_OFFLINE | {
    Reason.UNKNOWN_ISSUER,
    Reason.UNKNOWN_KEY,
    Reason.BAD_SIGNATURE,
    Reason.TRUST_LIST_EXPIRED,
}


class CredentialChecker:
    """Asks the platform about QR texts and resident ID numbers and maps its answers.

    One credential has one identity whichever path judged it: a code its offline format can
    verify keeps that format's identity online too; an opaque token is keyed by its normalised
    text and an ID card by its normalised number, each through an HMAC under the gate's own
    random reference key (never the app secret every gate of the operator holds), so the
    references in events cannot be matched to an ID number without that gate's key.
    """

    def __init__(
        self, settings: PlatformSettings, client: PlatformClient | None, reference_key: bytes
    ) -> None:
        self._settings = settings
        self._client = client
        self._key = hashlib.sha256(b"gate-edge credential key|" + reference_key).digest()

    @property
    def client(self) -> PlatformClient | None:
        """The platform client, when a platform is configured."""
        return self._client

    def verify_code(self, text: str, offline: OfflineVerify) -> VerificationResult:
        """Judge a QR text online; with no trusted answer in time, `offline` decides it when the
        fallback is offline and the text is an offline-verifiable code."""
        if self._client is None:
            return offline(text)
        token = normalise_token(text)
        outcome = self._client.check("qr_code", token)
        if outcome.answer is not None:
            result = self._from_answer(outcome, "qr_code", token)
            own = _offline_identity(offline(text))
            return result if own is None else replace(result, credential_key=own)
        if outcome.failure == "not_sent":
            return replace(
                VerificationResult.invalid(Reason.MALFORMED, format=FORMAT),
                platform_cause=_cause(outcome),
            )
        if self._settings.fallback == "offline":
            result = offline(text)
            if result.reason not in _NOT_OFFLINE:
                return replace(
                    result,
                    path="offline",
                    platform_ms=outcome.latency_ms,
                    platform_cause=_cause(outcome),
                )
        return self._no_answer(outcome)

    def verify_id(self, text: str) -> VerificationResult:
        """Judge a resident ID number read from the card; an invalid one is never sent."""
        number = normalise_id(text)
        if number is None:
            return VerificationResult.invalid(Reason.ID_INVALID, format=FORMAT)
        if self._client is None:
            return VerificationResult.invalid(Reason.PLATFORM_UNAVAILABLE, format=FORMAT)
        outcome = self._client.check("id_card", number)
        if outcome.answer is None:
            return self._no_answer(outcome)  # an ID number cannot be judged offline
        return self._from_answer(outcome, "id_card", number)

    def reference(self, cert_type: CertType, value: str) -> bytes:
        """The credential's keyed reference (16 bytes) under the gate's reference key."""
        return hmac.new(self._key, f"{cert_type}|{value}".encode(), hashlib.sha256).digest()[:16]

    def _from_answer(
        self, outcome: PlatformOutcome, cert_type: CertType, value: str
    ) -> VerificationResult:
        answer: VerifyAnswer | None = outcome.answer
        assert answer is not None
        path: DecisionPath = "cache" if outcome.cached else "online"
        issuer = answer.issuer or None
        code_id = self.reference(cert_type, value)
        key = f"{FORMAT}|{cert_type}|".encode() + code_id
        denial = _DENIALS.get(answer.status)
        if denial is not None:
            result = VerificationResult.invalid(
                denial, issuer=issuer, code_id=code_id, format=FORMAT
            )
        else:
            result = VerificationResult(
                valid=True,
                colour=_COLOURS[answer.status],
                issuer=issuer,
                code_id=code_id,
                format=FORMAT,
                masked_name=answer.masked_name,
            )
        return replace(result, path=path, platform_ms=outcome.latency_ms, credential_key=key)

    def _no_answer(self, outcome: PlatformOutcome) -> VerificationResult:
        reason: Reason = (
            Reason.PLATFORM_UNTRUSTED
            if outcome.failure in ("untrusted", "bad_signature")
            else Reason.PLATFORM_UNAVAILABLE
        )
        return replace(
            VerificationResult.invalid(reason, format=FORMAT),
            path="online",
            platform_ms=outcome.latency_ms,
            platform_cause=_cause(outcome),
        )


def _offline_identity(result: VerificationResult) -> bytes | None:
    """The identity an offline format gives a code whose signature it verified, else None."""
    return None if result.reason in _UNVERIFIED else result.code_key


def normalise_token(text: str) -> str:
    """A QR text as sent and keyed: without the whitespace a scanner may add around it."""
    return text.strip()


def _cause(outcome: PlatformOutcome) -> str | None:
    if outcome.failure is None:
        return None
    return f"{outcome.failure}: {outcome.cause}" if outcome.cause else outcome.failure
