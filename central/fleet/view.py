"""One row per gate from what its status, telemetry and events say: pure, given the time."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

DAY_MS = 86_400_000


@dataclass(frozen=True)
class GateFacts:
    """What the store holds about one gate."""

    site: str
    gate: str
    state: str | None
    state_since_ms: int | None
    status: dict[str, Any] | None
    telemetry: dict[str, Any] | None
    telemetry_ts_ms: int | None
    last_event_ms: int | None = None
    passes_today: int = 0
    denies_today: int = 0
    missing_events: int = 0


@dataclass(frozen=True)
class FleetRow:
    """What an operator sees of one gate."""

    site: str
    gate: str
    state: str
    since_ms: int | None
    faults: dict[str, str] = field(default_factory=dict)
    trust_list_version: int | None = None
    trust_list_days_left: float | None = None
    denylist_version: int | None = None
    denylist_days_left: float | None = None
    outbox_backlog: int | None = None
    last_event_ms: int | None = None
    passes_today: int = 0
    denies_today: int = 0
    missing_events: int = 0
    """Sequence numbers the gate used that central never stored (see `events gaps`)."""
    dropped_events: int | None = None
    """Events the gate's outbox bound dropped, ever (its status): they explain missing ones."""
    certificate_days_left: float | None = None
    version: str | None = None

    @property
    def attention(self) -> int:
        """0 faulted, 1 offline or unknown, 2 fine: the order operators look at gates in."""
        if self.faults:
            return 0
        return 2 if self.state == "online" else 1

    def as_dict(self) -> dict[str, Any]:
        """The row as a JSON-ready dict."""
        return asdict(self)


def _days_left(expires_at_s: object, now_ms: int) -> float | None:
    if isinstance(expires_at_s, int | float) and not isinstance(expires_at_s, bool):
        return round((float(expires_at_s) * 1000 - now_ms) / DAY_MS, 1)
    return None


def _list(status: dict[str, Any], name: str) -> dict[str, Any]:
    trust = status.get("trust")
    entry = trust.get(name) if isinstance(trust, dict) else None
    return entry if isinstance(entry, dict) else {}


def _int_or_none(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def fleet_row(facts: GateFacts, now_ms: int) -> FleetRow:
    """The row for one gate at `now_ms`."""
    status = facts.status or {}
    telemetry = facts.telemetry or {}
    raw_faults = status.get("faults") if facts.state == "online" else None
    faults = {str(k): str(v) for k, v in raw_faults.items()} if isinstance(raw_faults, dict) else {}
    trust_list, denylist = _list(status, "trust_list"), _list(status, "denylist")
    version = status.get("version")
    return FleetRow(
        site=facts.site,
        gate=facts.gate,
        state=facts.state or "unknown",
        since_ms=facts.state_since_ms,
        faults=faults,
        trust_list_version=_int_or_none(trust_list.get("version")),
        trust_list_days_left=_days_left(trust_list.get("expires_at"), now_ms),
        denylist_version=_int_or_none(denylist.get("version")),
        denylist_days_left=_days_left(denylist.get("expires_at"), now_ms),
        outbox_backlog=_int_or_none(telemetry.get("outbox_depth")),
        last_event_ms=facts.last_event_ms,
        passes_today=facts.passes_today,
        denies_today=facts.denies_today,
        missing_events=facts.missing_events,
        dropped_events=_int_or_none(status.get("dropped_events")),
        certificate_days_left=_days_left(status.get("certificate_expires_at"), now_ms),
        version=version if isinstance(version, str) else None,
    )


def fleet(facts: list[GateFacts], now_ms: int) -> list[FleetRow]:
    """Every gate's row: faulted first, then offline, then the rest; by site and gate."""
    rows = [fleet_row(f, now_ms) for f in facts]
    return sorted(rows, key=lambda r: (r.attention, r.site, r.gate))


def loads_object(text: object) -> dict[str, Any] | None:
    """A stored JSON document, or None."""
    if not isinstance(text, str):
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None
