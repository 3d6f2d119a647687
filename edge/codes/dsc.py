"""Document signer certificates (X.509 DSCs) in the trust list: key, kid, country, usage."""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass
from typing import TypeAlias

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtensionOID, NameOID

from edge.errors import TrustListError

ALG_ES256 = -7
ALG_PS256 = -37
KID_LENGTH = 8
MIN_RSA_BITS = 2048
MAX_CERTIFICATE_BYTES = 16 * 1024
CERTIFICATE_TYPES = ("test", "vaccination", "recovery")
_COUNTRY = re.compile(r"[A-Z]{2}")
_TYPE_BY_LAST_ARC = {"1": "test", "2": "vaccination", "3": "recovery"}
# Extended key usage OIDs restricting a DSC to certificate types; both spellings were issued.
_EKU_PREFIXES = ("1.3.6.1.4.1.1847.2021.1.", "1.3.6.1.4.1.0.1847.2021.1.")

SignerKey: TypeAlias = ec.EllipticCurvePublicKey | rsa.RSAPublicKey


@dataclass(frozen=True)
class DocumentSigner:
    """One trusted DSC, pre-parsed for fast verification."""

    kid: bytes
    country: str
    der: bytes
    public_key: SignerKey
    alg: int
    allowed_types: frozenset[str]
    not_before: int
    not_after: int

    def may_sign(self, certificate_type: str) -> bool:
        """Whether this DSC's extended key usage permits that certificate type."""
        return certificate_type in self.allowed_types


def dsc_kid(der: bytes) -> bytes:
    """The DCC key id: the first 8 bytes of SHA-256 over the certificate's DER."""
    return hashlib.sha256(der).digest()[:KID_LENGTH]


def certificate_der(data: bytes) -> bytes:
    """The DER of a certificate given as DER or PEM."""
    if data.lstrip().startswith(b"-----"):
        try:
            return x509.load_pem_x509_certificate(data).public_bytes(serialization.Encoding.DER)
        except ValueError as exc:
            raise TrustListError(f"cannot read certificate: {exc}") from None
    return data


def parse_dsc(der: bytes, country: str | None = None) -> DocumentSigner:
    """Parse a DSC; `country` (two capital letters) defaults to the subject's C ("" if none)."""
    if len(der) > MAX_CERTIFICATE_BYTES:
        raise TrustListError("certificate larger than 16 KiB")
    try:
        certificate = x509.load_der_x509_certificate(der)
        public_key = certificate.public_key()
        subject_countries = certificate.subject.get_attributes_for_oid(NameOID.COUNTRY_NAME)
        allowed = _allowed_types(certificate)
        not_before = int(certificate.not_valid_before_utc.timestamp())
        not_after = int(certificate.not_valid_after_utc.timestamp())
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise TrustListError(f"cannot read certificate: {exc}") from None
    if country is None:
        value = subject_countries[0].value if subject_countries else ""
        country = value.strip().upper() if isinstance(value, str) else ""
        country = country if _COUNTRY.fullmatch(country) else ""
    if country and not _COUNTRY.fullmatch(country):
        raise TrustListError(f"certificate country {country!r} is not two capital letters")
    return DocumentSigner(
        kid=dsc_kid(der),
        country=country,
        der=der,
        public_key=_signer_key(public_key),
        alg=ALG_ES256 if isinstance(public_key, ec.EllipticCurvePublicKey) else ALG_PS256,
        allowed_types=allowed,
        not_before=not_before,
        not_after=not_after,
    )


def _signer_key(key: object) -> SignerKey:
    if isinstance(key, ec.EllipticCurvePublicKey):
        if not isinstance(key.curve, ec.SECP256R1):
            raise TrustListError(f"certificate key on {key.curve.name}; ES256 needs P-256")
        return key
    if isinstance(key, rsa.RSAPublicKey):
        if key.key_size < MIN_RSA_BITS:
            raise TrustListError(f"certificate RSA key of {key.key_size} bits; PS256 needs 2048")
        return key
    raise TrustListError("certificate key must be P-256 (ES256) or RSA (PS256)")


def _allowed_types(certificate: x509.Certificate) -> frozenset[str]:
    try:
        usage = certificate.extensions.get_extension_for_oid(ExtensionOID.EXTENDED_KEY_USAGE)
    except x509.ExtensionNotFound:
        return frozenset(CERTIFICATE_TYPES)
    except ValueError:
        # Issuers' own software wrote extensions this parser refuses (an empty extended key
        # usage, for one); the DCC usage OIDs are then looked for in the signed certificate body.
        return _types_in_der(certificate.tbs_certificate_bytes)
    value = usage.value
    oids = [oid.dotted_string for oid in value] if isinstance(value, x509.ExtendedKeyUsage) else []
    return _types_of(oids)


def _types_in_der(tbs: bytes) -> frozenset[str]:
    return _types_of([oid for oid, encoded in _DER_OIDS.items() if encoded in tbs])


def _der_oid(dotted: str) -> bytes:
    arcs = [int(arc) for arc in dotted.split(".")]
    body = bytearray([40 * arcs[0] + arcs[1]])
    for arc in arcs[2:]:
        groups = [arc & 0x7F]
        rest = arc >> 7
        while rest:
            groups.append(0x80 | (rest & 0x7F))
            rest >>= 7
        body += bytes(reversed(groups))
    return bytes([0x06, len(body)]) + bytes(body)


_DER_OIDS = {
    prefix + arc: _der_oid(prefix + arc) for prefix in _EKU_PREFIXES for arc in _TYPE_BY_LAST_ARC
}


def _types_of(oids: list[str]) -> frozenset[str]:
    allowed = {
        _TYPE_BY_LAST_ARC[oid[len(prefix) :]]
        for oid in oids
        for prefix in _EKU_PREFIXES
        if oid.startswith(prefix) and oid[len(prefix) :] in _TYPE_BY_LAST_ARC
    }
    return frozenset(allowed) if allowed else frozenset(CERTIFICATE_TYPES)


def encode_der(der: bytes) -> str:
    """A certificate as the trust list carries it (standard base64)."""
    return base64.b64encode(der).decode("ascii")


def decode_der(text: object, where: str) -> bytes:
    """A trust list's base64 certificate, canonical encoding only."""
    if not isinstance(text, str):
        raise TrustListError(f"{where}: expected base64 text")
    try:
        der = base64.b64decode(text, validate=True)
    except binascii.Error:
        raise TrustListError(f"{where}: not base64") from None
    if encode_der(der) != text:
        raise TrustListError(f"{where}: not canonical base64")
    return der
