"""Latched faults: each change reported once as a fault event and pushed to its observers."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from edge.clock import Clock, SystemClock
from edge.events import EventSink, GateEvent
from edge.faults import Fault

log = logging.getLogger(__name__)

RECENT_FAULT_WINDOW_S = 300.0


FaultObserver = Callable[[dict[str, str]], None]
"""Told, after every change, what the status should show: reason -> detail of the latched faults
and of those that hit single presentations within RECENT_FAULT_WINDOW_S."""


class FaultBoard:
    """Active faults (reason -> detail); each change is reported once as a fault event and
    pushed to the observers watching the board.

    Faults that affected one presentation only (announced, not latched) are remembered for
    RECENT_FAULT_WINDOW_S so that the status topic can show them too.
    """

    def __init__(self, events: EventSink, clock: Clock | None = None) -> None:
        self._events = events
        self._clock = clock or SystemClock()
        self._lock = threading.Lock()
        # Held while an observer is told, so that two changes never reach it out of order.
        self._telling = threading.RLock()
        self._observers: list[FaultObserver] = []
        self._active: dict[str, str] = {}
        self._recent: dict[str, tuple[float, str]] = {}  # reason -> (monotonic, detail)

    def watch(self, observer: FaultObserver) -> None:
        """Tell `observer` what is shown now, then after every latch, clear or announcement."""
        with self._telling:
            self._observers.append(observer)
            self._tell(observer, self.shown())

    def report(self, reason: Fault, detail: str) -> None:
        """Latch a fault; a fault already active only has its detail updated."""
        with self._lock:
            is_new = reason not in self._active
            changed = self._active.get(reason) != detail
            self._active[reason] = detail
        if is_new:
            log.error("fault %s: %s", reason, detail)
            self.announce(reason, detail)
        elif changed:
            self._changed()

    def clear(self, reason: Fault) -> None:
        """Clear a latched fault (announced with detail "cleared")."""
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
            return {r: detail for r, (seen, detail) in self._recent.items() if seen >= horizon}

    def shown(self) -> dict[str, str]:
        """What the status shows: the recent faults, and the latched ones over them."""
        recent = self.recent()
        return {**recent, **self.active()}

    def expire(self) -> None:
        """Forget the recent faults older than RECENT_FAULT_WINDOW_S, telling the observers when
        one goes (a fault that hit one presentation leaves the status on its own)."""
        if self._forget_old():
            self._changed()

    def announce(self, reason: Fault, detail: str) -> None:
        """Emit a fault event without latching (for faults that affect one presentation)."""
        with self._lock:
            if detail != "cleared" and reason not in self._active:
                stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self._clock.now()))
                self._recent[reason] = (self._clock.monotonic(), f"at {stamp}: {detail}")
        self._changed()
        try:
            self._events.emit(GateEvent(kind="fault", fault=reason, detail=detail))
        except Exception:
            log.exception("fault event %s could not be stored", reason)

    def _forget_old(self) -> bool:
        horizon = self._clock.monotonic() - RECENT_FAULT_WINDOW_S
        with self._lock:
            kept = {r: seen for r, seen in self._recent.items() if seen[0] >= horizon}
            forgot = len(kept) != len(self._recent)
            self._recent = kept
        return forgot

    def _changed(self) -> None:
        with self._telling:
            if not self._observers:
                return
            shown = self.shown()
            for observer in list(self._observers):
                self._tell(observer, shown)

    @staticmethod
    def _tell(observer: FaultObserver, shown: dict[str, str]) -> None:
        try:
            observer(dict(shown))
        except Exception:
            log.exception("fault observer failed")
