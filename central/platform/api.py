"""The verification endpoint (docs/platform-api.md) as an ASGI application on FastAPI."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from fastapi import APIRouter, FastAPI, Request, Response
from starlette.concurrency import run_in_threadpool

from central.errors import CentralError
from central.http_bodies import TOO_LARGE, json_response, read_capped_body
from central.platform.privacy import lookup_key
from central.platform.store import PlatformStore, Record
from edge.errors import PlatformError
from edge.wire.idcard import normalise_id
from edge.wire.platform import (
    HEALTH_PATH,
    MAX_BODY_BYTES,
    SIGNATURE_HEADER,
    STATUSES,
    TS_WINDOW_S,
    VERIFY_PATH,
    Status,
    VerifyAnswer,
    VerifyRequest,
    parse_request,
    peek_app_id,
    sign,
    signature_ok,
)

log = logging.getLogger(__name__)

_FORGET_EVERY = 256
_STATUS: dict[str, Status] = {status: status for status in STATUSES}


@dataclass(frozen=True)
class PlatformSetup:
    """What the platform answers with."""

    store: PlatformStore
    lookup: bytes
    issuer: str = "CN-150000"
    ttl_s: int = 30


class Verifier:
    """Judges one signed request against the store; the HTTP layer only moves bytes."""

    def __init__(self, setup: PlatformSetup, now_ms: Callable[[], int]) -> None:
        self._setup = setup
        self._now_ms = now_ms
        self._lock = threading.Lock()
        self._requests = 0

    def answer(self, body: bytes, signature: str | None) -> tuple[int, bytes, dict[str, str]]:
        """(HTTP status, body, headers) for a request body and its X-Signature."""
        store = self._setup.store
        app_id = peek_app_id(body)
        secret = store.app_secret(app_id) if app_id else None
        if secret is None or not signature_ok(body, secret, signature):
            return _refusal(401, "unknown application or bad signature")
        try:
            request = parse_request(body)
        except PlatformError as exc:
            return _refusal(400, str(exc))
        now = self._now_ms()
        if abs(now - request.ts_ms) > TS_WINDOW_S * 1000:
            return _refusal(401, f"ts is more than {TS_WINDOW_S} s from the platform's clock")
        if not store.remember_nonce(request.app_id, request.nonce, now):
            return _refusal(401, "nonce seen before")
        self._housekeeping(now)
        record = self._lookup(request, now)
        answer = VerifyAnswer(
            status=_STATUS.get(record.status, "failed"),
            issuer=record.issuer,
            masked_name=record.masked_name,
            updated_at_ms=record.updated_at_ms,
            ttl_s=self._setup.ttl_s,
            nonce=request.nonce,
        )
        payload = answer.to_bytes()
        return 200, payload, {SIGNATURE_HEADER: sign(payload, secret)}

    def _lookup(self, request: VerifyRequest, now: int) -> Record:
        setup = self._setup
        missing = Record("not_found", setup.issuer, None, now)
        if request.cert_type == "id_card":
            number = normalise_id(request.cert_value)
            if number is None:
                return missing
            found = setup.store.holder(lookup_key(setup.lookup, "id_card", number))
            return found or missing
        found = setup.store.token(lookup_key(setup.lookup, "qr_code", request.cert_value))
        if found is None:
            return missing
        if found.expires_at_ms is not None and found.expires_at_ms <= now:
            return Record("expired", found.issuer, found.masked_name, found.updated_at_ms)
        return found

    def _housekeeping(self, now: int) -> None:
        with self._lock:
            self._requests += 1
            due = self._requests % _FORGET_EVERY == 1
        if due:
            self._setup.store.forget_nonces(now)


def _refusal(status: int, message: str) -> tuple[int, bytes, dict[str, str]]:
    return status, json.dumps({"error": message}).encode(), {}


def create_app(
    setup: PlatformSetup, now_ms: Callable[[], int], routers: Sequence[APIRouter] = ()
) -> FastAPI:
    """The platform's ASGI application, with further endpoints (enrolment) from `routers`."""
    app = FastAPI(title="Health-code platform", docs_url=None, redoc_url=None, openapi_url=None)
    for router in routers:
        app.include_router(router)
    verifier = Verifier(setup, now_ms)

    @app.post(VERIFY_PATH)
    async def verify(request: Request) -> Response:
        body = await read_capped_body(request, MAX_BODY_BYTES)
        if body is None:
            return json_response(413, TOO_LARGE, {})
        try:
            status, payload, headers = await run_in_threadpool(
                verifier.answer, body, request.headers.get(SIGNATURE_HEADER)
            )
        except CentralError as exc:
            log.error("verification failed: %s", exc)
            return json_response(503, b'{"error":"store unavailable"}', {})
        return json_response(status, payload, headers)

    @app.get(HEALTH_PATH)
    async def health() -> Response:
        if await run_in_threadpool(setup.store.reachable):
            return json_response(200, b'{"status":"ok","store":"reachable"}', {})
        return json_response(503, b'{"status":"unavailable","store":"unreachable"}', {})

    return app
