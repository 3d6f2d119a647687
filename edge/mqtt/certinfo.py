"""What the status tells central about the gate's TLS certificate: when it expires."""

from __future__ import annotations

import logging
from pathlib import Path

log = logging.getLogger(__name__)


def certificate_expiry(path: str) -> float | None:
    """The device certificate's notAfter (UTC epoch seconds); None without one or when it
    cannot be read (`gate-edge doctor` says why)."""
    if not path:
        return None
    # X.509 parsing is loaded only by a gate that has a device certificate.
    from cryptography import x509  # noqa: PLC0415

    try:
        cert = x509.load_pem_x509_certificate(Path(path).read_bytes())
    except (OSError, ValueError) as exc:
        log.warning("device certificate %s not readable: %s", path, exc)
        return None
    return cert.not_valid_after_utc.timestamp()
