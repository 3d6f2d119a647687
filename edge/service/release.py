"""The installed release as the update tool recorded it: shown on status after a rollback."""

from __future__ import annotations

import datetime
import json
from pathlib import Path

RELEASE_STATE = "release.json"


def rollback_notice(state_dir: Path) -> str | None:
    """A one-line account of the last update if it was rolled back, else None."""
    try:
        state = json.loads((state_dir / RELEASE_STATE).read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(state, dict) or state.get("state") != "rolled-back":
        return None
    at = state.get("at")
    when = (
        datetime.datetime.fromtimestamp(at, datetime.UTC).strftime(" at %Y-%m-%d %H:%M:%SZ")
        if isinstance(at, int | float)
        else ""
    )
    reason = str(state.get("reason", "no reason recorded"))[:200]
    return (
        f"release {state.get('failed')} rolled back{when} ({reason}); "
        f"running {state.get('current')}"
    )
