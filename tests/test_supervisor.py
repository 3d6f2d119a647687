"""The worker supervisor: dead workers restarted with a doubling backoff, shown on the status."""

from __future__ import annotations

import queue

import pytest

from edge.clock import FakeClock, SystemClock
from edge.credentials.result import VerificationResult
from edge.reasons import Reason
from edge.scan.loop import ScanLoop
from edge.scan.result import ScanResult
from edge.scan.settings import ScanSettings
from edge.service.supervisor import WorkerSupervisor
from tests.test_mqtt_control import FakeStatus
from tests.waiting import wait_until


class FakeWorker:
    def __init__(self) -> None:
        self.running = True
        self.starts = 0
        self.refuse: Exception | None = None

    def alive(self) -> bool:
        return self.running

    def restart(self) -> None:
        if self.refuse is not None:
            raise self.refuse
        self.starts += 1
        self.running = True


def _supervised() -> tuple[WorkerSupervisor, FakeWorker, FakeStatus, FakeClock]:
    clock, status, worker = FakeClock(), FakeStatus(), FakeWorker()
    supervisor = WorkerSupervisor(
        status, clock, min_backoff_s=1.0, max_backoff_s=4.0, healthy_after_s=10.0
    )
    supervisor.watch("mqtt-outbox", worker.alive, worker.restart)
    return supervisor, worker, status, clock


def test_a_live_worker_is_left_alone() -> None:
    supervisor, worker, status, clock = _supervised()
    for _ in range(5):
        clock.advance(10.0)
        assert supervisor.check() == []
    assert worker.starts == 0 and status.faults == {}


def test_a_dead_worker_is_restarted_after_its_backoff_with_a_fault_meanwhile() -> None:
    supervisor, worker, status, clock = _supervised()
    worker.running = False
    assert supervisor.check() == []
    assert status.faults["worker_mqtt_outbox"] == "stopped; restarting in 1 s"
    clock.advance(0.5)
    assert supervisor.check() == []
    clock.advance(0.5)
    assert supervisor.check() == ["mqtt-outbox"]
    assert worker.starts == 1 and supervisor.restarts("mqtt-outbox") == 1
    assert "restarted" in status.faults["worker_mqtt_outbox"]
    clock.advance(9.0)
    supervisor.check()
    assert "worker_mqtt_outbox" in status.faults  # not yet proven healthy
    clock.advance(1.0)
    supervisor.check()
    assert status.faults == {}


def test_a_worker_that_keeps_dying_is_restarted_ever_more_slowly() -> None:
    supervisor, worker, _, clock = _supervised()
    waits = []
    for _ in range(5):
        worker.running = False
        waited = 0.0
        while not supervisor.check():
            clock.advance(0.5)
            waited += 0.5
        waits.append(waited)
    assert waits == [1.0, 2.0, 4.0, 4.0, 4.0]


def test_a_healthy_run_resets_the_backoff() -> None:
    supervisor, worker, _, clock = _supervised()
    for _ in range(3):
        worker.running = False
        supervisor.check()
        clock.advance(4.0)
        assert supervisor.check() == ["mqtt-outbox"]
    clock.advance(10.0)
    supervisor.check()
    worker.running = False
    supervisor.check()
    clock.advance(1.0)
    assert supervisor.check() == ["mqtt-outbox"]


def test_a_failing_restart_is_reported_and_tried_again() -> None:
    supervisor, worker, status, clock = _supervised()
    worker.running, worker.refuse = False, OSError("no threads left")
    supervisor.check()
    clock.advance(1.0)
    assert supervisor.check() == []
    assert status.faults["worker_mqtt_outbox"] == (
        "restart failed (OSError: no threads left); trying again in 2 s"
    )
    worker.refuse = None
    clock.advance(2.0)
    supervisor.check()
    assert worker.starts == 1 and worker.running


def test_a_liveness_probe_that_raises_counts_as_dead() -> None:
    clock, status = FakeClock(), FakeStatus()
    supervisor = WorkerSupervisor(status, clock, min_backoff_s=1.0)
    restarted: list[bool] = []

    def broken() -> bool:
        raise RuntimeError("probe bug")

    supervisor.watch("scan", broken, lambda: restarted.append(True))
    supervisor.check()
    assert "worker_scan" in status.faults


def test_nothing_is_restarted_or_reported_once_stopped() -> None:
    supervisor, worker, status, clock = _supervised()
    supervisor.stop()
    worker.running = False
    clock.advance(5.0)
    assert supervisor.check() == []
    assert worker.starts == 0 and status.faults == {}


class _ThreadKiller(BaseException):
    """Escapes every `except Exception`: what is left to end a worker thread."""


class QueuedLines:
    """A LineSource fed by the test; a _ThreadKiller line ends the reading thread."""

    def __init__(self) -> None:
        self._lines: queue.Queue[str | BaseException] = queue.Queue()

    def put(self, line: str | BaseException) -> None:
        self._lines.put(line)

    def read_line(self, timeout_s: float) -> str | None:
        try:
            line = self._lines.get(timeout=timeout_s)
        except queue.Empty:
            return None
        if isinstance(line, BaseException):
            raise line
        return line

    def close(self) -> None:
        pass


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_a_dead_scan_thread_is_started_again_and_reads_on() -> None:
    lines, results = QueuedLines(), queue.Queue[ScanResult]()
    loop = ScanLoop(
        lambda text: VerificationResult.invalid(Reason.MALFORMED),
        ScanSettings(),
        SystemClock(),
        lines=lines,
        on_result=results.put,
    )
    supervisor = WorkerSupervisor(None, FakeClock(), min_backoff_s=0.0)
    supervisor.watch("scan", loop.alive, loop.revive)
    loop.start()
    try:
        lines.put(_ThreadKiller())
        assert wait_until(lambda: not loop.alive(), 10)
        assert supervisor.check() == ["scan"]
        assert loop.alive()
        lines.put("HC1:after")
        assert results.get(timeout=10).text == "HC1:after"
    finally:
        loop.stop()
    assert supervisor.check() == []  # stopped on purpose: nothing to restart
