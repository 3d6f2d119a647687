"""The enrolment register (SQLite): one-use tokens and the gates enrolled with them."""

from __future__ import annotations

import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from central.errors import CentralError

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS tokens (token_id TEXT PRIMARY KEY, secret TEXT,"
    " site TEXT NOT NULL, gate TEXT NOT NULL, expires_at REAL NOT NULL,"
    " used_at REAL, key_sha256 TEXT, certificate TEXT)",
    "CREATE TABLE IF NOT EXISTS gates (device_id TEXT NOT NULL, site TEXT NOT NULL,"
    " gate TEXT NOT NULL, serial TEXT PRIMARY KEY, not_after REAL NOT NULL,"
    " enrolled_at REAL NOT NULL, revoked_at REAL)",
)


@dataclass(frozen=True)
class Token:
    """A token's row: for whom, until when, and what it was used for."""

    token_id: str
    secret: bytes | None
    site: str
    gate: str
    expires_at: float
    used_at: float | None
    key_sha256: str | None
    certificate: str | None


@dataclass(frozen=True)
class Enrolled:
    """One certificate issued to a gate."""

    device_id: str
    site: str
    gate: str
    serial: int
    not_after: float
    enrolled_at: float
    revoked_at: float | None


class EnrolStore:
    """The register in one SQLite file; every call is its own transaction."""

    def __init__(self, path: Path) -> None:
        self._lock = threading.Lock()
        try:
            self._conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
            self._conn.execute("PRAGMA busy_timeout=5000")
        except sqlite3.Error as exc:
            raise CentralError(f"cannot open the enrolment register {path}: {exc}") from None
        for statement in _SCHEMA:
            self._run(statement, ())

    def close(self) -> None:
        """Close the file."""
        with self._lock:
            self._conn.close()

    def _run(self, sql: str, params: tuple[Any, ...]) -> tuple[int, list[tuple[Any, ...]]]:
        with self._lock:
            try:
                cursor = self._conn.execute(sql, params)
                return cursor.rowcount, cursor.fetchall()
            except sqlite3.Error as exc:
                raise CentralError(f"enrolment register: {exc}") from None

    def add_token(
        self, token_id: str, secret: str, site: str, gate: str, expires_at: float
    ) -> None:
        """Register a new token for one gate."""
        self._run(
            "INSERT INTO tokens (token_id, secret, site, gate, expires_at) VALUES (?, ?, ?, ?, ?)",
            (token_id, secret, site, gate, expires_at),
        )

    def token(self, token_id: str) -> Token | None:
        """A token by id."""
        _, rows = self._run(
            "SELECT token_id, secret, site, gate, expires_at, used_at, key_sha256, certificate"
            " FROM tokens WHERE token_id = ?",
            (token_id,),
        )
        if not rows:
            return None
        tid, secret, site, gate, expires, used, key, cert = rows[0]
        return Token(
            tid,
            None if secret is None else str(secret).encode(),
            site,
            gate,
            expires,
            used,
            key,
            cert,
        )

    def use_token(self, token_id: str, at: float, key_sha256: str, certificate: str) -> bool:
        """Mark a token used for this key and certificate; False when it was used meanwhile."""
        count, _ = self._run(
            "UPDATE tokens SET used_at = ?, key_sha256 = ?, certificate = ?"
            " WHERE token_id = ? AND used_at IS NULL",
            (at, key_sha256, certificate, token_id),
        )
        return count == 1

    def add_gate(self, record: Enrolled) -> None:
        """Record a certificate issued to a gate."""
        self._run(
            "INSERT INTO gates (device_id, site, gate, serial, not_after, enrolled_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (
                record.device_id,
                record.site,
                record.gate,
                str(record.serial),
                record.not_after,
                record.enrolled_at,
            ),
        )

    def revoke(self, device_id: str, at: float) -> int:
        """Revoke every certificate of a gate; how many were revoked."""
        count, _ = self._run(
            "UPDATE gates SET revoked_at = ? WHERE device_id = ? AND revoked_at IS NULL",
            (at, device_id),
        )
        return count

    def gates(self) -> list[Enrolled]:
        """Every certificate issued, oldest first."""
        _, rows = self._run(
            "SELECT device_id, site, gate, serial, not_after, enrolled_at, revoked_at FROM gates"
            " ORDER BY enrolled_at, rowid",
            (),
        )
        return [
            Enrolled(str(d), str(s), str(g), int(n), float(na), float(e), r)
            for d, s, g, n, na, e, r in rows
        ]
