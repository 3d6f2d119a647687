"""The gate's live trust material: load, update (with rollback protection), persist, verify."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from edge.clock import Clock
from edge.codes.result import VerificationResult
from edge.codes.trustlist import Denylist, TrustList, parse_denylist, parse_trust_list
from edge.codes.verify import verify_code
from edge.errors import TrustListError

_Doc = TypeVar("_Doc", TrustList, Denylist)


@dataclass(frozen=True)
class _Snapshot:
    trust: TrustList | None
    trust_bytes: bytes | None
    denylist: Denylist | None
    deny_bytes: bytes | None


def load_root_public_key(pem: bytes) -> ed25519.Ed25519PublicKey:
    """Load the trust-root public key, which must be Ed25519."""
    try:
        key = serialization.load_pem_public_key(pem)
    except (ValueError, TypeError) as exc:
        raise TrustListError(f"cannot read trust-root public key: {exc}") from None
    if not isinstance(key, ed25519.Ed25519PublicKey):
        raise TrustListError("trust-root public key must be Ed25519")
    return key


class TrustStore:
    """Holds the last good trust list and denylist; readers never block on an update.

    With no trust list loaded every well-formed code is unknown_issuer (nobody is trusted);
    with an expired one, or an expired denylist, every well-formed code is trust_list_expired.
    """

    def __init__(
        self,
        root_public_key_pem: bytes,
        trust_path: Path,
        denylist_path: Path,
        clock: Clock,
        skew_s: int = 30,
    ) -> None:
        self._root = load_root_public_key(root_public_key_pem)
        self._trust_path = Path(trust_path)
        self._deny_path = Path(denylist_path)
        self._clock = clock
        self._skew_s = skew_s
        self._snapshot = _Snapshot(None, None, None, None)
        self._update_lock = threading.Lock()
        self.problems: list[str] = []

    def load(self) -> None:
        """Load persisted files if present; a bad one goes to `problems`, the previous stays."""
        with self._update_lock:
            problems: list[str] = []
            current = self._snapshot
            trust, trust_bytes = self._load_file(self._trust_path, parse_trust_list, problems)
            deny, deny_bytes = self._load_file(self._deny_path, parse_denylist, problems)
            if trust is None:
                trust, trust_bytes = current.trust, current.trust_bytes
            if deny is None:
                deny, deny_bytes = current.denylist, current.deny_bytes
            self._snapshot = _Snapshot(trust, trust_bytes, deny, deny_bytes)
            self.problems = problems

    def update_trust_list(self, data: bytes) -> int:
        """Install a newer signed trust list; returns its version or raises TrustListError."""
        with self._update_lock:
            current = self._snapshot
            trust = self._check(data, parse_trust_list, current.trust, current.trust_bytes)
            if trust is not current.trust:
                _write_atomically(self._trust_path, data)
                self._snapshot = _Snapshot(trust, data, current.denylist, current.deny_bytes)
            return trust.version

    def update_denylist(self, data: bytes) -> int:
        """Install a newer signed denylist; returns its version or raises TrustListError."""
        with self._update_lock:
            current = self._snapshot
            deny = self._check(data, parse_denylist, current.denylist, current.deny_bytes)
            if deny is not current.denylist:
                _write_atomically(self._deny_path, data)
                self._snapshot = _Snapshot(current.trust, current.trust_bytes, deny, data)
            return deny.version

    def verify(self, text: str) -> VerificationResult:
        """Verify a code against the current snapshot at the clock's time."""
        snapshot = self._snapshot
        trust = snapshot.trust if snapshot.trust is not None else TrustList.empty()
        return verify_code(text, trust, snapshot.denylist, self._clock.now(), self._skew_s)

    def status(self) -> dict[str, object]:
        """Versions, expiries, issuer count and problems, for health reports."""
        snapshot = self._snapshot
        now = self._clock.now()
        trust, deny = snapshot.trust, snapshot.denylist
        return {
            "trust_list_version": trust.version if trust else None,
            "trust_list_expires_at": trust.expires_at if trust else None,
            "trust_list_expired": bool(trust and now > trust.expires_at),
            "issuers": len(trust.issuers) if trust else 0,
            "keys": len(trust.keys) if trust else 0,
            "denylist_version": deny.version if deny else None,
            "denylist_expires_at": deny.expires_at if deny else None,
            "denylist_expired": bool(deny and now > deny.expires_at),
            "problems": list(self.problems),
        }

    def _load_file(
        self,
        path: Path,
        parse: Callable[[bytes, ed25519.Ed25519PublicKey], _Doc],
        problems: list[str],
    ) -> tuple[_Doc | None, bytes | None]:
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return None, None
        except OSError as exc:
            problems.append(f"{path}: cannot read ({exc.strerror})")
            return None, None
        try:
            return parse(data, self._root), data
        except TrustListError as exc:
            problems.append(f"{path}: {exc}")
            return None, None

    def _check(
        self,
        data: bytes,
        parse: Callable[[bytes, ed25519.Ed25519PublicKey], _Doc],
        current: _Doc | None,
        current_bytes: bytes | None,
    ) -> _Doc:
        document = parse(data, self._root)
        kind = "trust list" if isinstance(document, TrustList) else "denylist"
        if current is not None and document.version <= current.version:
            if document.version == current.version and data == current_bytes:
                return current
            raise TrustListError(
                f"{kind} version {document.version} refused: not newer than the installed "
                f"version {current.version}"
            )
        if self._clock.now() > document.expires_at:
            raise TrustListError(f"{kind} version {document.version} refused: it has expired")
        return document


def _write_atomically(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(tmp, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
        directory = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)
    except OSError as exc:
        raise TrustListError(f"cannot persist {path}: {exc.strerror}") from None
