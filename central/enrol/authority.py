"""The enrolment authority: one directory holding the device CA, the register and its outputs.

Layout of the directory: ca.key (0600), ca.pem, register.sqlite, settings.json (broker URL,
certificate and CRL lifetimes), trust-root.pub.pem, optional command.pub.pem, and the generated
crl.pem and gate-edge.acl the broker reads.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from central.enrol.acl import acl_text
from central.enrol.ca import CRL, DeviceCA
from central.enrol.store import Enrolled, EnrolStore
from central.errors import CentralError
from edge.ids import device_id, id_problem

SETTINGS = "settings.json"
REGISTER = "register.sqlite"
ACL = "gate-edge.acl"
TRUST_ROOT = "trust-root.pub.pem"
COMMAND_KEY = "command.pub.pem"


@dataclass(frozen=True)
class Settings:
    """What the authority hands out and for how long."""

    broker: str
    cert_days: int = 1825
    crl_days: int = 30


def _copy_public(source: Path, target: Path) -> None:
    try:
        serialization.load_pem_public_key(source.read_bytes())
    except (OSError, ValueError) as exc:
        raise CentralError(f"{source}: not a readable PEM public key ({exc})") from None
    shutil.copyfile(source, target)


class Authority:
    """Issues tokens and certificates, revokes, and keeps crl.pem and the ACL current."""

    def __init__(self, directory: Path, now_s: Callable[[], float]) -> None:
        self.directory, self.now_s = directory, now_s
        try:
            raw = json.loads((directory / SETTINGS).read_text())
            self.settings = Settings(**raw)
            self.trust_root = (directory / TRUST_ROOT).read_text()
        except (OSError, ValueError, TypeError) as exc:
            raise CentralError(f"{directory} is not an enrolment directory: {exc}") from None
        command = directory / COMMAND_KEY
        self.command_key = command.read_text() if command.exists() else None
        self.ca = DeviceCA.load(directory)
        self.store = EnrolStore(directory / REGISTER)

    @classmethod
    def init(
        cls,
        directory: Path,
        settings: Settings,
        trust_root: Path,
        command_key: Path | None,
        now_s: Callable[[], float],
    ) -> Authority:
        """Create the directory: CA, settings, public keys, an empty CRL and ACL."""
        DeviceCA.create(directory, "gate-edge device CA", now_s())
        (directory / SETTINGS).write_text(json.dumps(settings.__dict__, indent=2) + "\n")
        _copy_public(trust_root, directory / TRUST_ROOT)
        if command_key is not None:
            _copy_public(command_key, directory / COMMAND_KEY)
        authority = cls(directory, now_s)
        authority.publish()
        return authority

    def close(self) -> None:
        """Close the register."""
        self.store.close()

    def issue_token(self, site: str, gate: str, ttl_s: float) -> str:
        """A new one-use token for one gate, valid for ttl_s seconds."""
        for name, value in (("site", site), ("gate", gate)):
            problem = id_problem(value)
            if problem is not None:
                raise CentralError(f"{name} id {value!r}: {problem}")
        if ttl_s <= 0:
            raise CentralError("a token's lifetime must be positive")
        token_id, secret = secrets.token_hex(8), secrets.token_urlsafe(32)
        self.store.add_token(token_id, secret, site, gate, self.now_s() + ttl_s)
        return f"{token_id}.{secret}"

    def certify(self, site: str, gate: str, csr: x509.CertificateSigningRequest) -> str:
        """Sign a gate's CSR, revoke its earlier certificates (a replaced board), publish."""
        now = self.now_s()
        cn = device_id(site, gate)
        cert = self.ca.sign_gate(csr, cn, now, self.settings.cert_days)
        self.store.revoke(cn, now)
        self.store.add_gate(
            Enrolled(
                cn, site, gate, cert.serial_number, cert.not_valid_after_utc.timestamp(), now, None
            )
        )
        self.publish()
        return cert.public_bytes(serialization.Encoding.PEM).decode()

    def revoke(self, cn: str) -> int:
        """Revoke every certificate of a gate; publish the CRL and ACL."""
        count = self.store.revoke(cn, self.now_s())
        self.publish()
        return count

    def publish(self) -> None:
        """Write crl.pem and the ACL from the register (atomically: the broker may read them)."""
        gates = self.store.gates()
        revoked = [(g.serial, g.revoked_at) for g in gates if g.revoked_at is not None]
        _write(self.directory / CRL, self.ca.crl(revoked, self.now_s(), self.settings.crl_days))
        _write(self.directory / ACL, acl_text(gates).encode())


def key_fingerprint(csr: x509.CertificateSigningRequest) -> str:
    """SHA-256 of the CSR's public key (SubjectPublicKeyInfo DER), hex."""
    der = csr.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return hashlib.sha256(der).hexdigest()


def _write(path: Path, data: bytes) -> None:
    staging = path.with_name(path.name + ".new")
    staging.write_bytes(data)
    staging.replace(path)
