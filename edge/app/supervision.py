"""The service's periodic judgements: workers, trust lists, clock, platform breakers."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from edge.app.status_faults import StatusFaults
from edge.clock import Clock
from edge.core.controller import GateController
from edge.errors import GateEdgeError
from edge.faults import Fault
from edge.service.clockguard import ClockWatch
from edge.service.workers import WorkerRegistry
from edge.storage.trust_store import TrustStore

if TYPE_CHECKING:  # the platform client (httpcore) is loaded only where a platform is configured
    from edge.platform.client import PlatformClient

log = logging.getLogger(__name__)

SUPERVISOR_THREAD = "supervisor"
_SUPERVISE_S = 0.5
_CLOCK_CHECK_EVERY_S = 60.0
_REPROBE_EVERY_S = 30.0


class TrustStatus(Protocol):
    """Where the trust lists in force are described (the retained status document)."""

    def set_trust(self, summary: dict[str, Any]) -> None:
        """Describe the trust list and denylist in force on the status."""


class TrustJudge:
    """Latches trust_fault while every code would be denied (no usable trust list, or an expired
    denylist), reports a missing denylist, warns ahead of expiry. The fault clears on its own
    once a good list is installed (retained update, refresh-trust or a restart)."""

    def __init__(
        self,
        trust: TrustStore,
        controller: GateController,
        status: TrustStatus | None,
        warning_days: float,
    ) -> None:
        self._trust, self._controller, self._status = trust, controller, status
        self._warning_days = warning_days
        self._warnings: tuple[str, ...] = ()

    def check(self) -> None:
        """Judge the loaded lists now."""
        health = self._trust.health(self._warning_days)
        checks = (
            (Fault.TRUST_FAULT, health.blocking),
            (Fault.DENYLIST_FAULT, health.denylist_problem),
        )
        for fault, problem in checks:
            if problem:
                self._controller.report_fault(fault, problem)
            elif fault in self._controller.faults:
                self._controller.clear_fault(fault)
        if health.warnings != self._warnings:
            for warning in health.warnings:
                log.warning("trust: %s", warning)
            self._warnings = health.warnings
        if self._status is not None:
            self._status.set_trust(health.summary())


class ClockJudge:
    """Latches clock_fault while the clock cannot be trusted for expiry checks."""

    def __init__(self, watch: ClockWatch, clock: Clock, controller: GateController) -> None:
        self._watch, self._clock, self._controller = watch, clock, controller

    def check(self) -> None:
        """Judge the clock now (and mark it on disk when it is good)."""
        verdict = self._watch.check(self._clock.now(), self._clock.monotonic())
        if not verdict.usable:
            self._controller.report_fault(Fault.CLOCK_FAULT, verdict.problem or "clock unusable")
        elif Fault.CLOCK_FAULT in self._controller.faults:
            self._controller.clear_fault(Fault.CLOCK_FAULT)


def platform_faults(client: PlatformClient | None) -> dict[str, str]:
    """Platforms whose circuit breaker is open: the gate is not waiting for them."""
    if client is None:
        return {}
    causes = client.last_failures()
    tripped = [
        f"{url} {state}" + (f" ({causes[url]})" if url in causes else "")
        for url, state in client.breakers().items()
        if state != "closed"
    ]
    if not tripped:
        return {}
    return {"platform_breaker": "fallback in use: " + ", ".join(tripped)}


class Supervision:
    """The supervisor thread: every half second it restarts dead workers, re-probes faulted
    devices, judges trust, expires faults and shows open platform breakers; every minute it
    judges the clock. Its own heartbeat goes to the watchdog through `beat()`."""

    name = SUPERVISOR_THREAD

    def __init__(  # noqa: PLR0913  keyword-only: the judges and hooks the composition root wires in
        self,
        *,
        workers: WorkerRegistry,
        controller: GateController,
        trust: TrustJudge,
        clock: ClockJudge,
        platform: PlatformClient | None,
        status: StatusFaults | None,
        show_fault: Callable[[str, str], None],
        beat: Callable[[], None],
        stopping: threading.Event,
    ) -> None:
        self._workers, self._controller = workers, controller
        self._trust, self._clock, self._platform = trust, clock, platform
        self._status, self._show_fault, self._beat = status, show_fault, beat
        self._stopping = stopping
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Supervise on a thread until the stop flag is set."""
        self._thread = threading.Thread(target=self._run, name=SUPERVISOR_THREAD, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Wait for the thread to end (the stop flag is already set)."""
        if self._thread is not None:
            self._thread.join(2.0)

    def show_platform_faults(self) -> None:
        """Show the platforms whose breaker is open beside the controller's faults (those are
        pushed by the controller's fault board as they change)."""
        if self._status is not None:
            self._status.show_platform(platform_faults(self._platform))

    def _run(self) -> None:
        last_mark = last_probe = 0.0
        while not self._stopping.wait(_SUPERVISE_S):
            self._beat()
            try:
                self._workers.check()
                if time.monotonic() - last_probe >= _REPROBE_EVERY_S:
                    self._controller.reprobe()
                    last_probe = time.monotonic()
                self._trust.check()
                self._controller.expire_faults()
                self.show_platform_faults()
                if time.monotonic() - last_mark >= _CLOCK_CHECK_EVERY_S:
                    self._clock.check()
                    last_mark = time.monotonic()
            except GateEdgeError as exc:
                log.error("supervision: %s", exc)
            except Exception as exc:
                log.exception("supervision failed; trying again")
                self._show_fault(Fault.SUPERVISOR, f"supervision error: {type(exc).__name__}")
