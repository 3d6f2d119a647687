"""DCC signatures: ECDSA (raw r||s, either s form) and PS256 (RSASSA-PSS, SHA-256, salt 32)."""

from __future__ import annotations

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

from edge.credentials.trust.dsc import ALG_ES256, ALG_ES384, ALG_ES512, ALG_PS256, SignerKey

PSS_SALT_BYTES = 32
_ECDSA_SHA256 = ec.ECDSA(hashes.SHA256())
# COSE names the hash, not the curve: issuers signed ES256 (SHA-256) with P-384 keys too.
_ECDSA_BY_ALG = {
    ALG_ES256: _ECDSA_SHA256,
    ALG_ES384: ec.ECDSA(hashes.SHA384()),
    ALG_ES512: ec.ECDSA(hashes.SHA512()),
}
_PSS = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=PSS_SALT_BYTES)


def verify_dcc_signature(key: SignerKey, alg: int, signature: bytes, message: bytes) -> bool:
    """Check a COSE signature made with the DSC's key; any mismatch or failure is False."""
    try:
        if isinstance(key, ec.EllipticCurvePublicKey):
            half = (key.curve.key_size + 7) // 8
            if alg not in _ECDSA_BY_ALG or len(signature) != 2 * half:
                return False
            r = int.from_bytes(signature[:half], "big")
            s = int.from_bytes(signature[half:], "big")
            if r == 0 or s == 0:
                return False
            key.verify(encode_dss_signature(r, s), message, _ECDSA_BY_ALG[alg])
        else:
            if alg != ALG_PS256 or len(signature) != (key.key_size + 7) // 8:
                return False
            key.verify(signature, message, _PSS, hashes.SHA256())
    except InvalidSignature:
        return False
    return True


def sign_dcc(
    key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey,
    message: bytes,
    ecdsa: ec.ECDSA = _ECDSA_SHA256,
) -> bytes:
    """Sign for COSE: ECDSA r||s (SHA-256 unless `ecdsa` says), or PS256."""
    if isinstance(key, ec.EllipticCurvePrivateKey):
        half = (key.curve.key_size + 7) // 8
        r, s = decode_dss_signature(key.sign(message, ecdsa))
        return r.to_bytes(half, "big") + s.to_bytes(half, "big")
    return key.sign(message, _PSS, hashes.SHA256())
