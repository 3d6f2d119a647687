"""Bounded relay pulses on a timer thread, and release of every relay at exit and on signals."""

from __future__ import annotations

import atexit
import logging
import os
import signal
import threading
import time
import weakref
from collections.abc import Callable, Iterable
from types import FrameType
from typing import Any

from edge.clock import SYSTEM_CLOCK, Clock
from edge.errors import RelayError

log = logging.getLogger(__name__)

MIN_PULSE_MS = 100
MAX_PULSE_MS = 2000
MIN_OFF_MS = 100  # the relay drops out and the turnstile sees a fresh edge before the next pulse
RETRY_RELEASE_S = 0.05

_LIVE: weakref.WeakSet[PulsedRelay] = weakref.WeakSet()
_INSTALLED: dict[int, Any] = {}


def clamp_pulse_ms(duration_ms: int, cap_ms: int) -> int:
    """Clamp a requested pulse length to MIN_PULSE_MS..cap_ms."""
    return max(MIN_PULSE_MS, min(int(duration_ms), cap_ms))


class PulsedRelay:
    """A relay that is only ever energised for a bounded pulse, never held.

    Overlapping pulses extend the current one but never past `cap_ms` after the FIRST energise.
    After a release the relay stays off for at least `min_off_ms` and at least `off_ratio` times
    as long as it was on; a pulse requested sooner waits out the rest of that gap. With the
    default ratio of 1 a stream of requests can keep the relay on at most half the time.
    `energise` / `deenergise` drive the hardware and may raise OSError (or the backend's error).
    """

    def __init__(
        self,
        energise: Callable[[], None],
        deenergise: Callable[[], None],
        *,
        pulse_ms: int = 300,
        cap_ms: int = MAX_PULSE_MS,
        min_off_ms: int = MIN_OFF_MS,
        off_ratio: float = 1.0,
        name: str = "relay",
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self.cap_ms = max(MIN_PULSE_MS, min(int(cap_ms), MAX_PULSE_MS))
        self.pulse_ms = clamp_pulse_ms(pulse_ms, self.cap_ms)
        self.min_off_s = max(0, int(min_off_ms)) / 1000
        self.off_ratio = max(0.0, float(off_ratio))
        self.name = name
        self._energise = energise
        self._deenergise = deenergise
        self._monotonic = clock.monotonic
        self._cond = threading.Condition(threading.RLock())
        self._on_since: float | None = None
        self._off_at = 0.0
        self._next_on_at: float | None = None  # earliest time the relay may be energised again
        self._closed = False
        self.pulses = 0
        self._thread = threading.Thread(target=self._run, name=f"{name}-pulse", daemon=True)
        self._thread.start()
        _LIVE.add(self)

    @property
    def energised(self) -> bool:
        """True while a pulse is in progress (or a release is still being retried)."""
        with self._cond:
            return self._on_since is not None

    @property
    def scheduled_window(self) -> tuple[float, float] | None:
        """(first energise, planned release) in monotonic seconds while energised."""
        with self._cond:
            return None if self._on_since is None else (self._on_since, self._off_at)

    def pulse(self, duration_ms: int | None = None) -> None:
        """Energise for duration_ms (clamped to 100 ms..cap), then release on a timer.

        Returns at once, except right after a release: then it first waits out the off time
        (at most the cap)."""
        requested = self.pulse_ms if duration_ms is None else duration_ms
        length_s = clamp_pulse_ms(requested, self.cap_ms) / 1000
        with self._cond:
            if self._closed:
                raise RelayError(f"{self.name}: closed")
            if self._on_since is None and self._next_on_at is not None:
                gap_s = min(self._next_on_at - self._monotonic(), self.cap_ms / 1000)
                until = time.monotonic() + gap_s
                while self._on_since is None and not self._closed:
                    left = until - time.monotonic()
                    if left <= 0:
                        break
                    self._cond.wait(left)
                if self._closed:
                    raise RelayError(f"{self.name}: closed")
            if self._on_since is None:
                try:
                    self._energise()
                except (OSError, RelayError) as exc:
                    self._try_deenergise()
                    raise RelayError(f"{self.name}: energise failed: {exc}") from exc
                self._on_since = self._monotonic()
                self._off_at = self._on_since + length_s
            else:
                latest = self._on_since + self.cap_ms / 1000
                self._off_at = min(max(self._off_at, self._monotonic() + length_s), latest)
            self.pulses += 1
            self._cond.notify_all()

    def release(self) -> None:
        """De-energise now; RelayError if the hardware refused (the timer keeps retrying)."""
        with self._cond:
            if self._closed:
                return
            self._off_at = self._monotonic()
            self._cond.notify_all()
            if not self._try_deenergise():
                raise RelayError(f"{self.name}: release failed")

    def close(self) -> None:
        """Release, stop the timer thread and free the hardware."""
        with self._cond:
            if self._closed:
                return
            self._closed = True
            released = self._try_deenergise()
            self._cond.notify_all()
        if self._thread is not threading.current_thread():
            self._thread.join(timeout=1.0)
        self._free()
        _LIVE.discard(self)
        if not released:
            raise RelayError(f"{self.name}: release failed on close")

    def __enter__(self) -> PulsedRelay:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _free(self) -> None:
        """Free the hardware handle (backends override)."""

    def _try_deenergise(self) -> bool:
        try:
            self._deenergise()
        except (OSError, RelayError) as exc:
            log.error("%s: de-energise failed: %s", self.name, exc)
            return False
        if self._on_since is not None:
            now = self._monotonic()
            off_s = max(self.min_off_s, (now - self._on_since) * self.off_ratio)
            self._next_on_at = now + off_s
        self._on_since = None
        return True

    def _run(self) -> None:
        with self._cond:
            while not self._closed:
                if self._on_since is None:
                    self._cond.wait()
                    continue
                remaining = self._off_at - self._monotonic()
                if remaining > 0:
                    self._cond.wait(remaining)
                elif not self._try_deenergise():
                    self._cond.wait(RETRY_RELEASE_S)


def release_all() -> None:
    """De-energise every open relay of this process (exit and signal paths); never raises."""
    for relay in list(_LIVE):
        try:
            relay.release()
        except RelayError as exc:
            log.error("release at shutdown: %s", exc)


def install_release_handlers(
    signals: Iterable[signal.Signals] = (signal.SIGTERM, signal.SIGINT),
) -> None:
    """Release every relay on these signals, then run the handler that was installed before.

    Call from the main thread. A default (SIG_DFL) disposition is re-raised after the release, so
    the process still ends as the signal intends; SIGINT's default raises KeyboardInterrupt.
    """
    for sig in signals:
        if int(sig) in _INSTALLED:
            continue
        _INSTALLED[int(sig)] = signal.getsignal(sig)
        signal.signal(sig, _on_signal)


def _on_signal(signum: int, frame: FrameType | None) -> None:
    release_all()
    previous = _INSTALLED.get(signum, signal.SIG_DFL)
    if callable(previous):
        previous(signum, frame)
    elif previous != signal.SIG_IGN:
        signal.signal(signum, signal.SIG_DFL)
        _INSTALLED.pop(signum, None)
        os.kill(os.getpid(), signum)


atexit.register(release_all)
