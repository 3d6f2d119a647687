"""What the fleet views read from the collector's store."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from central.collect.store import FleetStore, missing_per_gate
from central.fleet.view import GateFacts, loads_object

HOUR_MS = 3_600_000


def day_start_ms(now_ms: int) -> int:
    """Local midnight of the central server's day containing now_ms."""
    now = datetime.datetime.fromtimestamp(now_ms / 1000).astimezone()
    return int(now.replace(hour=0, minute=0, second=0, microsecond=0).timestamp() * 1000)


def gate_facts(store: FleetStore, now_ms: int) -> list[GateFacts]:
    """Every gate the store knows, with its last event and today's passes and denies."""
    last = {
        (site, gate): int(ts)
        for site, gate, ts in store.query(
            "SELECT site, gate, MAX(ts) FROM events WHERE test = 0 GROUP BY site, gate"
        )
    }
    today: dict[tuple[str, str, str], int] = {
        (site, gate, decision): int(n)
        for site, gate, decision, n in store.query(
            "SELECT site, gate, decision, COUNT(*) FROM events WHERE test = 0"
            " AND kind = 'decision' AND ts >= ? GROUP BY site, gate, decision",
            (day_start_ms(now_ms),),
        )
    }
    rows = store.query(
        "SELECT site, gate, state, state_since, status, telemetry, telemetry_ts FROM gates"
    )
    known = {(str(r[0]), str(r[1])) for r in rows}
    missing = missing_per_gate(store)
    facts = [
        GateFacts(
            site=str(site),
            gate=str(gate),
            state=state,
            state_since_ms=state_since,
            status=loads_object(status),
            telemetry=loads_object(telemetry),
            telemetry_ts_ms=telemetry_ts,
            last_event_ms=last.get((site, gate)),
            passes_today=today.get((site, gate, "pass"), 0),
            denies_today=today.get((site, gate, "deny"), 0),
            missing_events=missing.get((site, gate), 0),
        )
        for site, gate, state, state_since, status, telemetry, telemetry_ts in rows
    ]
    # A gate heard of only through its events still gets a row.
    for site, gate in sorted(set(last) - known):
        facts.append(
            GateFacts(
                site, gate, None, None, None, None, None, last[(site, gate)],
                today.get((site, gate, "pass"), 0), today.get((site, gate, "deny"), 0),
                missing.get((site, gate), 0),
            )
        )  # fmt: skip
    return facts


@dataclass(frozen=True)
class RecentDecision:
    """One recent decision as the gate detail shows it (no personal data exists to show)."""

    ts_ms: int
    decision: str | None
    reasons: list[str]
    method: str | None
    colour: str | None


def recent_decisions(
    store: FleetStore, site: str, gate: str, limit: int = 50
) -> list[RecentDecision]:
    """The gate's newest decisions, newest first."""
    rows = store.query(
        "SELECT ts, decision, document FROM events WHERE site = ? AND gate = ? AND test = 0"
        " AND kind = 'decision' ORDER BY ts DESC LIMIT ?",
        (site, gate, limit),
    )
    decisions = []
    for ts, decision, text in rows:
        document: dict[str, Any] = loads_object(text) or {}
        reasons = document.get("reasons")
        decisions.append(
            RecentDecision(
                int(ts),
                decision,
                [str(r) for r in reasons] if isinstance(reasons, list) else [],
                _text(document.get("method")),
                _text(document.get("colour")),
            )
        )
    return decisions


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def hourly(
    store: FleetStore, site: str, gate: str, now_ms: int, hours: int = 24
) -> list[dict[str, int]]:
    """Passes and denies per hour for the last `hours` hours, oldest first."""
    first = (now_ms // HOUR_MS - hours + 1) * HOUR_MS
    counts = {
        (int(hour), str(decision)): int(n)
        for hour, decision, n in store.query(
            "SELECT ts / 3600000, decision, COUNT(*) FROM events WHERE site = ? AND gate = ?"
            " AND test = 0 AND kind = 'decision' AND ts >= ? GROUP BY ts / 3600000, decision",
            (site, gate, first),
        )
    }
    start = first // HOUR_MS
    return [
        {
            "hour_ms": hour * HOUR_MS,
            "passes": counts.get((hour, "pass"), 0),
            "denies": counts.get((hour, "deny"), 0),
        }
        for hour in range(start, start + hours)
    ]


def recent_results(
    store: FleetStore, site: str, gate: str, limit: int = 10
) -> list[dict[str, Any]]:
    """The gate's newest command results, newest first."""
    rows = store.query(
        "SELECT ts, command_id, outcome, reason, document FROM command_results"
        " WHERE site = ? AND gate = ? ORDER BY ts DESC LIMIT ?",
        (site, gate, limit),
    )
    return [
        {
            "ts_ms": int(ts),
            "command_id": str(command_id),
            "command": _text((loads_object(document) or {}).get("command")),
            "outcome": str(outcome),
            "reason": reason,
        }
        for ts, command_id, outcome, reason, document in rows
    ]
