"""A minimal HCN1 issuer written only from the format text, sharing no code with edge.codes.

Used to prove that codes from another implementation verify and that forgeries do not.
"""

from __future__ import annotations

import hashlib
import os
import zlib

import cbor2
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

B45 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
SigningKey = ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey


def base45(data: bytes) -> str:
    chars = []
    for i in range(0, len(data), 2):
        chunk = data[i : i + 2]
        value = int.from_bytes(chunk, "big")
        digits = 3 if len(chunk) == 2 else 2
        for _ in range(digits):
            value, digit = divmod(value, 45)
            chars.append(B45[digit])
    return "".join(chars)


def kid_of(key: SigningKey) -> bytes:
    spki = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return hashlib.sha256(spki).digest()[:8]


def raw_signature(key: SigningKey, data: bytes) -> bytes:
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return key.sign(data)
    r, s = decode_dss_signature(key.sign(data, ec.ECDSA(hashes.SHA256())))
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def mint(
    key: SigningKey,
    iss: str,
    colour: str,
    iat: int,
    ttl: int = 300,
    *,
    document: str | None = None,
    kid_in_protected: bool = True,
    tagged: bool = True,
    context: str = "Signature1",
    der_signature: bool = False,
    payload_override: dict[int, object] | None = None,
) -> str:
    """Mint a code; the keyword options exist to produce both valid variants and forgeries."""
    alg = -8 if isinstance(key, ed25519.Ed25519PrivateKey) else -7
    health: dict[int, object] = {1: colour}
    if document is not None:
        health[2] = hashlib.sha256(f"HCN1|{iss}|{document}".encode()).digest()
    claims = {1: iss, 6: iat, 4: iat + ttl, 7: os.urandom(16), -70001: health}
    payload = cbor2.dumps(payload_override if payload_override is not None else claims)
    protected_map: dict[int, object] = {1: alg}
    unprotected: dict[int, object] = {}
    (protected_map if kid_in_protected else unprotected)[4] = kid_of(key)
    protected = cbor2.dumps(protected_map)
    to_sign = cbor2.dumps([context, protected, b"", payload])
    if der_signature and isinstance(key, ec.EllipticCurvePrivateKey):
        signature = key.sign(to_sign, ec.ECDSA(hashes.SHA256()))
    else:
        signature = raw_signature(key, to_sign)
    message: object = [protected, unprotected, payload, signature]
    if tagged:
        message = cbor2.CBORTag(18, message)
    return "HCN1:" + base45(zlib.compress(cbor2.dumps(message), 6))
