"""Configuration of trust: root key, trust list, denylist and clock tolerance."""

from __future__ import annotations

from dataclasses import dataclass

from edge.configschema import setting


@dataclass(frozen=True)
class TrustSettings:
    """Where the gate finds its trust anchors and how strictly it judges time."""

    root_public_key: str = setting(
        "/etc/gate-edge/trust-root.pub.pem", doc="Trust-root Ed25519 public key (PEM, SPKI)."
    )
    trust_list: str = setting(
        "trust-list.json", doc="Signed trust list; relative paths are inside storage.state_dir."
    )
    denylist: str = setting(
        "denylist.json", doc="Signed denylist; relative paths are inside storage.state_dir."
    )
    clock_skew_s: int = setting(30, minimum=0, maximum=600, doc="Tolerated clock skew (seconds).")
    expiry_warning_days: float = setting(
        7.0,
        minimum=0.0,
        maximum=365.0,
        doc="Warn on status, telemetry and the log this many days before a list expires.",
    )
