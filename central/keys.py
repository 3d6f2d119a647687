"""Creating and writing signing keys (issuers, trust root, command signing)."""

from __future__ import annotations

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from edge.credentials.common.keys import AlgName, PrivateKey, PublicKey


def generate_private_key(alg: AlgName) -> PrivateKey:
    """Create a new signing key for ES256 (P-256) or EdDSA (Ed25519)."""
    if alg == "ES256":
        return ec.generate_private_key(ec.SECP256R1())
    return ed25519.Ed25519PrivateKey.generate()


def private_key_pem(key: PrivateKey) -> bytes:
    """Serialise a private key as unencrypted PKCS#8 PEM."""
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def public_key_pem(key: PublicKey) -> bytes:
    """Serialise a public key as SPKI PEM."""
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
