"""The document reader's desk: a card swiped at an idle gate is a presentation of its own (the
no-phone path); one swiped while a presentation runs is handed to its person-code match."""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
from collections.abc import Callable

from edge.clock import Clock
from edge.ports import LineSource

log = logging.getLogger(__name__)

DESK_THREAD = "document-desk"
_POLL_S = 0.2
_FAILURE_PAUSE_S = 1.0
_QUEUE_MAX = 16


class QueuedLines:
    """A LineSource fed through `put`: the lines the desk read during a presentation (or the
    simulator's card swipes); the oldest is dropped when 16 wait."""

    def __init__(self) -> None:
        self._lines: queue.Queue[str] = queue.Queue(_QUEUE_MAX)

    def put(self, line: str) -> None:
        """Queue a line; the oldest is dropped when the queue is full."""
        while True:
            try:
                self._lines.put_nowait(line)
                return
            except queue.Full:
                with contextlib.suppress(queue.Empty):
                    self._lines.get_nowait()

    def read_line(self, timeout_s: float) -> str | None:
        """The oldest queued line, waiting up to `timeout_s`; None when none came."""
        try:
            if timeout_s <= 0:
                return self._lines.get_nowait()
            return self._lines.get(timeout=timeout_s)
        except queue.Empty:
            return None

    def close(self) -> None:
        """Nothing to release: the desk owns the device."""


class DocumentDesk:
    """The only reader of the document reader device while the service runs.

    `busy()` tells whether a presentation is in progress; `on_card(line, read_at)` receives a
    document presented at an idle gate (its number must never be logged). The lines read
    during a presentation go to `lines` (by default a queue of the desk's own)."""

    def __init__(
        self,
        reader: LineSource,
        clock: Clock,
        *,
        busy: Callable[[], bool],
        on_card: Callable[[str, float], None],
        on_fault: Callable[[str], None] | None = None,
        lines: QueuedLines | None = None,
    ) -> None:
        self._reader = reader
        self._clock = clock
        self._busy = busy
        self._on_card = on_card
        self._on_fault = on_fault
        self.identity_lines = lines if lines is not None else QueuedLines()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._beat = clock.monotonic()

    name = DESK_THREAD

    def heartbeat(self) -> float | None:
        """When the reading loop last came round (a card whose lookup hangs stops it)."""
        return self._beat

    def start(self) -> None:
        """Start reading on a thread."""
        self._beat = self._clock.monotonic()
        self._thread = threading.Thread(target=self._run, name=DESK_THREAD, daemon=True)
        self._thread.start()

    def alive(self) -> bool:
        """The reading thread runs."""
        thread = self._thread
        return thread is not None and thread.is_alive()

    def revive(self) -> None:
        """Start reading again if the thread died (not after stop)."""
        if self._thread is not None and not self._stop.is_set() and not self.alive():
            self.start()

    def stop(self, timeout_s: float = 2.0) -> None:
        """Stop reading (the device is closed by its owner)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s)

    def step(self, timeout_s: float = _POLL_S) -> None:
        """Read one line (if any) and route it."""
        line = self._reader.read_line(timeout_s)
        if line is None or not line.strip():
            return
        if self._busy():
            self.identity_lines.put(line.strip())
            return
        self._on_card(line.strip(), self._clock.monotonic())

    def _run(self) -> None:
        while not self._stop.is_set():
            self._beat = self._clock.monotonic()
            try:
                self.step()
            except Exception as exc:
                log.exception("document desk: reading or routing a document failed")
                if self._on_fault is not None:
                    self._on_fault(type(exc).__name__)
                self._stop.wait(_FAILURE_PAUSE_S)
