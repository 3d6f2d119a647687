"""The trust root: the Ed25519 key every trust list and denylist is signed with."""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric import ed25519

from edge.credentials.common.keys import read_public_key_pem
from edge.errors import TrustListError


def load_root_public_key(pem: bytes) -> ed25519.Ed25519PublicKey:
    """Load the trust-root public key, which must be Ed25519."""
    try:
        key = read_public_key_pem(pem)
    except ValueError as exc:
        raise TrustListError(f"cannot read trust-root public key: {exc}") from None
    if not isinstance(key, ed25519.Ed25519PublicKey):
        raise TrustListError("trust-root public key must be Ed25519")
    return key
