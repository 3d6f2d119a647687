"""First-boot enrolment: device key, CSR to central, certificate and trust back, config written.

Idempotent: a gate already enrolled as the boot file's site and gate does nothing; a gate whose
answer was lost asks again with the same device key and gets the same certificate.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpcore
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from edge.app.config import load_config
from edge.errors import EnrolmentError, GateEdgeError
from edge.ids import device_id
from edge.provision.bootfile import BootFile, retire_boot_file
from edge.provision.configfile import set_strings
from edge.wire.enrol import ENROL_PATH, MAX_BODY_BYTES, EnrolBundle, EnrolRequest
from edge.wire.platform import SIGNATURE_HEADER, sign

log = logging.getLogger(__name__)

STATE_FILE = "enrolment.json"
KEY_FILE = "device.key"


@dataclass(frozen=True)
class Layout:
    """Where enrolment writes: the config file, its directory of certificates, the state."""

    config: Path
    state_dir: Path
    template: Path | None = None  # the example configuration; None starts from the defaults
    owner: tuple[int, int] | None = None  # (uid, gid) of the service user, when run as root

    @property
    def etc(self) -> Path:
        """The directory holding the config file and its certificates."""
        return self.config.parent


def read_state(state_dir: Path) -> dict[str, object] | None:
    """The last enrolment result recorded in the state directory, if any."""
    try:
        document = json.loads((state_dir / STATE_FILE).read_text())
    except (OSError, ValueError):
        return None
    return document if isinstance(document, dict) else None


def record(layout: Layout, document: dict[str, object]) -> None:
    """Write the enrolment result (shown on status) atomically."""
    layout.state_dir.mkdir(parents=True, exist_ok=True)
    staging = layout.state_dir / (STATE_FILE + ".new")
    staging.write_text(json.dumps(document, indent=2) + "\n")
    staging.replace(layout.state_dir / STATE_FILE)


def already_enrolled(boot: BootFile, layout: Layout) -> bool:
    """True when the recorded enrolment is this gate's and its files are still in place."""
    state = read_state(layout.state_dir) or {}
    return (
        state.get("state") == "enrolled"
        and state.get("device") == device_id(boot.site, boot.gate)
        and layout.config.exists()
        and (layout.etc / "device.crt").exists()
        and (layout.state_dir / KEY_FILE).exists()
    )


def device_key(layout: Layout) -> ec.EllipticCurvePrivateKey:
    """The device key, made on first use (0600) and kept across retries."""
    path = layout.state_dir / KEY_FILE
    if path.exists():
        key = serialization.load_pem_private_key(path.read_bytes(), None)
        if isinstance(key, ec.EllipticCurvePrivateKey):
            return key
        raise EnrolmentError(f"{path} is not an EC private key")
    key = ec.generate_private_key(ec.SECP256R1())
    layout.state_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
    _own(path, layout.owner)
    return key


def _own(path: Path, owner: tuple[int, int] | None) -> None:
    if owner is not None:
        os.chown(path, *owner)


_HTTP_ERRORS = (
    httpcore.TimeoutException,
    httpcore.NetworkError,
    httpcore.ProtocolError,
    httpcore.UnsupportedProtocol,
    OSError,  # ssl.SSLError among them
)

Post = Callable[[str, bytes, dict[str, str]], tuple[int, bytes, dict[str, str]]]


def http_post(boot: BootFile) -> Post:
    """POST over httpcore (the gate's HTTP stack), verifying central's TLS with the boot file's
    CA when it names one, else with the system's CAs."""
    try:
        context = ssl.create_default_context(
            cafile=str(boot.central_ca) if boot.central_ca is not None else None
        )
    except (OSError, ssl.SSLError) as exc:
        raise EnrolmentError(f"central_ca {boot.central_ca}: {exc}") from None
    timeouts = {"timeout": {"connect": 20.0, "read": 20.0, "write": 20.0, "pool": 20.0}}

    def post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes, dict[str, str]]:
        received = bytearray()
        sent = [(name.encode("ascii"), value.encode("ascii")) for name, value in headers.items()]
        try:
            with (
                httpcore.ConnectionPool(ssl_context=context) as pool,
                pool.stream("POST", url, content=body, headers=sent, extensions=timeouts) as answer,
            ):
                # Read no more than a bundle can be: the parser refuses anything longer.
                for chunk in answer.iter_stream():
                    received.extend(chunk)
                    if len(received) > MAX_BODY_BYTES:
                        break
                answer_headers = {
                    name.decode("latin-1").lower(): value.decode("latin-1")
                    for name, value in answer.headers
                }
                return answer.status, bytes(received), answer_headers
        except _HTTP_ERRORS as exc:
            raise EnrolmentError(
                f"central unreachable at {url}: {exc or type(exc).__name__}"
            ) from None

    return post


