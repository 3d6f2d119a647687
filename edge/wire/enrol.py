"""The enrolment protocol of gate and central (guide, "First boot"): signed request and bundle.

The one-time token is "<id>.<secret>". Only the id crosses the wire: the request and the bundle
are both HMAC-SHA256 signed with the secret, so neither side accepts the other's message unless
it knows the token, even over plain HTTP.
"""

from __future__ import annotations

import hmac
import json
import re
from dataclasses import dataclass
from typing import Any

from edge.errors import EnrolmentError
from edge.wire.platform import SIGNATURE_HEADER, encode, sign, signature_ok

__all__ = ["ENROL_PATH", "EnrolBundle", "EnrolRequest", "EnrolToken"]

ENROL_PATH = "/v1/enrol"
TS_WINDOW_S = 300
MAX_BODY_BYTES = 65_536
MAX_PEM_CHARS = 16_384
_TOKEN = re.compile(r"([0-9a-f]{16})\.([A-Za-z0-9_-]{32,86})")
_NONCE = re.compile(r"[0-9a-f]{32}")
_REQUEST_KEYS = frozenset({"token_id", "csr", "ts", "nonce"})
_BUNDLE_TEXT = ("site", "gate", "broker", "certificate", "ca", "trust_root")


@dataclass(frozen=True)
class EnrolToken:
    """A one-time enrolment token: the id names it, the secret signs with it."""

    token_id: str
    secret: bytes

    @classmethod
    def parse(cls, text: str) -> EnrolToken:
        """Parse "<16 hex>.<32-86 base64url>"; EnrolmentError otherwise (never echoing it)."""
        match = _TOKEN.fullmatch(text.strip())
        if match is None:
            raise EnrolmentError("token: not <16 hex digits>.<32-86 base64url characters>")
        return cls(match.group(1), match.group(2).encode())

    def __str__(self) -> str:
        return f"{self.token_id}.{self.secret.decode()}"


def _object(body: bytes, what: str) -> dict[str, Any]:
    if len(body) > MAX_BODY_BYTES:
        raise EnrolmentError(f"{what}: body larger than {MAX_BODY_BYTES} bytes")
    try:
        document = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise EnrolmentError(f"{what}: not a JSON document") from None
    if not isinstance(document, dict):
        raise EnrolmentError(f"{what}: not a JSON object")
    return document


def _text(document: dict[str, Any], key: str, what: str, limit: int = MAX_PEM_CHARS) -> str:
    value = document.get(key)
    if not isinstance(value, str) or not value or len(value) > limit:
        raise EnrolmentError(f"{what}: {key} must be a non-empty string of at most {limit} chars")
    return value


@dataclass(frozen=True)
class EnrolRequest:
    """The gate's request: which token, its CSR, when, and a nonce the bundle echoes."""

    token_id: str
    csr_pem: str
    ts_ms: int
    nonce: str

    def to_bytes(self) -> bytes:
        """The request body."""
        return encode(
            {"token_id": self.token_id, "csr": self.csr_pem, "ts": self.ts_ms, "nonce": self.nonce}
        )

    @staticmethod
    def peek_token_id(body: bytes) -> str | None:
        """The token id of a body, to find the secret its signature must verify with."""
        try:
            token_id = _object(body, "request").get("token_id")
        except EnrolmentError:
            return None
        return token_id if isinstance(token_id, str) else None

    @classmethod
    def parse(cls, body: bytes, signature: str | None, secret: bytes) -> EnrolRequest:
        """Check the signature, then the fields; EnrolmentError otherwise."""
        if not signature_ok(body, secret, signature):
            raise EnrolmentError("request: signature does not verify")
        what = "request"
        document = _object(body, what)
        unknown = set(document) - _REQUEST_KEYS
        if unknown:
            raise EnrolmentError(f"{what}: unknown field(s) {', '.join(sorted(unknown))}")
        ts = document.get("ts")
        if type(ts) is not int or not 0 <= ts <= 2**53:
            raise EnrolmentError(f"{what}: ts must be epoch milliseconds")
        nonce = _text(document, "nonce", what, 32)
        if not _NONCE.fullmatch(nonce):
            raise EnrolmentError(f"{what}: nonce must be 32 hex digits")
        return cls(_text(document, "token_id", what, 16), _text(document, "csr", what), ts, nonce)


@dataclass(frozen=True)
class EnrolBundle:
    """What central sends back: who the gate is, its certificate, whom to trust, where to go."""

    site: str
    gate: str
    broker: str
    certificate: str
    ca: str
    trust_root: str
    command_key: str | None
    nonce: str

    def to_bytes(self) -> bytes:
        """The bundle body."""
        return encode(
            {
                "site": self.site,
                "gate": self.gate,
                "broker": self.broker,
                "certificate": self.certificate,
                "ca": self.ca,
                "trust_root": self.trust_root,
                "command_key": self.command_key,
                "nonce": self.nonce,
            }
        )

    def signed(self, secret: bytes) -> tuple[bytes, dict[str, str]]:
        """(body, headers) with the bundle's signature."""
        body = self.to_bytes()
        return body, {SIGNATURE_HEADER: sign(body, secret)}

    @classmethod
    def parse(cls, body: bytes, signature: str | None, secret: bytes, nonce: str) -> EnrolBundle:
        """Check the signature and echoed nonce, then the fields; EnrolmentError otherwise."""
        what = "bundle"
        if not signature_ok(body, secret, signature):
            raise EnrolmentError(f"{what}: signature does not verify (not from this central)")
        document = _object(body, what)
        echoed = document.get("nonce")
        if not isinstance(echoed, str) or not hmac.compare_digest(echoed, nonce):
            raise EnrolmentError(f"{what}: nonce is not the one sent")
        texts = {key: _text(document, key, what) for key in _BUNDLE_TEXT}
        command_key = document.get("command_key")
        if command_key is not None:
            command_key = _text(document, "command_key", what)
        return cls(**texts, command_key=command_key, nonce=echoed)
