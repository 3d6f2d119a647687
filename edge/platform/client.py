"""The gate's platform client: signed requests under one deadline, routes, breakers, causes."""

from __future__ import annotations

import email.utils
import logging
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import httpcore

from edge.clock import Clock
from edge.errors import PlatformError
from edge.platform.breaker import BreakerState, CircuitBreaker
from edge.platform.cache import AnswerCache
from edge.platform.settings import PlatformSettings
from edge.platform.transport import (
    Deadline,
    DeadlineBackend,
    Resolve,
    TransportError,
    deadline_of,
    system_resolve,
)
from edge.wire.platform import (
    MAX_BODY_BYTES,
    MAX_VALUE_CHARS,
    SIGNATURE_HEADER,
    VERIFY_PATH,
    CertType,
    VerifyAnswer,
    VerifyRequest,
    parse_answer,
    sign,
)

log = logging.getLogger(__name__)

Failure = Literal[
    "dns",
    "refused",
    "unreachable",
    "timeout",
    "tls",
    "http_status",
    "bad_signature",
    "untrusted",
    "breaker_open",
    "not_sent",
]
"""Why no trusted answer came: the name did not resolve, the connection was refused or failed,
the deadline passed, TLS failed, the platform answered with an HTTP error, the answer's
signature (or nonce, or content) was wrong, the breaker was open, or the credential cannot be
carried by the API and was never sent."""

CONTENT_STATUSES = frozenset({400, 413, 422})
"""Answers caused by the request's content: they say nothing about the platform's health."""
_RETRY_PAUSE_S = 0.05
_MIN_ATTEMPT_S = 0.02
_RETRYABLE: frozenset[Failure] = frozenset({"dns", "refused", "unreachable"})


@dataclass(frozen=True)
class PlatformOutcome:
    """A trusted answer (fresh or cached) or why there is none, and the time the platform took.

    `cause` says precisely why there is no answer (it never holds the credential)."""

    answer: VerifyAnswer | None
    cached: bool = False
    failure: Failure | None = None
    latency_ms: float | None = None
    cause: str | None = None


@dataclass(frozen=True)
class RouteFailure:
    """The latest failure on one platform route."""

    failure: Failure
    cause: str

    def __str__(self) -> str:
        return f"{self.failure}: {self.cause}"


@dataclass(frozen=True)
class RouteProbe:
    """One question to one route: its trusted answer and clock, or why there is none."""

    url: str
    answer: VerifyAnswer | None = None
    server_time: float | None = None
    failure: Failure | None = None
    cause: str | None = None
    status: int | None = None


def route_url(settings: PlatformSettings, cert_type: CertType, value: str) -> str:
    """Where to ask: an ID number goes to the route with the longest matching prefix."""
    if cert_type == "id_card":
        matching = [r for r in settings.routes if value.startswith(r.id_prefix)]
        if matching:
            return max(matching, key=lambda route: len(route.id_prefix)).url
    return settings.url


