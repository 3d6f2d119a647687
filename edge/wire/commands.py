"""Signed control-plane commands: Ed25519 over canonical JSON, bound to one gate, with expiry."""

from __future__ import annotations

import base64
import binascii
import json
import re
import uuid
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import ed25519

from edge.credentials.common.canonical import canonical_json
from edge.credentials.common.keys import read_public_key_pem
from edge.errors import CommandError
from edge.readfiles import MAX_KEY_BYTES, read_capped
from edge.wire.topics import COMMAND_NAMES

COMMAND_SCHEMA = "gate-edge/command"
COMMAND_SCHEMA_VERSION = 1
MAX_COMMAND_BYTES = 4096  # a signed command is a few hundred bytes; larger is refused unread
_OPERATOR = re.compile(r"[A-Za-z0-9._@-]{1,64}")
_FAULT = re.compile(r"[a-z][a-z0-9_]{0,63}")
_BODY_KEYS = {
    "schema",
    "schema_version",
    "command_id",
    "command",
    "site",
    "gate",
    "issued_at",
    "expires_at",
    "operator",
    "fault",
}


@dataclass(frozen=True)
class Command:
    """A verified command addressed to this gate."""

    command_id: str
    name: str
    issued_at_ms: int
    expires_at_ms: int
    operator: str | None
    fault: str | None = None


def signed_bytes(body: dict[str, Any]) -> bytes:
    """The exact bytes that are signed: sorted keys, no spaces, UTF-8."""
    return canonical_json(body, ascii_only=False).encode()


def verify_command(
    data: bytes,
    key: ed25519.Ed25519PublicKey,
    *,
    topic_name: str,
    site: str,
    gate: str,
    now: float,
    max_ttl_s: float,
    skew_s: float,
) -> Command:
    """Check signature, addressee, schema and validity window; raise CommandError if any fails."""
    body, signature, signed = _open_envelope(data)
    try:
        key.verify(signature, signed)
    except InvalidSignature as exc:
        raise CommandError("command signature is not valid") from exc
    command = _read_body(body)
    if command.name != topic_name:
        raise CommandError(f"command {command.name!r} sent on the {topic_name!r} topic")
    if body["site"] != site or body["gate"] != gate:
        raise CommandError(f"command addressed to {body['site']}/{body['gate']}")
    now_ms, skew_ms = int(now * 1000), int(skew_s * 1000)
    if command.issued_at_ms > now_ms + skew_ms:
        raise CommandError("command issued in the future")
    if command.expires_at_ms - command.issued_at_ms > int(max_ttl_s * 1000):
        raise CommandError("command validity is longer than allowed")
    if now_ms > command.expires_at_ms + skew_ms:
        raise CommandError("command expired")
    return command


def _open_envelope(data: bytes) -> tuple[dict[str, Any], bytes, bytes]:
    """Body, signature and the bytes the signature covers; CommandError for any malformed
    input (invalid UTF-8, nesting too deep to parse, strings that cannot be encoded). Payloads
    over MAX_COMMAND_BYTES are refused before any decoding."""
    if len(data) > MAX_COMMAND_BYTES:
        raise CommandError(f"malformed command: {len(data)} bytes, over {MAX_COMMAND_BYTES}")
    try:
        envelope = json.loads(data)
        if not isinstance(envelope, dict) or set(envelope) != {"body", "signature"}:
            raise CommandError("malformed command: unexpected envelope")
        body, signature_text = envelope["body"], envelope["signature"]
        if not isinstance(body, dict) or not isinstance(signature_text, str):
            raise CommandError("malformed command: unexpected envelope")
        signature = base64.b64decode(signature_text, validate=True)
        signed = signed_bytes(body)
    except (ValueError, RecursionError, binascii.Error) as exc:
        # UnicodeDecodeError and UnicodeEncodeError are ValueErrors
        raise CommandError(f"malformed command: {exc.__class__.__name__}") from exc
    return body, signature, signed


def _read_body(body: dict[str, Any]) -> Command:
    extra = set(body) - _BODY_KEYS
    if extra:
        raise CommandError(f"unknown command fields: {sorted(extra)}")
    if body.get("schema") != COMMAND_SCHEMA or body.get("schema_version") != 1:
        raise CommandError("unsupported command schema")
    name, command_id = body.get("command"), body.get("command_id")
    if name not in COMMAND_NAMES:
        raise CommandError(f"unknown command {name!r}")
    try:
        uuid.UUID(str(command_id))
    except ValueError as exc:
        raise CommandError("command_id must be a UUID") from exc
    issued, expires = body.get("issued_at"), body.get("expires_at")
    for value in (issued, expires):
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise CommandError("issued_at and expires_at must be epoch milliseconds")
    assert isinstance(issued, int) and isinstance(expires, int)
    if expires <= issued:
        raise CommandError("command expires before it was issued")
    operator = body.get("operator")
    if name == "open-once" and not (isinstance(operator, str) and _OPERATOR.fullmatch(operator)):
        raise CommandError("open-once needs an operator id (1-64 of A-Z a-z 0-9 . _ @ -)")
    fault = body.get("fault")
    if (name == "clear-fault") != (fault is not None):
        raise CommandError("clear-fault needs a fault name, and only clear-fault has one")
    if fault is not None and not (isinstance(fault, str) and _FAULT.fullmatch(fault)):
        raise CommandError("fault must be a fault name such as relay_fault")
    if not isinstance(body.get("site"), str) or not isinstance(body.get("gate"), str):
        raise CommandError("site and gate must be strings")
    return Command(str(command_id), str(name), issued, expires, operator, fault)


def load_command_key(value: str) -> ed25519.Ed25519PublicKey:
    """The command-signing public key: inline PEM, a PEM file path, or 64 hex digits."""
    text = value.strip()
    try:
        if re.fullmatch(r"[0-9a-fA-F]{64}", text):
            return ed25519.Ed25519PublicKey.from_public_bytes(bytes.fromhex(text))
        pem = text.encode() if text.startswith("-----BEGIN") else read_capped(text, MAX_KEY_BYTES)
        key = read_public_key_pem(pem)
    except (OSError, ValueError) as exc:
        raise CommandError(f"command public key {text[:40]!r}: {exc}") from exc
    if not isinstance(key, ed25519.Ed25519PublicKey):
        raise CommandError("command public key is not an Ed25519 key")
    return key
