"""The screen's subscriber of the controller: notes each state, decision and fault change at
once (the controller never waits for the screen) and hands the moment to the page's readers."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import Any

from edge.clock import Clock
from edge.core.records import DecisionRecord, GateState
from edge.screen.catalogue import Catalogue
from edge.screen.view import Moment, phase_of, view

MomentListener = Callable[[Moment], None]


class ScreenFeed:
    """The moment on show and its sequence number; readers wait for the next one.

    A decision stays on show until the next presentation starts or `hold_s` after it was made,
    whichever comes first; then it is dropped (with the masked name and temperature in it).
    """

    def __init__(self, catalogues: Mapping[str, Catalogue], clock: Clock, hold_s: float) -> None:
        self._catalogues = dict(catalogues)
        self._clock = clock
        self._hold_s = hold_s
        self._changed = threading.Condition()
        self._state = GateState.IDLE
        self._record: DecisionRecord | None = None
        self._record_since = 0.0
        self._faults: tuple[str, ...] = ()
        self._seq = 0
        self._closed = False
        self._listeners: list[MomentListener] = []

    # ---- the controller's side: note and return ----------------------------------------------

    def on_state(self, state: GateState) -> None:
        """A state entered by the controller."""
        with self._changed:
            before = phase_of(self._moment())
            if state == GateState.CODE_READ:
                self._record = None  # the next visitor: the last one's decision goes
            self._expire()
            self._state = state
            if phase_of(self._moment()) != before:  # signal, relay, passage change nothing shown
                self._bump()

    def on_decision(self, record: DecisionRecord) -> None:
        """A decision (its later passage update changes nothing on the screen)."""
        if record.outcome is not None:
            return
        with self._changed:
            self._record = record
            self._record_since = self._clock.monotonic()
            self._bump()

    def on_faults(self, shown: dict[str, str]) -> None:
        """What the fault board shows now."""
        faults = tuple(sorted(shown))
        with self._changed:
            if faults != self._faults:
                self._faults = faults
                self._bump()

    def watch(self, listener: MomentListener) -> None:
        """Call `listener` with every new moment (under the feed's lock: it must only queue)."""
        self._listeners.append(listener)

    # ---- the readers' side -------------------------------------------------------------------

    def current(self) -> tuple[int, dict[str, Any]]:
        """The moment on show as the page's document, with its sequence number."""
        with self._changed:
            self._expire()
            moment = self._moment()
            seq = self._seq
        return seq, view(moment, self._catalogues, seq)

    def wait_after(self, seq: int, timeout_s: float) -> bool:
        """Block until a moment newer than `seq` (True), the timeout or close() (False)."""
        deadline = self._clock.monotonic() + timeout_s
        with self._changed:
            while not self._closed:
                self._expire()
                if self._seq > seq:
                    return True
                now = self._clock.monotonic()
                if now >= deadline:
                    return False
                wait = deadline - now
                if self._record is not None:
                    wait = min(wait, self._record_since + self._hold_s - now)
                self._changed.wait(max(wait, 0.001))
        return False

    def close(self) -> None:
        """Wake every reader; they stop waiting."""
        with self._changed:
            self._closed = True
            self._changed.notify_all()

    @property
    def closed(self) -> bool:
        """close() was called."""
        return self._closed

    def _expire(self) -> None:
        if self._record is None:
            return
        if self._clock.monotonic() - self._record_since >= self._hold_s:
            self._record = None
            self._bump()

    def _moment(self) -> Moment:
        return Moment(self._state, self._record, self._faults)

    def _bump(self) -> None:
        self._seq += 1
        moment = self._moment()
        for listener in self._listeners:
            listener(moment)
        self._changed.notify_all()
