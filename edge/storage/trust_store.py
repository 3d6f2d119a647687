"""The gate's live trust material: load, update (with rollback protection), persist, verify."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from cryptography.hazmat.primitives.asymmetric import ed25519

from edge.clock import Clock
from edge.credentials.common.canonical import canonical_json
from edge.credentials.trust.health import LIST_LABELS, ListKind, TrustHealth, assess_list
from edge.credentials.trust.root import load_root_public_key
from edge.credentials.trust.signed_document import MAX_DOCUMENT_BYTES
from edge.credentials.trust.snapshot import TrustSnapshot
from edge.credentials.trust.trustlist import Denylist, TrustList, parse_denylist, parse_trust_list
from edge.errors import TrustListError
from edge.readfiles import MAX_KEY_BYTES, read_capped
from edge.storage.files import write_atomically

_Doc = TypeVar("_Doc", TrustList, Denylist)

MARKS_FILE = "trust-versions.json"
"""Highest trust list and denylist versions ever accepted, beside the trust list (rollback)."""
_MARK_KEYS = frozenset({"trust_list", "denylist"})


@dataclass(frozen=True)
class _Snapshot:
    trust: TrustList | None
    trust_bytes: bytes | None
    denylist: Denylist | None
    deny_bytes: bytes | None

    @property
    def view(self) -> TrustSnapshot:
        return TrustSnapshot(self.trust or TrustList.empty(), self.denylist)


class TrustStore:
    """Holds the last good signed trust list and denylist, on disk and in force; readers take
    an immutable snapshot and never block on an update.

    With no trust list loaded the snapshot trusts nobody (codes read unknown_issuer); with an
    expired one, or an expired denylist, every well-formed code reads trust_list_expired.
    """

    def __init__(
        self,
        root_public_key_pem: bytes,
        trust_path: Path,
        denylist_path: Path,
        clock: Clock,
    ) -> None:
        self._root = load_root_public_key(root_public_key_pem)
        self._trust_path = Path(trust_path)
        self._deny_path = Path(denylist_path)
        self._clock = clock
        self._snapshot = _Snapshot(None, None, None, None)
        self._view = self._snapshot.view
        self._update_lock = threading.Lock()
        self._marks_path = self._trust_path.parent / MARKS_FILE
        self._marks: dict[str, int] = {}
        self._marks_read = False
        self._marks_unsaved = False
        self.problems: list[str] = []
        self._file_problems: dict[ListKind, str] = {}

    def load(self) -> None:
        """Load persisted files if present; a bad one goes to `problems`, the previous stays.

        A file older than the highest version ever accepted (rollback) is refused; so is an
        expired one when a last good document of that kind is loaded. With nothing loaded yet
        an expired file is still installed, so codes read trust_list_expired, not unknown_issuer.
        """
        with self._update_lock:
            problems: list[str] = []
            file_problems: dict[ListKind, str] = {}
            self._read_marks(problems)
            current = self._snapshot
            trust, trust_bytes = self._load_file(
                self._trust_path, parse_trust_list, current, problems, file_problems
            )
            deny, deny_bytes = self._load_file(
                self._deny_path, parse_denylist, current, problems, file_problems
            )
            self._install(_Snapshot(trust, trust_bytes, deny, deny_bytes))
            self._file_problems = file_problems
            marks = self._raised_marks(trust, deny)
            if marks != self._marks or self._marks_unsaved:
                self._marks = marks
                try:
                    self._write_marks()
                    self._marks_unsaved = False
                except TrustListError as exc:
                    self._marks_unsaved = True  # the lists stay installed; retried next load
                    problems.append(str(exc))
            self.problems = problems

    def update_trust_list(self, data: bytes) -> int:
        """Install a newer signed trust list; returns its version or raises TrustListError."""
        with self._update_lock:
            self._read_marks_once()
            current = self._snapshot
            trust = self._check(data, parse_trust_list, current.trust, current.trust_bytes)
            if trust is not current.trust:
                _write_atomically(self._trust_path, data)
                self._install_marks(self._raised_marks(trust, current.denylist))
                self._install(_Snapshot(trust, data, current.denylist, current.deny_bytes))
            self._file_problems.pop("trust_list", None)
            return trust.version

    def update_denylist(self, data: bytes) -> int:
        """Install a newer signed denylist; returns its version or raises TrustListError."""
        with self._update_lock:
            self._read_marks_once()
            current = self._snapshot
            deny = self._check(data, parse_denylist, current.denylist, current.deny_bytes)
            if deny is not current.denylist:
                _write_atomically(self._deny_path, data)
                self._install_marks(self._raised_marks(current.trust, deny))
                self._install(_Snapshot(current.trust, current.trust_bytes, deny, data))
            self._file_problems.pop("denylist", None)
            return deny.version

    def snapshot(self) -> TrustSnapshot:
        """The trust material in force now (what verification reads)."""
        return self._view

    def health(self, warning_days: float) -> TrustHealth:
        """Both lists judged now: version, expiry, days left, and why one cannot be used."""
        snapshot, now, days = self._snapshot, self._clock.now(), warning_days
        problems = dict(self._file_problems)
        trust = assess_list("trust_list", snapshot.trust, problems.get("trust_list"), now, days)
        deny = assess_list("denylist", snapshot.denylist, problems.get("denylist"), now, days)
        return TrustHealth(trust, deny)

    def _install(self, snapshot: _Snapshot) -> None:
        self._snapshot, self._view = snapshot, snapshot.view

    def _load_file(
        self,
        path: Path,
        parse: Callable[[bytes, ed25519.Ed25519PublicKey], _Doc],
        snapshot: _Snapshot,
        problems: list[str],
        file_problems: dict[ListKind, str],
    ) -> tuple[_Doc | None, bytes | None]:
        """The document to keep in force: the file's if acceptable, else the current one;
        why the file was not taken goes to `file_problems`."""
        kind: ListKind = "trust_list" if parse is parse_trust_list else "denylist"
        label = LIST_LABELS[kind]
        current: _Doc | None
        if kind == "trust_list":
            current, current_bytes = snapshot.trust, snapshot.trust_bytes  # type: ignore[assignment]
        else:
            current, current_bytes = snapshot.denylist, snapshot.deny_bytes  # type: ignore[assignment]
        try:
            data = read_capped(path, MAX_DOCUMENT_BYTES)
        except FileNotFoundError:
            file_problems[kind] = f"{label} missing: {path} not found"
            return current, current_bytes
        except OSError as exc:
            problems.append(f"{path}: cannot read ({exc.strerror})")
            file_problems[kind] = f"{label} unreadable: {path}: {exc.strerror}"
            return current, current_bytes
        try:
            document = self._check(data, parse, current, current_bytes, from_disk=True)
        except TrustListError as exc:
            problems.append(f"{path}: {exc}")
            file_problems[kind] = f"{label} not usable: {path}: {exc}"
            return current, current_bytes
        return document, data

    def _check(
        self,
        data: bytes,
        parse: Callable[[bytes, ed25519.Ed25519PublicKey], _Doc],
        current: _Doc | None,
        current_bytes: bytes | None,
        *,
        from_disk: bool = False,
    ) -> _Doc:
        """Verify a document and judge it against the one in force and the high-water mark.

        An update must be newer than the installed document; a file re-read from disk may also
        have the same version (a restart, or refresh-trust after a copy). Neither may be older
        than the highest version ever accepted. An expired document is refused on update, and
        on load when a last good one is in force.
        """
        document = parse(data, self._root)
        kind = "trust list" if isinstance(document, TrustList) else "denylist"
        if current is not None and data == current_bytes:
            return current  # the same document again: a harmless no-op
        if not from_disk and current is not None and document.version <= current.version:
            raise TrustListError(
                f"{kind} version {document.version} refused: not newer than the installed "
                f"version {current.version}"
            )
        mark = max(self._marks.get(_mark_key(document), 0), current.version if current else 0)
        if document.version < mark:
            raise TrustListError(
                f"{kind} version {document.version} refused: older than version {mark}, "
                "the highest accepted (rollback)"
            )
        if (current is not None or not from_disk) and self._clock.now() > document.expires_at:
            raise TrustListError(f"{kind} version {document.version} refused: it has expired")
        return document

    def _raised_marks(self, trust: TrustList | None, deny: Denylist | None) -> dict[str, int]:
        marks = dict(self._marks)
        for document in (trust, deny):
            if document is not None:
                key = _mark_key(document)
                marks[key] = max(marks.get(key, 0), document.version)
        return marks

    def _install_marks(self, marks: dict[str, int]) -> None:
        if marks != self._marks:
            previous, self._marks = self._marks, marks
            try:
                self._write_marks()
            except TrustListError:
                self._marks = previous
                raise

    def _write_marks(self) -> None:
        _write_atomically(
            self._marks_path, (canonical_json(self._marks, ascii_only=True) + "\n").encode("ascii")
        )

    def _read_marks_once(self) -> None:
        if not self._marks_read:
            self._read_marks(self.problems)

    def _read_marks(self, problems: list[str]) -> None:
        """Merge the persisted high-water marks into memory (they only ever go up)."""
        self._marks_read = True
        path = self._marks_path
        try:
            raw = json.loads(read_capped(path, MAX_KEY_BYTES))
        except FileNotFoundError:
            return
        except OSError as exc:
            problems.append(f"{path}: cannot read ({exc.strerror})")
            return
        except ValueError:
            problems.append(f"{path}: not valid JSON; rollback marks ignored until rewritten")
            return
        if not isinstance(raw, dict) or not all(
            key in _MARK_KEYS and type(value) is int and value >= 0 for key, value in raw.items()
        ):
            problems.append(f"{path}: unexpected content; rollback marks ignored until rewritten")
            return
        for key, value in raw.items():
            self._marks[key] = max(self._marks.get(key, 0), value)


def _mark_key(document: TrustList | Denylist) -> str:
    return "trust_list" if isinstance(document, TrustList) else "denylist"


def _write_atomically(path: Path, data: bytes) -> None:
    try:
        write_atomically(path, data)
    except OSError as exc:
        raise TrustListError(f"cannot persist {path}: {exc.strerror}") from None
