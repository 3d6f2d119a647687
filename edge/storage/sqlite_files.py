"""Opening the gate's SQLite state files the one way they are all opened."""

from __future__ import annotations

import sqlite3
from pathlib import Path


def open_durable(path: str | Path, schema: str) -> sqlite3.Connection:
    """An autocommit connection usable from any thread, in WAL mode with synchronous=FULL (a
    commit survives a power cut), with `schema` applied. Raises sqlite3.Error."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.executescript(schema)
    return conn
