"""The one builder of the gate's verifier: trust material, offline formats and the platform."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from edge.app.config import Config
from edge.clock import Clock
from edge.credentials.dcc.settings import DccSettings
from edge.credentials.formats import gate_verifiers
from edge.credentials.trust.root import load_root_public_key
from edge.credentials.trust.signed_document import MAX_DOCUMENT_BYTES
from edge.credentials.trust.snapshot import TrustSnapshot
from edge.credentials.trust.trustlist import parse_denylist, parse_trust_list
from edge.errors import ConfigError, TrustListError
from edge.platform.dispatch import CredentialDispatch
from edge.platform.secret import (
    REFERENCE_KEY_FILE,
    load_or_create_reference_key,
    read_platform_secret,
)
from edge.platform.verifier import CredentialChecker
from edge.readfiles import MAX_KEY_BYTES, read_capped
from edge.storage.trust_store import TrustStore


def read_root_key(config: Config) -> bytes:
    """The trust-root public key, read before any hardware is touched."""
    path = Path(config.trust.root_public_key)
    try:
        return read_capped(path, MAX_KEY_BYTES)
    except OSError as exc:
        raise ConfigError([f"trust.root_public_key: cannot read {path}: {exc.strerror}"]) from exc


def read_gate_platform_secret(config: Config) -> bytes:
    """The secret shared with the platform, read before any hardware is touched."""
    return read_platform_secret(config.state_path(config.platform.app_secret_file))


def platform_checker(
    config: Config, clock: Clock, reference_key: bytes | None = None
) -> CredentialChecker:
    """The platform of a configuration (without a client when [platform] names none); references
    are keyed by `reference_key`, by default the gate's own key in its state directory."""
    if not config.platform.enabled:
        return CredentialChecker(config.platform, None, b"")
    from edge.platform.client import PlatformClient  # noqa: PLC0415 - httpcore only when used

    secret = read_gate_platform_secret(config)
    if reference_key is None:
        reference_key = load_or_create_reference_key(config.state_path(REFERENCE_KEY_FILE))
    terminal = f"{config.gate.site}/{config.gate.gate}"
    client = PlatformClient(config.platform, secret, terminal, clock)
    return CredentialChecker(config.platform, client, reference_key)


def trust_store(config: Config, clock: Clock) -> TrustStore:
    """The store of the gate's signed trust list and denylist (not loaded yet)."""
    return TrustStore(
        read_root_key(config),
        config.state_path(config.trust.trust_list),
        config.state_path(config.trust.denylist),
        clock,
    )


def gate_verifier(
    config: Config, trust: TrustStore, platform: CredentialChecker, clock: Clock
) -> CredentialDispatch:
    """The configured gate's verifier: the platform's prefixes first, every other text offline
    against the store's snapshot (used by `run` and the demo, and by `verify --config`)."""
    return build_verifier(
        trust.snapshot,
        clock,
        config.trust.clock_skew_s,
        dcc=config.credentials.dcc,
        platform=platform,
        prefixes=config.platform.code_prefixes,
    )


def build_verifier(
    trust: Callable[[], TrustSnapshot],
    clock: Clock,
    skew_s: int,
    *,
    dcc: DccSettings | None = None,
    platform: CredentialChecker | None = None,
    prefixes: Sequence[str] = (),
) -> CredentialDispatch:
    """A verifier reading the snapshot `trust()` returns: every offline format (with the EU
    certificate rules `dcc`, else the defaults) and, when given, the platform."""
    formats = gate_verifiers(dcc)
    return CredentialDispatch(formats, trust, clock, skew_s, platform=platform, prefixes=prefixes)


def snapshot_from_files(trust: Path, root: Path, denylist: Path | None = None) -> TrustSnapshot:
    """Signed trust material read from files (the tools' --trust, --root and --denylist).

    Raises TrustListError on an unreadable file or a bad signature."""
    root_key = load_root_public_key(_read(root))
    trust_list = parse_trust_list(_read(trust), root_key)
    deny = parse_denylist(_read(denylist), root_key) if denylist is not None else None
    return TrustSnapshot(trust_list, deny)


def _read(path: Path) -> bytes:
    try:
        return read_capped(path, MAX_DOCUMENT_BYTES)
    except OSError as exc:
        raise TrustListError(f"cannot read {path}: {exc.strerror}") from None
