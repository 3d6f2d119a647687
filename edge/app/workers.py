"""The gate's components seen as workers: what the registry starts, watches and revives."""

from __future__ import annotations

from edge.core.controller import GateController
from edge.mqtt.control import ControlPlane
from edge.mqtt.publisher import EventPublisher
from edge.service.workers import OwnedThread


class ControllerWorker:
    """The controller's presentation thread."""

    name = "gate-controller"

    def __init__(self, controller: GateController) -> None:
        self._controller = controller

    def start(self) -> None:
        """Start the controller's presentation thread."""
        self._controller.start()

    def alive(self) -> bool:
        """True while the presentation thread runs."""
        return self._controller.worker_alive()

    def revive(self) -> None:
        """Start a fresh presentation thread for a dead one."""
        self._controller.revive_worker()

    def heartbeat(self) -> float | None:
        """Monotonic time of the presentation thread's last round."""
        return self._controller.heartbeat()

    def stop(self) -> None:
        """Let the current presentation finish, release the relay, switch the lamps off."""
        self._controller.close()


def mqtt_threads(publisher: EventPublisher, control: ControlPlane) -> tuple[OwnedThread, ...]:
    """The MQTT connection's threads: paho's network loop, the outbox dispatcher, the control
    plane's message handler (each started and stopped with the connection)."""
    return (
        OwnedThread("mqtt-network", publisher.network_alive, publisher.revive),
        OwnedThread("mqtt-outbox", publisher.dispatcher_alive, publisher.revive),
        OwnedThread("mqtt-control", control.worker_alive, control.revive),
    )
