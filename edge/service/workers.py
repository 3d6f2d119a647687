"""The service's long-lived threads as one kind of part: started, watched, revived, stopped."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from edge.service.lifecycle import Lifecycle
from edge.service.sdnotify import Watchdog
from edge.service.supervisor import WorkerSupervisor


class Worker(Protocol):
    """A long-lived thread (or a few) of the service.

    `name` is what the status shows (`worker_<name>`) while the worker is down or restarting.
    `heartbeat()` is the monotonic time of its last round, or None when it has no heartbeat of
    its own (then it counts as fresh while `alive()`). `revive()` starts a fresh thread for a
    dead one and does nothing once the worker was stopped on purpose."""

    @property
    def name(self) -> str:
        """The short name the status shows while the worker is down (`worker_<name>`)."""
        ...

    def start(self) -> None:
        """Start the worker's thread(s); called once, when the service starts."""
        ...

    def alive(self) -> bool:
        """Tell whether the worker's thread(s) still run."""
        ...

    def revive(self) -> None:
        """Start a fresh thread for a dead one; nothing once the worker was stopped."""
        ...

    def heartbeat(self) -> float | None:
        """Monotonic time of the last round, or None when liveness is all there is."""
        ...

    def stop(self) -> None:
        """Stop the worker on purpose: from then on revive() does nothing."""
        ...


@dataclass(frozen=True)
class OwnedThread:
    """A worker thread that its component starts and stops together with itself (the MQTT
    connection's threads): the registry only watches and revives it."""

    name: str
    is_alive: Callable[[], bool]
    restart: Callable[[], None]

    def start(self) -> None:
        """Started by its component."""

    def alive(self) -> bool:
        """Ask the owning component whether the thread runs."""
        return self.is_alive()

    def revive(self) -> None:
        """Have the owning component restart the thread."""
        self.restart()

    def heartbeat(self) -> float | None:
        """None: the thread has no heartbeat of its own, liveness is watched instead."""
        return None

    def stop(self) -> None:
        """Stopped by its component."""


@dataclass(frozen=True)
class Watch:
    """How a worker is watched: `restart` by the supervisor with a backoff when its thread
    died; `max_age_s` for the systemd watchdog, which withholds its pings while the worker's
    heartbeat (or liveness) is older than that (None: the watchdog does not look at it)."""

    max_age_s: float | None = None
    restart: bool = True


class WorkerRegistry:
    """Every worker of the service in one place: started in order with its stop recorded in the
    lifecycle, restarted by the supervisor, probed by the watchdog."""

    def __init__(self, lifecycle: Lifecycle, watchdog: Watchdog, supervisor: WorkerSupervisor):
        self._lifecycle, self._watchdog, self._supervisor = lifecycle, watchdog, supervisor
        self._workers: dict[str, Worker] = {}

    def start(self, worker: Worker, stage: str, watch: Watch) -> None:
        """Start `worker`, record its stop as lifecycle stage `stage`, then watch it."""
        worker.start()
        self._lifecycle.started(stage, worker.stop)
        self.watch(worker, watch)

    def watch(self, worker: Worker, watch: Watch) -> None:
        """Watch a worker started by someone else."""
        self._workers[worker.name] = worker
        if watch.max_age_s is not None:
            if worker.heartbeat() is None:
                self._watchdog.register_liveness(worker.name, worker.alive, watch.max_age_s)
            else:
                self._watchdog.register_probe(worker.name, _beat_of(worker), watch.max_age_s)
        if watch.restart:
            self._supervisor.watch(worker.name, worker.alive, worker.revive)

    def names(self) -> tuple[str, ...]:
        """The workers watched, in the order they were added."""
        return tuple(self._workers)

    def restarts(self, name: str) -> int:
        """How often worker `name` was restarted since the service started."""
        return self._supervisor.restarts(name)

    def check(self) -> list[str]:
        """Restart every dead worker whose backoff has passed; return the names restarted."""
        return self._supervisor.check()

    def stop(self) -> None:
        """From now on nothing is restarted: the service stops its workers on purpose."""
        self._supervisor.stop()


def _beat_of(worker: Worker) -> Callable[[], float]:
    def beat() -> float:
        value = worker.heartbeat()
        assert value is not None
        return value

    return beat
