"""The worker registry: one place starts, stops, revives and probes every worker thread."""

from __future__ import annotations

from edge.clock import FakeClock
from edge.service.lifecycle import Lifecycle
from edge.service.sdnotify import Notifier, Watchdog
from edge.service.supervisor import WorkerSupervisor
from edge.service.workers import OwnedThread, Watch, WorkerRegistry
from tests.test_mqtt_control import FakeStatus


class Loop:
    """A worker with a heartbeat (beat set) or without one (beat None)."""

    def __init__(self, name: str, beat: float | None) -> None:
        self.name, self.beat = name, beat
        self.running = False
        self.events: list[str] = []

    def start(self) -> None:
        self.running = True
        self.events.append("start")

    def alive(self) -> bool:
        return self.running

    def revive(self) -> None:
        self.running = True
        self.events.append("revive")

    def heartbeat(self) -> float | None:
        return self.beat

    def stop(self) -> None:
        self.running = False
        self.events.append("stop")


def _registry() -> tuple[WorkerRegistry, Lifecycle, Watchdog, FakeStatus, FakeClock]:
    clock, status, lifecycle = FakeClock(), FakeStatus(), Lifecycle()
    watchdog = Watchdog(Notifier(None), clock, interval_s=1.0)
    supervisor = WorkerSupervisor(status, clock, min_backoff_s=1.0, healthy_after_s=10.0)
    return WorkerRegistry(lifecycle, watchdog, supervisor), lifecycle, watchdog, status, clock


def test_a_started_worker_is_stopped_by_its_lifecycle_stage() -> None:
    registry, lifecycle, _, _, _ = _registry()
    worker = Loop("scan", beat=None)
    registry.start(worker, "scan", Watch())
    assert worker.events == ["start"]
    assert lifecycle.stop_all() == ()
    assert worker.events == ["start", "stop"]
    assert registry.names() == ("scan",)


def test_a_dead_worker_is_revived_and_shown_until_healthy() -> None:
    registry, _, _, status, clock = _registry()
    worker = Loop("mqtt-outbox", beat=None)
    registry.start(worker, "outbox", Watch())
    worker.running = False
    assert registry.check() == []  # backoff first
    assert "worker_mqtt_outbox" in status.faults
    clock.advance(1.5)
    assert registry.check() == ["mqtt-outbox"]
    assert worker.events[-1] == "revive" and registry.restarts("mqtt-outbox") == 1


def test_the_watchdog_probes_a_heartbeat_or_the_liveness_of_a_thread() -> None:
    registry, _, watchdog, _, clock = _registry()
    beating = Loop("gate-controller", beat=clock.monotonic())
    registry.start(beating, "gate controller", Watch(max_age_s=5.0))
    owned = Loop("paho", beat=None)
    owned.running = True
    registry.watch(OwnedThread("mqtt-network", owned.alive, owned.revive), Watch(5.0))
    unprobed = Loop("manual-button", beat=None)
    registry.start(unprobed, "manual button", Watch())
    assert watchdog.stale() == []
    clock.advance(6.0)
    assert watchdog.stale() == ["gate-controller"]  # its heartbeat is old; the thread is alive
    owned.running = False
    unprobed.running = False
    clock.advance(6.0)
    assert watchdog.stale() == ["gate-controller"]  # just seen dead: within the grace
    clock.advance(6.0)
    assert watchdog.stale() == ["gate-controller", "mqtt-network"]


def test_nothing_is_revived_once_the_registry_stopped() -> None:
    registry, _, _, _, clock = _registry()
    worker = Loop("scan", beat=None)
    registry.start(worker, "scan", Watch())
    registry.stop()
    worker.running = False
    clock.advance(100.0)
    assert registry.check() == []
    assert "revive" not in worker.events
