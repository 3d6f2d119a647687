"""Signed JSON documents (trust lists, denylists) authenticated by the Ed25519 trust root."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import ed25519

from edge.credentials.common.canonical import canonical_json
from edge.errors import TrustListError

MAX_DOCUMENT_BYTES = 4 * 1024 * 1024
SIGNING_CONTEXT = b"HCN1 signed document\x00"


def sign_document(payload: dict[str, Any], root_key: ed25519.Ed25519PrivateKey) -> bytes:
    """Wrap a payload as {"payload": <JSON text>, "signature": <base64 Ed25519>} plus newline."""
    payload_text = canonical_json(payload, ascii_only=True)
    signature = root_key.sign(SIGNING_CONTEXT + payload_text.encode("ascii"))
    outer = {"payload": payload_text, "signature": base64.b64encode(signature).decode("ascii")}
    return (canonical_json(outer, ascii_only=True) + "\n").encode("ascii")


def open_document(
    data: bytes, root_public_key: ed25519.Ed25519PublicKey, expected_type: str
) -> dict[str, Any]:
    """Check the wrapper and the root signature, then return the payload object.

    The wrapper must be byte-for-byte canonical so no alteration of the file can leave it
    accepted; the payload itself is covered by the signature.
    """
    if len(data) > MAX_DOCUMENT_BYTES:
        raise TrustListError(f"{expected_type}: document larger than 4 MiB")
    outer = _parse_json(data, expected_type)
    if not isinstance(outer, dict) or set(outer) != {"payload", "signature"}:
        raise TrustListError(f"{expected_type}: expected an object with payload and signature")
    payload_text, signature_text = outer["payload"], outer["signature"]
    if not isinstance(payload_text, str) or not isinstance(signature_text, str):
        raise TrustListError(f"{expected_type}: payload and signature must be strings")
    # Only canonical (ASCII) payload text is ever signed; anything else, lone surrogates
    # included, could not even be encoded for the signature check.
    if not payload_text.isascii():
        raise TrustListError(f"{expected_type}: payload is not ASCII canonical JSON")
    if (canonical_json(outer, ascii_only=True) + "\n").encode("ascii") != data:
        raise TrustListError(f"{expected_type}: document is not in canonical form")
    try:
        signature = base64.b64decode(signature_text, validate=True)
    except binascii.Error:
        raise TrustListError(f"{expected_type}: signature is not base64") from None
    if base64.b64encode(signature).decode("ascii") != signature_text:
        raise TrustListError(f"{expected_type}: signature is not canonical base64")
    try:
        root_public_key.verify(signature, SIGNING_CONTEXT + payload_text.encode("ascii"))
    except InvalidSignature:
        raise TrustListError(
            f"{expected_type}: signature does not verify with the trust-root key"
        ) from None
    payload = _parse_json(payload_text.encode("ascii"), expected_type)
    if not isinstance(payload, dict) or payload.get("type") != expected_type:
        raise TrustListError(f"{expected_type}: signed payload is not a {expected_type}")
    return payload


def _parse_json(data: bytes, what: str) -> Any:
    try:
        return json.loads(
            data.decode("utf-8"),
            object_pairs_hook=_no_duplicates,
            parse_constant=_no_constant,
            parse_float=_no_constant,
        )
    except (ValueError, RecursionError) as exc:
        raise TrustListError(f"{what}: not valid JSON ({exc})") from None


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise ValueError("duplicate key")
    return result


def _no_constant(text: str) -> Any:
    raise ValueError(f"non-integer number {text}")
