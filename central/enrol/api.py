"""The enrolment endpoint: judges a signed request against the register and answers a bundle."""

from __future__ import annotations

import hmac
import json
import logging
import threading

from cryptography import x509
from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from central.enrol.authority import Authority, key_fingerprint
from central.errors import CentralError
from central.http_bodies import TOO_LARGE, json_response, read_capped_body
from edge.errors import EnrolmentError
from edge.wire.enrol import (
    ENROL_PATH,
    MAX_BODY_BYTES,
    TS_WINDOW_S,
    EnrolBundle,
    EnrolRequest,
)
from edge.wire.platform import SIGNATURE_HEADER

log = logging.getLogger(__name__)

Answer = tuple[int, bytes, dict[str, str]]


def _refusal(status: int, reason: str) -> Answer:
    log.warning("enrolment refused: %s", reason)
    return status, json.dumps({"error": reason}).encode(), {}


class Enrolment:
    """One request in, one answer out; the HTTP layer only moves bytes."""

    def __init__(self, authority: Authority) -> None:
        self._authority = authority
        self._lock = threading.Lock()  # one enrolment at a time: the register is read, then used

    def answer(self, body: bytes, signature: str | None) -> Answer:
        """(HTTP status, body, headers) for a request body and its X-Signature."""
        with self._lock:
            return self._answer(body, signature)

    def _answer(self, body: bytes, signature: str | None) -> Answer:
        authority = self._authority
        token_id = EnrolRequest.peek_token_id(body)
        token = authority.store.token(token_id) if token_id else None
        if token is None or token.secret is None:
            return _refusal(403, "unknown token")
        try:
            request = EnrolRequest.parse(body, signature, token.secret)
        except EnrolmentError as exc:
            return _refusal(403 if "signature" in str(exc) else 400, str(exc))
        now = authority.now_s()
        if abs(now * 1000 - request.ts_ms) > TS_WINDOW_S * 1000:
            return _refusal(403, f"ts is more than {TS_WINDOW_S} s from central's clock")
        if now >= token.expires_at:
            return _refusal(403, "token expired")
        try:
            csr = x509.load_pem_x509_csr(request.csr_pem.encode())
            fingerprint = key_fingerprint(csr)
            cn = csr.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
        except ValueError as exc:
            return _refusal(400, f"not a PEM CSR: {exc}")
        wanted = f"{token.site}.{token.gate}"
        if [a.value for a in cn] != [wanted]:
            return _refusal(403, f"the CSR does not name {wanted}, the gate of this token")
        if token.used_at is not None:
            # The same device key asking again (its answer was lost) gets the same certificate.
            same = token.key_sha256 is not None and hmac.compare_digest(
                token.key_sha256, fingerprint
            )
            if not same or token.certificate is None:
                return _refusal(403, "token already used")
            certificate = token.certificate
        else:
            try:
                certificate = authority.certify(token.site, token.gate, csr)
            except CentralError as exc:
                return _refusal(400, str(exc))
            authority.store.use_token(token.token_id, now, fingerprint, certificate)
            log.info("enrolled %s", wanted)
        bundle = EnrolBundle(
            site=token.site,
            gate=token.gate,
            broker=authority.settings.broker,
            certificate=certificate,
            ca=authority.ca.pem,
            trust_root=authority.trust_root,
            command_key=authority.command_key,
            nonce=request.nonce,
        )
        payload, headers = bundle.signed(token.secret)
        return 200, payload, headers


def enrolment_router(authority: Authority) -> APIRouter:
    """The router serving POST /v1/enrol."""
    router = APIRouter()
    enrolment = Enrolment(authority)

    @router.post(ENROL_PATH)
    async def enrol(request: Request) -> Response:
        body = await read_capped_body(request, MAX_BODY_BYTES)
        if body is None:
            return json_response(413, TOO_LARGE, {})
        try:
            status, payload, headers = await run_in_threadpool(
                enrolment.answer, body, request.headers.get(SIGNATURE_HEADER)
            )
        except CentralError as exc:
            log.error("enrolment failed: %s", exc)
            return json_response(503, b'{"error":"register unavailable"}', {})
        return json_response(status, payload, headers)

    return router
