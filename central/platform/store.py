"""The platform's store: applications, holders by ID, tokens, seen nonces; SQLite or PostgreSQL."""

from __future__ import annotations

import sqlite3
import threading
from dataclasses import dataclass
from typing import Any

from central.errors import CentralError

NONCE_KEEP_MS = 600_000  # twice the ts window: a nonce is known for as long as its ts is valid
POOL_MAX = 8  # PostgreSQL connections: as many as the server's worker threads can use at once
POOL_WAIT_S = 2.0  # a request waits this long for a usable connection, then gets 503

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS apps (app_id TEXT PRIMARY KEY, secret TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS holders (id_key TEXT PRIMARY KEY, masked_name TEXT,"
    " status TEXT NOT NULL, issuer TEXT NOT NULL, updated_at BIGINT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS tokens (token_key TEXT PRIMARY KEY, masked_name TEXT,"
    " status TEXT NOT NULL, issuer TEXT NOT NULL, expires_at BIGINT, updated_at BIGINT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS nonces (app_id TEXT NOT NULL, nonce TEXT NOT NULL,"
    " seen_at BIGINT NOT NULL, PRIMARY KEY (app_id, nonce))",
    "CREATE INDEX IF NOT EXISTS nonces_seen_at ON nonces (seen_at)",
)


@dataclass(frozen=True)
class Record:
    """A holder's or token's stored status (no ID number, no token, no full name)."""

    status: str
    issuer: str
    masked_name: str | None
    updated_at_ms: int
    expires_at_ms: int | None = None


class PlatformStore:
    """SQLite: one connection, used by one thread at a time. PostgreSQL: a pool that checks each
    connection before use and replaces broken ones, so the store recovers by itself once the
    database is back after a restart. Every call is its own transaction."""

    def __init__(self, target: str) -> None:
        self._lock = threading.Lock()
        self._postgres = target.startswith(("postgresql://", "postgres://"))
        self._pool: Any = None
        if self._postgres:
            self._open_pool(target)
        else:
            self._errors: tuple[type[BaseException], ...] = (sqlite3.Error,)
            try:
                self._conn = sqlite3.connect(target, check_same_thread=False, isolation_level=None)
                self._conn.execute("PRAGMA journal_mode=WAL")
                self._conn.execute("PRAGMA busy_timeout=5000")
            except sqlite3.Error as exc:
                raise CentralError(f"cannot open the platform store {target}: {exc}") from None
        for statement in _SCHEMA:
            self._execute(statement, ())

    def _open_pool(self, target: str) -> None:
        try:
            import psycopg  # noqa: PLC0415  (only with a PostgreSQL URL)
            from psycopg_pool import ConnectionPool, PoolTimeout  # noqa: PLC0415
        except ImportError:
            raise CentralError("PostgreSQL needs psycopg: install the 'central' extra") from None
        self._errors = (psycopg.Error, PoolTimeout)
        self._pool = ConnectionPool(
            target,
            min_size=1,
            max_size=POOL_MAX,
            kwargs={"autocommit": True},
            check=ConnectionPool.check_connection,
            timeout=POOL_WAIT_S,
            reconnect_timeout=0,  # keep trying for as long as the database is away
            open=False,
            name="platform-store",
        )
        try:
            self._pool.open(wait=True, timeout=POOL_WAIT_S)
        except self._errors as exc:
            self._pool.close()
            raise CentralError(f"cannot connect to the platform store: {exc}") from None

    @property
    def kind(self) -> str:
        """postgresql or sqlite."""
        return "postgresql" if self._postgres else "sqlite"

    def close(self) -> None:
        """Close the connection (or the pool)."""
        if self._pool is not None:
            self._pool.close()
            return
        with self._lock:
            self._conn.close()

    def reachable(self) -> bool:
        """Whether the store answers a trivial query now."""
        try:
            self._execute("SELECT 1", ())
        except CentralError:
            return False
        return True

    def _execute(self, sql: str, params: tuple[Any, ...]) -> tuple[int, list[tuple[Any, ...]]]:
        if self._pool is not None:
            try:
                with self._pool.connection() as conn:
                    cursor = conn.execute(sql.replace("?", "%s"), params)
                    rows = cursor.fetchall() if cursor.description is not None else []
                    return int(cursor.rowcount), rows
            except self._errors as exc:
                raise CentralError(f"platform store: {exc}") from None
        with self._lock:
            try:
                cursor = self._conn.execute(sql, params)
                rows = cursor.fetchall() if cursor.description is not None else []
                return cursor.rowcount, rows
            except self._errors as exc:
                raise CentralError(f"platform store: {exc}") from None

    # ---- administration ----------------------------------------------------------------------

    def put_app(self, app_id: str, secret: str) -> None:
        """Register (or re-key) an application."""
        self._execute(
            "INSERT INTO apps (app_id, secret) VALUES (?, ?)"
            " ON CONFLICT (app_id) DO UPDATE SET secret = excluded.secret",
            (app_id, secret),
        )

    def put_holder(self, id_key: str, record: Record) -> None:
        """Register a holder (by keyed ID hash) or change their status."""
        self._execute(
            "INSERT INTO holders (id_key, masked_name, status, issuer, updated_at)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT (id_key) DO UPDATE SET"
            " masked_name = excluded.masked_name, status = excluded.status,"
            " issuer = excluded.issuer, updated_at = excluded.updated_at",
            (id_key, record.masked_name, record.status, record.issuer, record.updated_at_ms),
        )

    def put_token(self, token_key: str, record: Record) -> None:
        """Register a QR token (by keyed hash) with its status and optional expiry."""
        self._execute(
            "INSERT INTO tokens (token_key, masked_name, status, issuer, expires_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (token_key) DO UPDATE SET"
            " masked_name = excluded.masked_name, status = excluded.status,"
            " issuer = excluded.issuer, expires_at = excluded.expires_at,"
            " updated_at = excluded.updated_at",
            (
                token_key,
                record.masked_name,
                record.status,
                record.issuer,
                record.expires_at_ms,
                record.updated_at_ms,
            ),
        )

    # ---- verification ------------------------------------------------------------------------

    def app_secret(self, app_id: str) -> bytes | None:
        """The secret of an application, or None when unknown."""
        _, rows = self._execute("SELECT secret FROM apps WHERE app_id = ?", (app_id,))
        return str(rows[0][0]).encode() if rows else None

    def remember_nonce(self, app_id: str, nonce: str, now_ms: int) -> bool:
        """Record a nonce; False when it was seen before (a replay)."""
        count, _ = self._execute(
            "INSERT INTO nonces (app_id, nonce, seen_at) VALUES (?, ?, ?)"
            " ON CONFLICT (app_id, nonce) DO NOTHING",
            (app_id, nonce.lower(), now_ms),
        )
        return count == 1

    def forget_nonces(self, now_ms: int) -> None:
        """Drop nonces older than the replay window."""
        self._execute("DELETE FROM nonces WHERE seen_at < ?", (now_ms - NONCE_KEEP_MS,))

    def holder(self, id_key: str) -> Record | None:
        """A holder's record by keyed ID hash."""
        _, rows = self._execute(
            "SELECT status, issuer, masked_name, updated_at FROM holders WHERE id_key = ?",
            (id_key,),
        )
        if not rows:
            return None
        status, issuer, masked, updated = rows[0]
        return Record(str(status), str(issuer), masked, int(updated))

    def token(self, token_key: str) -> Record | None:
        """A token's record by keyed hash."""
        _, rows = self._execute(
            "SELECT status, issuer, masked_name, updated_at, expires_at FROM tokens"
            " WHERE token_key = ?",
            (token_key,),
        )
        if not rows:
            return None
        status, issuer, masked, updated, expires = rows[0]
        return Record(
            str(status),
            str(issuer),
            masked,
            int(updated),
            None if expires is None else int(expires),
        )
