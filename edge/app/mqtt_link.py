"""The gate's MQTT side: publisher, control plane and telemetry, started and stopped together."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from edge.app.config import Config
from edge.app.workers import mqtt_threads
from edge.clock import Clock
from edge.faults import Fault
from edge.mqtt.control import CommandHandler, ControlPlane, TrustUpdater
from edge.mqtt.publisher import EventPublisher
from edge.mqtt.telemetry import MetricsProvider, TelemetryPublisher
from edge.service.lifecycle import Lifecycle
from edge.service.release import rollback_notice
from edge.service.workers import Watch, WorkerRegistry
from edge.storage.outbox import Outbox

log = logging.getLogger(__name__)

_MQTT_MAX_AGE_S = 5.0


def event_publisher(config: Config, outbox: Outbox, clock: Clock) -> EventPublisher | None:
    """The publisher of the outbox's events and the status document; None without [mqtt]."""
    if not config.mqtt.enabled:
        return None
    return EventPublisher(
        config.mqtt, site=config.gate.site, gate=config.gate.gate, outbox=outbox, clock=clock
    )


@dataclass(frozen=True)
class MqttLink:
    """One broker connection: events and status out through `publisher`, signed commands and
    trust updates in through `control`, telemetry on a timer."""

    config: Config
    publisher: EventPublisher
    control: ControlPlane
    telemetry: TelemetryPublisher

    def start(self, workers: WorkerRegistry, lifecycle: Lifecycle) -> None:
        """Connect, subscribe, start telemetry and watch the connection's threads; a rolled-back
        update is shown on the status."""
        # Subscriptions first: the publisher then subscribes in the same breath as it connects.
        self.control.attach(self.publisher)
        self.publisher.start()
        lifecycle.started("MQTT connection", self.stop)
        workers.start(self.telemetry, "telemetry", Watch(max_age_s=_MQTT_MAX_AGE_S))
        for thread in mqtt_threads(self.publisher, self.control):
            workers.watch(thread, Watch(max_age_s=_MQTT_MAX_AGE_S))
        notice = rollback_notice(Path(self.config.storage.state_dir))
        if notice is not None:
            log.warning("%s", notice)
            self.publisher.set_fault(Fault.RELEASE, notice)

    def stop(self) -> None:
        """The control plane stops taking commands, then the outbox is drained and the
        connection closed with an offline status."""
        try:
            self.control.stop()
        finally:
            self.publisher.stop(drain_timeout_s=self.config.service.shutdown_flush_s)


def link_mqtt(
    config: Config,
    publisher: EventPublisher,
    *,
    commands: CommandHandler,
    trust: TrustUpdater,
    outbox: Outbox,
    metrics: MetricsProvider,
    clock: Clock,
    lifecycle: Lifecycle,
) -> MqttLink:
    """The control plane and telemetry beside `publisher`; the control plane's replay store is
    recorded in `lifecycle` as soon as it is open."""
    control = ControlPlane(
        config.mqtt,
        site=config.gate.site,
        gate=config.gate.gate,
        state_dir=Path(config.storage.state_dir),
        handler=commands,
        trust=trust,
        status=publisher,
        clock=clock,
    )
    lifecycle.started("command replay store", control.stop)
    telemetry = TelemetryPublisher(
        publisher, outbox, metrics, config.mqtt.telemetry_interval_s, clock
    )
    return MqttLink(config, publisher, control, telemetry)
