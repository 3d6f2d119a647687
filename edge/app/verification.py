"""The verifier of a configured gate: trust files, offline formats and the platform, built once."""

from __future__ import annotations

from pathlib import Path

from edge.app.config import Config
from edge.clock import Clock
from edge.credentials.formats import gate_verifiers
from edge.errors import ConfigError
from edge.platform.client import PlatformClient
from edge.platform.provider import with_platform
from edge.platform.secret import read_platform_secret
from edge.platform.verifier import CredentialChecker
from edge.storage.trust_store import TrustStore


def read_root_key(config: Config) -> bytes:
    """The trust-root public key, read before any hardware is touched."""
    path = Path(config.trust.root_public_key)
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ConfigError([f"trust.root_public_key: cannot read {path}: {exc.strerror}"]) from exc


def read_gate_platform_secret(config: Config) -> bytes:
    """The secret shared with the platform, read before any hardware is touched."""
    return read_platform_secret(config.state_path(config.platform.app_secret_file))


def platform_checker(config: Config, clock: Clock) -> CredentialChecker:
    """The platform of a configuration (without a client when [platform] names none)."""
    if not config.platform.enabled:
        return CredentialChecker(config.platform, None)
    secret = read_gate_platform_secret(config)
    terminal = f"{config.gate.site}/{config.gate.gate}"
    client = PlatformClient(config.platform, secret, terminal, clock)
    return CredentialChecker(config.platform, client, secret)


def trust_store(config: Config, credentials: CredentialChecker, clock: Clock) -> TrustStore:
    """The trust store verifying through the credential seam, the platform's prefixes first."""
    verifiers = with_platform(
        credentials, config.platform.code_prefixes, gate_verifiers(config.credentials.dcc)
    )
    return TrustStore(
        read_root_key(config),
        config.state_path(config.trust.trust_list),
        config.state_path(config.trust.denylist),
        clock,
        config.trust.clock_skew_s,
        verify=verifiers.verify,
    )
