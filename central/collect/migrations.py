"""The fleet store's schema, as numbered migrations applied in order, each exactly once."""

from __future__ import annotations

MIGRATIONS: tuple[tuple[int, tuple[str, ...]], ...] = (
    (
        1,
        (
            "CREATE TABLE events (event_id TEXT PRIMARY KEY, site TEXT NOT NULL,"
            " gate TEXT NOT NULL, seq BIGINT NOT NULL, ts BIGINT NOT NULL, kind TEXT NOT NULL,"
            " decision TEXT, test INTEGER NOT NULL, received BIGINT NOT NULL,"
            " document TEXT NOT NULL)",
            "CREATE INDEX events_gate_seq ON events (site, gate, seq)",
            "CREATE INDEX events_gate_ts ON events (site, gate, ts)",
            "CREATE TABLE gates (site TEXT NOT NULL, gate TEXT NOT NULL, state TEXT,"
            " state_since BIGINT, status_ts BIGINT, status TEXT, telemetry_ts BIGINT,"
            " telemetry TEXT, PRIMARY KEY (site, gate))",
            "CREATE TABLE command_results (command_id TEXT PRIMARY KEY, site TEXT NOT NULL,"
            " gate TEXT NOT NULL, outcome TEXT NOT NULL, reason TEXT, ts BIGINT NOT NULL,"
            " document TEXT NOT NULL)",
        ),
    ),
)
"""(version, statements): append new versions; never edit one that has shipped."""

LATEST = MIGRATIONS[-1][0]
