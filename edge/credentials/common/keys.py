"""Signing keys for HCN1: generation, PEM I/O, kid computation and raw COSE signatures."""

from __future__ import annotations

import hashlib
from typing import Literal, TypeAlias

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

from edge.errors import CodeFormatError

AlgName = Literal["ES256", "EdDSA"]
ALG_ES256 = -7
ALG_EDDSA = -8
ALG_IDS: dict[AlgName, int] = {"ES256": ALG_ES256, "EdDSA": ALG_EDDSA}
ALG_NAMES: dict[int, AlgName] = {ALG_ES256: "ES256", ALG_EDDSA: "EdDSA"}
KID_LENGTH = 8
SIGNATURE_LENGTH = 64

PublicKey: TypeAlias = ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey
PrivateKey: TypeAlias = ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey
_ECDSA_SHA256 = ec.ECDSA(hashes.SHA256())


def spki_der(key: PublicKey) -> bytes:
    """The DER SubjectPublicKeyInfo of a public key."""
    return key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def compute_kid(key: PublicKey) -> bytes:
    """The HCN1 key id: the first 8 bytes of SHA-256 over the DER SubjectPublicKeyInfo."""
    return hashlib.sha256(spki_der(key)).digest()[:KID_LENGTH]


def key_alg(key: PublicKey | PrivateKey) -> AlgName:
    """The HCN1 algorithm of a key; only P-256 and Ed25519 keys are accepted."""
    if isinstance(key, ed25519.Ed25519PublicKey | ed25519.Ed25519PrivateKey):
        return "EdDSA"
    if isinstance(key.curve, ec.SECP256R1):
        return "ES256"
    raise CodeFormatError(f"unsupported elliptic curve {key.curve.name}; HCN1 uses P-256")


def load_private_key(pem: bytes) -> PrivateKey:
    """Load a PKCS#8 PEM private key of a supported algorithm."""
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise CodeFormatError(f"cannot read private key: {exc}") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey):
        raise CodeFormatError("private key must be ES256 (P-256) or EdDSA (Ed25519)")
    key_alg(key)
    return key


def read_public_key_pem(pem: bytes) -> PublicKeyTypes:
    """The one reader of SPKI PEM public keys, of any algorithm; callers check the kind they
    accept. Raises ValueError for anything unreadable."""
    try:
        return serialization.load_pem_public_key(pem)
    except (TypeError, UnsupportedAlgorithm) as exc:
        raise ValueError(str(exc)) from None


def load_public_key(data: bytes) -> PublicKey:
    """Load a public key from SPKI PEM or DER, restricted to P-256 and Ed25519."""
    try:
        if data.lstrip().startswith(b"-----"):
            key = read_public_key_pem(data)
        else:
            key = serialization.load_der_public_key(data)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise CodeFormatError(f"cannot read public key: {exc}") from None
    if not isinstance(key, ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey):
        raise CodeFormatError("public key must be ES256 (P-256) or EdDSA (Ed25519)")
    key_alg(key)
    return key


def sign(key: PrivateKey, message: bytes) -> bytes:
    """Sign for COSE: Ed25519 as is, ECDSA converted from DER to raw r||s (64 bytes)."""
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return key.sign(message)
    r, s = decode_dss_signature(key.sign(message, _ECDSA_SHA256))
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def verify_signature(key: PublicKey, signature: bytes, message: bytes) -> bool:
    """Check a raw COSE signature (r||s for ES256); any failure is simply False."""
    if len(signature) != SIGNATURE_LENGTH:
        return False
    try:
        if isinstance(key, ed25519.Ed25519PublicKey):
            key.verify(signature, message)
        else:
            r = int.from_bytes(signature[:32], "big")
            s = int.from_bytes(signature[32:], "big")
            key.verify(encode_dss_signature(r, s), message, _ECDSA_SHA256)
    except InvalidSignature:
        return False
    return True
