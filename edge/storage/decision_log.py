"""The gate's recent decisions on disk, bounded and without personal data, for the technician."""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import uuid
from pathlib import Path
from typing import Any

from edge.core.records import DecisionRecord
from edge.errors import StorageError
from edge.storage.sqlite_files import open_durable

log = logging.getLogger(__name__)

DECISIONS_FILE = "decisions.db"
DECISIONS_KEPT = 1000
_SCHEMA = """
CREATE TABLE IF NOT EXISTS decisions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    run TEXT NOT NULL,
    number INTEGER NOT NULL,
    entry TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS decisions_run ON decisions (run, number);
"""


def decision_entry(record: DecisionRecord) -> dict[str, Any]:
    """What the log keeps of one decision: no code text, code id, document number or name."""
    timings = record.timings_ms
    latency = timings.get("frame_to_decision_ms", timings.get("decision_ms"))
    temperature = record.temperature_c
    return {
        "at": round(record.at, 3),
        "method": record.method,
        "verdict": record.verdict,
        "reasons": list(record.reasons),
        "colour": record.colour,
        "temperature_c": None if temperature is None else round(temperature, 2),
        "latency_ms": None if latency is None else round(float(latency), 1),
        "path": record.path,
        "outcome": record.outcome,
    }


class DecisionLog:
    """Keeps the last `keep` decisions across restarts; a pass's passage outcome updates its
    entry. Recording never raises: a failing disk only loses log lines (events are elsewhere)."""

    def __init__(self, path: str | Path, keep: int = DECISIONS_KEPT) -> None:
        self._keep = max(1, keep)
        self._run = uuid.uuid4().hex
        self._lock = threading.Lock()
        try:
            self._conn = open_durable(path, _SCHEMA)
            self._conn.execute("PRAGMA synchronous=NORMAL")  # a lost last line is acceptable
        except sqlite3.Error as exc:
            raise StorageError(f"decisions log {path}: {exc}") from exc

    def record(self, record: DecisionRecord) -> None:
        """A decision listener: add the decision, or set the outcome of one already logged."""
        entry = json.dumps(decision_entry(record))
        with self._lock:
            try:
                updated = self._conn.execute(
                    "UPDATE decisions SET entry = ? WHERE run = ? AND number = ?",
                    (entry, self._run, record.number),
                ).rowcount
                if not updated:
                    self._conn.execute(
                        "INSERT INTO decisions (run, number, entry) VALUES (?, ?, ?)",
                        (self._run, record.number, entry),
                    )
                    self._conn.execute(
                        "DELETE FROM decisions WHERE id <= (SELECT max(id) FROM decisions) - ?",
                        (self._keep,),
                    )
            except sqlite3.Error as exc:
                log.warning("decisions log: cannot record decision #%d: %s", record.number, exc)

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._conn.close()


def read_decisions(path: str | Path, last: int) -> list[dict[str, Any]]:
    """The newest `last` entries, oldest first, read without changing the file."""
    try:
        conn = sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True)
        try:
            rows = conn.execute(
                "SELECT entry FROM decisions ORDER BY id DESC LIMIT ?", (max(0, last),)
            ).fetchall()
        finally:
            conn.close()
    except sqlite3.Error as exc:
        raise StorageError(f"decisions log {path}: {exc}") from exc
    entries = []
    for (text,) in reversed(rows):
        try:
            entry = json.loads(text)
        except (ValueError, RecursionError, TypeError):
            continue
        if isinstance(entry, dict):
            entries.append(entry)
    return entries
