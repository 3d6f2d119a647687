"""Remember executed command ids in SQLite so a replayed command is refused, even after restart."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

from edge.errors import StorageError
from edge.storage.sqlite_files import open_durable


class ReplayGuard:
    """A persistent set of command ids, each kept until well after its command expired."""

    def __init__(self, path: str | Path, retain_after_expiry_s: float) -> None:
        self._retain_ms = int(retain_after_expiry_s * 1000)
        self._lock = threading.Lock()
        try:
            self._conn = open_durable(
                path,
                "CREATE TABLE IF NOT EXISTS seen_commands "
                "(command_id TEXT PRIMARY KEY, expires_at INTEGER NOT NULL)",
            )
        except sqlite3.Error as exc:
            raise StorageError(f"command store {path}: {exc}") from exc

    def first_use(self, command_id: str, expires_at_ms: int, now_ms: int) -> bool:
        """Record the id; False if it was seen before (a replay)."""
        with self._lock:
            try:
                self._conn.execute(
                    "DELETE FROM seen_commands WHERE expires_at < ?", (now_ms - self._retain_ms,)
                )
                cursor = self._conn.execute(
                    "INSERT OR IGNORE INTO seen_commands (command_id, expires_at) VALUES (?, ?)",
                    (command_id, expires_at_ms),
                )
            except sqlite3.Error as exc:
                raise StorageError(f"command store: {exc}") from exc
            return cursor.rowcount == 1

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._conn.close()
