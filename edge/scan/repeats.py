"""Repeated reads of one code within a window are one presentation."""

from __future__ import annotations

import threading


class RepeatWindow:
    """Lets the same key (a code's identity, or the text of a code without one) through once per
    window (monotonic seconds)."""

    def __init__(self, window_s: float) -> None:
        self.window_s = window_s
        self._last: dict[str | bytes, float] = {}
        self._lock = threading.Lock()

    def admit(self, key: str | bytes, now: float) -> bool:
        """True if `key` was not admitted within the window before `now`."""
        with self._lock:
            if len(self._last) > 256:
                self._last = {k: at for k, at in self._last.items() if now - at < self.window_s}
            last = self._last.get(key)
            if last is not None and now - last < self.window_s:
                return False
            self._last[key] = now
            return True

    def suppresses(self, key: str | bytes, now: float) -> bool:
        """True if `key` would not be admitted at `now` (seen within the window)."""
        with self._lock:
            last = self._last.get(key)
            return last is not None and now - last < self.window_s
