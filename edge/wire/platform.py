"""The platform verification protocol: signed requests, signed answers, strict parsing.

Specified in docs/platform-api.md. Both the gate and the reference platform use these helpers,
so the bytes signed are always the bytes sent.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from dataclasses import dataclass
from typing import Any, Literal

from edge.errors import PlatformError

CertType = Literal["qr_code", "id_card"]
Status = Literal["green", "yellow", "red", "expired", "not_found", "failed"]

CERT_TYPES: tuple[CertType, ...] = ("qr_code", "id_card")
STATUSES: tuple[Status, ...] = ("green", "yellow", "red", "expired", "not_found", "failed")
SIGNATURE_HEADER = "X-Signature"
VERIFY_PATH = "/v1/verify"
HEALTH_PATH = "/v1/health"
TS_WINDOW_S = 300
MAX_VALUE_CHARS = 4096
MAX_TTL_S = 86_400
MAX_BODY_BYTES = 16_384
_NONCE = re.compile(r"[0-9a-fA-F]{16,128}")
_HEX_SIGNATURE = re.compile(r"[0-9a-f]{64}")
_REQUEST_KEYS = frozenset({"app_id", "terminal", "ts", "nonce", "cert_type", "cert_value"})


def sign(body: bytes, secret: bytes) -> str:
    """Lowercase hex HMAC-SHA256 of the exact bytes."""
    return hmac.new(secret, body, hashlib.sha256).hexdigest()


def signature_ok(body: bytes, secret: bytes, signature: str | None) -> bool:
    """True when `signature` is the body's HMAC under `secret` (constant-time comparison)."""
    if signature is None or not _HEX_SIGNATURE.fullmatch(signature):
        return False
    return hmac.compare_digest(sign(body, secret), signature)


def encode(document: dict[str, Any]) -> bytes:
    """Compact UTF-8 JSON, the form sent on the wire."""
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


@dataclass(frozen=True)
class VerifyRequest:
    """One question to the platform."""

    app_id: str
    terminal: str
    ts_ms: int
    nonce: str
    cert_type: CertType
    cert_value: str

    def to_bytes(self) -> bytes:
        """The request body."""
        return encode(
            {
                "app_id": self.app_id,
                "terminal": self.terminal,
                "ts": self.ts_ms,
                "nonce": self.nonce,
                "cert_type": self.cert_type,
                "cert_value": self.cert_value,
            }
        )


@dataclass(frozen=True)
class VerifyAnswer:
    """The platform's signed answer, already checked against the request's nonce."""

    status: Status
    issuer: str
    masked_name: str | None
    updated_at_ms: int
    ttl_s: int
    nonce: str

    def to_bytes(self) -> bytes:
        """The answer body."""
        return encode(
            {
                "status": self.status,
                "issuer": self.issuer,
                "masked_name": self.masked_name,
                "updated_at": self.updated_at_ms,
                "ttl_s": self.ttl_s,
                "nonce": self.nonce,
            }
        )


def _object(body: bytes, what: str) -> dict[str, Any]:
    if len(body) > MAX_BODY_BYTES:
        raise PlatformError(f"{what}: body larger than {MAX_BODY_BYTES} bytes")
    try:
        document = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise PlatformError(f"{what}: not a JSON document") from None
    if not isinstance(document, dict):
        raise PlatformError(f"{what}: not a JSON object")
    return document


def _integer(document: dict[str, Any], key: str, what: str, maximum: int) -> int:
    value = document.get(key)
    if type(value) is not int or not 0 <= value <= maximum:
        raise PlatformError(f"{what}: {key} must be an integer from 0 to {maximum}")
    return value


def _text(document: dict[str, Any], key: str, what: str, max_chars: int) -> str:
    value = document.get(key)
    if not isinstance(value, str) or len(value) > max_chars:
        raise PlatformError(f"{what}: {key} must be a string of at most {max_chars} characters")
    return value


def parse_request(body: bytes) -> VerifyRequest:
    """Parse a request body (after its signature was checked); PlatformError when malformed."""
    what = "request"
    document = _object(body, what)
    unknown = set(document) - _REQUEST_KEYS
    if unknown:
        raise PlatformError(f"{what}: unknown field(s) {', '.join(sorted(unknown))}")
    app_id = _text(document, "app_id", what, 64)
    nonce = _text(document, "nonce", what, 128)
    cert_type = document.get("cert_type")
    value = _text(document, "cert_value", what, MAX_VALUE_CHARS)
    if not app_id:
        raise PlatformError(f"{what}: app_id is empty")
    if not _NONCE.fullmatch(nonce):
        raise PlatformError(f"{what}: nonce must be 16-128 hex characters")
    if cert_type not in CERT_TYPES:
        raise PlatformError(f"{what}: cert_type must be qr_code or id_card")
    if not value:
        raise PlatformError(f"{what}: cert_value is empty")
    return VerifyRequest(
        app_id=app_id,
        terminal=_text(document, "terminal", what, 130),
        ts_ms=_integer(document, "ts", what, 2**53),
        nonce=nonce,
        cert_type=cert_type,
        cert_value=value,
    )


def peek_app_id(body: bytes) -> str | None:
    """The app_id of a request body, to find the secret its signature must verify with."""
    try:
        app_id = _object(body, "request").get("app_id")
    except PlatformError:
        return None
    return app_id if isinstance(app_id, str) else None


def parse_answer(body: bytes, signature: str | None, secret: bytes, nonce: str) -> VerifyAnswer:
    """Check an answer's signature and echoed nonce, then its fields; PlatformError otherwise."""
    what = "answer"
    if not signature_ok(body, secret, signature):
        raise PlatformError(f"{what}: signature does not verify")
    document = _object(body, what)
    echoed = document.get("nonce")
    if not isinstance(echoed, str) or not hmac.compare_digest(echoed.encode(), nonce.encode()):
        raise PlatformError(f"{what}: nonce is not the one sent")
    status = document.get("status")
    if status not in STATUSES:
        raise PlatformError(f"{what}: status is not one of {', '.join(STATUSES)}")
    masked = document.get("masked_name")
    if masked is not None and (not isinstance(masked, str) or len(masked) > 64):
        raise PlatformError(f"{what}: masked_name must be a short string or null")
    return VerifyAnswer(
        status=status,
        issuer=_text(document, "issuer", what, 64),
        masked_name=masked,
        updated_at_ms=_integer(document, "updated_at", what, 2**53),
        ttl_s=_integer(document, "ttl_s", what, MAX_TTL_S),
        nonce=echoed,
    )
