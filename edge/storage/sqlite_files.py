"""Opening the gate's SQLite state files the one way they are all opened."""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

log = logging.getLogger(__name__)


def open_durable(path: str | Path, schema: str) -> sqlite3.Connection:
    """An autocommit connection usable from any thread, in WAL mode with synchronous=FULL (a
    commit survives a power cut), with `schema` applied. Raises sqlite3.Error."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.executescript(schema)
    return conn


def rollback_quietly(conn: sqlite3.Connection) -> None:
    """Roll back an open transaction after a failed write; a failing rollback is only logged
    (the connection's next BEGIN or close ends the transaction anyway)."""
    try:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
    except sqlite3.Error as exc:
        log.debug("rollback failed: %s", exc)
