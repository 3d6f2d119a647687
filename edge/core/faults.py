"""Latched faults and the fault catalogue: what each fault blocks and how it is lifted."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from edge.clock import Clock, SystemClock
from edge.events import EventSink, GateEvent

log = logging.getLogger(__name__)

FaultScope = Literal["nothing", "document", "camera", "serial", "button", "everything"]
"""What a latched fault keeps shut: nothing (reported only), presentations that need the
document reader, codes from the camera, codes from the serial scanner, manual passes from the
local button, or every presentation."""

WayBack = Literal["automatic", "clear-fault", "restart"]


@dataclass(frozen=True)
class FaultKind:
    """One entry of the fault catalogue."""

    reason: str
    blocks: FaultScope
    way_back: WayBack
    how: str


FAULT_CATALOGUE: dict[str, FaultKind] = {
    kind.reason: kind
    for kind in (
        FaultKind(
            "indicator_fault",
            "nothing",
            "automatic",
            "lamps and buzzer are switched off again every 30 s; cleared when that works",
        ),
        FaultKind(
            "denylist_fault",
            "nothing",
            "automatic",
            "cleared once a verifiable denylist is installed",
        ),
        FaultKind(
            "document_reader_fault",
            "document",
            "clear-fault",
            "the reader could not be opened: clear-fault restarts the service to open it again",
        ),
        FaultKind(
            "camera_fault",
            "camera",
            "automatic",
            "the camera is retried every 5 s; cleared when frames arrive again",
        ),
        FaultKind(
            "serial_scanner_fault",
            "serial",
            "clear-fault",
            "cleared when the scanner answers again; if it could not be opened at start, "
            "clear-fault restarts the service to open it again",
        ),
        FaultKind(
            "manual_button_fault",
            "button",
            "automatic",
            "cleared as soon as the button input reads again",
        ),
        FaultKind(
            "relay_fault",
            "everything",
            "clear-fault",
            "not re-probed (a test pulse would open the turnstile): check the wiring with "
            "`gate-edge relay pulse`, then send clear-fault",
        ),
        FaultKind(
            "gateio_fault",
            "everything",
            "automatic",
            "the board has dropped the relay; clears when the board answers heartbeats again",
        ),
        FaultKind(
            "storage_fault",
            "everything",
            "automatic",
            "cleared by the next event stored (the deny of the next presentation)",
        ),
        FaultKind(
            "clock_fault",
            "everything",
            "automatic",
            "re-checked every minute; cleared when the clock is plausible again",
        ),
        FaultKind(
            "trust_fault",
            "everything",
            "automatic",
            "re-checked every 0.5 s; cleared once a valid trust list (and denylist) is installed",
        ),
        # Reported on the status topic only, never latched on the controller:
        FaultKind(
            "trust-list",
            "nothing",
            "automatic",
            "a refused update; cleared when a good one is installed (the last good list stays)",
        ),
        FaultKind(
            "denylist",
            "nothing",
            "automatic",
            "a refused update; cleared when a good one is installed (the last good list stays)",
        ),
        FaultKind(
            "trust-files",
            "nothing",
            "automatic",
            "a list file on disk was refused; re-read at refresh-trust and at start",
        ),
        FaultKind(
            "publish-refused",
            "nothing",
            "restart",
            "fix the broker ACL, then restart the service (events stay in the outbox)",
        ),
        FaultKind("command-key", "nothing", "restart", "install the key, then restart"),
        FaultKind("config", "nothing", "automatic", "send reload-config with a valid file"),
        FaultKind(
            "platform_breaker",
            "nothing",
            "automatic",
            "the platform.fallback decides meanwhile; closes at the first answer after a probe",
        ),
        FaultKind(
            "mqtt-control",
            "nothing",
            "automatic",
            "an unexpected error handling one message; cleared by the next message handled",
        ),
        FaultKind(
            "mqtt-outbox",
            "nothing",
            "automatic",
            "delivery is retried every second; cleared by the next round that succeeds",
        ),
        FaultKind(
            "mqtt-network",
            "nothing",
            "restart",
            "a broker callback failed; the connection keeps serving; restart to clear",
        ),
        FaultKind(
            "mqtt-telemetry",
            "nothing",
            "automatic",
            "the loop carries on; cleared by the next telemetry sample sent",
        ),
        FaultKind(
            "manual-button",
            "nothing",
            "restart",
            "the button loop met an unexpected error and carries on; restart to clear",
        ),
        FaultKind(
            "supervisor",
            "nothing",
            "restart",
            "the service's supervision loop met an unexpected error and carries on",
        ),
        FaultKind(
            "worker-<name>",
            "nothing",
            "automatic",
            "the worker thread is restarted with a backoff; cleared after 30 s of healthy running",
        ),
        # Per presentation (announced, shown for 5 minutes, never latched):
        FaultKind("sensor_fault", "nothing", "automatic", "judged again at the next person"),
        FaultKind("passage_input_fault", "nothing", "automatic", "judged again at the next pass"),
        FaultKind("controller_fault", "nothing", "automatic", "the next person starts afresh"),
    )
}

_UNKNOWN = FaultKind("unknown", "everything", "clear-fault", "send clear-fault once fixed")


def fault_kind(reason: str) -> FaultKind:
    """The catalogue entry of a fault; an unknown fault blocks everything (fail closed)."""
    if reason.startswith("worker-"):
        return FAULT_CATALOGUE["worker-<name>"]
    return FAULT_CATALOGUE.get(reason, _UNKNOWN)


def faults_blocking(reasons: Iterable[str], method: str, source: str | None) -> tuple[str, ...]:
    """The latched faults that keep this presentation shut before any document is asked for.

    `method` is camera, serial or manual; `source` the manual source (button or central).
    Document-reader faults are judged later, only when the presentation needs the document.
    """
    blocked: list[str] = []
    for reason in reasons:
        scope = fault_kind(reason).blocks
        if (
            scope == "everything"
            or (scope == "camera" and method == "camera")
            or (scope == "serial" and method == "serial")
            or (scope == "button" and source == "button")
        ):
            blocked.append(reason)
    return tuple(blocked)


def faults_of_scope(reasons: Iterable[str], scope: FaultScope) -> tuple[str, ...]:
    """The reasons whose catalogue scope is `scope`."""
    return tuple(r for r in reasons if fault_kind(r).blocks == scope)


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
