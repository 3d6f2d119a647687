"""The fleet store over SQLite (embedded default) or PostgreSQL (pooled, reconnecting)."""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar

from central.collect.messages import (
    EventRecord,
    Record,
    ResultRecord,
    StatusRecord,
    TelemetryRecord,
)
from central.collect.migrations import LATEST, MIGRATIONS
from central.errors import CentralError

_INSERT_EVENT = (
    "INSERT INTO events (event_id, site, gate, seq, ts, kind, decision, test, received,"
    " document) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (event_id) DO NOTHING"
)
# A status replaces the stored one only when it is not older (two collectors may store a
# gate's messages out of order); `state_since` moves only when the state changes.
_UPSERT_STATUS = (
    "INSERT INTO gates (site, gate, state, state_since, status_ts, status)"
    " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (site, gate) DO UPDATE SET"
    " state_since = CASE WHEN gates.state = excluded.state THEN gates.state_since"
    " ELSE excluded.state_since END, state = excluded.state,"
    " status_ts = excluded.status_ts, status = excluded.status"
    " WHERE gates.status_ts IS NULL OR excluded.status_ts >= gates.status_ts"
)
_UPSERT_TELEMETRY = (
    "INSERT INTO gates (site, gate, telemetry_ts, telemetry) VALUES (?, ?, ?, ?)"
    " ON CONFLICT (site, gate) DO UPDATE SET telemetry_ts = excluded.telemetry_ts,"
    " telemetry = excluded.telemetry"
    " WHERE gates.telemetry_ts IS NULL OR excluded.telemetry_ts >= gates.telemetry_ts"
)
_INSERT_RESULT = (
    "INSERT INTO command_results (command_id, site, gate, outcome, reason, ts, document)"
    " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (command_id) DO NOTHING"
)
_R = TypeVar("_R", EventRecord, StatusRecord, TelemetryRecord, ResultRecord)
_MIGRATION_LOCK = 7_021_001  # PostgreSQL advisory lock: one collector migrates at a time


class StoreUnavailableError(CentralError):
    """The database cannot be reached or is busy now: the same write may succeed later."""


@dataclass(frozen=True)
class Gap:
    """Events a gate numbered but central never stored: seq first..last."""

    site: str
    gate: str
    first: int
    last: int


class Cursor(Protocol):
    """The part of a DB-API cursor the store uses."""

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        """Run one statement with its parameters."""

    def executemany(self, sql: str, params: Sequence[Sequence[Any]]) -> Any:
        """Run one statement once per parameter row."""

    def fetchall(self) -> list[tuple[Any, ...]]:
        """Every row the last query returned."""


