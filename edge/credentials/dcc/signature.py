"""DCC signatures: ES256 (raw r||s, either s form) and PS256 (RSASSA-PSS, SHA-256, salt 32)."""

from __future__ import annotations

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

from edge.credentials.trust.dsc import ALG_ES256, ALG_PS256, SignerKey

ES256_SIGNATURE_BYTES = 64
PSS_SALT_BYTES = 32
_ECDSA_SHA256 = ec.ECDSA(hashes.SHA256())
_PSS = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=PSS_SALT_BYTES)


def verify_dcc_signature(key: SignerKey, alg: int, signature: bytes, message: bytes) -> bool:
    """Check a COSE signature made with the DSC's key; any mismatch or failure is False."""
    try:
        if isinstance(key, ec.EllipticCurvePublicKey):
            if alg != ALG_ES256 or len(signature) != ES256_SIGNATURE_BYTES:
                return False
            r = int.from_bytes(signature[:32], "big")
            s = int.from_bytes(signature[32:], "big")
            if r == 0 or s == 0:
                return False
            key.verify(encode_dss_signature(r, s), message, _ECDSA_SHA256)
        else:
            if alg != ALG_PS256 or len(signature) != (key.key_size + 7) // 8:
                return False
            key.verify(signature, message, _PSS, hashes.SHA256())
    except InvalidSignature:
        return False
    return True


def sign_dcc(key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey, message: bytes) -> bytes:
    """Sign for COSE with the algorithm of the key (ES256 r||s, or PS256)."""
    if isinstance(key, ec.EllipticCurvePrivateKey):
        r, s = decode_dss_signature(key.sign(message, _ECDSA_SHA256))
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")
    return key.sign(message, _PSS, hashes.SHA256())
