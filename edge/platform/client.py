"""The gate's platform client: signed requests over httpx, one time budget, routes, breakers."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import httpx

from edge.clock import Clock
from edge.errors import PlatformError
from edge.platform.breaker import BreakerState, CircuitBreaker
from edge.platform.cache import AnswerCache
from edge.platform.settings import PlatformSettings
from edge.wire.platform import (
    MAX_BODY_BYTES,
    SIGNATURE_HEADER,
    VERIFY_PATH,
    CertType,
    VerifyAnswer,
    VerifyRequest,
    parse_answer,
    sign,
)

log = logging.getLogger(__name__)

Failure = Literal["timeout", "unreachable", "refused", "untrusted", "breaker_open"]
_RETRY_PAUSE_S = 0.05
_MIN_ATTEMPT_S = 0.02


@dataclass(frozen=True)
class PlatformOutcome:
    """A trusted answer (fresh or cached) or why there is none, and the time the platform took."""

    answer: VerifyAnswer | None
    cached: bool = False
    failure: Failure | None = None
    latency_ms: float | None = None


def route_url(settings: PlatformSettings, cert_type: CertType, value: str) -> str:
    """Where to ask: an ID number goes to the route with the longest matching prefix."""
    if cert_type == "id_card":
        matching = [r for r in settings.routes if value.startswith(r.id_prefix)]
        if matching:
            return max(matching, key=lambda route: len(route.id_prefix)).url
    return settings.url


class PlatformClient:
    """Asks the platforms of `settings`; never raises for what a platform does, and never takes
    longer than the budget (timeout_ms) per check, retries included."""

    def __init__(
        self,
        settings: PlatformSettings,
        secret: bytes,
        terminal: str,
        clock: Clock,
        *,
        breaker_threshold: int = 3,
        breaker_open_s: float = 30.0,
        cache: AnswerCache | None = None,
    ) -> None:
        self._settings = settings
        self._secret = secret
        self._terminal = terminal
        self._clock = clock
        self._cache = cache if cache is not None else AnswerCache(clock)
        urls = {settings.url, *(route.url for route in settings.routes)} - {""}
        self._breakers = {
            url: CircuitBreaker(clock, breaker_threshold, breaker_open_s) for url in sorted(urls)
        }
        self._http = httpx.Client(
            headers={"Content-Type": "application/json"},
            follow_redirects=False,
            trust_env=False,
        )
        self._lock = threading.Lock()
        self.counts = {"online": 0, "cache": 0, "failed": 0}

    def close(self) -> None:
        """Close the connections."""
        self._http.close()

    def breakers(self) -> Mapping[str, BreakerState]:
        """Each platform URL's breaker state."""
        return {url: breaker.state for url, breaker in self._breakers.items()}

    def check(self, cert_type: CertType, value: str) -> PlatformOutcome:
        """Ask the credential's platform within the budget; a cached trusted answer first."""
        cached = self._cache.get(cert_type, value)
        if cached is not None:
            self._count("cache")
            return PlatformOutcome(cached, cached=True)
        url = route_url(self._settings, cert_type, value)
        breaker = self._breakers.get(url)
        if not url or breaker is None:
            self._count("failed")
            return PlatformOutcome(None, failure="unreachable")
        started = self._clock.monotonic()
        deadline = started + self._settings.timeout_ms / 1000.0
        failure: Failure = "breaker_open"
        attempts = 0
        while True:
            remaining = deadline - self._clock.monotonic()
            if remaining < _MIN_ATTEMPT_S:
                break
            if not breaker.allow():
                break
            attempts += 1
            try:
                answer = self._ask(url, cert_type, value, remaining)
            except _RetryableError as exc:
                failure = exc.failure
                breaker.failure()
                log.info("platform %s: attempt %d: %s", url, attempts, exc)
                self._clock.sleep(min(_RETRY_PAUSE_S, max(0.0, deadline - self._clock.monotonic())))
                continue
            except _UntrustedAnswerError as exc:
                breaker.failure()
                log.warning("platform %s: untrusted answer: %s", url, exc)
                failure = "untrusted"
                break
            except PlatformError as exc:
                breaker.failure()
                log.warning("platform %s: %s", url, exc)
                failure = "refused"
                break
            breaker.success()
            self._cache.put(cert_type, value, answer)
            self._count("online")
            return PlatformOutcome(answer, latency_ms=_ms(self._clock.monotonic() - started))
        self._count("failed")
        latency = _ms(self._clock.monotonic() - started) if attempts else None
        return PlatformOutcome(None, failure=failure, latency_ms=latency)

    def _ask(self, url: str, cert_type: CertType, value: str, budget_s: float) -> VerifyAnswer:
        nonce = os.urandom(16).hex()
        request = VerifyRequest(
            app_id=self._settings.app_id,
            terminal=self._terminal,
            ts_ms=int(self._clock.now() * 1000),
            nonce=nonce,
            cert_type=cert_type,
            cert_value=value,
        )
        body = request.to_bytes()
        deadline = self._clock.monotonic() + budget_s
        try:
            with self._http.stream(
                "POST",
                url.rstrip("/") + VERIFY_PATH,
                content=body,
                headers={SIGNATURE_HEADER: sign(body, self._secret)},
                timeout=httpx.Timeout(budget_s),
            ) as response:
                chunks: list[bytes] = []
                size = 0
                for chunk in response.iter_bytes():
                    size += len(chunk)
                    if size > MAX_BODY_BYTES:
                        raise _UntrustedAnswerError("answer: body too large")
                    if self._clock.monotonic() > deadline:
                        raise _RetryableError("timeout", "answer arrived too slowly")
                    chunks.append(chunk)
                status = response.status_code
                signature = response.headers.get(SIGNATURE_HEADER)
        except httpx.TimeoutException:
            raise _RetryableError("timeout", "no answer within the budget") from None
        except httpx.HTTPError as exc:
            raise _RetryableError("unreachable", f"{type(exc).__name__}") from None
        if status >= 500:
            raise _RetryableError("unreachable", f"HTTP {status}")
        if status != 200:
            raise PlatformError(f"request refused with HTTP {status}")
        try:
            return parse_answer(b"".join(chunks), signature, self._secret, nonce)
        except PlatformError as exc:
            raise _UntrustedAnswerError(str(exc)) from None

    def _count(self, key: str) -> None:
        with self._lock:
            self.counts[key] += 1


class _RetryableError(PlatformError):
    def __init__(self, failure: Failure, message: str) -> None:
        super().__init__(message)
        self.failure: Failure = failure


class _UntrustedAnswerError(PlatformError):
    """An answer came but cannot be trusted (signature, nonce, content)."""


def _ms(seconds: float) -> float:
    return round(seconds * 1000.0, 3)
