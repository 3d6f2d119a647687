"""Anti-passback ledger persisted in SQLite, so a restart or power cut does not reopen a window."""

from __future__ import annotations

import logging
import sqlite3
import threading
from pathlib import Path

from edge.clock import Clock
from edge.core.passback import PassbackLedger, passback_keys
from edge.errors import StorageError
from edge.storage.sqlite_files import open_durable, rollback_quietly

log = logging.getLogger(__name__)


class DurablePassbackLedger(PassbackLedger):
    """A PassbackLedger whose entries are also committed to SQLite as wall-clock times.

    In memory the ledger keeps monotonic times (immune to clock steps while running); on disk it
    keeps wall-clock times, since the monotonic clock restarts with the board. On load an entry is
    mapped back onto the monotonic clock; one that lies in the future (the wall clock went back)
    counts as a pass just now, so a clock fault can only lengthen a window, never reopen it.
    A failed write leaves the in-memory entry in place and raises StorageError for the caller
    to report.
    """

    def __init__(
        self, path: str | Path, window_s: float, clock: Clock, max_entries: int = 100_000
    ) -> None:
        super().__init__(window_s, max_entries)
        self._clock = clock
        self._db_lock = threading.Lock()
        try:
            self._conn = open_durable(
                path,
                "CREATE TABLE IF NOT EXISTS passes (key BLOB PRIMARY KEY, wall_at REAL NOT NULL)",
            )
            rows = self._conn.execute(
                "SELECT key, wall_at FROM passes WHERE wall_at >= ? ORDER BY wall_at",
                (clock.now() - window_s,),
            ).fetchall()
        except sqlite3.Error as exc:
            raise StorageError(f"anti-passback store {path}: {exc}") from exc
        self._load(rows)

    def _load(self, rows: list[tuple[bytes, float]]) -> None:
        now_wall, now_mono = self._clock.now(), self._clock.monotonic()
        for key, wall_at in rows:
            if isinstance(key, bytes) and isinstance(wall_at, float | int):
                self._put(key, now_mono - max(0.0, now_wall - float(wall_at)))
        if rows:
            log.info("anti-passback: %d entries restored", len(self))

    def record(self, code_id: bytes | None, subject_binding: bytes | None, at: float) -> None:
        """Remember the pass in memory and on disk; StorageError when the write fails."""
        super().record(code_id, subject_binding, at)
        keys = passback_keys(code_id, subject_binding)
        if not keys or self.window_s <= 0:
            return
        wall_at = self._clock.now() - max(0.0, self._clock.monotonic() - at)
        with self._db_lock:
            try:
                self._conn.execute("BEGIN IMMEDIATE")
                self._conn.executemany(
                    "INSERT OR REPLACE INTO passes (key, wall_at) VALUES (?, ?)",
                    [(key, wall_at) for key in keys],
                )
                self._conn.execute(
                    "DELETE FROM passes WHERE wall_at < ?", (wall_at - self.window_s,)
                )
                self._conn.execute(
                    "DELETE FROM passes WHERE key NOT IN "
                    "(SELECT key FROM passes ORDER BY wall_at DESC LIMIT ?)",
                    (self.max_entries,),
                )
                self._conn.execute("COMMIT")
            except sqlite3.Error as exc:
                rollback_quietly(self._conn)
                raise StorageError(f"anti-passback store: {exc}") from exc

    def forget(self, code_id: bytes | None, subject_binding: bytes | None) -> None:
        """Drop a pass that did not happen, in memory and on disk."""
        super().forget(code_id, subject_binding)
        keys = passback_keys(code_id, subject_binding)
        if not keys:
            return
        with self._db_lock:
            try:
                self._conn.execute("BEGIN IMMEDIATE")
                self._conn.executemany("DELETE FROM passes WHERE key = ?", [(k,) for k in keys])
                self._conn.execute("COMMIT")
            except sqlite3.Error as exc:
                rollback_quietly(self._conn)
                raise StorageError(f"anti-passback store: {exc}") from exc

    def clear(self) -> None:
        """Forget every pass, in memory and on disk."""
        super().clear()
        with self._db_lock:
            try:
                self._conn.execute("DELETE FROM passes")
            except sqlite3.Error as exc:
                raise StorageError(f"anti-passback store: {exc}") from exc

    def close(self) -> None:
        """Close the database."""
        with self._db_lock:
            self._conn.close()
