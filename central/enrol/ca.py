"""The device CA: signs gate CSRs and the broker's certificate, and issues the CRL."""

from __future__ import annotations

import datetime
import ipaddress
import os
from collections.abc import Iterable
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from central.errors import CentralError

CA_KEY = "ca.key"
CA_CERT = "ca.pem"
CRL = "crl.pem"


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _utc(epoch_s: float) -> datetime.datetime:
    return datetime.datetime.fromtimestamp(epoch_s, datetime.UTC)


def write_private(path: Path, data: bytes) -> None:
    """Write a secret file readable by its owner only."""
    path.unlink(missing_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


class DeviceCA:
    """A P-256 CA kept as ca.key (0600) and ca.pem in one directory."""

    def __init__(self, key: ec.EllipticCurvePrivateKey, cert: x509.Certificate) -> None:
        self._key, self.cert = key, cert

    @classmethod
    def create(cls, directory: Path, name: str, now_s: float, years: int = 20) -> DeviceCA:
        """Make a new CA in `directory` (refuses to replace one)."""
        if (directory / CA_KEY).exists():
            raise CentralError(f"{directory / CA_KEY} exists: a device CA is already there")
        directory.mkdir(parents=True, exist_ok=True)
        key = ec.generate_private_key(ec.SECP256R1())
        cert = (
            x509.CertificateBuilder()
            .subject_name(_name(name))
            .issuer_name(_name(name))
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(_utc(now_s - 300))
            .not_valid_after(_utc(now_s + years * 365 * 86400))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=False,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(
                x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False
            )
            .sign(key, hashes.SHA256())
        )
        write_private(
            directory / CA_KEY,
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            ),
        )
        (directory / CA_CERT).write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        return cls(key, cert)

    @classmethod
    def load(cls, directory: Path) -> DeviceCA:
        """Load the CA of `directory`."""
        try:
            key = serialization.load_pem_private_key((directory / CA_KEY).read_bytes(), None)
            cert = x509.load_pem_x509_certificate((directory / CA_CERT).read_bytes())
        except OSError as exc:
            raise CentralError(f"device CA in {directory}: {exc.strerror}") from None
        except ValueError as exc:
            raise CentralError(f"device CA in {directory}: {exc}") from None
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise CentralError(f"device CA in {directory}: the key is not an EC key")
        return cls(key, cert)

    @property
    def pem(self) -> str:
        """The CA certificate, PEM."""
        return self.cert.public_bytes(serialization.Encoding.PEM).decode()

    def sign_gate(
        self, csr: x509.CertificateSigningRequest, cn: str, now_s: float, days: int
    ) -> x509.Certificate:
        """A client certificate for a gate's CSR, with the CN central decided (not the CSR's)."""
        try:
            valid = csr.is_signature_valid
        except (InvalidSignature, ValueError):
            valid = False
        if not valid:
            raise CentralError("the CSR's signature does not verify")
        key = csr.public_key()
        if not isinstance(key, ec.EllipticCurvePublicKey):
            raise CentralError("the CSR's key must be an EC key")
        return self._issue(
            key=key,
            cn=cn,
            now_s=now_s,
            days=days,
            usages=[ExtendedKeyUsageOID.CLIENT_AUTH],
            names=(),
        )

    def sign_server(
        self, key: ec.EllipticCurvePublicKey, names: Iterable[str], now_s: float, days: int
    ) -> x509.Certificate:
        """The broker's server certificate for DNS names and IP addresses."""
        names = list(names)
        if not names:
            raise CentralError("the broker certificate needs at least one host name")
        return self._issue(
            key=key,
            cn=names[0],
            now_s=now_s,
            days=days,
            usages=[ExtendedKeyUsageOID.SERVER_AUTH],
            names=names,
        )

    def _issue(
        self,
        *,
        key: ec.EllipticCurvePublicKey,
        cn: str,
        now_s: float,
        days: int,
        usages: list[x509.ObjectIdentifier],
        names: Iterable[str],
    ) -> x509.Certificate:
        builder = (
            x509.CertificateBuilder()
            .subject_name(_name(cn))
            .issuer_name(self.cert.subject)
            .public_key(key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(_utc(now_s - 300))
            .not_valid_after(_utc(now_s + days * 86400))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage(usages), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self._key.public_key()),
                critical=False,
            )
        )
        alt: list[x509.GeneralName] = []
        for name in names:
            try:
                alt.append(x509.IPAddress(ipaddress.ip_address(name)))
            except ValueError:
                alt.append(x509.DNSName(name))
        if alt:
            builder = builder.add_extension(x509.SubjectAlternativeName(alt), critical=False)
        return builder.sign(self._key, hashes.SHA256())

    def crl(self, revoked: Iterable[tuple[int, float]], now_s: float, days: int) -> bytes:
        """The CRL (PEM) listing (serial, revoked at) pairs, valid for `days`."""
        builder = (
            x509.CertificateRevocationListBuilder()
            .issuer_name(self.cert.subject)
            .last_update(_utc(now_s - 300))
            .next_update(_utc(now_s + days * 86400))
        )
        for serial, at in revoked:
            builder = builder.add_revoked_certificate(
                x509.RevokedCertificateBuilder()
                .serial_number(serial)
                .revocation_date(_utc(at))
                .build()
            )
        return builder.sign(self._key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)
