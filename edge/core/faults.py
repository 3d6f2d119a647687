"""Latched faults: while any is active the gate denies every presentation with its reason."""

from __future__ import annotations

import logging
import threading
import time

from edge.clock import Clock, SystemClock
from edge.events import EventSink, GateEvent

log = logging.getLogger(__name__)


def fault_reason(component: str) -> str:
    """The stable reason for a component's fault: "relay" -> "relay_fault"."""
    name = component.strip().lower().replace(" ", "_").replace("-", "_") or "unknown"
    return name if name.endswith("_fault") else f"{name}_fault"


RECENT_FAULT_WINDOW_S = 300.0


class FaultBoard:
    """Active faults (reason -> detail); each change is reported once as a fault event.

    Faults that affected one presentation only (announced, not latched) are remembered for
    RECENT_FAULT_WINDOW_S so that the status topic can show them too.
    """

    def __init__(self, events: EventSink, clock: Clock | None = None) -> None:
        self._events = events
        self._clock = clock or SystemClock()
        self._lock = threading.Lock()
        self._active: dict[str, str] = {}
        self._recent: dict[str, tuple[float, str]] = {}  # reason -> (monotonic, detail)

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

    def recent(self) -> dict[str, str]:
        """Unlatched faults seen within RECENT_FAULT_WINDOW_S: reason -> "at <UTC time>: detail"."""
        horizon = self._clock.monotonic() - RECENT_FAULT_WINDOW_S
        with self._lock:
            self._recent = {r: seen for r, seen in self._recent.items() if seen[0] >= horizon}
            return {reason: detail for reason, (_, detail) in self._recent.items()}

    def announce(self, reason: str, detail: str) -> None:
        """Emit a fault event without latching (for faults that affect one presentation)."""
        with self._lock:
            if detail != "cleared" and reason not in self._active:
                stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self._clock.now()))
                self._recent[reason] = (self._clock.monotonic(), f"at {stamp}: {detail}")
        try:
            self._events.emit(GateEvent(kind="fault", fault=reason, detail=detail))
        except Exception:
            log.exception("fault event %s could not be stored", reason)
