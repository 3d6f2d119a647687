"""Runs one job at a time, inline or on a worker thread; jobs arriving while busy are dropped."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)

Job = Callable[[], None]


class SingleFlight:
    """Accepts a job only when no other job is in progress (a single slot, no queue).

    Without start() an accepted job runs in the caller's thread. After start() it runs on a
    worker thread and submit() returns at once; `on_tick` is called at least every `tick_s`
    while the worker waits, so a watchdog can see it is alive.
    """

    def __init__(self, name: str, on_tick: Callable[[], None], tick_s: float = 0.5) -> None:
        self._name = name
        self._on_tick = on_tick
        self._tick_s = tick_s
        self._cond = threading.Condition()
        self._busy = False
        self._pending: Job | None = None
        self._stopping = False
        self._thread: threading.Thread | None = None
        self.dropped = 0

    @property
    def busy(self) -> bool:
        """A job is accepted and not finished."""
        with self._cond:
            return self._busy

    def submit(self, job: Job) -> bool:
        """Run `job` unless busy or stopped; False when it was dropped."""
        with self._cond:
            if self._busy or self._stopping:
                self.dropped += 1
                return False
            self._busy = True
            if self._thread is not None:
                self._pending = job
                self._cond.notify_all()
                return True
        self._run_one(job)
        return True

    def start(self) -> None:
        """Run accepted jobs on a worker thread from now on."""
        with self._cond:
            if self._thread is not None or self._stopping:
                return
            self._thread = threading.Thread(target=self._loop, name=self._name, daemon=True)
            thread = self._thread
        thread.start()

    def alive(self) -> bool:
        """The worker thread runs (True when jobs run inline, before start())."""
        thread = self._thread
        return thread is None or thread.is_alive()

    def revive(self) -> None:
        """Start a fresh worker thread if the last one died (not after stop)."""
        with self._cond:
            if self._thread is None or self._stopping or self._thread.is_alive():
                return
            self._thread = threading.Thread(target=self._loop, name=self._name, daemon=True)
            thread = self._thread
        thread.start()

    def wait_idle(self, timeout_s: float) -> bool:
        """Block until no job is in progress (True) or the timeout passes (False)."""
        with self._cond:
            return self._cond.wait_for(lambda: not self._busy, timeout=timeout_s)

    def stop(self, timeout_s: float) -> bool:
        """Refuse new jobs, let the current one finish within timeout_s; True if it did."""
        with self._cond:
            self._stopping = True
            if self._pending is not None:
                self._pending = None
                self._busy = False
            self._cond.notify_all()
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout_s)
            return not thread.is_alive()
        return True

    def _loop(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(
                    lambda: self._pending is not None or self._stopping, self._tick_s
                )
                if self._stopping:
                    return
                job, self._pending = self._pending, None
            self._tick()
            if job is not None:
                self._run_one(job)

    def _run_one(self, job: Job) -> None:
        try:
            job()
        except Exception:
            log.exception("%s: job failed", self._name)
        finally:
            with self._cond:
                self._busy = False
                self._cond.notify_all()

    def _tick(self) -> None:
        try:
            self._on_tick()
        except Exception:
            log.exception("%s: tick failed", self._name)
