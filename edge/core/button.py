"""The attendant's manual-pass button, watched on a thread of its own beside the controller."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from edge.core.controller import GateController
from edge.errors import GateEdgeError
from edge.faults import Fault
from edge.ports import DigitalInput

log = logging.getLogger(__name__)

BUTTON_THREAD = "manual-button"
_POLL_S = 0.5
_RELEASE_POLL_S = 0.05
_FAILURE_PAUSE_S = 1.0


class ButtonWatch:
    """One press, one manual-pass request to the controller (still subject to the temperature
    check). A button that fails to read latches manual_button_fault until it reads again; an
    unforeseen error is shown through `on_error(name, detail)` and the watch goes on.

    The watch stops once `stopping` is set (the service's stop flag, set before any part stops)."""

    name = BUTTON_THREAD

    def __init__(
        self,
        button: DigitalInput,
        controller: GateController,
        operator: str,
        stopping: threading.Event,
        on_error: Callable[[str, str], None],
    ) -> None:
        self._button, self._controller, self._operator = button, controller, operator
        self._stopping, self._on_error = stopping, on_error
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Watch the button on a fresh thread (nothing once the service is stopping)."""
        if self._stopping.is_set():
            return
        self._thread = threading.Thread(target=self._watch, name=BUTTON_THREAD, daemon=True)
        self._thread.start()

    def alive(self) -> bool:
        """True while the watching thread runs."""
        thread = self._thread
        return thread is not None and thread.is_alive()

    def revive(self) -> None:
        """Watch on a fresh thread after the last one died."""
        self.start()

    def heartbeat(self) -> float | None:
        """None: the watch has no heartbeat of its own and counts as fresh while alive."""
        return None

    def stop(self) -> None:
        """Wait for the thread to end (the stop flag is already set)."""
        thread = self._thread
        if thread is not None:
            thread.join(2.0)

    def _watch(self) -> None:
        button, controller = self._button, self._controller
        while not self._stopping.is_set():
            try:
                pressed = button.wait_for_active(_POLL_S)
                if Fault.MANUAL_BUTTON_FAULT in controller.faults:
                    controller.clear_fault(Fault.MANUAL_BUTTON_FAULT)  # the input reads again
                if pressed and not self._stopping.is_set():
                    if not controller.handle_manual(self._operator, "button", None):
                        log.info("manual button ignored: the gate is busy")
                    while button.is_active() and not self._stopping.wait(_RELEASE_POLL_S):
                        pass  # one press, one request: wait for the release
            except GateEdgeError as exc:
                controller.report_fault(Fault.MANUAL_BUTTON_FAULT, str(exc))
                self._stopping.wait(_FAILURE_PAUSE_S)
            except Exception as exc:
                log.exception("manual button watch failed")
                self._on_error(Fault.MANUAL_BUTTON, f"watch error: {type(exc).__name__}")
                self._stopping.wait(_FAILURE_PAUSE_S)
