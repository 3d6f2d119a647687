"""Configuration of local durable state."""

from __future__ import annotations

from dataclasses import dataclass

from edge.configschema import setting


@dataclass(frozen=True)
class StorageSettings:
    """Local durable state (on a writable partition)."""

    state_dir: str = setting("/var/lib/gate-edge", doc="Writable directory for state.")
    outbox_max_events: int = setting(
        500_000, minimum=100, maximum=50_000_000, doc="Outbox bound; oldest dropped beyond."
    )
    outbox_max_age_days: float = setting(
        30.0, minimum=0.1, maximum=3650.0, doc="Events older than this are dropped."
    )