class FleetStore:
    """Records in batches, each batch one transaction; queries for the fleet views."""

    kind = "sqlite"

    def __init__(self, *, migrate: bool) -> None:
        """`migrate`: bring the schema up to date (collectors); else only check it is (readers,
        which may be on a read-only replica)."""
        if migrate:
            self._migrate()
            return
        try:
            version = self.schema_version()
        except CentralError:
            version = 0
        if version < LATEST:
            self.close()
            raise CentralError(
                f"the fleet store has schema version {version}, this program reads {LATEST}: "
                "a collector of this version creates or migrates it"
            )

    # ---- backend --------------------------------------------------------------------------

    def _transaction(self, *, write: bool = True) -> contextlib.AbstractContextManager[Cursor]:
        raise NotImplementedError

    def _sql(self, sql: str) -> str:
        return sql

    def _lock_migrations(self, cursor: Cursor) -> None:
        """Hold other collectors off until this transaction ends."""

    def close(self) -> None:
        """Release connections."""

    # ---- writing ---------------------------------------------------------------------------

    def _migrate(self) -> None:
        with self._transaction() as cursor:
            self._lock_migrations(cursor)
            cursor.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY,"
                " applied_at BIGINT NOT NULL)"
            )
            cursor.execute("SELECT COALESCE(MAX(version), 0) FROM schema_migrations")
            current = int(cursor.fetchall()[0][0])
            for version, statements in MIGRATIONS:
                if version <= current:
                    continue
                for statement in statements:
                    cursor.execute(statement)
                cursor.execute(
                    self._sql("INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)"),
                    (version, int(time.time() * 1000)),
                )

    def schema_version(self) -> int:
        """The newest migration applied (0: none)."""
        return int(self.query("SELECT COALESCE(MAX(version), 0) FROM schema_migrations")[0][0])

    def write(self, records: Sequence[Record], received_ms: int) -> None:
        """Store a batch in one transaction (duplicates absorbed). StoreUnavailableError when
        the database cannot take it now; CentralError when it refuses the batch's content."""
        events = [
            (r.event_id, r.site, r.gate, r.seq, r.ts, r.kind, r.decision, int(r.test),
             received_ms, r.document)
            for r in records
            if isinstance(r, EventRecord)
        ]  # fmt: skip
        statuses = [
            (r.site, r.gate, r.state, r.ts, r.ts, r.document)
            for r in sorted(_of(records, StatusRecord), key=lambda r: r.ts)
        ]
        telemetry = [
            (r.site, r.gate, r.ts, r.document)
            for r in sorted(_of(records, TelemetryRecord), key=lambda r: r.ts)
        ]
        results = [
            (r.command_id, r.site, r.gate, r.outcome, r.reason, r.ts, r.document)
            for r in _of(records, ResultRecord)
        ]
        with self._transaction() as cursor:
            for sql, rows in (
                (_INSERT_EVENT, events),
                (_UPSERT_STATUS, statuses),
                (_UPSERT_TELEMETRY, telemetry),
                (_INSERT_RESULT, results),
            ):
                if rows:
                    cursor.executemany(self._sql(sql), rows)

    # ---- reading ---------------------------------------------------------------------------

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Rows of one read-only query (`?` placeholders)."""
        with self._transaction(write=False) as cursor:
            cursor.execute(self._sql(sql), params)
            return cursor.fetchall()

    def count(self) -> dict[str, int]:
        """Distinct events stored, decisions and other kinds apart from test events."""
        rows = self.query("SELECT test, COUNT(*) FROM events GROUP BY test")
        counts = {int(test): int(n) for test, n in rows}
        return {"events": counts.get(0, 0), "test_events": counts.get(1, 0)}

    def gaps(self, limit: int = 1000) -> list[Gap]:
        """Per-gate sequence numbers central never received (test events count: they are
        numbered by the same outbox)."""
        rows = self.query(
            "SELECT site, gate, prev + 1, seq - 1 FROM (SELECT site, gate, seq, LAG(seq)"
            " OVER (PARTITION BY site, gate ORDER BY seq) AS prev FROM events) AS numbered"
            " WHERE seq > prev + 1 ORDER BY site, gate, seq LIMIT ?",
            (limit,),
        )
        return [Gap(str(s), str(g), int(a), int(b)) for s, g, a, b in rows]


def missing_per_gate(store: FleetStore) -> dict[tuple[str, str], int]:
    """How many sequence numbers each gate's stored events skip."""
    rows = store.query(
        "SELECT site, gate, SUM(seq - prev - 1) FROM (SELECT site, gate, seq, LAG(seq)"
        " OVER (PARTITION BY site, gate ORDER BY seq) AS prev FROM events) AS numbered"
        " WHERE seq > prev + 1 GROUP BY site, gate"
    )
    return {(str(site), str(gate)): int(n) for site, gate, n in rows}


def _of(records: Sequence[Record], kind: type[_R]) -> list[_R]:
    return [r for r in records if isinstance(r, kind)]


