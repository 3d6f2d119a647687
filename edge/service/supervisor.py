"""Keeps the service's worker threads running: a dead worker is started again after a backoff."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from edge.clock import Clock, SystemClock
from edge.faults import worker_fault

log = logging.getLogger(__name__)


class FaultReporter(Protocol):
    """Where a worker that is down or restarting is shown (the retained status document)."""

    def set_fault(self, name: str, detail: str) -> None:
        """Show the fault `name` with a one-line `detail` until it is cleared."""
        ...

    def clear_fault(self, name: str) -> None:
        """Stop showing the fault `name`; nothing when it is not shown."""
        ...


@dataclass
class _Worker:
    name: str
    alive: Callable[[], bool]
    restart: Callable[[], None]
    backoff_s: float
    restart_at: float | None = None  # set while the worker is down
    restarted_at: float | None = None  # set from a restart until the worker proved healthy
    restarts: int = 0


class WorkerSupervisor:
    """Restarts watched workers whose thread died, with a backoff that doubles per restart.

    check() is called periodically (by the service's supervision loop). A worker found dead is
    restarted once its backoff has passed; meanwhile, and until it has run for
    `healthy_after_s` after its restart, the status shows the fault "worker_<name>". A worker
    that keeps dying is restarted ever more slowly (up to `max_backoff_s`); the systemd
    watchdog, which sees the missing thread, is the next line of defence.
    """

    def __init__(
        self,
        report: FaultReporter | None = None,
        clock: Clock | None = None,
        *,
        min_backoff_s: float = 1.0,
        max_backoff_s: float = 60.0,
        healthy_after_s: float = 30.0,
    ) -> None:
        self._report = report
        self._clock = clock or SystemClock()
        self._min_backoff_s, self._max_backoff_s = min_backoff_s, max_backoff_s
        self._healthy_after_s = healthy_after_s
        self._workers: dict[str, _Worker] = {}
        self._lock = threading.Lock()
        self._check_lock = threading.Lock()
        self._stopped = False

    def watch(self, name: str, alive: Callable[[], bool], restart: Callable[[], None]) -> None:
        """Supervise a worker: `alive()` says whether its thread runs, `restart()` starts a
        fresh one (it must do nothing if the worker was meanwhile stopped on purpose)."""
        with self._lock:
            self._workers[name] = _Worker(name, alive, restart, self._min_backoff_s)

    def restarts(self, name: str) -> int:
        """How often the worker was restarted since the service started."""
        with self._lock:
            return self._workers[name].restarts

    def check(self) -> list[str]:
        """Restart every dead worker whose backoff has passed; return the names restarted."""
        with self._check_lock:
            if self._stopped:
                return []
            with self._lock:
                workers = list(self._workers.values())
            return [worker.name for worker in workers if self._check(worker)]

    def stop(self) -> None:
        """The service is stopping its workers on purpose: from now on nothing is restarted or
        reported (waits for a check in progress)."""
        with self._check_lock:
            self._stopped = True

    def _check(self, worker: _Worker) -> bool:
        now = self._clock.monotonic()
        try:
            alive = worker.alive()
        except Exception:
            log.exception("worker %s: liveness could not be read", worker.name)
            alive = False
        if alive:
            if worker.restarted_at is not None and now - worker.restarted_at >= (
                self._healthy_after_s
            ):
                worker.restarted_at = None
                worker.backoff_s = self._min_backoff_s
                log.info("worker %s healthy again after its restart", worker.name)
                self._clear(worker.name)
            return False
        if worker.restart_at is None:
            worker.restart_at = now + worker.backoff_s
            log.error("worker %s stopped; restarting in %.1f s", worker.name, worker.backoff_s)
            self._set(worker.name, f"stopped; restarting in {worker.backoff_s:g} s")
        if now < worker.restart_at:
            return False
        worker.restart_at = None
        worker.backoff_s = min(2 * worker.backoff_s, self._max_backoff_s)
        try:
            worker.restart()
        except Exception as exc:
            log.exception("worker %s could not be restarted", worker.name)
            worker.restart_at = now + worker.backoff_s
            failure = f"{type(exc).__name__}: {exc}"[:160]
            self._set(
                worker.name, f"restart failed ({failure}); trying again in {worker.backoff_s:g} s"
            )
            return False
        worker.restarts += 1
        worker.restarted_at = now
        log.warning("worker %s restarted (%d restart(s))", worker.name, worker.restarts)
        self._set(worker.name, f"restarted ({worker.restarts} restart(s) since start)")
        return True

    def _set(self, name: str, detail: str) -> None:
        if self._report is None:
            return
        try:
            self._report.set_fault(worker_fault(name), detail)
        except Exception:
            log.exception("worker %s: fault not reported", name)

    def _clear(self, name: str) -> None:
        if self._report is None:
            return
        try:
            self._report.clear_fault(worker_fault(name))
        except Exception:
            log.exception("worker %s: fault not cleared", name)
