"""Minting DCCs and document signer certificates, for test issuers, the demo and benchmarks."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from edge.credentials.common import cbor
from edge.credentials.common.cose import sig_structure
from edge.credentials.dcc.claims import CLAIM_EXP, CLAIM_HCERT, CLAIM_IAT, CLAIM_ISS, HCERT_V1
from edge.credentials.dcc.cose import COSE_SIGN1_TAG, CWT_TAG, HEADER_ALG, HEADER_KID
from edge.credentials.dcc.envelope import cose_to_text
from edge.credentials.dcc.signature import sign_dcc
from edge.credentials.trust.dsc import ALG_ES256, ALG_PS256, dsc_kid

Entry = dict[cbor.CborKey, cbor.CborValue]
SignerPrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
USAGE_OIDS = {
    "test": "1.3.6.1.4.1.1847.2021.1.1",
    "vaccination": "1.3.6.1.4.1.1847.2021.1.2",
    "recovery": "1.3.6.1.4.1.1847.2021.1.3",
}
_TYPE_KEYS = {"vaccination": "v", "test": "t", "recovery": "r"}


@dataclass(frozen=True)
class DccSigner:
    """A document signer: its private key, its certificate (DER) and the issuing country."""

    key: SignerPrivateKey
    dsc_der: bytes
    issuer: str = "SE"


def generate_signer_key(alg: str = "ES256") -> SignerPrivateKey:
    """A P-256 key for ES256, or a 2048-bit RSA key for PS256."""
    if alg == "PS256":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return ec.generate_private_key(ec.SECP256R1())


def make_dsc(
    key: SignerPrivateKey,
    country: str | None = "SE",
    *,
    usages: Iterable[str] = (),
    legacy_oids: bool = False,
    not_before: float = 0.0,
    days: int = 3650,
) -> bytes:
    """A self-signed document signer certificate (DER), optionally limited to types by EKU."""
    names = [x509.NameAttribute(NameOID.COMMON_NAME, "DSC test")]
    if country:
        names.append(x509.NameAttribute(NameOID.COUNTRY_NAME, country))
    name = x509.Name(names)
    start = dt.datetime.fromtimestamp(not_before or 0.0, dt.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + dt.timedelta(days=days))
    )
    oids = [USAGE_OIDS[usage] for usage in usages]
    if legacy_oids:
        oids = [oid.replace("1.3.6.1.4.1.1847", "1.3.6.1.4.1.0.1847") for oid in oids]
    if oids:
        usage_ext = x509.ExtendedKeyUsage([x509.ObjectIdentifier(oid) for oid in oids])
        builder = builder.add_extension(usage_ext, critical=False)
    certificate = builder.sign(key, hashes.SHA256())
    return certificate.public_bytes(serialization.Encoding.DER)


def issue_dcc(
    signer: DccSigner,
    certificate_type: str,
    entry: Entry,
    issued_at: int,
    expires_at: int,
    *,
    kid_in: str = "protected",
    cwt_tag: bool = False,
    level: int = 9,
) -> str:
    """Sign a DCC with one entry of the given type as `signer` and return its HC1 text.

    `kid_in` places the kid in the "protected" or "unprotected" header (or "none").
    """
    hcert: dict[cbor.CborKey, cbor.CborValue] = {
        "ver": "1.3.0",
        "nam": {"fn": "Testperson", "fnt": "TESTPERSON", "gn": "Test", "gnt": "TEST"},
        "dob": "1990-01-01",
        _TYPE_KEYS[certificate_type]: [entry],
    }
    payload = cbor.dumps(
        {
            CLAIM_ISS: signer.issuer,
            CLAIM_IAT: issued_at,
            CLAIM_EXP: expires_at,
            CLAIM_HCERT: {HCERT_V1: hcert},
        }
    )
    key = signer.key
    alg = ALG_ES256 if isinstance(key, ec.EllipticCurvePrivateKey) else ALG_PS256
    kid = dsc_kid(signer.dsc_der)
    header: dict[cbor.CborKey, cbor.CborValue] = {HEADER_ALG: alg}
    unprotected: dict[cbor.CborKey, cbor.CborValue] = {}
    if kid_in == "protected":
        header[HEADER_KID] = kid
    elif kid_in == "unprotected":
        unprotected[HEADER_KID] = kid
    protected = cbor.dumps(header)
    signature = sign_dcc(key, sig_structure(protected, payload))
    message: cbor.CborValue = cbor.Tagged(
        COSE_SIGN1_TAG, [protected, unprotected, payload, signature]
    )
    if cwt_tag:
        message = cbor.Tagged(CWT_TAG, message)
    return cose_to_text(cbor.dumps(message), level)


def vaccination_entry(certificate_id: str, date: str, dose: int = 2, series: int = 2) -> Entry:
    """A COVID-19 vaccination entry (mRNA vaccine) given on `date` (YYYY-MM-DD)."""
    return {
        "tg": "840539006",
        "vp": "1119349007",
        "mp": "EU/1/20/1528",
        "ma": "ORG-100030215",
        "dn": dose,
        "sd": series,
        "dt": date,
        "co": "SE",
        "is": "Test Health Agency",
        "ci": certificate_id,
    }


def negative_test_entry(
    certificate_id: str,
    sampled: str,
    test_type: str = "LP6464-4",
    result: str = "260415000",
) -> Entry:
    """A COVID-19 test entry sampled at `sampled` (RFC 3339), negative unless `result` says."""
    return {
        "tg": "840539006",
        "tt": test_type,
        "sc": sampled,
        "tr": result,
        "tc": "Test Centre",
        "co": "SE",
        "is": "Test Health Agency",
        "ci": certificate_id,
    }


def recovery_entry(
    certificate_id: str, first_positive: str, valid_from: str, valid_until: str
) -> Entry:
    """A COVID-19 recovery entry valid from `valid_from` to `valid_until` (dates)."""
    return {
        "tg": "840539006",
        "fr": first_positive,
        "df": valid_from,
        "du": valid_until,
        "co": "SE",
        "is": "Test Health Agency",
        "ci": certificate_id,
    }
