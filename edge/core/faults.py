"""Latched faults: while any is active the gate denies every presentation with its reason."""

from __future__ import annotations

import logging
import threading

from edge.events import EventSink, GateEvent

log = logging.getLogger(__name__)


def fault_reason(component: str) -> str:
    """The stable reason for a component's fault: "relay" -> "relay_fault"."""
    name = component.strip().lower().replace(" ", "_").replace("-", "_") or "unknown"
    return name if name.endswith("_fault") else f"{name}_fault"


class FaultBoard:
    """Active faults (reason -> detail); each change is reported once as a fault event."""

    def __init__(self, events: EventSink) -> None:
        self._events = events
        self._lock = threading.Lock()
        self._active: dict[str, str] = {}

    def report(self, component: str, detail: str) -> None:
        """Latch a fault; a fault already active only has its detail updated."""
        reason = fault_reason(component)
        with self._lock:
            is_new = reason not in self._active
            self._active[reason] = detail
        if is_new:
            log.error("fault %s: %s", reason, detail)
            self.announce(reason, detail)

    def clear(self, component: str) -> None:
        """Clear a latched fault (announced with detail "cleared")."""
        reason = fault_reason(component)
        with self._lock:
            was_active = self._active.pop(reason, None) is not None
        if was_active:
            log.warning("fault %s cleared", reason)
            self.announce(reason, "cleared")

    def active(self) -> dict[str, str]:
        """A copy of the active faults."""
        with self._lock:
            return dict(self._active)

    def reasons(self) -> tuple[str, ...]:
        """The reasons of the active faults, oldest first."""
        with self._lock:
            return tuple(self._active)

    def announce(self, reason: str, detail: str) -> None:
        """Emit a fault event without latching (for faults that affect one presentation)."""
        try:
            self._events.emit(GateEvent(kind="fault", fault=reason, detail=detail))
        except Exception:
            log.exception("fault event %s could not be stored", reason)
