"""What the gate's retained status document says: faults by name and the trust lists in force."""

from __future__ import annotations

import threading
from typing import Any

from edge.wire.documents import status_document


class GateStatus:
    """The content of the retained status document, kept apart from the connection that
    publishes it. Thread-safe; each change says whether the document changed."""

    def __init__(self, version: str) -> None:
        self._version = version
        self._lock = threading.Lock()
        self._faults: dict[str, str] = {}
        self._trust: dict[str, Any] | None = None

    def set_fault(self, name: str, detail: str) -> bool:
        """Show a fault (or a new detail of it); True when the document changed."""
        with self._lock:
            changed = self._faults.get(name) != detail
            self._faults[name] = detail
        return changed

    def clear_fault(self, name: str) -> bool:
        """Remove a fault; True when it was shown."""
        with self._lock:
            return self._faults.pop(name, None) is not None

    def faults(self) -> dict[str, str]:
        """A copy of the faults shown."""
        with self._lock:
            return dict(self._faults)

    def set_trust(self, summary: dict[str, Any]) -> bool:
        """Describe the trust list and denylist in force; True when that changed."""
        with self._lock:
            changed = self._trust != summary
            self._trust = summary
        return changed

    def document(self, state: str, ts_ms: int, dropped_events: int) -> dict[str, Any]:
        """The document as published now ("online", or "offline" at an orderly stop)."""
        with self._lock:
            faults, trust = dict(self._faults), self._trust
        return status_document(
            state,
            version=self._version,
            ts_ms=ts_ms,
            faults=faults,
            dropped_events=dropped_events,
            trust=trust,
        )

    def last_will(self, dropped_events: int) -> dict[str, Any]:
        """The Last Will: offline, no time and no faults (the broker sends it when nobody can
        tell what the gate's state is)."""
        return status_document(
            "offline", version=self._version, ts_ms=None, faults={}, dropped_events=dropped_events
        )