class PlatformClient:
    """Asks the platforms of `settings`; never raises for what a platform does, and never takes
    longer than the budget (timeout_ms) per check, retries included: one deadline covers name
    resolution, connect, TLS, headers and body of every attempt."""

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
        resolve: Resolve = system_resolve,
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
        self._http = httpcore.ConnectionPool(
            network_backend=DeadlineBackend(resolve), max_connections=16, keepalive_expiry=30.0
        )
        self._lock = threading.Lock()
        self.counts = {"online": 0, "cache": 0, "failed": 0}
        self._last_failures: dict[str, RouteFailure] = {}

    def close(self) -> None:
        """Close the connections."""
        self._http.close()

    def breakers(self) -> Mapping[str, BreakerState]:
        """Each platform URL's breaker state."""
        return {url: breaker.state for url, breaker in self._breakers.items()}

    def last_failures(self) -> Mapping[str, RouteFailure]:
        """Each platform URL's latest failure since its latest trusted answer."""
        with self._lock:
            return dict(self._last_failures)

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
            return PlatformOutcome(None, failure="unreachable", cause="no platform route")
        unsendable = self._unsendable(cert_type, value)
        if unsendable is not None:
            self._count("failed")
            return PlatformOutcome(None, failure="not_sent", cause=unsendable)
        started = self._clock.monotonic()
        deadline = Deadline(self._clock, self._settings.timeout_ms / 1000.0)
        failure: Failure = "breaker_open"
        cause = f"circuit breaker open for {url}"
        attempts = 0
        while deadline.remaining() >= _MIN_ATTEMPT_S and breaker.allow():
            attempts += 1
            try:
                answer, _ = self._ask(url, cert_type, value, deadline)
            except _NoAnswerError as exc:
                failure, cause = exc.failure, str(exc)
                if exc.status in CONTENT_STATUSES:
                    breaker.abandon()  # the request's content, not the platform's health
                else:
                    breaker.failure()
                self._note_failure(url, failure, cause)
                log.warning("platform %s: attempt %d: %s: %s", url, attempts, failure, cause)
                if failure not in _RETRYABLE and (exc.status or 0) < 500:
                    break
                self._clock.sleep(min(_RETRY_PAUSE_S, max(0.0, deadline.remaining())))
                continue
            breaker.success()
            with self._lock:
                self._last_failures.pop(url, None)
            self._cache.put(cert_type, value, answer)
            self._count("online")
            return PlatformOutcome(answer, latency_ms=_ms(self._clock.monotonic() - started))
        self._count("failed")
        latency = _ms(self._clock.monotonic() - started) if attempts else None
        return PlatformOutcome(None, failure=failure, latency_ms=latency, cause=cause)

    def _request(self, cert_type: CertType, value: str) -> VerifyRequest:
        return VerifyRequest(
            app_id=self._settings.app_id,
            terminal=self._terminal,
            ts_ms=int(self._clock.now() * 1000),
            nonce=os.urandom(16).hex(),
            cert_type=cert_type,
            cert_value=value,
        )

    def _unsendable(self, cert_type: CertType, value: str) -> str | None:
        """Why the API cannot carry this credential (None when it can)."""
        if len(value) > MAX_VALUE_CHARS:
            return f"credential longer than {MAX_VALUE_CHARS} characters: not sent"
        if len(self._request(cert_type, value).to_bytes()) > MAX_BODY_BYTES:
            return f"request body over {MAX_BODY_BYTES} bytes: not sent"
        return None

    def probe(self, url: str, value: str) -> RouteProbe:
        """Ask `url` once about `value` (an ID number), within the budget, past its breaker and
        the cache: how the route answers, and the platform's clock (its Date header)."""
        deadline = Deadline(self._clock, self._settings.timeout_ms / 1000.0)
        try:
            answer, headers = self._ask(url, "id_card", value, deadline)
        except _NoAnswerError as exc:
            return RouteProbe(
                url,
                failure=exc.failure,
                cause=str(exc),
                status=exc.status,
                server_time=_http_date(exc.date),
            )
        return RouteProbe(url, answer=answer, server_time=_http_date(headers.get("date")))

    def _ask(
        self, url: str, cert_type: CertType, value: str, deadline: Deadline
    ) -> tuple[VerifyAnswer, dict[str, str]]:
        request = self._request(cert_type, value)
        body = request.to_bytes()
        headers = [
            (b"Content-Type", b"application/json"),
            (b"Accept-Encoding", b"identity"),
            (SIGNATURE_HEADER.encode(), sign(body, self._secret).encode()),
        ]
        try:
            with (
                deadline_of(deadline),
                self._http.stream(
                    "POST", url.rstrip("/") + VERIFY_PATH, headers=headers, content=body
                ) as response,
            ):
                status = response.status
                header = _headers(response.headers)
                if status == 200:
                    _check_encoding(header)
                    payload = _read_body(response, deadline)
        except TransportError as exc:
            raise _NoAnswerError(exc.cause, str(exc)) from None
        except httpcore.TimeoutException:
            raise _NoAnswerError("timeout", "no answer within the budget") from None
        except httpcore.UnsupportedProtocol as exc:
            raise _NoAnswerError("unreachable", f"unsupported URL: {exc}") from None
        except (httpcore.ProtocolError, httpcore.NetworkError) as exc:
            raise _NoAnswerError("unreachable", f"broken connection: {exc}") from None
        if status != 200:
            raise _NoAnswerError("http_status", f"HTTP {status}", status, header.get("date"))
        try:
            signature = header.get(SIGNATURE_HEADER.lower())
            return parse_answer(payload, signature, self._secret, request.nonce), header
        except PlatformError as exc:
            kind: Failure = "bad_signature" if "signature" in str(exc) else "untrusted"
            raise _NoAnswerError(kind, str(exc)) from None

    def _note_failure(self, url: str, failure: Failure, cause: str) -> None:
        with self._lock:
            self._last_failures[url] = RouteFailure(failure, cause)

    def _count(self, key: str) -> None:
        with self._lock:
            self.counts[key] += 1


def _http_date(value: str | None) -> float | None:
    """An HTTP Date header as epoch seconds (None when absent or unreadable)."""
    if not value:
        return None
    try:
        return email.utils.parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def _headers(raw: list[tuple[bytes, bytes]]) -> dict[str, str]:
    return {name.decode("latin-1").lower(): value.decode("latin-1") for name, value in raw}


def _check_encoding(headers: Mapping[str, str]) -> None:
    encoding = headers.get("content-encoding", "identity").strip().lower()
    if encoding not in ("", "identity"):
        raise _NoAnswerError("untrusted", f"answer: content encoding {encoding[:32]!r} refused")
    length = headers.get("content-length", "").strip()
    if length.isdigit() and int(length) > MAX_BODY_BYTES:
        raise _NoAnswerError("untrusted", f"answer: body larger than {MAX_BODY_BYTES} bytes")


def _read_body(response: httpcore.Response, deadline: Deadline) -> bytes:
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise _NoAnswerError("untrusted", f"answer: body larger than {MAX_BODY_BYTES} bytes")
        if deadline.remaining() <= 0:
            raise _NoAnswerError("timeout", "the answer arrived too slowly")
        chunks.append(chunk)
    return b"".join(chunks)


class _NoAnswerError(PlatformError):
    """An attempt ended without a trusted answer, for `failure` (and an HTTP status, if any)."""

    def __init__(
        self, failure: Failure, message: str, status: int | None = None, date: str | None = None
    ) -> None:
        super().__init__(message)
        self.failure: Failure = failure
        self.status = status
        self.date = date


def _ms(seconds: float) -> float:
    return round(seconds * 1000.0, 3)
