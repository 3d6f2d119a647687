"""Start in order, stop in reverse: every stop runs even when an earlier one fails."""

from __future__ import annotations

import logging
from collections.abc import Callable

log = logging.getLogger(__name__)


class Lifecycle:
    """The stops of what has been opened or started so far, in the order it happened.

    `stop_all()` runs them newest first. A stop that raises is logged and the next one still
    runs, so one failing part never leaves the relay held or a database open.
    """

    def __init__(self) -> None:
        self._stops: list[tuple[str, Callable[[], object]]] = []

    def started(self, name: str, stop: Callable[[], object]) -> None:
        """Record that `name` is running (or open) and how to stop it."""
        self._stops.append((name, stop))

    def stop_all(self) -> tuple[str, ...]:
        """Stop everything recorded, newest first; return the names whose stop failed."""
        failed: list[str] = []
        while self._stops:
            name, stop = self._stops.pop()
            try:
                stop()
            except Exception:
                log.exception("stopping %s failed; stopping the rest", name)
                failed.append(name)
        return tuple(failed)