def _request_bundle(
    boot: BootFile, key: ec.EllipticCurvePrivateKey, post: Post, now_ms: int
) -> EnrolBundle:
    cn = device_id(boot.site, boot.gate)
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)]))
        .sign(key, hashes.SHA256())
    )
    request = EnrolRequest(
        token_id=boot.token.token_id,
        csr_pem=csr.public_bytes(serialization.Encoding.PEM).decode(),
        ts_ms=now_ms,
        nonce=secrets.token_hex(16),
    )
    body = request.to_bytes()
    status, answer, headers = post(
        boot.central + ENROL_PATH,
        body,
        {SIGNATURE_HEADER: sign(body, boot.token.secret), "Content-Type": "application/json"},
    )
    if status != 200:
        raise EnrolmentError(f"central refused the enrolment ({status}): {_reason(answer)}")
    signature = next((v for k, v in headers.items() if k.lower() == SIGNATURE_HEADER.lower()), None)
    return EnrolBundle.parse(answer, signature, boot.token.secret, request.nonce)


def _reason(body: bytes) -> str:
    try:
        error = json.loads(body).get("error")
    except (ValueError, AttributeError):
        error = None
    return error if isinstance(error, str) else "no reason given"


def check_bundle(
    bundle: EnrolBundle, boot: BootFile, key: ec.EllipticCurvePrivateKey
) -> x509.Certificate:
    """The certificate must be for this key and name, issued by the CA that came with it."""
    if (bundle.site, bundle.gate) != (boot.site, boot.gate):
        raise EnrolmentError(f"central enrolled {bundle.site}.{bundle.gate}, not this gate")
    try:
        cert = x509.load_pem_x509_certificate(bundle.certificate.encode())
        ca = x509.load_pem_x509_certificate(bundle.ca.encode())
        serialization.load_pem_public_key(bundle.trust_root.encode())
        if bundle.command_key is not None:
            serialization.load_pem_public_key(bundle.command_key.encode())
        cert.verify_directly_issued_by(ca)
    except (ValueError, TypeError) as exc:
        raise EnrolmentError(f"bundle: {exc}") from None
    mine = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    theirs = cert.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    if mine != theirs:
        raise EnrolmentError("bundle: the certificate is not for this gate's key")
    return cert


def _write(path: Path, text: str, owner: tuple[int, int] | None, mode: int = 0o640) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = path.with_name(path.name + ".new")
    staging.write_text(text)
    os.chmod(staging, mode)
    if owner is not None:
        os.chown(staging, 0, owner[1])
    staging.replace(path)


def _write_config(bundle: EnrolBundle, boot: BootFile, layout: Layout) -> None:
    etc = layout.etc
    files = {
        "device.crt": bundle.certificate,
        "ca.pem": bundle.ca,
        "trust-root.pub.pem": bundle.trust_root,
    }
    if bundle.command_key is not None:
        files["command.pub.pem"] = bundle.command_key
    for name, text in files.items():
        _write(etc / name, text, layout.owner)
    values = {
        ("gate", "site"): boot.site,
        ("gate", "gate"): boot.gate,
        ("mqtt", "broker"): boot.broker or bundle.broker,
        ("mqtt", "ca_file"): str(etc / "ca.pem"),
        ("mqtt", "cert_file"): str(etc / "device.crt"),
        ("mqtt", "key_file"): str(layout.state_dir / KEY_FILE),
        ("trust", "root_public_key"): str(etc / "trust-root.pub.pem"),
        ("storage", "state_dir"): str(layout.state_dir),
    }
    if bundle.command_key is not None:
        values[("mqtt", "command_public_key")] = str(etc / "command.pub.pem")
    source = layout.config if layout.config.exists() else layout.template
    try:
        text = set_strings("" if source is None else source.read_text(), values)
    except OSError as exc:
        raise EnrolmentError(f"{source}: {exc.strerror}") from None
    staging = layout.config.with_name(layout.config.name + ".enrol")
    _write(staging, text, layout.owner)
    try:
        load_config(str(staging))
    except GateEdgeError as exc:
        raise EnrolmentError(f"the written configuration does not check: {exc}") from None
    staging.replace(layout.config)


def enrol(boot: BootFile, layout: Layout, post: Post, now_s: Callable[[], float]) -> str:
    """Enrol once; returns what was done. Records success or the failure in the state dir."""
    cn = device_id(boot.site, boot.gate)
    if already_enrolled(boot, layout):
        return f"already enrolled as {cn}"
    try:
        key = device_key(layout)
        bundle = _request_bundle(boot, key, post, int(now_s() * 1000))
        cert = check_bundle(bundle, boot, key)
        _write_config(bundle, boot, layout)
    except (GateEdgeError, OSError, ValueError) as exc:
        reason = str(exc)
        record(layout, {"state": "failed", "device": cn, "at": now_s(), "reason": reason})
        raise EnrolmentError(reason) from None
    retired = retire_boot_file(boot)
    record(
        layout,
        {
            "state": "enrolled",
            "device": cn,
            "at": now_s(),
            "serial": f"{cert.serial_number:x}",
            "not_after": cert.not_valid_after_utc.timestamp(),
        },
    )
    note = "" if retired else " (boot partition read-only: remove the boot file by hand)"
    return f"enrolled as {cn}, certificate serial {cert.serial_number:x}{note}"
