"""Latched faults and the fault catalogue: what each fault blocks and how it is lifted."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
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


FaultShown = Literal["latched", "status", "presentation"]
"""Where a fault shows: latched on the controller (and denies what it blocks), on the status
topic only (the gate keeps deciding), or announced for one presentation only."""


@dataclass(frozen=True)
class FaultKind:
    """One entry of the fault catalogue: its published name, what it blocks, how it is lifted,
    and the technician guide's words for it (the guide's tables are generated from these)."""

    reason: str
    blocks: FaultScope
    way_back: WayBack
    how: str
    meaning: str = ""
    shown: FaultShown = "latched"


def _latched(
    reason: str, blocks: FaultScope, way_back: WayBack, meaning: str, how: str
) -> FaultKind:
    return FaultKind(reason, blocks, way_back, how, meaning, "latched")


def _status_only(reason: str, way_back: WayBack, meaning: str, how: str) -> FaultKind:
    return FaultKind(reason, "nothing", way_back, how, meaning, "status")


def _per_presentation(reason: str, meaning: str, how: str) -> FaultKind:
    return FaultKind(reason, "nothing", "automatic", how, meaning, "presentation")


FAULTS: tuple[FaultKind, ...] = (
    _latched(
        "indicator_fault",
        "nothing",
        "automatic",
        "switching a lamp or the buzzer failed",
        (
            "automatic: the lamps and buzzer are switched off again every 30 s between "
            "presentations; cleared when that works. Check the lamp/buzzer GPIO lines"
        ),
    ),
    _latched(
        "audio_fault",
        "nothing",
        "automatic",
        "the voice prompts cannot be played (no sound device, or the player failed)",
        (
            "automatic: cleared when a prompt plays again. `aplay -l` lists the sound device; "
            "`voice.player` names the command"
        ),
    ),
    _latched(
        "screen_fault",
        "nothing",
        "restart",
        "the visitor screen cannot serve its page (`screen.listen` in use or not on this machine)",
        "free the address or change `screen.listen`, then restart the service",
    ),
    _latched(
        "denylist_fault",
        "nothing",
        "automatic",
        "the denylist is missing or cannot be verified; codes are checked without revocation",
        "automatic: cleared once a good denylist is installed",
    ),
    _latched(
        "document_reader_fault",
        "document",
        "clear-fault",
        (
            "the document reader could not be opened at start (also a per-presentation reason when "
            "a read fails)"
        ),
        (
            "port, cable, dialout group; then `clear-fault` (the service restarts and opens it "
            "again) or restart"
        ),
    ),
    _latched(
        "camera_fault",
        "camera",
        "automatic",
        "the camera failed or could not be opened; also a scan loop error",
        (
            "automatic: an unplugged or missing USB camera is retried every 5 s, cleared when "
            "frames arrive. Check cable, `/dev/video0`, CSI ribbon; `ge scan --source ...`"
        ),
    ),
    _latched(
        "serial_scanner_fault",
        "serial",
        "clear-fault",
        "the serial scanner failed or could not be opened at start",
        (
            "automatic when it answers again; if it could not be opened at start: port under "
            "`/dev/serial/by-id/`, dialout group, then `clear-fault` (restarts the service)"
        ),
    ),
    _latched(
        "manual_button_fault",
        "button",
        "automatic",
        "the manual button input could not be read",
        "automatic: cleared as soon as the input reads again; check wiring and line",
    ),
    _latched(
        "relay_fault",
        "everything",
        "clear-fault",
        "a relay pulse failed (GPIO error, LCUS board unplugged)",
        (
            "`clear-fault relay_fault` from central after checking wiring and board power with `ge "
            "relay pulse` (not re-probed automatically: a test pulse would open the turnstile); or "
            "restart"
        ),
    ),
    _latched(
        "gateio_fault",
        "everything",
        "automatic",
        (
            "the gate I/O board answered no heartbeat for 500 ms (unplugged, USB cable, board "
            "restarting); the board itself has dropped the relay"
        ),
        (
            "automatic: clears when the board answers again, and so do the `relay_fault` and "
            "`indicator_fault` the outage caused. USB cable and port; `ge gateio status` with the "
            "service stopped"
        ),
    ),
    _latched(
        "storage_fault",
        "everything",
        "automatic",
        (
            "an event could not be stored on disk; a pass is turned into a deny (detail "
            "`anti-passback: ...`: a pass could not be saved in `passback.db`, so the gate stayed "
            "shut for that person)"
        ),
        (
            "automatic: cleared at the next event stored. Free space and permissions of "
            "`/var/lib/gate-edge`, read-only file system"
        ),
    ),
    _latched(
        "clock_fault",
        "everything",
        "automatic",
        (
            "the wall clock is before 2026 (never set), or it is not synchronised and reads behind "
            "the clock mark in the state directory"
        ),
        (
            "automatic: re-checked every minute, clears once network time is back; see 6.2. "
            "`timedatectl`: NTP synchronised, RTC"
        ),
    ),
    _latched(
        "trust_fault",
        "everything",
        "automatic",
        (
            "no usable trust list (missing, unreadable, not verifiable, expired) or an expired "
            "denylist; the detail names the file and the cause"
        ),
        (
            "automatic: cleared as soon as a good list is installed (retained update, "
            "`refresh-trust`, copied file and restart)"
        ),
    ),
    _status_only(
        "publish-refused",
        "restart",
        "the broker refused events (e.g. not authorised); they stay in the outbox",
        "broker ACL for the gate's CN; restart the service after the fix",
    ),
    _status_only(
        "trust-list",
        "automatic",
        (
            "an update from central was refused (bad signature, not newer, expired); the last good "
            "list stays in use"
        ),
        "ask central to publish a correct, newer list",
    ),
    _status_only(
        "denylist",
        "automatic",
        (
            "an update from central was refused (bad signature, not newer, expired); the last good "
            "list stays in use"
        ),
        "ask central to publish a correct, newer list",
    ),
    _status_only(
        "command-key",
        "restart",
        "`mqtt.command_public_key` cannot be loaded; central commands are refused",
        "install the key, restart",
    ),
    _status_only(
        "trust-files",
        "automatic",
        (
            "a trust list or denylist file in the state directory was refused at start or at "
            "`refresh-trust` (bad signature, rollback, unreadable); the last good list stays"
        ),
        "`ge trust show` the file; copy a good one and send `refresh-trust`",
    ),
    _status_only(
        "config",
        "automatic",
        "a `reload-config` found the new file invalid; the gate runs on with the old one",
        "`ge config check` the file, fix, reload again",
    ),
    _status_only(
        "mqtt-control",
        "automatic",
        (
            "handling a message from the broker failed unexpectedly (the detail names the topic "
            "and the error); other commands and trust updates are still handled"
        ),
        "read the journal (`control message on ... failed`); clears with the next message handled",
    ),
    _status_only(
        "mqtt-outbox",
        "automatic",
        "delivering the outbox failed unexpectedly; it is retried every second, events stay stored",
        "read the journal; clears with the next delivery round that succeeds",
    ),
    _status_only(
        "mqtt-network",
        "restart",
        "a broker callback failed unexpectedly; the connection keeps serving",
        "read the journal (`MQTT ... failed`)",
    ),
    _status_only(
        "mqtt-telemetry",
        "automatic",
        (
            "that loop of the service met an unexpected error and carries on (telemetry clears "
            "with the next sample sent)"
        ),
        "read the journal for the traceback; restart the service to clear",
    ),
    _status_only(
        "manual-button",
        "restart",
        (
            "that loop of the service met an unexpected error and carries on (telemetry clears "
            "with the next sample sent)"
        ),
        "read the journal for the traceback; restart the service to clear",
    ),
    _status_only(
        "supervisor",
        "restart",
        (
            "that loop of the service met an unexpected error and carries on (telemetry clears "
            "with the next sample sent)"
        ),
        "read the journal for the traceback; restart the service to clear",
    ),
    _status_only(
        "worker-<name>",
        "automatic",
        (
            "a worker thread died and is being restarted (detail: `stopped; restarting in N s`, "
            "`restarted (N restart(s) since start)` or `restart failed (...)`)"
        ),
        (
            "read the journal around `worker <name> stopped`; repeated restarts: restart the "
            "service and report the traceback"
        ),
    ),
    _status_only(
        "platform_breaker",
        "automatic",
        (
            "a platform route failed repeatedly; its credentials are decided by "
            "`platform.fallback` without waiting (detail: the URL and `open` / `half_open`)"
        ),
        (
            "network to the platform, its certificate, the app secret or the gate clock (HTTP 401 "
            "in the journal: the platform refuses requests whose time is more than 300 s off); "
            "clears at the first answer"
        ),
    ),
    _per_presentation(
        "sensor_fault",
        "the thermometer failed or returned invalid data; the presentation is denied "
        "`sensor_fault`",
        "judged again at the next person",
    ),
    _per_presentation(
        "passage_input_fault",
        "the PASS input could not be read; the passage is recorded `granted_not_passed`",
        "judged again at the next pass",
    ),
    _per_presentation(
        "controller_fault",
        "a presentation was aborted by an internal error; the gate stayed shut",
        "the next person starts afresh",
    ),
)

FAULT_CATALOGUE: dict[str, FaultKind] = {kind.reason: kind for kind in FAULTS}

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

    def report(self, component: str, detail: str) -> None:
        """Latch a fault; a fault already active only has its detail updated."""
        reason = fault_reason(component)
        with self._lock:
            is_new = reason not in self._active
            changed = self._active.get(reason) != detail
            self._active[reason] = detail
        if is_new:
            log.error("fault %s: %s", reason, detail)
            self.announce(reason, detail)
        elif changed:
            self._changed()

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

    def announce(self, reason: str, detail: str) -> None:
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
