"""The durable event outbox: SQLite (WAL, synchronous=FULL), committed before publish.

Several processes may share one outbox file (the service and `gate-edge events test|flush`):
sequence numbers are allocated from the database inside the write transaction (BEGIN IMMEDIATE
serialises writers), and depth and bounds are read from the table itself, so every figure stays
right whoever adds or deletes rows.
"""

from __future__ import annotations

import sqlite3
import threading
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from edge.clock import Clock
from edge.errors import StorageError
from edge.events import GateEvent
from edge.storage.sqlite_files import open_durable, rollback_quietly
from edge.wire.documents import EventStamp, encode, event_document

_COUNTER_SQL = "SELECT value FROM counters WHERE name = ?"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    seq INTEGER NOT NULL,
    event_id TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    payload BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS events_created ON events (created_ms);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
"""
_ACK_BATCH = 256
_AGE_CHECK_INTERVAL_S = 30.0


class OutboxEntry(NamedTuple):
    """One stored event awaiting its PUBACK."""

    rowid: int
    seq: int
    event_id: str
    payload: bytes


@dataclass
class _Group:
    """Events committed together in one transaction (group commit).

    `docs` are complete event documents except for "seq", which the commit fills in from the
    database counter inside its write transaction.
    """

    docs: list[dict[str, Any]] = field(default_factory=list)
    done: bool = False
    error: BaseException | None = None


class Outbox:
    """An EventSink that survives power cuts; events leave it only when the broker acknowledged.

    emit() assigns event id, per-gate sequence number and timestamp, and returns only after the
    event is committed to disk. Concurrent emitters share one commit. Beyond `max_events` or
    `max_age_s` the oldest events are dropped and counted (the counter is persisted).
    """

    def __init__(
        self,
        path: str | Path,
        *,
        site: str,
        gate: str,
        max_events: int = 500_000,
        max_age_s: float = 30 * 86400.0,
        clock: Clock,
    ) -> None:
        self._site, self._gate = site, gate
        self._max_events, self._max_age_ms = max_events, int(max_age_s * 1000)
        self._clock = clock
        self._seq_key = f"seq:{site}/{gate}"
        self._cv = threading.Condition()
        self._db_lock = threading.Lock()
        self._ack_lock = threading.Lock()
        self._acks: list[int] = []
        self._open_group = _Group()
        self._committing = False
        self._closed = False
        self._listener: Callable[[], None] | None = None
        self._next_age_check = 0.0
        try:
            self._conn = open_durable(path, _SCHEMA)
            mode = self._conn.execute("PRAGMA journal_mode").fetchone()[0]
            if str(mode).lower() != "wal":
                raise StorageError(f"outbox {path}: WAL journal mode unavailable ({mode})")
            # The service and `events test|flush` may share the file: wait for the other's lock.
            self._conn.execute("PRAGMA busy_timeout=5000")
        except sqlite3.Error as exc:
            raise StorageError(f"outbox {path}: {exc}") from exc

    # --- EventSink ---------------------------------------------------------------------------

    def emit(self, event: GateEvent) -> None:
        """Store one event durably (EventSink)."""
        self.emit_many([event])

    def emit_many(self, events: Iterable[GateEvent]) -> list[EventStamp]:
        """Store events durably in one commit shared with concurrent emitters; return stamps."""
        with self._cv:
            if self._closed:
                raise StorageError("outbox is closed")
            # Built before joining the group: an event that cannot be stamped fails alone.
            mine = [self._document(event) for event in events]
            group = self._open_group
            group.docs.extend(mine)
            while not group.done:
                if self._committing:
                    self._cv.wait()
                    continue
                self._committing = True
                batch, self._open_group = self._open_group, _Group()
                self._cv.release()
                error: BaseException | None = StorageError("commit interrupted")
                try:
                    error = self._commit(batch)
                finally:
                    self._cv.acquire()
                    self._committing = False
                    batch.done, batch.error = True, error
                    self._cv.notify_all()
            if group.error is not None:
                raise StorageError(f"outbox commit failed: {group.error}") from group.error
            stamps = [
                EventStamp(doc["event_id"], self._site, self._gate, doc["seq"], doc["ts"])
                for doc in mine
            ]
            listener = self._listener
        if listener is not None and stamps:
            listener()
        return stamps

    # --- delivery side -----------------------------------------------------------------------

    def set_listener(self, listener: Callable[[], None] | None) -> None:
        """Call `listener` (from the emitting thread) after new events were committed."""
        self._listener = listener

    def pending(self, after_rowid: int = 0, limit: int = 100) -> list[OutboxEntry]:
        """Stored events with rowid > after_rowid, oldest first (ordered replay)."""
        self.flush_acks()
        rows = self._query(
            "SELECT id, seq, event_id, payload FROM events WHERE id > ? ORDER BY id LIMIT ?",
            (after_rowid, limit),
        )
        return [OutboxEntry(int(r[0]), int(r[1]), str(r[2]), bytes(r[3])) for r in rows]

    def ack(self, rowid: int) -> None:
        """The broker acknowledged this event: delete it (batched; a lost ack means a resend)."""
        with self._ack_lock:
            self._acks.append(rowid)
            full = len(self._acks) >= _ACK_BATCH
        if full:
            self.flush_acks()

    def flush_acks(self) -> None:
        """Delete every acknowledged event now."""
        with self._ack_lock:
            acks, self._acks = self._acks, []
        if not acks:
            return
        with self._db_lock:
            try:
                self._conn.execute("BEGIN IMMEDIATE")
                self._conn.executemany(
                    "DELETE FROM events WHERE id = ?", [(rowid,) for rowid in acks]
                )
                self._conn.execute("COMMIT")
            except BaseException as exc:
                rollback_quietly(self._conn)  # never leave the transaction open (see _commit)
                if not isinstance(exc, sqlite3.Error):
                    raise
                raise StorageError(f"outbox: cannot delete acknowledged events: {exc}") from exc

    # --- figures -----------------------------------------------------------------------------

    def depth(self) -> int:
        """Events stored and not yet acknowledged (by any process sharing the file)."""
        self.flush_acks()
        return int(self._query("SELECT count(*) FROM events", ())[0][0])

    def oldest_age_s(self) -> float | None:
        """Age of the oldest stored event, None when empty."""
        self.flush_acks()
        row = self._query("SELECT min(created_ms) FROM events", ())[0]
        if row[0] is None:
            return None
        return max(0.0, self._clock.now() - int(row[0]) / 1000.0)

    def dropped(self) -> int:
        """Events dropped by the size/age bound since the outbox was created."""
        return self._read_counter("dropped")

    def last_seq(self) -> int:
        """The sequence number of the last stored event (0 before the first)."""
        return self._read_counter(self._seq_key)

    def close(self) -> None:
        """Flush acknowledgements and close the database."""
        with self._cv:
            self._closed = True
        self.flush_acks()
        with self._db_lock:
            self._conn.close()

    # --- internals ---------------------------------------------------------------------------

    def _document(self, event: GateEvent) -> dict[str, Any]:
        stamp = EventStamp(
            event_id=str(uuid.uuid4()),
            site=self._site,
            gate=self._gate,
            seq=0,  # allocated by _commit inside the write transaction
            ts_ms=int(self._clock.now() * 1000),
        )
        return event_document(event, stamp)

    def _commit(self, group: _Group) -> BaseException | None:
        if not group.docs:
            return None
        with self._db_lock:
            try:
                # The write lock is taken before the counter is read, so a second process on
                # the same file can neither reuse nor reorder sequence numbers.
                self._conn.execute("BEGIN IMMEDIATE")
                seq = self._counter(self._seq_key)
                rows = []
                for doc in group.docs:
                    seq += 1
                    doc["seq"] = seq
                    rows.append((seq, doc["event_id"], doc["ts"], encode(doc)))
                self._conn.executemany(
                    "INSERT INTO events (seq, event_id, created_ms, payload) VALUES (?, ?, ?, ?)",
                    rows,
                )
                dropped = self._enforce_bounds()
                self._set_counter(self._seq_key, seq)
                if dropped:
                    self._set_counter("dropped", self._counter("dropped") + dropped)
                self._conn.execute("COMMIT")
            except BaseException as exc:
                # Whatever failed, the transaction must not stay open: the next commit's BEGIN
                # would fail and every later event with it.
                rollback_quietly(self._conn)
                if not isinstance(exc, Exception):
                    raise
                return exc
            return None

    def _enforce_bounds(self) -> int:
        dropped = 0
        now_mono = self._clock.monotonic()
        if now_mono >= self._next_age_check:
            self._next_age_check = now_mono + _AGE_CHECK_INTERVAL_S
            cutoff = int(self._clock.now() * 1000) - self._max_age_ms
            dropped += self._conn.execute(
                "DELETE FROM events WHERE created_ms < ?", (cutoff,)
            ).rowcount
        # ids only grow, so max - min + 1 bounds the row count cheaply (two index lookups);
        # the exact count is taken only when that bound is over the limit.
        low, high = self._conn.execute(  # separate subqueries: each is one index lookup
            "SELECT (SELECT min(id) FROM events), (SELECT max(id) FROM events)"
        ).fetchone()
        excess = 0
        if low is not None and high - low + 1 > self._max_events:
            count = self._conn.execute("SELECT count(*) FROM events").fetchone()[0]
            excess = int(count) - self._max_events
        if excess > 0:
            dropped += self._conn.execute(
                "DELETE FROM events WHERE id IN (SELECT id FROM events ORDER BY id LIMIT ?)",
                (excess,),
            ).rowcount
        return dropped

    def _read_counter(self, name: str) -> int:
        """A counter read on its own (locked; errors become StorageError)."""
        rows = self._query(_COUNTER_SQL, (name,))
        return int(rows[0][0]) if rows else 0

    def _counter(self, name: str) -> int:
        """A counter read inside the caller's transaction (the caller holds the lock)."""
        row = self._conn.execute(_COUNTER_SQL, (name,)).fetchone()
        return int(row[0]) if row else 0

    def _set_counter(self, name: str, value: int) -> None:
        self._conn.execute(
            "INSERT INTO counters (name, value) VALUES (?, ?) "
            "ON CONFLICT(name) DO UPDATE SET value = excluded.value",
            (name, value),
        )

    def _query(self, sql: str, params: tuple[object, ...]) -> list[tuple[Any, ...]]:
        with self._db_lock:
            try:
                return list(self._conn.execute(sql, params).fetchall())
            except sqlite3.Error as exc:
                raise StorageError(f"outbox read failed: {exc}") from exc