class SqliteFleetStore(FleetStore):
    """One SQLite file in WAL mode; one connection shared under a lock."""

    def __init__(self, path: str, busy_timeout_ms: int = 1000, *, migrate: bool = True) -> None:
        self._lock = threading.Lock()
        if not migrate and not Path(path).is_file():
            raise CentralError(f"no fleet store at {path}: a collector creates it")
        try:
            self._conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=FULL")
            self._conn.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        except sqlite3.Error as exc:
            raise CentralError(f"cannot open the fleet store {path}: {exc}") from None
        super().__init__(migrate=migrate)

    @contextlib.contextmanager
    def _transaction(self, *, write: bool = True) -> Iterator[Cursor]:
        with self._lock:
            try:
                cursor = self._conn.cursor()
                cursor.execute("BEGIN IMMEDIATE" if write else "BEGIN")
                try:
                    yield cursor
                except BaseException:
                    self._conn.rollback()
                    raise
                cursor.execute("COMMIT")
            except (sqlite3.Error, ValueError) as exc:
                if self._conn.in_transaction:
                    self._conn.rollback()
                if isinstance(exc, sqlite3.OperationalError):  # locked, busy, I/O, no file
                    raise StoreUnavailableError(f"fleet store: {exc}") from None
                raise CentralError(f"fleet store refused: {exc}") from None

    def close(self) -> None:
        """Close the database connection."""
        with self._lock:
            self._conn.close()


class PostgresFleetStore(FleetStore):
    """A small connection pool; a connection broken by a server restart is replaced."""

    kind = "postgresql"

    def __init__(
        self, url: str, pool_size: int = 2, timeout_s: float = 5.0, *, migrate: bool = True
    ) -> None:
        try:
            import psycopg  # noqa: PLC0415  (only with a PostgreSQL URL)
            from psycopg_pool import ConnectionPool, PoolTimeout  # noqa: PLC0415
        except ImportError:
            raise CentralError("PostgreSQL needs psycopg: install the 'central' extra") from None
        self._errors: tuple[type[BaseException], ...] = (psycopg.Error, PoolTimeout)
        self._unavailable: tuple[type[BaseException], ...] = (
            psycopg.OperationalError,
            psycopg.InterfaceError,
            PoolTimeout,
        )
        self._refused: tuple[type[BaseException], ...] = (psycopg.Error, ValueError)
        self._pool = ConnectionPool(
            url,
            min_size=1,
            max_size=pool_size,
            timeout=timeout_s,
            open=False,
            check=ConnectionPool.check_connection,
            reconnect_timeout=3600,  # keep trying (with backoff): the collector waits for it
        )
        try:
            self._pool.open(wait=True, timeout=timeout_s)
        except self._errors as exc:
            self._pool.close()
            raise CentralError(f"cannot connect to the fleet store: {exc}") from None
        super().__init__(migrate=migrate)

    def _sql(self, sql: str) -> str:
        return sql.replace("?", "%s")

    def _lock_migrations(self, cursor: Cursor) -> None:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK,))

    @contextlib.contextmanager
    def _transaction(self, *, write: bool = True) -> Iterator[Cursor]:
        try:
            with self._pool.connection() as conn, conn.transaction(), conn.cursor() as cursor:
                yield cursor
        except self._unavailable as exc:
            raise StoreUnavailableError(f"fleet store: {exc}") from None
        except self._refused as exc:
            raise CentralError(f"fleet store refused: {exc}") from None

    def close(self) -> None:
        """Close every pooled connection."""
        self._pool.close()


def open_store(target: str, *, migrate: bool = True) -> FleetStore:
    """sqlite:///path (or a plain path) for SQLite; postgresql://… for PostgreSQL. Readers pass
    migrate=False: they never write the schema (a replica is read-only)."""
    if target.startswith(("postgresql://", "postgres://")):
        return PostgresFleetStore(target, migrate=migrate)
    if "://" in target and not target.startswith("sqlite:///"):
        raise CentralError(f"{target!r}: the store is sqlite:///PATH or postgresql://…")
    return SqliteFleetStore(target.removeprefix("sqlite:///"), migrate=migrate)
