"""Test helpers over edge.sim.broker: a throw-away CA, TLS or mutual TLS brokers, a subscriber."""

from __future__ import annotations

import datetime
import ipaddress
import threading
from collections.abc import Callable
from pathlib import Path

import paho.mqtt.client as mqtt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from edge.sim.broker import LocalBroker, free_port

__all__ = ["Broker", "CertificateAuthority", "Subscriber", "free_port"]


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _write_key(key: ec.EllipticCurvePrivateKey, path: Path) -> None:
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    path.chmod(0o600)


class CertificateAuthority:
    """A throw-away CA that issues the broker certificate and gate client certificates."""

    def __init__(self, directory: Path, name: str = "gate-edge test CA") -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        self._key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.datetime.now(datetime.UTC)
        self._cert = (
            x509.CertificateBuilder()
            .subject_name(_name(name))
            .issuer_name(_name(name))
            .public_key(self._key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=2))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(self._key, hashes.SHA256())
        )
        self.ca_file = directory / "ca.pem"
        self.ca_file.write_bytes(self._cert.public_bytes(serialization.Encoding.PEM))

    def sign_csr(self, csr_pem: bytes, *, server: bool = False) -> bytes:
        """Issue a certificate (PEM) for a CSR, as the central PKI would."""
        csr = x509.load_pem_x509_csr(csr_pem)
        assert csr.is_signature_valid
        now = datetime.datetime.now(datetime.UTC)
        builder = (
            x509.CertificateBuilder()
            .subject_name(csr.subject)
            .issuer_name(self._cert.subject)
            .public_key(csr.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        )
        if server:
            builder = builder.add_extension(
                x509.SubjectAlternativeName(
                    [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
                ),
                critical=False,
            )
        cert = builder.sign(self._key, hashes.SHA256())
        return cert.public_bytes(serialization.Encoding.PEM)

    def issue(self, cn: str, *, server: bool = False) -> tuple[Path, Path]:
        """Create a key and a certificate for `cn`; return (cert_file, key_file)."""
        key = ec.generate_private_key(ec.SECP256R1())
        csr = (
            x509.CertificateSigningRequestBuilder()
            .subject_name(_name(cn))
            .sign(key, hashes.SHA256())
        )
        safe = cn.replace("/", "_")
        cert_file, key_file = self.directory / f"{safe}.crt", self.directory / f"{safe}.key"
        cert_file.write_bytes(
            self.sign_csr(csr.public_bytes(serialization.Encoding.PEM), server=server)
        )
        _write_key(key, key_file)
        return cert_file, key_file


class Broker(LocalBroker):
    """A LocalBroker in `directory`, optionally TLS (own throw-away CA) or mutual TLS with ACL.

    `acl` maps a user name (the client certificate CN under mutual TLS) to ACL lines such as
    "topic readwrite gates/s/g/#". Persistence is on, so sessions survive a graceful restart.
    """

    def __init__(
        self,
        directory: Path,
        *,
        tls: bool = False,
        mutual: bool = False,
        acl: dict[str, list[str]] | None = None,
    ) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.mutual = mutual
        self.ca: CertificateAuthority | None = None
        listener: list[str] = []
        if tls or mutual:
            self.ca = CertificateAuthority(directory / "pki")
            cert, key = self.ca.issue("localhost", server=True)
            listener += [f"cafile {self.ca.ca_file}", f"certfile {cert}", f"keyfile {key}"]
        if mutual:
            listener += ["require_certificate true", "use_identity_as_username true"]
        super().__init__(
            directory,
            tls=tls or mutual,
            allow_anonymous=not mutual,
            extra_config=listener,
            acl=acl,
        )


class Subscriber:
    """A persistent-session MQTT v5 subscriber recording every message it receives."""

    def __init__(
        self,
        broker: Broker,
        topic: str,
        *,
        client_id: str = "test-subscriber",
        cert: tuple[Path, Path] | None = None,
    ) -> None:
        self.messages: list[tuple[str, bytes, bool]] = []
        self._cv = threading.Condition()
        self._topic = topic
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5
        )
        if broker.tls:
            assert broker.ca is not None
            certfile, keyfile = cert if cert else (None, None)
            self.client.tls_set(
                ca_certs=str(broker.ca.ca_file),
                certfile=str(certfile) if certfile else None,
                keyfile=str(keyfile) if keyfile else None,
            )
        self.client.reconnect_delay_set(1, 1)
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message
        props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        props.SessionExpiryInterval = 3600
        self._connected = threading.Event()
        self.client.connect_async(
            "127.0.0.1", broker.port, clean_start=False, properties=props, keepalive=10
        )
        self.client.loop_start()
        if not self._connected.wait(10):
            raise RuntimeError("subscriber could not connect")

    def _on_connect(self, client: object, userdata: object, *args: object) -> None:
        self.client.subscribe(self._topic, qos=1)
        self._connected.set()

    def _on_message(self, client: object, userdata: object, message: mqtt.MQTTMessage) -> None:
        with self._cv:
            self.messages.append((message.topic, bytes(message.payload), bool(message.retain)))
            self._cv.notify_all()

    def wait_for(
        self, predicate: Callable[[list[tuple[str, bytes, bool]]], bool], timeout: float = 10.0
    ) -> bool:
        """Wait until predicate(messages) is true."""
        with self._cv:
            return self._cv.wait_for(lambda: predicate(self.messages), timeout)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()
