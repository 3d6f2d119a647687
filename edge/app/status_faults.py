"""Mirror the controller's faults and the platforms' open breakers onto the status document."""

from __future__ import annotations

import threading
from typing import Protocol


class FaultDisplay(Protocol):
    """Where faults are shown by name (the gate's retained status document)."""

    def set_fault(self, name: str, detail: str) -> None:
        """Show the fault `name` with its detail."""

    def clear_fault(self, name: str) -> None:
        """Stop showing the fault `name`; nothing when it is not shown."""


class StatusFaults:
    """Keeps the status showing exactly the faults pushed to it, from the controller's fault
    board and from the platform breakers, touching no fault the service shows by itself."""

    def __init__(self, display: FaultDisplay) -> None:
        self._display = display
        self._lock = threading.Lock()
        self._board: dict[str, str] = {}
        self._platform: dict[str, str] = {}
        self._shown: dict[str, str] = {}

    def show_board(self, faults: dict[str, str]) -> None:
        """The controller's latched faults and those that hit single presentations lately."""
        with self._lock:
            self._board = dict(faults)
            self._apply()

    def show_platform(self, faults: dict[str, str]) -> None:
        """The platforms whose circuit breaker is open."""
        with self._lock:
            self._platform = dict(faults)
            self._apply()

    def _apply(self) -> None:
        faults = {**self._board, **self._platform}
        for reason, detail in faults.items():
            if self._shown.get(reason) != detail:
                self._display.set_fault(reason, detail)
        for reason in set(self._shown) - set(faults):
            self._display.clear_fault(reason)
        self._shown = faults
