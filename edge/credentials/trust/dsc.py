"""Document signer certificates (X.509 DSCs) in the trust list: key, kid, country, usage."""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeAlias

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from edge.errors import TrustListError

if TYPE_CHECKING:
    from cryptography import x509

ALG_ES256 = -7
ALG_ES384 = -35
ALG_ES512 = -36
ALG_PS256 = -37
ECDSA_ALGS = (ALG_ES256, ALG_ES384, ALG_ES512)
# Document signers on the larger NIST curves exist; their default algorithm follows the curve.
_ALG_BY_CURVE = {"secp256r1": ALG_ES256, "secp384r1": ALG_ES384, "secp521r1": ALG_ES512}
KID_LENGTH = 8
MIN_RSA_BITS = 2048
MAX_CERTIFICATE_BYTES = 16 * 1024
_MAX_EPOCH = 2**53
CERTIFICATE_TYPES = ("test", "vaccination", "recovery")
_COUNTRY = re.compile(r"[A-Z]{2}")
_BASE64_DER = re.compile(rb"MI[A-Za-z0-9+/]+={0,2}")  # a DER SEQUENCE, base64-encoded
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


def certificate_ders(data: bytes) -> list[bytes]:
    """The DER of every certificate in a file: DER, PEM (one or a bundle), or bare base64."""
    if data.lstrip().startswith(b"-----"):
        from cryptography import x509  # noqa: PLC0415 - X.509 loads with the first certificate

        try:
            certificates = x509.load_pem_x509_certificates(data)
        except ValueError as exc:
            raise TrustListError(f"cannot read certificate: {exc}") from None
        return [item.public_bytes(serialization.Encoding.DER) for item in certificates]
    text = b"".join(data.split())
    if _BASE64_DER.fullmatch(text):
        try:
            return [base64.b64decode(text, validate=True)]
        except binascii.Error:
            raise TrustListError("cannot read certificate: bad base64") from None
    return [data]


def parse_dsc(der: bytes, country: str | None = None) -> DocumentSigner:
    """Parse a DSC; `country` (two capital letters) defaults to the subject's C ("" if none).

    Issuers' own software wrote certificates strict X.509 parsers refuse in places (an empty
    extended key usage, a non-positive serial number, odd name strings). Only the public key is
    essential: anything else unreadable falls back to what the signed DER itself shows.
    """
    if len(der) > MAX_CERTIFICATE_BYTES:
        raise TrustListError("certificate larger than 16 KiB")
    from cryptography import x509  # noqa: PLC0415 - X.509 loads with the first certificate

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            certificate: x509.Certificate | None = x509.load_der_x509_certificate(der)
        except ValueError:
            certificate = None
        public_key = _public_key(certificate, der)
        subject_country = _subject_country(certificate, der)
        allowed = _allowed_types(certificate) if certificate else _types_in_der(der)
        not_before, not_after = _validity(certificate)
    if country is None:
        country = subject_country
    if country and not _COUNTRY.fullmatch(country):
        raise TrustListError(f"certificate country {country!r} is not two capital letters")
    return DocumentSigner(
        kid=dsc_kid(der),
        country=country,
        der=der,
        public_key=public_key,
        alg=_default_alg(public_key),
        allowed_types=allowed,
        not_before=not_before,
        not_after=not_after,
    )


def _public_key(certificate: x509.Certificate | None, der: bytes) -> SignerKey:
    try:
        if certificate is not None:
            return _signer_key(certificate.public_key())
        return _signer_key(serialization.load_der_public_key(_spki_of(der)))
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise TrustListError(f"cannot read certificate: {exc}") from None


def _subject_country(certificate: x509.Certificate | None, der: bytes) -> str:
    value: object = ""
    try:
        if certificate is not None:
            from cryptography.x509.oid import NameOID  # noqa: PLC0415 - see parse_dsc

            found = certificate.subject.get_attributes_for_oid(NameOID.COUNTRY_NAME)
            value = found[0].value if found else ""
        else:
            value = _country_in_der(der)
    except (ValueError, TypeError):
        value = _country_in_der(der)
    text = value.strip().upper() if isinstance(value, str) else ""
    return text if _COUNTRY.fullmatch(text) else ""


def _validity(certificate: x509.Certificate | None) -> tuple[int, int]:
    if certificate is None:
        return 0, _MAX_EPOCH
    try:
        return (
            int(certificate.not_valid_before_utc.timestamp()),
            int(certificate.not_valid_after_utc.timestamp()),
        )
    except (ValueError, OverflowError):
        return 0, _MAX_EPOCH


def _tlv(data: bytes, pos: int) -> tuple[int, int, int]:
    """(tag, start of content, end of content) of the DER item at `pos`."""
    if pos + 2 > len(data):
        raise ValueError("DER item ends early")
    tag, length = data[pos], data[pos + 1]
    start = pos + 2
    if length & 0x80:
        size = length & 0x7F
        if not 0 < size <= 3 or start + size > len(data):
            raise ValueError("bad DER length")
        length = int.from_bytes(data[start : start + size], "big")
        start += size
    if start + length > len(data):
        raise ValueError("DER item longer than the data")
    return tag, start, start + length


def _spki_of(der: bytes) -> bytes:
    """The SubjectPublicKeyInfo inside a certificate, found by walking its DER."""
    _, cert_start, _ = _tlv(der, 0)
    _, tbs_start, tbs_end = _tlv(der, cert_start)
    pos, index = tbs_start, 0
    tag, _, end = _tlv(der, pos)
    if tag == 0xA0:  # explicit version
        pos = end
    while pos < tbs_end:
        tag, _, end = _tlv(der, pos)
        if index == 5:  # serial, signature, issuer, validity, subject, then the key
            return der[pos:end]
        pos, index = end, index + 1
    raise ValueError("certificate has no public key")


def _country_in_der(der: bytes) -> str:
    """The last country name (2.5.4.6) in the DER, the subject's (it follows the issuer's)."""
    marker = b"\x06\x03\x55\x04\x06"
    at = der.rfind(marker)
    if at < 0 or at + len(marker) + 4 > len(der):
        return ""
    return der[at + len(marker) + 2 : at + len(marker) + 4].decode("ascii", "replace")


def _default_alg(key: SignerKey) -> int:
    if isinstance(key, ec.EllipticCurvePublicKey):
        return _ALG_BY_CURVE[key.curve.name]
    return ALG_PS256


def _signer_key(key: object) -> SignerKey:
    if isinstance(key, ec.EllipticCurvePublicKey):
        if key.curve.name not in _ALG_BY_CURVE:
            raise TrustListError(
                f"certificate key on {key.curve.name}; ECDSA needs P-256, P-384 or P-521"
            )
        return key
    if isinstance(key, rsa.RSAPublicKey):
        if key.key_size < MIN_RSA_BITS:
            raise TrustListError(f"certificate RSA key of {key.key_size} bits; PS256 needs 2048")
        return key
    raise TrustListError("certificate key must be ECDSA (P-256, P-384, P-521) or RSA")


def _allowed_types(certificate: x509.Certificate) -> frozenset[str]:
    from cryptography import x509  # noqa: PLC0415 - see parse_dsc
    from cryptography.x509.oid import ExtensionOID  # noqa: PLC0415 - see parse_dsc

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
